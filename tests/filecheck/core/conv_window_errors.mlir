// RUN: mlir-coreml opt %s --split-input-file --verify-diagnostics | filecheck %s
// conv2d and depthwise_pointwise share their window (ConvWindowMixin): the same geometry is
// refused with the same words, and the same strides, dilations and pads give the same result size.

module {
  func.func @conv_negative_pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x7xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x4x1x1xf32>} : tensor<4x4x1x1xf32>
    // expected-error@+1 {{pads must be 4 non-negative values (top, bottom, left, right), got [0, 0, -1, 0]}}
    %y = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [0, 0, -1, 0]} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x7xf32>
    func.return %y : tensor<1x4x8x7xf32>
  }
}

// -----

module {
  func.func @dwpw_negative_pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x7xf32> {
    %wd = core.constant {value = dense<1.0> : tensor<4x1x1x1xf32>} : tensor<4x1x1x1xf32>
    %wp = core.constant {value = dense<1.0> : tensor<6x4x1x1xf32>} : tensor<6x4x1x1xf32>
    // expected-error@+1 {{pads must be 4 non-negative values (top, bottom, left, right), got [0, 0, -1, 0]}}
    %y = core.depthwise_pointwise %x, %wd, %wp {operand_segments = [1, 1, 0, 1, 0, 0], pads = [0, 0, -1, 0]} : (tensor<1x4x8x8xf32>, tensor<4x1x1x1xf32>, tensor<6x4x1x1xf32>) -> tensor<1x6x8x7xf32>
    func.return %y : tensor<1x6x8x7xf32>
  }
}

// -----

module {
  func.func @dwpw_zero_stride(%x: tensor<1x4x8x8xf32>) -> tensor<1x6x8x8xf32> {
    %wd = core.constant {value = dense<1.0> : tensor<4x1x1x1xf32>} : tensor<4x1x1x1xf32>
    %wp = core.constant {value = dense<1.0> : tensor<6x4x1x1xf32>} : tensor<6x4x1x1xf32>
    // expected-error@+1 {{strides and dilations must be positive}}
    %y = core.depthwise_pointwise %x, %wd, %wp {operand_segments = [1, 1, 0, 1, 0, 0], strides = [0, 1]} : (tensor<1x4x8x8xf32>, tensor<4x1x1x1xf32>, tensor<6x4x1x1xf32>) -> tensor<1x6x8x8xf32>
    func.return %y : tensor<1x6x8x8xf32>
  }
}

// -----

module {
  func.func @conv_zero_groups(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x4x1x1xf32>} : tensor<4x4x1x1xf32>
    // expected-error@+1 {{groups must be positive (and below 2**31), got 0}}
    %y = core.conv2d %x, %w {groups = 0, operand_segments = [1, 1, 0, 0]} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
    func.return %y : tensor<1x4x8x8xf32>
  }
}

// -----

// H: (9 + 1 + 1 - 3) / 2 + 1 = 5; W with dilation 2: (7 - 5) / 2 + 1 = 2.
module {
  func.func @conv_window_size(%x: tensor<1x4x9x7xf32>) -> tensor<1x4x5x3xf32> {
    %w = core.constant {value = dense<1.0> : tensor<4x1x3x3xf32>} : tensor<4x1x3x3xf32>
    // expected-error@+1 {{result 0 has type tensor<1x4x5x3xf32> but the operands imply tensor<1x4x5x2xf32>}}
    %y = core.conv2d %x, %w {dilations = [1, 2], groups = 4, operand_segments = [1, 1, 0, 0], pads = [1, 1, 0, 0], strides = [2, 2]} : (tensor<1x4x9x7xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x5x3xf32>
    func.return %y : tensor<1x4x5x3xf32>
  }
}

// -----

module {
  func.func @dwpw_window_size(%x: tensor<1x4x9x7xf32>) -> tensor<1x6x5x3xf32> {
    %wd = core.constant {value = dense<1.0> : tensor<4x1x3x3xf32>} : tensor<4x1x3x3xf32>
    %wp = core.constant {value = dense<1.0> : tensor<6x4x1x1xf32>} : tensor<6x4x1x1xf32>
    // expected-error@+1 {{result 0 has type tensor<1x6x5x3xf32> but the operands imply tensor<1x6x5x2xf32>}}
    %y = core.depthwise_pointwise %x, %wd, %wp {dilations = [1, 2], operand_segments = [1, 1, 0, 1, 0, 0], pads = [1, 1, 0, 0], strides = [2, 2]} : (tensor<1x4x9x7xf32>, tensor<4x1x3x3xf32>, tensor<6x4x1x1xf32>) -> tensor<1x6x5x3xf32>
    func.return %y : tensor<1x6x5x3xf32>
  }
}

// -----

module {
  func.func @dwpw_window(%x: tensor<1x4x9x7xf32>) -> tensor<1x6x5x2xf32> {
    %wd = core.constant {value = dense<1.0> : tensor<4x1x3x3xf32>} : tensor<4x1x3x3xf32>
    %wp = core.constant {value = dense<1.0> : tensor<6x4x1x1xf32>} : tensor<6x4x1x1xf32>
    %y = core.depthwise_pointwise %x, %wd, %wp {dilations = [1, 2], operand_segments = [1, 1, 0, 1, 0, 0], pads = [1, 1, 0, 0], strides = [2, 2]} : (tensor<1x4x9x7xf32>, tensor<4x1x3x3xf32>, tensor<6x4x1x1xf32>) -> tensor<1x6x5x2xf32>
    func.return %y : tensor<1x6x5x2xf32>
  }
}
// CHECK-LABEL: func.func @dwpw_window
// CHECK: core.depthwise_pointwise %x, %wd, %wp {dilations = [1, 2], operand_segments = [1, 1, 0, 1, 0, 0], pads = [1, 1, 0, 0], strides = [2, 2]} : {{.*}} -> tensor<1x6x5x2xf32>
