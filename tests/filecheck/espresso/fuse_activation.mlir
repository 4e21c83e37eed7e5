// RUN: mlir-coreml opt %s -p fuse-activation | filecheck %s
// A ReLU after a convolution becomes `fused_relu = 1`; the convolution keeps its location and
// takes the ReLU's blob name. A ReLU whose input has another user stays.

module {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
    %w = core.constant {value = dense<1.0> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
    %b = core.constant {value = dense<[0.5, -0.5]> : tensor<2xf32>} : tensor<2xf32>
    %conv_out = espresso.convolution %x, %w, %b {C = 2, K = 2, Nx = 1, Ny = 1, n_groups = 1, has_biases = 1, fused_relu = 0, fused_tanh = 0, pad_mode = 0} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("conv")
    %relu_out = espresso.activation %conv_out {mode = 0, beta = 0} : tensor<1x2x4x4xf32> loc("relu")
    %conv2_out = espresso.convolution %relu_out, %w {C = 2, K = 2, Nx = 1, Ny = 1, n_groups = 1, has_biases = 0, fused_relu = 0, fused_tanh = 0, pad_mode = 0} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> loc("conv2")
    %relu2_out = espresso.activation %conv2_out {mode = 0, beta = 0} : tensor<1x2x4x4xf32> loc("relu2")
    func.return %relu2_out, %conv2_out : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
  }
}
// CHECK:      %relu_out = espresso.convolution %x, %w, %b {{{.*}}fused_relu = 1{{.*}}} : {{.*}} loc("conv")
// CHECK-NOT:  loc("relu")
// CHECK:      %conv2_out = espresso.convolution %relu_out, %w {{{.*}}fused_relu = 0{{.*}}} : {{.*}} loc("conv2")
// CHECK-NEXT: %relu2_out = espresso.activation %conv2_out {mode = 0, beta = 0}
