// RUN: mlir-coreml opt %s -p "nn-to-espresso{coremlc-version=2020},fuse-activation" | filecheck %s
// One espresso layer per source layer with coremlc's field values and codes; the ReLU is fused
// into the convolution, which takes its blob name; blobs lose the unit sequence axis.

module {
  func.func @main(%x: tensor<1x1x2x4x4xf32>) -> tensor<1x1x2x2x4xf32> {
    %w = core.constant {value = dense<[[[[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [0.0, 1.0, 2.0]], [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5], [-0.25, 0.0, 1.0]]], [[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]], [[0.5, 0.0, 0.5], [0.0, 0.5, 0.0], [0.5, 0.0, 0.5]]], [[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]], [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]], [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], [[-0.9, -0.8, -0.7], [-0.6, -0.5, -0.4], [-0.3, -0.2, -0.1]]]]> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32>
    %b = core.constant {value = dense<[0.5, -0.5, 1.0, 0.0]> : tensor<4xf32>} : tensor<4xf32>
    %conv_out = nn.convolution %x, %w, %b {outputChannels = 4, kernelChannels = 2, nGroups = 1, kernelSize = [3, 3], stride = [1, 1], valid = {paddingAmounts = {borderAmounts = [{}, {}]}}, hasBias = true, weight_fields = ["weights", "bias"]} : (tensor<1x1x2x4x4xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x1x4x2x2xf32> loc("conv")
    %relu_out = nn.activation %conv_out {ReLU = {}} : tensor<1x1x4x2x2xf32> loc("relu")
    %neg_out = nn.activation %relu_out {linear = {alpha = -1.0}} : tensor<1x1x4x2x2xf32> loc("relu__neg__")
    %clip_out = nn.unary %neg_out {type = "THRESHOLD", alpha = -6.0, epsilon = 1e-06, scale = 1.0} : tensor<1x1x4x2x2xf32> loc("relu__clip__")
    %relu6_out = nn.activation %clip_out {linear = {alpha = -1.0}} : tensor<1x1x4x2x2xf32> loc("relu_neg2")
    %prob = nn.softmax %relu6_out : tensor<1x1x4x2x2xf32> loc("softmax")
    %perm = nn.permute %prob {axis = [0, 2, 3, 1]} : (tensor<1x1x4x2x2xf32>) -> tensor<1x1x2x2x4xf32> loc("permute")
    func.return %perm : tensor<1x1x2x2x4xf32>
  }
}
// CHECK:      func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x4xf32> {
// CHECK:      %conv_weights = core.constant {value = dense_resource<conv_weights> : tensor<4x2x3x3xf32>}
// CHECK-NEXT: %conv_biases = core.constant {value = dense_resource<conv_biases> : tensor<4xf32>}
// CHECK-NEXT: %relu_out = espresso.convolution %x, %conv_weights, %conv_biases {C = 4, K = 2, Nx = 3, Ny = 3, n_groups = 1, pad_t = 0, pad_b = 0, pad_l = 0, pad_r = 0, pad_mode = 0, pad_value = 0, pad_fill_mode = 0, has_biases = 1, fused_relu = 1, fused_tanh = 0, has_batch_norm = 0, n_parallel = 1} : (tensor<1x2x4x4xf32>, tensor<4x2x3x3xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32> loc("conv")
// CHECK-NEXT: %neg_out = espresso.activation %relu_out {mode = 6, alpha = -1.0, beta = 0.0} : tensor<1x4x2x2xf32> loc("relu__neg__")
// CHECK-NEXT: %clip_out = espresso.elementwise %neg_out {operation = 25, alpha = -6.0, beta = 0, fused_relu = 0} : tensor<1x4x2x2xf32> loc("relu__clip__")
// CHECK-NEXT: %relu6_out = espresso.activation %clip_out {mode = 6, alpha = -1.0, beta = 0.0} : tensor<1x4x2x2xf32> loc("relu_neg2")
// CHECK-NEXT: %prob = espresso.softmax %relu6_out {C = 2} : tensor<1x4x2x2xf32> loc("softmax")
// CHECK-NEXT: %perm = espresso.transpose %prob {axis_n = 3, axis_k = 1, axis_h = 0, axis_w = 2, axis_seq = 4} : (tensor<1x4x2x2xf32>) -> tensor<1x2x2x4xf32> loc("permute")
// CHECK-NEXT: func.return %perm : tensor<1x2x2x4xf32>
