// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// Core ops check their operands through their own shape inference and name the layer.

module {
  func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32>
    %y = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32> loc("conv1")
    func.return %y : tensor<1x4x8x8xf32>
  }
}
// CHECK: error: loc("conv1"): 'core.conv2d' op input has 3 channels but the weight 4x2x3x3 with groups=1 expects 2
