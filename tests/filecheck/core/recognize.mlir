// RUN: mlir-coreml opt %s --split-input-file -p fuse-silu | filecheck %s --check-prefix=SILU
// RUN: mlir-coreml opt %s --split-input-file -p fuse-gelu | filecheck %s --check-prefix=GELU
// RUN: mlir-coreml opt %s --split-input-file -p fuse-layernorm | filecheck %s --check-prefix=LN
// RUN: mlir-coreml opt %s --split-input-file -p fuse-softmax | filecheck %s --check-prefix=SM
// Decomposed activations and norms recognised as the fused ops the kernels run; every chunk
// is also an equivalence case of tests/passes/test_fusion_passes.py.

module {
  func.func @silu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %s = core.sigmoid %x : tensor<2x8xf32>
    %y = core.mul %x, %s : tensor<2x8xf32>
    func.return %y : tensor<2x8xf32>
  }
}
// SILU-LABEL: func.func @silu
// SILU-NEXT:    %y = core.silu %x : tensor<2x8xf32>

// -----

module {
  func.func @gelu_exact(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %r2 = core.constant {value = dense<1.4142135> : tensor<f32>} : tensor<f32>
    %one = core.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
    %half = core.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
    %a = core.div %x, %r2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %e = core.erf %a : tensor<2x8xf32>
    %p = core.add %e, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %h = core.mul %x, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %y = core.mul %h, %p : tensor<2x8xf32>
    func.return %y : tensor<2x8xf32>
  }
}
// GELU-LABEL: func.func @gelu_exact
// GELU-NEXT:    %y = core.gelu %x {mode = "exact"} : tensor<2x8xf32>

// -----

module {
  func.func @gelu_tanh(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %c = core.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
    %k = core.constant {value = dense<0.7978846> : tensor<f32>} : tensor<f32>
    %one = core.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
    %half = core.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
    %three = core.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
    %x3 = core.pow %x, %three : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %cx3 = core.mul %c, %x3 : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    %in = core.add %x, %cx3 : tensor<2x8xf32>
    %kin = core.mul %in, %k : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
    %t = core.tanh %kin : tensor<2x8xf32>
    %p = core.add %one, %t : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    %hp = core.mul %half, %p : (tensor<f32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    %y = core.mul %x, %hp : tensor<2x8xf32>
    func.return %y : tensor<2x8xf32>
  }
}
// GELU-LABEL: func.func @gelu_tanh
// GELU-NEXT:    %y = core.gelu %x {mode = "tanh"} : tensor<2x8xf32>

// -----

module {
  func.func @layer_norm_decomposed(%x: tensor<2x5x8xf32>) -> tensor<2x5x8xf32> {
    %eps = core.constant {value = dense<1.0e-05> : tensor<f32>} : tensor<f32>
    %m = core.reduce %x {kind = "mean", axes = [-1], keepdims = true} : (tensor<2x5x8xf32>) -> tensor<2x5x1xf32>
    %d = core.sub %x, %m : (tensor<2x5x8xf32>, tensor<2x5x1xf32>) -> tensor<2x5x8xf32>
    %d2 = core.mul %d, %d : tensor<2x5x8xf32>
    %v = core.reduce %d2 {kind = "mean", axes = [-1], keepdims = true} : (tensor<2x5x8xf32>) -> tensor<2x5x1xf32>
    %ve = core.add %v, %eps : (tensor<2x5x1xf32>, tensor<f32>) -> tensor<2x5x1xf32>
    %r = core.rsqrt %ve : tensor<2x5x1xf32>
    %y = core.mul %d, %r : (tensor<2x5x8xf32>, tensor<2x5x1xf32>) -> tensor<2x5x8xf32>
    func.return %y : tensor<2x5x8xf32>
  }
}
// LN-LABEL: func.func @layer_norm_decomposed
// LN-NEXT:    %y = core.layer_norm %x {axes = [2], eps = 9.99999{{[0-9]*}}e-06{{.*}}} : tensor<2x5x8xf32>
// LN-NEXT:    func.return %y

// -----

module {
  func.func @mvn_scale(%x: tensor<1x6x1x8xf32>) -> tensor<1x6x1x8xf32> {
    %g = core.constant {value = dense<[[[0.5, 1.0, 1.5, 2.0, -1.0, 0.0, 3.0, 1.0]]]> : tensor<1x1x8xf32>} : tensor<1x1x8xf32>
    %b = core.constant {value = dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]]> : tensor<1x1x8xf32>} : tensor<1x1x8xf32>
    %n = core.layer_norm %x {axes = [-2, -1], operand_segments = [1, 0, 0]} : tensor<1x6x1x8xf32> loc("mvn")
    %s = core.mul %n, %g : (tensor<1x6x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x1x8xf32>
    %y = core.add %s, %b : (tensor<1x6x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x1x8xf32>
    func.return %y : tensor<1x6x1x8xf32>
  }
}
// LN-LABEL: func.func @mvn_scale
// LN:         %y = core.layer_norm %x, %mvn_gamma, %mvn_beta
// LN-NOT:     core.mul
// LN-NOT:     core.add

// -----

// f16-stored scale and shift reach the f32 compute through casts (nn-to-core's spelling).
module {
  func.func @mvn_scale_cast(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
    %g = core.constant {value = dense<[[[0.5, 1.0, 1.5, 2.0, -1.0, 0.0, 3.0, 1.0]]]> : tensor<1x1x8xf16>} : tensor<1x1x8xf16>
    %b = core.constant {value = dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]]> : tensor<1x1x8xf16>} : tensor<1x1x8xf16>
    %n = core.layer_norm %x {axes = [-1], operand_segments = [1, 0, 0]} : tensor<1x6x8xf32> loc("mvn")
    %gc = core.cast %g {to = "f32"} : (tensor<1x1x8xf16>) -> tensor<1x1x8xf32>
    %s = core.mul %n, %gc : (tensor<1x6x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x8xf32>
    %bc = core.cast %b {to = "f32"} : (tensor<1x1x8xf16>) -> tensor<1x1x8xf32>
    %y = core.add %s, %bc : (tensor<1x6x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x8xf32>
    func.return %y : tensor<1x6x8xf32>
  }
}
// LN-LABEL: func.func @mvn_scale_cast
// LN:         %y = core.layer_norm %x, %mvn_gamma, %mvn_beta
// LN-NOT:     core.mul
// LN-NOT:     core.add

// -----

module {
  func.func @softmax_shifted(%x: tensor<2x3x7xf32>) -> tensor<2x3x7xf32> {
    %m = core.reduce %x {kind = "max", axes = [-1], keepdims = true} : (tensor<2x3x7xf32>) -> tensor<2x3x1xf32>
    %d = core.sub %x, %m : (tensor<2x3x7xf32>, tensor<2x3x1xf32>) -> tensor<2x3x7xf32>
    %e = core.exp %d : tensor<2x3x7xf32>
    %s = core.reduce %e {kind = "sum", axes = [2], keepdims = true} : (tensor<2x3x7xf32>) -> tensor<2x3x1xf32>
    %y = core.div %e, %s : (tensor<2x3x7xf32>, tensor<2x3x1xf32>) -> tensor<2x3x7xf32>
    func.return %y : tensor<2x3x7xf32>
  }
}
// SM-LABEL: func.func @softmax_shifted
// SM-NEXT:    %y = core.softmax %x {axis = 2} : tensor<2x3x7xf32>
// SM-NEXT:    func.return %y

// -----

module {
  func.func @softmax_channels(%x: tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32> {
    %e = core.exp %x : tensor<1x4x3x3xf32>
    %s = core.reduce %e {kind = "sum", axes = [1], keepdims = true} : (tensor<1x4x3x3xf32>) -> tensor<1x1x3x3xf32>
    %y = core.div %e, %s : (tensor<1x4x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x4x3x3xf32>
    func.return %y : tensor<1x4x3x3xf32>
  }
}
// SM-LABEL: func.func @softmax_channels
// SM-NEXT:    %y = core.softmax %x {axis = 1} : tensor<1x4x3x3xf32>
