// RUN: mlir-coreml opt %s -p "nn-to-espresso{coremlc-version=2021}" | filecheck %s
// clip(0, 6) becomes ReLU, negate, max(x, -6), negate with the converter's helper names; the
// layer producing the model output is marked is_output, every layer gets debug_info (2021).

module {
  func.func @main(%x: tensor<1x3x2x2xf32>) -> tensor<1x3x2x2xf32> {
    %y = nn.clip %x {minVal = 0.0, maxVal = 6.0} : tensor<1x3x2x2xf32> loc("act")
    func.return %y : tensor<1x3x2x2xf32>
  }
}
// CHECK:      %y_relu = espresso.activation %x {mode = 0, beta = 0.0, debug_info = "act"} : tensor<1x3x2x2xf32> loc("act")
// CHECK-NEXT: %y_relu_neg = espresso.activation %y_relu {mode = 6, alpha = -1.0, beta = 0.0, debug_info = "act__neg__"} : tensor<1x3x2x2xf32> loc("act__neg__")
// CHECK-NEXT: %y_relu_clip = espresso.elementwise %y_relu_neg {operation = 25, alpha = -6.0, beta = 0, fused_relu = 0, debug_info = "act__clip__"} : tensor<1x3x2x2xf32> loc("act__clip__")
// CHECK-NEXT: %y = espresso.activation %y_relu_clip {mode = 6, alpha = -1.0, beta = 0.0, debug_info = "act_neg2", attributes = {is_output = 1}} : tensor<1x3x2x2xf32> loc("act_neg2")
// CHECK-NEXT: func.return %y
