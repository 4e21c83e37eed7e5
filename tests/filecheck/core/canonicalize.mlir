// RUN: mlir-coreml opt %s -p canonicalize | filecheck %s
// Folds and patterns of the core dialect: reshape of reshape, transpose of transpose,
// identity transposes, adding zero / multiplying by one, casts to the same type, static shapes.

module {
  func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<4x6xf32>, tensor<2x3x4xf32>, tensor<3xi32>) {
    %zero = core.constant {value = dense<0.0> : tensor<4xf32>} : tensor<4xf32>
    %one = core.constant {value = dense<1.0> : tensor<1xf32>} : tensor<1xf32>
    %a = core.reshape %x {shape = [6, 4]} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
    %b = core.reshape %a {shape = [4, -1]} : (tensor<6x4xf32>) -> tensor<4x6xf32>
    %t1 = core.transpose %x {perm = [1, 2, 0]} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
    %t2 = core.transpose %t1 {perm = [2, 0, 1]} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
    %s = core.add %t2, %zero : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %m = core.mul %one, %s : (tensor<1xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
    %c = core.cast %m {to = "f32"} : tensor<2x3x4xf32>
    %shape = core.shape %c : (tensor<2x3x4xf32>) -> tensor<3xi32>
    func.return %b, %c, %shape : tensor<4x6xf32>, tensor<2x3x4xf32>, tensor<3xi32>
  }
}
// CHECK:      func.func @main(%x: tensor<2x3x4xf32>)
// CHECK-NEXT:   %b = core.reshape %x {shape = [4, 6]} : (tensor<2x3x4xf32>) -> tensor<4x6xf32>
// CHECK-NEXT:   %shape = core.constant {value = dense<[2, 3, 4]> : tensor<3xi32>} : tensor<3xi32>
// CHECK-NEXT:   func.return %b, %x, %shape : tensor<4x6xf32>, tensor<2x3x4xf32>, tensor<3xi32>
