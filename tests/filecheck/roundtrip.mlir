// RUN: mlir-coreml opt %s | filecheck %s
// RUN: mlir-coreml opt %s --generic -p dce | mlir-coreml opt - -p dce | filecheck %s
// An empty pipeline reproduces the input; generic form parses back to the same module.

module {
  func.func @main(%x: tensor<1x3x?xf32>, %"a/b": tensor<2xf16>) -> (tensor<1x3x?xf32>, tensor<2xf16>) {
    %0 = "test.op"(%x) {alpha = 1.5, list = [1, 2, -3], d = {k = true}, t = tensor<2x?xi8>, s = dense<0.0> : tensor<4xf32>} : (tensor<1x3x?xf32>) -> tensor<1x3x?xf32> loc("conv1")
    func.return %0, %"a/b" : tensor<1x3x?xf32>, tensor<2xf16>
  }
}
// CHECK:      func.func @main(%x: tensor<1x3x?xf32>, %"a/b": tensor<2xf16>) -> (tensor<1x3x?xf32>, tensor<2xf16>) {
// CHECK-NEXT:   %0 = "test.op"(%x) {alpha = 1.5, list = [1, 2, -3], d = {k = true}, t = tensor<2x?xi8>, s = dense<0.0> : tensor<4xf32>} : (tensor<1x3x?xf32>) -> tensor<1x3x?xf32> loc("conv1")
// CHECK-NEXT:   func.return %0, %"a/b" : tensor<1x3x?xf32>, tensor<2xf16>
