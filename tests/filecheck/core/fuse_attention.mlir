// RUN: mlir-coreml opt %s --split-input-file -p fuse-attention | filecheck %s
// Scaled-dot-product attention as converters spell it, one case per chunk.

// Scores scaled by a constant, k transposed by the matmul, no mask (rank 3: one head).
module {
  func.func @scaled_no_mask(%q: tensor<2x5x8xf32>, %k: tensor<2x7x8xf32>, %v: tensor<2x7x3xf32>) -> tensor<2x5x3xf32> {
    %c = core.constant {value = dense<0.25> : tensor<f32>} : tensor<f32>
    %s = core.matmul %q, %k {transpose_b = true} : (tensor<2x5x8xf32>, tensor<2x7x8xf32>) -> tensor<2x5x7xf32>
    %t = core.mul %s, %c : (tensor<2x5x7xf32>, tensor<f32>) -> tensor<2x5x7xf32>
    %p = core.softmax %t {axis = -1} : tensor<2x5x7xf32>
    %y = core.matmul %p, %v : (tensor<2x5x7xf32>, tensor<2x7x3xf32>) -> tensor<2x5x3xf32>
    func.return %y : tensor<2x5x3xf32>
  }
}
// CHECK-LABEL: func.func @scaled_no_mask
// CHECK-NEXT:    %y = core.scaled_dot_product_attention %q, %k, %v {scale = 0.25, layout = "bhsd"} : (tensor<2x5x8xf32>, tensor<2x7x8xf32>, tensor<2x7x3xf32>) -> tensor<2x5x3xf32>
// CHECK-NEXT:    func.return %y

// -----

// An additive mask, no scale, k^T given as a tensor (the pass transposes it back).
module {
  func.func @masked_unscaled(%q: tensor<1x2x4x8xf32>, %kt: tensor<1x2x8x6xf32>, %v: tensor<1x2x6x8xf32>, %m: tensor<1x1x4x6xf32>) -> tensor<1x2x4x8xf32> {
    %s = core.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x6xf32>) -> tensor<1x2x4x6xf32>
    %t = core.add %s, %m : (tensor<1x2x4x6xf32>, tensor<1x1x4x6xf32>) -> tensor<1x2x4x6xf32>
    %p = core.softmax %t {axis = 3} : tensor<1x2x4x6xf32>
    %y = core.matmul %p, %v : (tensor<1x2x4x6xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x4x8xf32>
    func.return %y : tensor<1x2x4x8xf32>
  }
}
// CHECK-LABEL: func.func @masked_unscaled
// CHECK-NEXT:    %[[K:.*]] = core.transpose %kt {perm = [0, 1, 3, 2]}
// CHECK-NEXT:    %y = core.scaled_dot_product_attention %q, %[[K]], %v, %m {scale = 1.0, layout = "bhsd"}
// CHECK-NEXT:    func.return %y

// -----

// The head split and merge of a multi-head attention: [B, S, H, E] transposed to heads first
// (k straight to [B, H, E, S]), and back. The transposes go: the op reads [B, S, H, E].
module {
  func.func @heads(%q: tensor<1x6x4x8xf32>, %k: tensor<1x6x4x8xf32>, %v: tensor<1x6x4x8xf32>) -> tensor<1x6x4x8xf32> {
    %c = core.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
    %qh = core.transpose %q {perm = [0, 2, 1, 3]} : (tensor<1x6x4x8xf32>) -> tensor<1x4x6x8xf32>
    %kh = core.transpose %k {perm = [0, 2, 3, 1]} : (tensor<1x6x4x8xf32>) -> tensor<1x4x8x6xf32>
    %vh = core.transpose %v {perm = [0, 2, 1, 3]} : (tensor<1x6x4x8xf32>) -> tensor<1x4x6x8xf32>
    %qs = core.mul %qh, %c : (tensor<1x4x6x8xf32>, tensor<f32>) -> tensor<1x4x6x8xf32>
    %s = core.matmul %qs, %kh : (tensor<1x4x6x8xf32>, tensor<1x4x8x6xf32>) -> tensor<1x4x6x6xf32>
    %p = core.softmax %s {axis = -1} : tensor<1x4x6x6xf32>
    %o = core.matmul %p, %vh : (tensor<1x4x6x6xf32>, tensor<1x4x6x8xf32>) -> tensor<1x4x6x8xf32>
    %y = core.transpose %o {perm = [0, 2, 1, 3]} : (tensor<1x4x6x8xf32>) -> tensor<1x6x4x8xf32>
    func.return %y : tensor<1x6x4x8xf32>
  }
}
// CHECK-LABEL: func.func @heads
// CHECK-NOT:     core.transpose
// CHECK:         %y = core.scaled_dot_product_attention %q, %k, %v {scale = 0.5, layout = "bshd"} : tensor<1x6x4x8xf32>
// CHECK-NEXT:    func.return %y

// -----

// A softmax over another axis is not attention: nothing changes.
module {
  func.func @softmax_axis(%q: tensor<2x5x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x5x3xf32>) -> tensor<2x5x3xf32> {
    %s = core.matmul %q, %k {transpose_b = true} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x5xf32>
    %p = core.softmax %s {axis = 1} : tensor<2x5x5xf32>
    %y = core.matmul %p, %v : (tensor<2x5x5xf32>, tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
    func.return %y : tensor<2x5x3xf32>
  }
}
// CHECK-LABEL: func.func @softmax_axis
// CHECK:         core.softmax
// CHECK-NOT:     core.scaled_dot_product_attention

// -----

// The scores are read twice (returned too): the chain must stay.
module {
  func.func @scores_escape(%q: tensor<2x5x8xf32>, %k: tensor<2x5x8xf32>, %v: tensor<2x5x3xf32>) -> (tensor<2x5x3xf32>, tensor<2x5x5xf32>) {
    %s = core.matmul %q, %k {transpose_b = true} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>) -> tensor<2x5x5xf32>
    %p = core.softmax %s {axis = -1} : tensor<2x5x5xf32>
    %y = core.matmul %p, %v : (tensor<2x5x5xf32>, tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
    func.return %y, %p : tensor<2x5x3xf32>, tensor<2x5x5xf32>
  }
}
// CHECK-LABEL: func.func @scores_escape
// CHECK-NOT:     core.scaled_dot_product_attention
