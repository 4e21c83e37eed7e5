// RUN: mlir-coreml opt %s --split-input-file --verify-diagnostics -p cse | filecheck %s
// RUN: not mlir-coreml opt %s -p "select-conv-algorithm{tiles=3}" 2>&1 | filecheck %s --check-prefix=OPTION
// A conv2d's algorithm must be one of the known names and must compute the op's geometry; the
// pass refuses a tile it has no kernel for.

module {
  func.func @winograd_5x5(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x5x5xf32>} : tensor<4x2x5x5xf32>
    // expected-error@+1 {{algorithm 'winograd4' does not compute a 5x5 convolution with strides [1, 1], dilations [1, 1], groups 1}}
    %y = core.conv2d %x, %w {algorithm = "winograd4", operand_segments = [1, 1, 0, 0], pads = [2, 2, 2, 2]} : (tensor<1x2x8x8xf32>, tensor<4x2x5x5xf32>) -> tensor<1x4x8x8xf32>
    func.return %y : tensor<1x4x8x8xf32>
  }
}

// -----

module {
  func.func @winograd_strided(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x4x4xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32>
    // expected-error@+1 {{algorithm 'winograd2' does not compute a 3x3 convolution with strides [2, 2]}}
    %y = core.conv2d %x, %w {algorithm = "winograd2", operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32>
    func.return %y : tensor<1x4x4x4xf32>
  }
}

// -----

module {
  func.func @unknown(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
    // expected-error@+1 {{unknown algorithm 'fft'; expected one of auto, gemm, im2col, depthwise, winograd2, winograd4}}
    %y = core.conv2d %x, %w {algorithm = "fft", operand_segments = [1, 1, 0, 0]} : (tensor<1x2x8x8xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x8x8xf32>
    func.return %y : tensor<1x4x8x8xf32>
  }
}

// -----

module {
  func.func @fine(%x: tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x2x3x3xf32>} : tensor<4x2x3x3xf32>
    %y = core.conv2d %x, %w {algorithm = "winograd4", operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x2x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
    func.return %y : tensor<1x4x8x8xf32>
  }
}
// CHECK: func.func @fine
// CHECK: algorithm = "winograd4"
// CHECK-NOT: func.func

// OPTION: select-conv-algorithm: tiles must be 2 and/or 4, got [3]
