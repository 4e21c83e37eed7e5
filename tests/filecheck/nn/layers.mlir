// RUN: mlir-coreml opt %s -p dce | filecheck %s
// RUN: mlir-coreml opt %s --generic -p dce | mlir-coreml opt - -p dce | filecheck %s
// nn layer ops print, parse and verify; weights are core.constant operands named by weight_fields;
// layers are Pure, so an unused one is removed by dce.

module attributes {coreml.spec_version = 4, coreml.model_type = "neuralNetwork"} {
  func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x5xf32> {
    %w = core.constant {value = dense<0.5> : tensor<8x3x3x3xf32>} : tensor<8x3x3x3xf32> loc("conv1")
    %b = core.constant {value = dense<0.0> : tensor<8xf32>} : tensor<8xf32> loc("conv1")
    %c = nn.convolution %x, %w, %b {outputChannels = 8, kernelChannels = 3, kernelSize = [3, 3], same = {}, hasBias = true, weight_fields = ["weights", "bias"]} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32> loc("conv1")
    %unused = nn.activation %x {ReLU = {}} : tensor<1x3x8x8xf32> loc("dead")
    %r = nn.activation %c {leakyReLU = {alpha = 0.1}} : tensor<1x8x8x8xf32> loc("relu1")
    %p = nn.pooling %r {type = "AVERAGE", kernelSize = [2, 2], stride = [2, 2], valid = {}} : (tensor<1x8x8x8xf32>) -> tensor<1x8x4x4xf32> loc("pool1")
    %f = nn.reshape_static %p {targetShape = [1, 128]} : (tensor<1x8x4x4xf32>) -> tensor<1x128xf32> loc("flat")
    %fw = core.constant {value = dense<0.25> : tensor<5x128xf32>} : tensor<5x128xf32> loc("fc")
    %y = nn.inner_product %f, %fw {inputChannels = 128, outputChannels = 5, weight_fields = ["weights"]} : (tensor<1x128xf32>, tensor<5x128xf32>) -> tensor<1x5xf32> loc("fc")
    func.return %y : tensor<1x5xf32>
  }
}
// CHECK:      module attributes {coreml.spec_version = 4, coreml.model_type = "neuralNetwork"} {
// CHECK:      %c = nn.convolution %x, %w, %b {outputChannels = 8, {{.*}}same = {}{{.*}}} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x8x8xf32> loc("conv1")
// CHECK-NOT:  %unused
// CHECK:      %r = nn.activation %c {leakyReLU = {alpha = 0.1}} : tensor<1x8x8x8xf32> loc("relu1")
// CHECK-NEXT: %p = nn.pooling %r {{.*}} -> tensor<1x8x4x4xf32> loc("pool1")
// CHECK:      %y = nn.inner_product %f, %fw {{.*}} -> tensor<1x5xf32> loc("fc")
// CHECK-NEXT: func.return %y : tensor<1x5xf32>
