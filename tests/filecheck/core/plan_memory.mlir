// RUN: mlir-coreml opt %s -p plan-memory | filecheck %s
// A chain ping-pongs between two 64-byte-aligned buffers; the reshape views its input
// (no buffer of its own) and keeps it live until the view's last use.

module {
  func.func @main(%x: tensor<1x10xf32>) -> tensor<2x5xf32> {
    %a = core.relu %x : tensor<1x10xf32>
    %b = core.sigmoid %a : tensor<1x10xf32>
    %r = core.reshape %b {shape = [2, 5]} : (tensor<1x10xf32>) -> tensor<2x5xf32>
    %c = core.tanh %a : tensor<1x10xf32>
    %d = core.exp %c : tensor<1x10xf32>
    %e = core.reshape %d {shape = [2, 5]} : (tensor<1x10xf32>) -> tensor<2x5xf32>
    %f = core.add %r, %e : tensor<2x5xf32>
    func.return %f : tensor<2x5xf32>
  }
}
// CHECK:      attributes {arena_size = 192}
// CHECK-NEXT: %a = core.relu %x {arena_offset = [[A:[0-9]+]]}
// CHECK-NEXT: %b = core.sigmoid %a {arena_offset = [[B:[0-9]+]]}
// CHECK-NEXT: %r = core.reshape %b {shape = [2, 5]} :
// CHECK-NEXT: %c = core.tanh %a {arena_offset = [[C:[0-9]+]]}
// CHECK-NEXT: %d = core.exp %c {arena_offset = [[A]]}
// CHECK-NEXT: %e = core.reshape %d {shape = [2, 5]} :
// CHECK-NEXT: %f = core.add %r, %e {arena_offset = [[C]]}
