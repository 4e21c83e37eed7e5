// RUN: mlir-coreml opt %s --split-input-file --verify-diagnostics -p cse | filecheck %s
// Several verifier and parser errors in one file, each checked against its comment; a chunk
// without an error is printed.

module {
  func.func @bad_conv(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32>
    // expected-error@+1 {{input has 3 channels but the weight 4x2x3x3 with groups=1 expects 2}}
    %y = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
    func.return %y : tensor<1x4x8x8xf32>
  }
}

// -----

module {
  func.func @undefined(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %nope : tensor<4xf32> // expected-error {{use of undefined value %nope}}
  }
}

// -----

module {
  func.func @bsc_heads_past_the_channels(%x: tensor<1x6x40xf32>) -> tensor<1x6x16xf32> {
    // expected-error@+1 {{v has 40 channels, 2 heads of 8 from channel 32 do not fit}}
    %y = core.scaled_dot_product_attention %x, %x, %x {layout = "bsc", heads = 2, head_dims = [8, 8], offsets = [0, 16, 32]} : (tensor<1x6x40xf32>, tensor<1x6x40xf32>, tensor<1x6x40xf32>) -> tensor<1x6x16xf32>
    func.return %y : tensor<1x6x16xf32>
  }
}

// -----

module {
  func.func @fine(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %x : tensor<4xf32>
  }
}
// CHECK: func.func @fine
// CHECK-NOT: func.func
