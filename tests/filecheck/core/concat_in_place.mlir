// RUN: mlir-coreml opt %s --split-input-file -p concat-in-place,plan-memory | filecheck %s
// In-place concats: the operands get their slice of the concat's buffer from plan-memory.

module {
  func.func @fire(%x: tensor<1x4x4x4xf32>) -> tensor<1x16x4x4xf32> {
    %w1 = core.constant {value = dense<1.0> : tensor<8x4x1x1xf32>} : tensor<8x4x1x1xf32>
    %w3 = core.constant {value = dense<0.5> : tensor<8x4x3x3xf32>} : tensor<8x4x3x3xf32>
    %a = core.conv2d %x, %w1 {operand_segments = [1, 1, 0, 0]} : (tensor<1x4x4x4xf32>, tensor<8x4x1x1xf32>) -> tensor<1x8x4x4xf32>
    %b = core.conv2d %x, %w3 {pads = [1, 1, 1, 1], operand_segments = [1, 1, 0, 0]} : (tensor<1x4x4x4xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x4x4xf32>
    %c = core.concat %a, %b {axis = 1} : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x16x4x4xf32>
    %y = core.relu %c : tensor<1x16x4x4xf32>
    func.return %y : tensor<1x16x4x4xf32>
  }
}
// CHECK-LABEL: func.func @fire
// CHECK:         %a = core.conv2d {{.*}}arena_offset = [[A:[0-9]+]]
// CHECK:         %b = core.conv2d {{.*}}arena_offset = 512
// CHECK:         %c = core.concat %a, %b {axis = 1, in_place = true, arena_offset = 0, last_use = 5}

// -----

// Not in place: an operand with another reader, and a concat along an inner axis.
module {
  func.func @shared(%x: tensor<1x8x4x4xf32>, %z: tensor<2x8xf32>) -> (tensor<1x16x4x4xf32>, tensor<1x8x4x4xf32>, tensor<2x16xf32>) {
    %a = core.relu %x : tensor<1x8x4x4xf32>
    %b = core.sigmoid %x : tensor<1x8x4x4xf32>
    %c = core.concat %a, %b {axis = 1} : (tensor<1x8x4x4xf32>, tensor<1x8x4x4xf32>) -> tensor<1x16x4x4xf32>
    %p = core.relu %z : tensor<2x8xf32>
    %q = core.tanh %z : tensor<2x8xf32>
    %r = core.concat %p, %q {axis = 1} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x16xf32>
    func.return %c, %a, %r : tensor<1x16x4x4xf32>, tensor<1x8x4x4xf32>, tensor<2x16xf32>
  }
}
// CHECK-LABEL: func.func @shared
// CHECK-NOT:     in_place
