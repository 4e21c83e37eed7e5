// RUN: mlir-coreml opt %s -p blocked-layout | filecheck %s
// RUN: mlir-coreml opt %s -p "blocked-layout{min-convs=5}" | filecheck %s --check-prefix=NONE
// RUN: mlir-coreml opt %s -p "blocked-layout{depthwise=false pools=false}" | filecheck %s --check-prefix=SPLIT
// RUN: mlir-coreml opt %s -p blocked-layout | mlir-coreml opt - -p blocked-layout | filecheck %s
// A chain of convolutions (dense, 1x1 with a residual, depthwise), an add and a relu of
// 32-channel values (no tail lanes), pools and a strided conv becomes one blocked region: %x
// (20 channels: a tail) is reordered once on the way in, and each value used outside once on
// the way out (%c2 returned, %c3, %g). The lone conv has fewer than min-convs=2 convolutions
// and stays NCHW. With min-convs=5 nothing is blocked; without depthwise and pools the
// chain splits at them. A second run finds nothing left to block.

module {
  func.func @main(%x: tensor<1x20x8x8xf32>, %s: tensor<1x8x8x8xf32>) -> (tensor<1x24x2x2xf32>, tensor<1x32x8x8xf32>, tensor<1x16x8x8xf32>, tensor<1x32x1x1xf32>) {
    %w1 = core.constant {value = dense<0.01> : tensor<32x20x3x3xf32>} : tensor<32x20x3x3xf32>
    %b1 = core.constant {value = dense<0.5> : tensor<32xf32>} : tensor<32xf32>
    %c1 = core.conv2d %x, %w1, %b1 {operand_segments = [1, 1, 1, 0], pads = [1, 1, 1, 1], activation = "relu", algorithm = "im2col"} : (tensor<1x20x8x8xf32>, tensor<32x20x3x3xf32>, tensor<32xf32>) -> tensor<1x32x8x8xf32> loc("c1")
    %w2 = core.constant {value = dense<0.02> : tensor<32x32x1x1xf32>} : tensor<32x32x1x1xf32>
    %c2 = core.conv2d %c1, %w2, %c1 {operand_segments = [1, 1, 0, 1], algorithm = "gemm"} : (tensor<1x32x8x8xf32>, tensor<32x32x1x1xf32>, tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32> loc("c2")
    %wd = core.constant {value = dense<0.1> : tensor<32x1x3x3xf32>} : tensor<32x1x3x3xf32>
    %d = core.conv2d %c2, %wd {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], groups = 32, algorithm = "depthwise"} : (tensor<1x32x8x8xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x8x8xf32> loc("dw")
    %a = core.add %d, %c1 : (tensor<1x32x8x8xf32>, tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
    %p = core.pool2d %a {kind = "max", kernel = [2, 2], strides = [2, 2]} : (tensor<1x32x8x8xf32>) -> tensor<1x32x4x4xf32> loc("pool")
    %r = core.relu %p : (tensor<1x32x4x4xf32>) -> tensor<1x32x4x4xf32>
    %w3 = core.constant {value = dense<0.03> : tensor<24x32x3x3xf32>} : tensor<24x32x3x3xf32>
    %c3 = core.conv2d %r, %w3 {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], strides = [2, 2], algorithm = "im2col"} : (tensor<1x32x4x4xf32>, tensor<24x32x3x3xf32>) -> tensor<1x24x2x2xf32> loc("c3")
    %g = core.global_pool %r : (tensor<1x32x4x4xf32>) -> tensor<1x32x1x1xf32> loc("gap")
    %ws = core.constant {value = dense<0.01> : tensor<16x8x3x3xf32>} : tensor<16x8x3x3xf32>
    %lone = core.conv2d %s, %ws {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], algorithm = "im2col"} : (tensor<1x8x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x8x8xf32> loc("lone")
    func.return %c3, %c2, %lone, %g : tensor<1x24x2x2xf32>, tensor<1x32x8x8xf32>, tensor<1x16x8x8xf32>, tensor<1x32x1x1xf32>
  }
}
// CHECK:      %[[XB:.*]] = core.to_blocked %x : (tensor<1x20x8x8xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK-NEXT: %c1 = core.conv2d_blocked %[[XB]], %w1, %b1 {pads = [1, 1, 1, 1], activation = "relu", operand_segments = [1, 1, 1, 0]} : (tensor<1x2x8x8x16xf32>, tensor<32x20x3x3xf32>, tensor<32xf32>) -> tensor<1x2x8x8x16xf32> loc("c1")
// CHECK:      %c2 = core.conv2d_blocked %c1, %w2, %c1 {operand_segments = [1, 1, 0, 1]}
// CHECK-NEXT: %[[C2:.*]] = core.from_blocked %c2 {channels = 32} : (tensor<1x2x8x8x16xf32>) -> tensor<1x32x8x8xf32>
// CHECK:      %d = core.conv2d_blocked %c2, %wd {pads = [1, 1, 1, 1], groups = 32
// CHECK-NEXT: %a = core.add %d, %c1 : tensor<1x2x8x8x16xf32>
// CHECK-NEXT: %p = core.pool2d_blocked %a {kind = "max", kernel = [2, 2], strides = [2, 2]} : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK-NEXT: %r = core.relu %p : tensor<1x2x4x4x16xf32>
// CHECK:      %c3 = core.conv2d_blocked %r, %w3 {pads = [1, 1, 1, 1], strides = [2, 2]
// CHECK-NEXT: %[[C3:.*]] = core.from_blocked %c3 {channels = 24}
// CHECK-NEXT: %g = core.global_pool_blocked %r : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x1x1x16xf32>
// CHECK-NEXT: %[[G:.*]] = core.from_blocked %g {channels = 32}
// CHECK:      %lone = core.conv2d %s, %ws {{.*}}algorithm = "im2col"
// CHECK-NEXT: func.return %[[C3]], %[[C2]], %lone, %[[G]]
// CHECK-NOT:  core.to_blocked

// NONE-NOT: blocked

// SPLIT:      %c1 = core.conv2d_blocked
// SPLIT:      %c2 = core.conv2d_blocked
// SPLIT:      %d = core.conv2d %{{.*}}groups = 32
// SPLIT-NEXT: %a = core.add %d, %{{.*}} : tensor<1x32x8x8xf32>
// SPLIT-NEXT: %p = core.pool2d %a
// SPLIT-NOT:  core.conv2d_blocked
