// RUN: mlir-coreml opt %s -p canonicalize,cse | filecheck %s
// A dictionary-input text classifier as the importer writes it (a nested pipeline of a
// dictionary vectorizer and a feature vectorizer, then a GLM classifier): it verifies, passes
// leave it alone, and it prints back as it was read.

module attributes {coreml.spec_version = 1, coreml.model_type = "pipelineClassifier"} {
  func.func @main(%words: dict<string, f64>) -> (tensor<string>, dict<string, f64>) {
    %vector = classical.pipeline %words ({
    ^bb0(%w: dict<string, f64>):
      %sparse = classical.dict_vectorizer %w {stringToIndex = {vector = ["bad", "good"]}} : (dict<string, f64>) -> dict<i64, f64> loc("model0/model0")
      %dense = classical.feature_vectorizer %sparse {inputList = [{inputColumn = "sparse", inputDimensions = 2}]} : (dict<i64, f64>) -> tensor<2xf64> loc("model0/model1")
      classical.yield %dense : tensor<2xf64>
    }) {kind = "pipeline"} : (dict<string, f64>) -> tensor<2xf64> loc("model0")
    %label, %probs = classical.glm_classifier %vector {weights = [{value = dense<[-1.5, 2.0]> : tensor<2xf64>}], offset = dense<0.25> : tensor<1xf64>, stringClassLabels = {vector = ["neg", "pos"]}} : (tensor<2xf64>) -> (tensor<string>, dict<string, f64>) loc("model1")
    func.return %label, %probs : tensor<string>, dict<string, f64>
  }
}
// CHECK:      %vector = classical.pipeline %words ({
// CHECK-NEXT: ^bb0(%w: dict<string, f64>):
// CHECK-NEXT:   %sparse = classical.dict_vectorizer %w {stringToIndex = {vector = ["bad", "good"]}} : (dict<string, f64>) -> dict<i64, f64> loc("model0/model0")
// CHECK:        classical.yield %dense : tensor<2xf64>
// CHECK-NEXT: }) {kind = "pipeline"} : (dict<string, f64>) -> tensor<2xf64> loc("model0")
// CHECK-NEXT: %label, %probs = classical.glm_classifier %vector
// CHECK-SAME:   offset = dense<0.25> : tensor<1xf64>
// CHECK-NEXT: func.return %label, %probs : tensor<string>, dict<string, f64>
