// RUN: mlir-coreml opt %s -p cse,dce | filecheck %s

module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %b = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %unused = core.constant {value = dense<7.0> : tensor<4xf32>} : tensor<4xf32>
    %y = "test.add"(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    func.return %y : tensor<4xf32>
  }
}
// CHECK:      %a = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
// CHECK-NOT:  core.constant
// CHECK:      %y = "test.add"(%a, %a)
