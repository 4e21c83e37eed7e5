// RUN: mlir-coreml opt %s --split-input-file -p fuse-conv-batchnorm | filecheck %s --check-prefix=BN
// RUN: mlir-coreml opt %s --split-input-file -p fuse-conv-scale | filecheck %s --check-prefix=SCALE
// RUN: mlir-coreml opt %s --split-input-file -p fuse-conv-bias,fuse-linear-bias | filecheck %s --check-prefix=BIAS
// RUN: mlir-coreml opt %s --split-input-file -p fuse-pad-conv | filecheck %s --check-prefix=PAD
// RUN: mlir-coreml opt %s --split-input-file -p fuse-epilogue | filecheck %s --check-prefix=EPI
// The core fusion passes, one case per chunk; tests/passes/test_fusion_passes.py runs every
// chunk through every pass with the reference interpreter before and after.

module {
  func.func @conv_bn(%x: tensor<1x2x5x5xf32>) -> tensor<1x3x5x5xf32> {
    %w = core.constant {value = dense<[[[[0.5]], [[-1.0]]], [[[2.0]], [[0.25]]], [[[1.0]], [[1.0]]]]> : tensor<3x2x1x1xf32>} : tensor<3x2x1x1xf32>
    %mean = core.constant {value = dense<[0.5, -1.0, 2.0]> : tensor<3xf32>} : tensor<3xf32>
    %var = core.constant {value = dense<[1.0, 4.0, 0.25]> : tensor<3xf32>} : tensor<3xf32>
    %gamma = core.constant {value = dense<[2.0, 0.5, -1.0]> : tensor<3xf32>} : tensor<3xf32>
    %beta = core.constant {value = dense<[0.0, 1.0, -3.0]> : tensor<3xf32>} : tensor<3xf32>
    %c = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x2x5x5xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x5x5xf32> loc("conv")
    %y = core.batch_norm %c, %mean, %var, %gamma, %beta {eps = 0.001} : (tensor<1x3x5x5xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
    func.return %y : tensor<1x3x5x5xf32>
  }
}
// BN-LABEL: func.func @conv_bn
// BN-NOT:     core.batch_norm
// BN:         %y = core.conv2d %x, %conv_weight, %conv_bias
// BN-NOT:     core.batch_norm

// -----

module {
  func.func @conv_scale(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = core.constant {value = dense<[[[[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5], [0.5, 0.5]]], [[[-1.0, 0.0], [1.0, 0.0]], [[2.0, 2.0], [-2.0, 1.0]]]]> : tensor<2x2x2x2xf32>} : tensor<2x2x2x2xf32>
    %b = core.constant {value = dense<[0.5, -0.5]> : tensor<2xf32>} : tensor<2xf32>
    %s = core.constant {value = dense<[[[3.0]], [[-2.0]]]> : tensor<2x1x1xf32>} : tensor<2x1x1xf32>
    %c = core.conv2d %x, %w, %b {pads = [0, 1, 0, 1], operand_segments = [1, 1, 1, 0]} : (tensor<1x2x4x4xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32> loc("conv")
    %y = core.mul %c, %s : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
    func.return %y : tensor<1x2x4x4xf32>
  }
}
// SCALE-LABEL: func.func @conv_scale
// SCALE:         %y = core.conv2d %x, %conv_weight, %conv_bias
// SCALE-NOT:     core.mul

// -----

module {
  func.func @conv_bias(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = core.constant {value = dense<[[[[1.0]], [[2.0]]], [[[-1.0]], [[0.5]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
    %k = core.constant {value = dense<[[[[1.5]], [[-2.5]]]]> : tensor<1x2x1x1xf32>} : tensor<1x2x1x1xf32>
    %c = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> loc("conv")
    %y = core.add %k, %c : (tensor<1x2x1x1xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    func.return %y : tensor<1x2x4x4xf32>
  }
}
// BIAS-LABEL: func.func @conv_bias
// BIAS:         %y = core.conv2d %x, %w, %conv_bias
// BIAS-NOT:     core.add

// -----

module {
  func.func @linear_bias(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
    %w = core.constant {value = dense<[[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<2x4xf32>} : tensor<2x4xf32>
    %b = core.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
    %k = core.constant {value = dense<[[-3.0, 0.25]]> : tensor<1x2xf32>} : tensor<1x2xf32>
    %l = core.linear %x, %w, %b {operand_segments = [1, 1, 1, 0]} : (tensor<3x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<3x2xf32> loc("fc")
    %y = core.add %l, %k : (tensor<3x2xf32>, tensor<1x2xf32>) -> tensor<3x2xf32>
    func.return %y : tensor<3x2xf32>
  }
}
// BIAS-LABEL: func.func @linear_bias
// BIAS:         %y = core.linear %x, %w, %fc_bias
// BIAS-NOT:     core.add
// BIAS-LABEL: func.func @pad_conv

// -----

module {
  func.func @pad_conv(%x: tensor<1x2x4x4xf32>) -> tensor<1x1x5x5xf32> {
    %w = core.constant {value = dense<[[[[1.0, -1.0], [2.0, 0.5]], [[0.0, 1.0], [1.0, 0.0]]]]> : tensor<1x2x2x2xf32>} : tensor<1x2x2x2xf32>
    %p = core.pad %x {pads = [0, 0, 0, 0, 1, 1, 0, 2]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x6x6xf32>
    %y = core.conv2d %p, %w {pads = [0, 0, 0, 0], operand_segments = [1, 1, 0, 0]} : (tensor<1x2x6x6xf32>, tensor<1x2x2x2xf32>) -> tensor<1x1x5x5xf32>
    func.return %y : tensor<1x1x5x5xf32>
  }
}
// PAD-LABEL: func.func @pad_conv
// PAD-NOT:     core.pad
// PAD:         %y = core.conv2d %x, %w {{.*}}pads = [1, 1, 0, 2]
// PAD-NOT:     core.pad

// -----

module {
  func.func @residual_relu6(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
    %w = core.constant {value = dense<[[[[1.0]], [[2.0]]], [[[-1.0]], [[0.5]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
    %c = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32> loc("conv")
    %s = core.add %x, %c : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
    %y = core.clip %s {alpha = 0.0, beta = 6.0} : tensor<1x2x4x4xf32>
    func.return %y : tensor<1x2x4x4xf32>
  }
}
// EPI-LABEL: func.func @residual_relu6
// EPI:         %y = core.conv2d %x, %w, %x {{{.*}}activation = "clip", alpha = 0.0, beta = 6.0, operand_segments = [1, 1, 0, 1]}
// EPI-NOT:     core.add
// EPI-NOT:     core.clip

// -----

module {
  func.func @linear_gelu(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
    %w = core.constant {value = dense<[[1.0, 0.0, -1.0, 2.0], [0.5, 0.5, 0.5, 0.5]]> : tensor<2x4xf32>} : tensor<2x4xf32>
    %l = core.linear %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32>
    %y = core.gelu %l {mode = "tanh"} : tensor<3x2xf32>
    func.return %y : tensor<3x2xf32>
  }
}
// EPI-LABEL: func.func @linear_gelu
// EPI:         %y = core.linear %x, %w {activation = "gelu_tanh"
// EPI-NOT:     core.gelu

// -----

// A batched matmul of two activations takes a residual add and an exact gelu.
module {
  func.func @matmul_residual_gelu(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %r: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
    %m = core.matmul %a, %b : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    %s = core.add %r, %m : tensor<2x3x5xf32>
    %y = core.gelu %s : tensor<2x3x5xf32>
    func.return %y : tensor<2x3x5xf32>
  }
}
// EPI-LABEL: func.func @matmul_residual_gelu
// EPI:         %y = core.matmul %a, %b, %r {activation = "gelu", alpha = 0.0, beta = 0.0} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
// EPI-NOT:     core.add
// EPI-NOT:     core.gelu

// -----

// A matmul by a constant matrix takes a tanh-approximated gelu (the linear-layer kernel runs it).
module {
  func.func @matmul_const_gelu_tanh(%a: tensor<3x2xf32>) -> tensor<3x2xf32> {
    %w = core.constant {value = dense<[[1.0, -2.0], [0.5, 0.25]]> : tensor<2x2xf32>} : tensor<2x2xf32>
    %m = core.matmul %a, %w : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
    %y = core.gelu %m {mode = "tanh"} : tensor<3x2xf32>
    func.return %y : tensor<3x2xf32>
  }
}
// EPI-LABEL: func.func @matmul_const_gelu_tanh
// EPI:         %y = core.matmul %a, %w {activation = "gelu_tanh"
// EPI-NOT:     core.gelu
