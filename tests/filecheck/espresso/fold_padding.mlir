// RUN: mlir-coreml opt %s -p fold-padding | filecheck %s
// A zero padding read only by a `valid` convolution becomes that convolution's padding amounts.

module {
  func.func @main(%input1: tensor<1x1x1x4x4xf32>) -> tensor<1x1x1x2x2xf32> {
    %w = core.constant {value = dense<1.0> : tensor<1x1x3x3xf32>} : tensor<1x1x3x3xf32>
    %conv1_pad_output = nn.padding %input1 {paddingAmounts = {borderAmounts = [{endEdgeSize = 1}, {endEdgeSize = 1}]}, constant = {}} : (tensor<1x1x1x4x4xf32>) -> tensor<1x1x1x5x5xf32> loc("conv1_pad")
    %conv1_output = nn.convolution %conv1_pad_output, %w {weight_fields = ["weights"], outputChannels = 1, kernelChannels = 1, kernelSize = [3, 3], stride = [2, 2], valid = {}} : (tensor<1x1x1x5x5xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x1x2x2xf32> loc("conv1")
    func.return %conv1_output : tensor<1x1x1x2x2xf32>
  }
}
// CHECK-NOT:  nn.padding
// CHECK:      %conv1_output = nn.convolution %input1, %w {{{.*}}valid = {paddingAmounts = {borderAmounts = [{startEdgeSize = 0, endEdgeSize = 1}, {startEdgeSize = 0, endEdgeSize = 1}]}}{{.*}}} : {{.*}} loc("conv1")
