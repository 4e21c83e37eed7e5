// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// A declared result type that contradicts shape inference is rejected.

module {
  func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) -> tensor<2x4xf32> {
    %y = core.matmul %a, %b : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x4xf32> loc("mm")
    func.return %y : tensor<2x4xf32>
  }
}
// CHECK: error: loc("mm"): 'core.matmul' op result 0 has type tensor<2x4xf32> but the operands imply tensor<2x5xf32>
