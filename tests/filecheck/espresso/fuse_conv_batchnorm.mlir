// RUN: mlir-coreml opt %s -p fuse-conv-batchnorm | filecheck %s
// The batchnorm disappears; the convolution keeps its location, gains a bias and takes the
// batchnorm's output blob name. W' = W * s, b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps).

module {
  func.func @main(%x: tensor<1x1x2x3x3xf32>) -> tensor<1x1x2x3x3xf32> {
    %w = core.constant {value = dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
    %gamma = core.constant {value = dense<[2.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
    %beta = core.constant {value = dense<[0.5, 0.0]> : tensor<2xf32>} : tensor<2xf32>
    %mean = core.constant {value = dense<[1.0, -1.0]> : tensor<2xf32>} : tensor<2xf32>
    %var = core.constant {value = dense<[4.0, 1.0]> : tensor<2xf32>} : tensor<2xf32>
    %conv1_output = nn.convolution %x, %w {weight_fields = ["weights"], outputChannels = 2, kernelChannels = 2, nGroups = 1, kernelSize = [1, 1], valid = {}} : (tensor<1x1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x1x2x3x3xf32> loc("conv1")
    %conv1_bn_output = nn.batchnorm %conv1_output, %gamma, %beta, %mean, %var {weight_fields = ["gamma", "beta", "mean", "variance"], channels = 2, epsilon = 0.0} : (tensor<1x1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x1x2x3x3xf32> loc("conv1_bn")
    func.return %conv1_bn_output : tensor<1x1x2x3x3xf32>
  }
}
// CHECK:      %conv1_weights = core.constant {value = dense_resource<conv1_weights> : tensor<2x2x1x1xf32>}
// CHECK-NEXT: %conv1_bias = core.constant {value = dense_resource<conv1_bias> : tensor<2xf32>}
// CHECK-NEXT: %conv1_bn_output = nn.convolution %x, %conv1_weights, %conv1_bias {{{.*}}hasBias = true{{.*}}} : {{.*}} loc("conv1")
// CHECK-NOT:  nn.batchnorm
// CHECK:      func.return %conv1_bn_output
