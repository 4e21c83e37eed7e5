// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// The nn verifier recomputes each layer's result shape from its params and names the layer.

module {
  func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x8x8x8xf32> {
    %w = core.constant {value = dense<0.5> : tensor<8x3x3x3xf32>} : tensor<8x3x3x3xf32> loc("conv1")
    %c = nn.convolution %x, %w {outputChannels = 8, kernelChannels = 3, kernelSize = [3, 3], valid = {}, weight_fields = ["weights"]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32> loc("conv1")
    func.return %c : tensor<1x8x8x8xf32>
  }
}
// CHECK: error: loc("conv1"): 'nn.convolution' op result {{.*}} has type tensor<1x8x8x8xf32> but the layer computes tensor<1x8x6x6xf32>
// CHECK-NOT: Traceback
