// RUN: mlir-coreml opt %s -p constant-fold,dce | filecheck %s
// MIL ops fold with their own reference semantics, in the declared precision (f16 here).

module {
  func.func @main() -> tensor<2xf16> attributes {opset = "ios16"} {
    %a = mil.const {val = dense<[1.0, 2.0]> : tensor<2xf16>} : tensor<2xf16> loc("a")
    %b = mil.const {val = dense<[0.1, 0.2]> : tensor<2xf16>} : tensor<2xf16> loc("b")
    %c = mil.add %a, %b : tensor<2xf16> loc("c")
    func.return %c : tensor<2xf16>
  }
}
// CHECK:      %c = core.constant {value = dense<[1.099609375, 2.19921875]> : tensor<2xf16>} : tensor<2xf16> loc("c")
// CHECK-NEXT: func.return %c : tensor<2xf16>
