// RUN: mlir-coreml opt %s -p infer-shapes | filecheck %s
// Core ops print in their compact form and read back; optional operands are recorded in
// operand_segments; multi-result ops name every result.

module {
  func.func @main(%x: tensor<1x4x8x8xf32>, %seq: tensor<5x1x3xf32>) -> (tensor<1x8x4x4xf32>, tensor<1x2xf32>, tensor<5x1x4xf32>) {
    %w = core.constant {value = dense<0.25> : tensor<8x2x3x3xf16>} : tensor<8x2x3x3xf16>
    %b = core.constant {value = dense<0.5> : tensor<8xf32>} : tensor<8xf32>
    %y = core.conv2d %x, %w, %b {operand_segments = [1, 1, 1, 0], strides = [2, 2], pads = [1, 1, 1, 1], groups = 2, activation = "clip", alpha = 0.0, beta = 6.0} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf16>, tensor<8xf32>) -> tensor<1x8x4x4xf32> loc("conv")
    %p = core.pool2d %y {kind = "avg", kernel = [2, 2], strides = [2, 2], ceil_mode = true} : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
    %g = core.global_pool %p {kind = "max"} : (tensor<1x8x2x2xf32>) -> tensor<1x8x1x1xf32>
    %f = core.reshape %g {shape = [1, 8]} : (tensor<1x8x1x1xf32>) -> tensor<1x8xf32>
    %fc = core.constant {value = dense<0.1> : tensor<2x8xf32>} : tensor<2x8xf32>
    %l = core.linear %f, %fc {operand_segments = [1, 1, 0, 0], activation = "gelu"} : (tensor<1x8xf32>, tensor<2x8xf32>) -> tensor<1x2xf32>
    %wi = core.constant {value = dense<0.1> : tensor<1x16x3xf32>} : tensor<1x16x3xf32>
    %wh = core.constant {value = dense<0.1> : tensor<1x16x4xf32>} : tensor<1x16x4xf32>
    %out, %h, %c = core.lstm %seq, %wi, %wh {operand_segments = [1, 1, 1, 0, 0, 0, 0], direction = "forward"} : (tensor<5x1x3xf32>, tensor<1x16x3xf32>, tensor<1x16x4xf32>) -> (tensor<5x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>)
    func.return %y, %l, %out : tensor<1x8x4x4xf32>, tensor<1x2xf32>, tensor<5x1x4xf32>
  }
}
// CHECK: %y = core.conv2d %x, %w, %b {operand_segments = [1, 1, 1, 0], strides = [2, 2], pads = [1, 1, 1, 1], groups = 2, activation = "clip", alpha = 0.0, beta = 6.0} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf16>, tensor<8xf32>) -> tensor<1x8x4x4xf32> loc("conv")
// CHECK: %p = core.pool2d %y {kind = "avg", kernel = [2, 2], strides = [2, 2], ceil_mode = true} : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
// CHECK: %l = core.linear %f, %fc {operand_segments = [1, 1, 0, 0], activation = "gelu"}
// CHECK: %out, %h, %c = core.lstm %seq, %wi, %wh
