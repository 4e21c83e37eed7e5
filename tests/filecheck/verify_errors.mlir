// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// The verifier names the op and its location.

module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %c = core.constant {value = dense<1.0> : tensor<2xf32>} : tensor<4xf32> loc("my_const")
    func.return %c : tensor<4xf32>
  }
}
// CHECK: error: loc("my_const"): 'core.constant' op value has type tensor<2xf32> but the result is tensor<4xf32>
