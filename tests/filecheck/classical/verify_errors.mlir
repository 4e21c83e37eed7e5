// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// The classical verifier checks a model's params against each other and names the stage.

module {
  func.func @main(%x: tensor<3xf64>) -> (tensor<i64>, dict<i64, f64>) {
    %label, %probs = classical.support_vector_classifier %x {kernel = {linearKernel = {}}, numberOfSupportVectorsPerClass = dense<[1, 1]> : tensor<2xi64>, denseSupportVectors = {vectors = [{values = dense<[1.0, 0.0, 0.0]> : tensor<3xf64>}, {values = dense<[0.0, 1.0, 0.0]> : tensor<3xf64>}]}, coefficients = [], rho = dense<0.0> : tensor<1xf64>, int64ClassLabels = {vector = dense<[0, 1]> : tensor<2xi64>}} : (tensor<3xf64>) -> (tensor<i64>, dict<i64, f64>) loc("svm")
    func.return %label, %probs : tensor<i64>, dict<i64, f64>
  }
}
// CHECK: error: loc("svm"): 'classical.support_vector_classifier' op needs one coefficient vector per class but one
// CHECK-NOT: Traceback
