// RUN: mlir-coreml opt %s -p emulate-ane-numerics | filecheck %s
// Arguments are cast to f16 before their first reader, every constant is f16, each op's result type follows its
// f16 operands (it accumulates in f32 and rounds its result), the function still returns f32.
// An integer result (core.shape) is left alone.

module {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<4xi32>) {
    %w = core.constant {value = dense<[[[[0.1]], [[0.2]]], [[[0.3]], [[0.4]]], [[[0.5]], [[0.6]]], [[[0.7]], [[0.8]]]]> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
    %y = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0]} : (tensor<1x2x4x4xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x4x4xf32> loc("conv")
    %s = core.constant {value = dense<0.5> : tensor<1xf32>} : tensor<1xf32>
    %m = core.mul %y, %s : (tensor<1x4x4x4xf32>, tensor<1xf32>) -> tensor<1x4x4x4xf32>
    %r = core.relu %m : tensor<1x4x4x4xf32>
    %shape = core.shape %r : (tensor<1x4x4x4xf32>) -> tensor<4xi32>
    func.return %r, %shape : tensor<1x4x4x4xf32>, tensor<4xi32>
  }
}
// CHECK:      func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<4xi32>)
// CHECK-NEXT:   %w = core.constant {{.*}} : tensor<4x2x1x1xf16>
// CHECK-NEXT:   %[[X:.*]] = core.cast %x {to = "f16"} : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf16>
// CHECK-NEXT:   %y = core.conv2d %[[X]], %w {{.*}} : (tensor<1x2x4x4xf16>, tensor<4x2x1x1xf16>) -> tensor<1x4x4x4xf16>
// CHECK-NEXT:   %s = core.constant {value = dense<0.5> : tensor<1xf16>} : tensor<1xf16>
// CHECK-NEXT:   %m = core.mul %y, %s : (tensor<1x4x4x4xf16>, tensor<1xf16>) -> tensor<1x4x4x4xf16>
// CHECK-NEXT:   %r = core.relu %m : tensor<1x4x4x4xf16>
// CHECK-NEXT:   %shape = core.shape %r : (tensor<1x4x4x4xf16>) -> tensor<4xi32>
// CHECK-NEXT:   %[[R:.*]] = core.cast %r {to = "f32"} : (tensor<1x4x4x4xf16>) -> tensor<1x4x4x4xf32>
// CHECK-NEXT:   func.return %[[R]], %shape : tensor<1x4x4x4xf32>, tensor<4xi32>

// RUN: mlir-coreml opt %s -p "emulate-ane-numerics{devices=ane}" | filecheck %s --check-prefix=NONE
// Restricted to ops partition-devices placed on the ANE: none here, so nothing changes.
// NONE:     %w = core.constant {{.*}} : tensor<4x2x1x1xf32>
// NONE-NOT: core.cast
