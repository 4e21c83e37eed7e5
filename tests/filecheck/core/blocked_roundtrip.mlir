// RUN: mlir-coreml opt %s -p infer-shapes | filecheck %s
// RUN: mlir-coreml opt %s -p infer-shapes | mlir-coreml opt - -p infer-shapes | filecheck %s
// The blocked layout NCHW16c as explicit rank-5 tensors [N, ceil(C/16), H, W, 16]: reorders
// at the boundaries (from_blocked carries the logical channel count), a dense and a depthwise
// blocked conv with their epilogues, blocked pooling; printed and parsed back unchanged.

module {
  func.func @main(%x: tensor<1x20x8x8xf32>) -> (tensor<1x24x4x4xf32>, tensor<1x24x1x1xf32>) {
    %b = core.to_blocked %x : (tensor<1x20x8x8xf32>) -> tensor<1x2x8x8x16xf32>
    %w = core.constant {value = dense<0.25> : tensor<24x20x3x3xf16>} : tensor<24x20x3x3xf16>
    %bias = core.constant {value = dense<0.5> : tensor<24xf32>} : tensor<24xf32>
    %c = core.conv2d_blocked %b, %w, %bias {operand_segments = [1, 1, 1, 0], pads = [1, 1, 1, 1], activation = "relu"} : (tensor<1x2x8x8x16xf32>, tensor<24x20x3x3xf16>, tensor<24xf32>) -> tensor<1x2x8x8x16xf32> loc("dense")
    %wd = core.constant {value = dense<0.1> : tensor<24x1x3x3xf32>} : tensor<24x1x3x3xf32>
    %d = core.conv2d_blocked %c, %wd, %c {operand_segments = [1, 1, 0, 1], pads = [1, 1, 1, 1], groups = 24, activation = "clip", alpha = 0.0, beta = 6.0} : (tensor<1x2x8x8x16xf32>, tensor<24x1x3x3xf32>, tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> loc("dw")
    %p = core.pool2d_blocked %d {kind = "max", kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32>
    %g = core.global_pool_blocked %p : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x1x1x16xf32>
    %y = core.from_blocked %p {channels = 24} : (tensor<1x2x4x4x16xf32>) -> tensor<1x24x4x4xf32>
    %z = core.from_blocked %g {channels = 24} : (tensor<1x2x1x1x16xf32>) -> tensor<1x24x1x1xf32>
    func.return %y, %z : tensor<1x24x4x4xf32>, tensor<1x24x1x1xf32>
  }
}
// CHECK: core.to_blocked %x : (tensor<1x20x8x8xf32>) -> tensor<1x2x8x8x16xf32>
// CHECK: core.conv2d_blocked %{{.*}} {operand_segments = [1, 1, 1, 0], pads = [1, 1, 1, 1], activation = "relu"} : (tensor<1x2x8x8x16xf32>, tensor<24x20x3x3xf16>, tensor<24xf32>) -> tensor<1x2x8x8x16xf32> loc("dense")
// CHECK: core.conv2d_blocked %{{.*}}groups = 24, activation = "clip", alpha = 0.0, beta = 6.0} : (tensor<1x2x8x8x16xf32>, tensor<24x1x3x3xf32>, tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> loc("dw")
// CHECK: core.pool2d_blocked %{{.*}} {kind = "max", kernel = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1]} : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32>
// CHECK: core.global_pool_blocked %{{.*}} : (tensor<1x2x4x4x16xf32>) -> tensor<1x2x1x1x16xf32>
// CHECK: core.from_blocked %{{.*}} {channels = 24} : (tensor<1x2x4x4x16xf32>) -> tensor<1x24x4x4xf32>
