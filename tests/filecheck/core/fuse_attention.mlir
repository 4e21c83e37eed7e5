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

// -----

// A fused q/k/v projection split along the channels (v heads wider than q/k ones), the head
// reshapes and the merge reshape: all views of the projection. The op reads the heads at
// channel offsets of %x (layout bsc): no split and no reshape remain to be copied.
module {
  func.func @qkv_views(%x: tensor<1x6x56xf32>, %m: tensor<1x1x6x6xf32>) -> tensor<1x6x24xf32> {
    %q, %k, %v = core.split %x {axis = 2, sizes = [16, 16, 24]} : (tensor<1x6x56xf32>) -> (tensor<1x6x16xf32>, tensor<1x6x16xf32>, tensor<1x6x24xf32>)
    %qh = core.reshape %q {shape = [1, 6, 2, 8]} : (tensor<1x6x16xf32>) -> tensor<1x6x2x8xf32>
    %kh = core.reshape %k {shape = [1, 6, 2, 8]} : (tensor<1x6x16xf32>) -> tensor<1x6x2x8xf32>
    %vh = core.reshape %v {shape = [1, 6, 2, 12]} : (tensor<1x6x24xf32>) -> tensor<1x6x2x12xf32>
    %o = core.scaled_dot_product_attention %qh, %kh, %vh, %m {scale = 0.25, layout = "bshd"} : (tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>, tensor<1x6x2x12xf32>, tensor<1x1x6x6xf32>) -> tensor<1x6x2x12xf32>
    %y = core.reshape %o {shape = [1, 6, 24]} : (tensor<1x6x2x12xf32>) -> tensor<1x6x24xf32>
    func.return %y : tensor<1x6x24xf32>
  }
}
// CHECK-LABEL: func.func @qkv_views
// CHECK-NOT:     core.split
// CHECK-NOT:     core.reshape
// CHECK:         %y = core.scaled_dot_product_attention %x, %x, %x, %m {scale = 0.25, layout = "bsc", heads = 2, head_dims = [8, 12], offsets = [0, 16, 32]} : (tensor<1x6x56xf32>, tensor<1x6x56xf32>, tensor<1x6x56xf32>, tensor<1x1x6x6xf32>) -> tensor<1x6x24xf32>
// CHECK-NEXT:    func.return %y

// -----

// Separate q/k/v projections: each is read from channel 0.
module {
  func.func @separate_views(%q: tensor<1x5x16xf32>, %k: tensor<1x7x16xf32>, %v: tensor<1x7x16xf32>) -> tensor<1x5x16xf32> {
    %qh = core.reshape %q {shape = [1, 5, 4, 4]} : (tensor<1x5x16xf32>) -> tensor<1x5x4x4xf32>
    %kh = core.reshape %k {shape = [1, 7, 4, 4]} : (tensor<1x7x16xf32>) -> tensor<1x7x4x4xf32>
    %vh = core.reshape %v {shape = [1, 7, 4, 4]} : (tensor<1x7x16xf32>) -> tensor<1x7x4x4xf32>
    %o = core.scaled_dot_product_attention %qh, %kh, %vh {scale = 0.5, layout = "bshd"} : (tensor<1x5x4x4xf32>, tensor<1x7x4x4xf32>, tensor<1x7x4x4xf32>) -> tensor<1x5x4x4xf32>
    %y = core.reshape %o {shape = [1, 5, 16]} : (tensor<1x5x4x4xf32>) -> tensor<1x5x16xf32>
    func.return %y : tensor<1x5x16xf32>
  }
}
// CHECK-LABEL: func.func @separate_views
// CHECK-NOT:     core.reshape
// CHECK:         %y = core.scaled_dot_product_attention %q, %k, %v {scale = 0.5, layout = "bsc", heads = 4, head_dims = [4, 4], offsets = [0, 0, 0]} : (tensor<1x5x16xf32>, tensor<1x7x16xf32>, tensor<1x7x16xf32>) -> tensor<1x5x16xf32>
// CHECK-NEXT:    func.return %y

// -----

// The result is not merged back to [B, S, H * Ev] (here [S, H * Ev]): the heads stay in layout bshd.
module {
  func.func @no_merge(%x: tensor<1x6x48xf32>) -> tensor<6x16xf32> {
    %q, %k, %v = core.split %x {axis = 2, sizes = [16, 16, 16]} : (tensor<1x6x48xf32>) -> (tensor<1x6x16xf32>, tensor<1x6x16xf32>, tensor<1x6x16xf32>)
    %qh = core.reshape %q {shape = [1, 6, 2, 8]} : (tensor<1x6x16xf32>) -> tensor<1x6x2x8xf32>
    %kh = core.reshape %k {shape = [1, 6, 2, 8]} : (tensor<1x6x16xf32>) -> tensor<1x6x2x8xf32>
    %vh = core.reshape %v {shape = [1, 6, 2, 8]} : (tensor<1x6x16xf32>) -> tensor<1x6x2x8xf32>
    %o = core.scaled_dot_product_attention %qh, %kh, %vh {scale = 0.25, layout = "bshd"} : (tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>) -> tensor<1x6x2x8xf32>
    %y = core.reshape %o {shape = [6, 16]} : (tensor<1x6x2x8xf32>) -> tensor<6x16xf32>
    func.return %y : tensor<6x16xf32>
  }
}
// CHECK-LABEL: func.func @no_merge
// CHECK:         core.split
// CHECK:         %o = core.scaled_dot_product_attention %qh, %kh, %vh {scale = 0.25, layout = "bshd"}
// CHECK-NEXT:    %y = core.reshape %o
