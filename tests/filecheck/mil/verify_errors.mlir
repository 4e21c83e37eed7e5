// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// The verifier checks a MIL op's declared result against the shape its parameters compute,
// and names the op by its MIL name.

module {
  func.func @main(%x: tensor<1x2x8x8xf32>) -> tensor<1x3x8x8xf32> attributes {opset = "ios15"} {
    %w = mil.const {val = dense<0.5> : tensor<3x2x3x3xf32>} : tensor<3x2x3x3xf32> loc("w")
    %y = mil.conv %x, %w {operand_segments = [1, 1, 0, 0, 0, 0, 0, 0]} : (tensor<1x2x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x8x8xf32> loc("conv_valid")
    func.return %y : tensor<1x3x8x8xf32>
  }
}
// CHECK: error: loc("conv_valid"): 'mil.conv' op result %y is declared tensor<1x3x8x8xf32> but the op computes shape [1x3x6x6]
