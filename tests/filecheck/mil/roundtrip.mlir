// RUN: mlir-coreml opt %s -p dce | filecheck %s
// RUN: mlir-coreml opt %s --generic -p dce | mlir-coreml opt - -p dce | filecheck %s
// ML Program ops print in the compact form, keep their MIL names, locations and opset, and
// round-trip exactly (also through the generic form); control flow holds one region per block.

module attributes {mil.program_version = 1} {
  func.func @main(%x: tensor<1x2x4x4xf16>, %n: tensor<i32>) -> (tensor<1x3x4x4xf16>, tensor<i32>) attributes {opset = "ios17"} {
    %w = mil.const {val = dense<0.5> : tensor<3x2x3x3xf16>} : tensor<3x2x3x3xf16> loc("conv_w")
    %pad_type = mil.const {val = dense<"same"> : tensor<string>} : tensor<string> loc("pad_type_0")
    %conv = mil.conv %x, %w, %pad_type {operand_segments = [1, 1, 0, 0, 1, 0, 0, 0]} : (tensor<1x2x4x4xf16>, tensor<3x2x3x3xf16>, tensor<string>) -> tensor<1x3x4x4xf16> loc("conv_0")
    %y = mil.relu %conv : tensor<1x3x4x4xf16> loc("relu_0")
    %zero = mil.const {val = dense<0> : tensor<i32>} : tensor<i32> loc("zero")
    %count = mil.while_loop %zero ({
    ^bb0(%i: tensor<i32>):
      %more = mil.less %i, %n : (tensor<i32>, tensor<i32>) -> tensor<bool> loc("more")
      mil.yield %more : tensor<bool>
    }, {
    ^bb0(%j: tensor<i32>):
      %one = mil.const {val = dense<1> : tensor<i32>} : tensor<i32> loc("one")
      %next = mil.add %j, %one : tensor<i32> loc("next")
      mil.yield %next : tensor<i32>
    }) : tensor<i32> loc("loop")
    func.return %y, %count : tensor<1x3x4x4xf16>, tensor<i32>
  }
}
// CHECK:      func.func @main(%x: tensor<1x2x4x4xf16>, %n: tensor<i32>) -> (tensor<1x3x4x4xf16>, tensor<i32>) attributes {opset = "ios17"} {
// CHECK-NEXT:   %w = mil.const {val = dense<0.5> : tensor<3x2x3x3xf16>} : tensor<3x2x3x3xf16> loc("conv_w")
// CHECK:        %conv = mil.conv %x, %w, %pad_type {operand_segments = [1, 1, 0, 0, 1, 0, 0, 0]} : (tensor<1x2x4x4xf16>, tensor<3x2x3x3xf16>, tensor<string>) -> tensor<1x3x4x4xf16> loc("conv_0")
// CHECK-NEXT:   %y = mil.relu %conv : tensor<1x3x4x4xf16> loc("relu_0")
// CHECK:        %count = mil.while_loop %zero ({
// CHECK-NEXT:   ^bb0(%i: tensor<i32>):
// CHECK-NEXT:     %more = mil.less %i, %n : (tensor<i32>, tensor<i32>) -> tensor<bool> loc("more")
// CHECK-NEXT:     mil.yield %more : tensor<bool>
// CHECK-NEXT:   }, {
// CHECK:          mil.yield %next : tensor<i32>
// CHECK-NEXT:   }) : tensor<i32> loc("loop")
// CHECK-NEXT:   func.return %y, %count : tensor<1x3x4x4xf16>, tensor<i32>
