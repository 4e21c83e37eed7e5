// RUN: mlir-coreml opt %s --split-input-file --verify-diagnostics -p cse | filecheck %s
// The blocked ops check rank 5, the block width 16 and that the block count is ceil(C/16).

module {
  func.func @not_blocked(%x: tensor<1x2x8x8x8xf32>) -> tensor<1x20x8x8xf32> {
    // expected-error@+1 {{input must be a blocked tensor [N, CB, H, W, 16], got 1x2x8x8x8}}
    %y = core.from_blocked %x {channels = 20} : (tensor<1x2x8x8x8xf32>) -> tensor<1x20x8x8xf32>
    func.return %y : tensor<1x20x8x8xf32>
  }
}

// -----

module {
  func.func @blocks(%x: tensor<1x3x8x8x16xf32>) -> tensor<1x20x8x8xf32> {
    // expected-error@+1 {{input has 3 channel blocks, 20 channels need 2}}
    %y = core.from_blocked %x {channels = 20} : (tensor<1x3x8x8x16xf32>) -> tensor<1x20x8x8xf32>
    func.return %y : tensor<1x20x8x8xf32>
  }
}

// -----

module {
  func.func @conv_blocks(%x: tensor<1x1x8x8x16xf32>) -> tensor<1x1x8x8x16xf32> {
    %w = core.constant {value = dense<1.0> : tensor<8x20x1x1xf32>} : tensor<8x20x1x1xf32>
    // expected-error@+1 {{input has 1 channel blocks, 20 channels need 2}}
    %y = core.conv2d_blocked %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x1x8x8x16xf32>, tensor<8x20x1x1xf32>) -> tensor<1x1x8x8x16xf32>
    func.return %y : tensor<1x1x8x8x16xf32>
  }
}

// -----

module {
  func.func @groups(%x: tensor<1x2x8x8x16xf32>) -> tensor<1x2x8x8x16xf32> {
    %w = core.constant {value = dense<1.0> : tensor<32x16x1x1xf32>} : tensor<32x16x1x1xf32>
    // expected-error@+1 {{groups must be 1 or the channel count (depthwise), got 2 for weight 32x16x1x1}}
    %y = core.conv2d_blocked %x, %w {operand_segments = [1, 1, 0, 0], groups = 2} : (tensor<1x2x8x8x16xf32>, tensor<32x16x1x1xf32>) -> tensor<1x2x8x8x16xf32>
    func.return %y : tensor<1x2x8x8x16xf32>
  }
}

// -----

module {
  func.func @residual(%x: tensor<1x2x8x8x16xf32>, %r: tensor<1x32x8x8xf32>) -> tensor<1x2x8x8x16xf32> {
    %w = core.constant {value = dense<1.0> : tensor<32x32x1x1xf32>} : tensor<32x32x1x1xf32>
    // expected-error@+1 {{residual shape 1x32x8x8 differs from the result shape 1x2x8x8x16}}
    %y = core.conv2d_blocked %x, %w, %r {operand_segments = [1, 1, 0, 1]} : (tensor<1x2x8x8x16xf32>, tensor<32x32x1x1xf32>, tensor<1x32x8x8xf32>) -> tensor<1x2x8x8x16xf32>
    func.return %y : tensor<1x2x8x8x16xf32>
  }
}

// -----

module {
  func.func @result(%x: tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32> {
    // expected-error@+1 {{result 0 has type tensor<1x2x4x4x16xf32> but the operands imply tensor<1x2x8x8x16xf32>}}
    %y = core.pool2d_blocked %x {kind = "avg", kernel = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x2x8x8x16xf32>) -> tensor<1x2x4x4x16xf32>
    func.return %y : tensor<1x2x4x4x16xf32>
  }
}

// -----

module {
  func.func @to_rank(%x: tensor<2x8x8xf32>) -> tensor<1x1x8x8x16xf32> {
    // expected-error@+1 {{expects an NCHW input, got 2x8x8}}
    %y = core.to_blocked %x : (tensor<2x8x8xf32>) -> tensor<1x1x8x8x16xf32>
    func.return %y : tensor<1x1x8x8x16xf32>
  }
}

// -----

module {
  func.func @fine(%x: tensor<1x2x8x8x16xf32>) -> tensor<1x20x8x8xf32> {
    %y = core.from_blocked %x {channels = 20} : (tensor<1x2x8x8x16xf32>) -> tensor<1x20x8x8xf32>
    func.return %y : tensor<1x20x8x8xf32>
  }
}
// CHECK: func.func @fine
// CHECK-NOT: func.func
