// RUN: mlir-coreml opt %s -p functionalize-state | filecheck %s
// A state updated in one branch of a cond: each branch yields the state's value at its end (the
// untouched branch the value before the cond), the cond's extra result is the value after it, and
// the function returns it after its outputs. Reads see the innermost current value.

module attributes {mil.program_version = 1} {
  func.func @main(%acc: state<tensor<1x4xf16>>, %x: tensor<1x4xf16>, %c: tensor<bool>) -> tensor<1x4xf16> attributes {opset = "ios18"} {
    %y = mil.cond %c ({
      %v = mil.read_state %acc : (state<tensor<1x4xf16>>) -> tensor<1x4xf16> loc("v")
      %s = mil.add %v, %x : tensor<1x4xf16> loc("s")
      %u = mil.coreml_update_state %acc, %s : (state<tensor<1x4xf16>>, tensor<1x4xf16>) -> tensor<1x4xf16> loc("u")
      mil.yield %u : tensor<1x4xf16>
    }, {
      %w = mil.read_state %acc : (state<tensor<1x4xf16>>) -> tensor<1x4xf16> loc("w")
      mil.yield %w : tensor<1x4xf16>
    }) : (tensor<bool>) -> tensor<1x4xf16> loc("branch")
    %after = mil.read_state %acc : (state<tensor<1x4xf16>>) -> tensor<1x4xf16> loc("after")
    %z = mil.add %y, %after : tensor<1x4xf16> loc("z")
    func.return %z : tensor<1x4xf16>
  }
}
// CHECK:      func.func @main(%acc: tensor<1x4xf16>, %x: tensor<1x4xf16>, %c: tensor<bool>) -> (tensor<1x4xf16>, tensor<1x4xf16>) attributes {opset = "ios18", coreml.state_arguments = ["acc"]} {
// CHECK-NEXT:   %y, %[[NEW:[0-9]+]] = mil.cond %c ({
// CHECK-NEXT:     %s = mil.add %acc, %x : tensor<1x4xf16> loc("s")
// CHECK-NEXT:     mil.yield %s, %s : tensor<1x4xf16>
// CHECK-NEXT:   }, {
// CHECK-NEXT:     mil.yield %acc, %acc : tensor<1x4xf16>
// CHECK-NEXT:   }) : (tensor<bool>) -> (tensor<1x4xf16>, tensor<1x4xf16>) loc("branch")
// CHECK-NEXT:   %z = mil.add %y, %[[NEW]] : tensor<1x4xf16> loc("z")
// CHECK-NEXT:   func.return %z, %[[NEW]] : tensor<1x4xf16>, tensor<1x4xf16>
