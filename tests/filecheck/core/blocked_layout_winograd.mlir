// RUN: mlir-coreml opt %s -p blocked-layout | filecheck %s
// RUN: mlir-coreml opt %s -p "blocked-layout{winograd=true}" | filecheck %s --check-prefix=ALL
// RUN: mlir-coreml opt %s -p "blocked-layout{reorder-cost=1000}" | filecheck %s --check-prefix=DEAR
// A Winograd conv joins a blocked region only when Winograd saves less than its reorders would
// cost (reorder-cost per element of its input and result): 64 channels on 56x56 by F(4,3) saves
// about 283 per element, more than 200 (it stays NCHW between two blocked chains); 16 -> 64 on
// 55x55 saves about 33 (blocked, as a direct conv). winograd=true blocks both; with a dearer
// reorder (1000 per element) both are blocked too.

module {
  func.func @main(%x: tensor<1x64x56x56xf32>, %s: tensor<1x16x55x55xf32>) -> (tensor<1x64x56x56xf32>, tensor<1x64x55x55xf32>) {
    %w1 = core.constant {value = dense<0.01> : tensor<64x64x1x1xf32>} : tensor<64x64x1x1xf32>
    %a = core.conv2d %x, %w1 {operand_segments = [1, 1, 0, 0], algorithm = "gemm"} : (tensor<1x64x56x56xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x56x56xf32> loc("a")
    %b = core.conv2d %a, %w1 {operand_segments = [1, 1, 0, 0], algorithm = "gemm"} : (tensor<1x64x56x56xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x56x56xf32> loc("b")
    %w3 = core.constant {value = dense<0.01> : tensor<64x64x3x3xf32>} : tensor<64x64x3x3xf32>
    %c = core.conv2d %b, %w3 {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], algorithm = "winograd4"} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32> loc("wide")
    %d = core.conv2d %c, %w1 {operand_segments = [1, 1, 0, 0], algorithm = "gemm"} : (tensor<1x64x56x56xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x56x56xf32> loc("d")
    %e = core.conv2d %d, %w1 {operand_segments = [1, 1, 0, 0], algorithm = "gemm"} : (tensor<1x64x56x56xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x56x56xf32> loc("e")
    %ws = core.constant {value = dense<0.01> : tensor<16x16x1x1xf32>} : tensor<16x16x1x1xf32>
    %f = core.conv2d %s, %ws {operand_segments = [1, 1, 0, 0], algorithm = "gemm"} : (tensor<1x16x55x55xf32>, tensor<16x16x1x1xf32>) -> tensor<1x16x55x55xf32> loc("f")
    %wn = core.constant {value = dense<0.01> : tensor<64x16x3x3xf32>} : tensor<64x16x3x3xf32>
    %g = core.conv2d %f, %wn {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], algorithm = "winograd4"} : (tensor<1x16x55x55xf32>, tensor<64x16x3x3xf32>) -> tensor<1x64x55x55xf32> loc("narrow")
    func.return %e, %g : tensor<1x64x56x56xf32>, tensor<1x64x55x55xf32>
  }
}
// CHECK:      %b = core.conv2d_blocked
// CHECK-NEXT: %[[B:.*]] = core.from_blocked %b {channels = 64}
// CHECK:      %c = core.conv2d %[[B]], %w3 {{.*}}algorithm = "winograd4"
// CHECK-NEXT: %[[C:.*]] = core.to_blocked %c
// CHECK-NEXT: %d = core.conv2d_blocked %[[C]]
// CHECK:      %f = core.conv2d_blocked
// CHECK:      %g = core.conv2d_blocked %f, %wn {pads = [1, 1, 1, 1]

// ALL-NOT: algorithm = "winograd4"
// ALL:     %c = core.conv2d_blocked %b, %w3
// ALL:     %g = core.conv2d_blocked %f, %wn

// DEAR:    %c = core.conv2d_blocked %b, %w3
