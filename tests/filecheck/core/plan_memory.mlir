// RUN: mlir-coreml opt %s --split-input-file -p plan-memory | filecheck %s
// Kernel results take 64-byte-aligned buffers, reused once dead. A reshape of f32 takes a
// buffer of its own (the generated module copies it there) and, as the executor runs it as a
// numpy view, keeps its input's buffer live until the view's last use; the add runs by
// reference (a fresh array: no buffer). `last_use` is the body index of the op after which a
// value is dropped (-1: returned, kept to the end).

module {
  func.func @main(%x: tensor<1x10xf32>) -> tensor<2x5xf32> {
    %a = core.relu %x : tensor<1x10xf32>
    %b = core.sigmoid %a : tensor<1x10xf32>
    %r = core.reshape %b {shape = [2, 5]} : (tensor<1x10xf32>) -> tensor<2x5xf32>
    %c = core.tanh %a : tensor<1x10xf32>
    %d = core.sigmoid %c : tensor<1x10xf32>
    %e = core.reshape %d {shape = [2, 5]} : (tensor<1x10xf32>) -> tensor<2x5xf32>
    %f = core.add %r, %e : tensor<2x5xf32>
    func.return %f : tensor<2x5xf32>
  }
}
// CHECK-LABEL: func.func @main
// CHECK-SAME:  attributes {arena_size = 256}
// CHECK-NEXT: %a = core.relu %x {arena_offset = [[A:[0-9]+]], last_use = 3}
// CHECK-NEXT: %b = core.sigmoid %a {arena_offset = [[B:[0-9]+]], last_use = 2}
// CHECK-NEXT: %r = core.reshape %b {shape = [2, 5], arena_offset = [[R:[0-9]+]], last_use = 6} :
// CHECK-NEXT: %c = core.tanh %a {arena_offset = [[C:[0-9]+]], last_use = 4}
// CHECK-NEXT: %d = core.sigmoid %c {arena_offset = [[A]], last_use = 5}
// CHECK-NEXT: %e = core.reshape %d {shape = [2, 5], arena_offset = [[C]], last_use = 6} :
// CHECK-NEXT: %f = core.add %r, %e {last_use = -1}

// -----

// A linear layer over 4 rows runs as a row GEMM reading and writing the rows in place: no
// scratch, only its result's buffer. An unread result is dropped right after its own op.
module {
  func.func @rows(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
    %w = core.constant {value = dense<0.5> : tensor<3x8xf32>} : tensor<3x8xf32>
    %y = core.linear %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
    %u = core.exp %y : tensor<4x3xf32>
    %z = core.relu %y : tensor<4x3xf32>
    func.return %z : tensor<4x3xf32>
  }
}
// CHECK-LABEL: func.func @rows
// CHECK-SAME:  attributes {arena_size = 128}
// CHECK:       %y = core.linear {{.*}}{operand_segments = [1, 1, 0, 0], arena_offset = 0, last_use = 3} :
// CHECK-NEXT:  %u = core.exp %y {last_use = 2}
// CHECK-NEXT:  %z = core.relu %y {arena_offset = 64, last_use = -1}

// -----

// An fp16 result is computed in fp32 staging scratch (6 * 4 bytes,
// aligned to 64), then rounded into a fresh array (no buffer).
module {
  func.func @half(%x: tensor<1x8xf16>) -> tensor<1x6xf16> {
    %w = core.constant {value = dense<0.5> : tensor<6x8xf16>} : tensor<6x8xf16>
    %y = core.linear %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x8xf16>, tensor<6x8xf16>) -> tensor<1x6xf16>
    %z = core.add %y, %y : tensor<1x6xf16>
    func.return %z : tensor<1x6xf16>
  }
}
// CHECK-LABEL: func.func @half
// CHECK-SAME:  attributes {arena_size = 64}
// CHECK:       %y = core.linear {{.*}}{operand_segments = [1, 1, 0, 0], last_use = 2, scratch_offset = 0, scratch_size = 24}
// CHECK-NEXT:  %z = core.add %y, %y {last_use = -1}
