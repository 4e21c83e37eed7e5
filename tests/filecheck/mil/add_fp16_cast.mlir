// RUN: mlir-coreml opt %s -p add-fp16-cast | filecheck %s
// RUN: mlir-coreml opt %s -p add-fp16-cast | mlir-coreml opt - -p "" | filecheck %s
// coremltools' fp16 ML Program: f32 consts become f16, each f32 input is cast to fp16 before its
// first reader, every op computes in f16, and the output is cast back to fp32 under its own name
// (the model's output name); the fp16 value is renamed `_cast_fp16`. Integer consts stay.

module {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x3xf32> {
    %w = mil.const {val = dense<0.5> : tensor<3x4xf32>} : tensor<3x4xf32> loc("w")
    %b = mil.const {val = dense<0.25> : tensor<3xf32>} : tensor<3xf32> loc("b")
    %h = mil.linear %x, %w, %b : (tensor<1x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<1x3xf32> loc("linear")
    %axis = mil.const {val = dense<-1> : tensor<i32>} : tensor<i32> loc("axis")
    %y = mil.softmax %h, %axis : (tensor<1x3xf32>, tensor<i32>) -> tensor<1x3xf32> loc("softmax")
    func.return %y : tensor<1x3xf32>
  }
}
// CHECK:      %w = mil.const {val = dense<0.5> : tensor<3x4xf16>} : tensor<3x4xf16> loc("w")
// CHECK-NEXT: %b = mil.const {{.*}} : tensor<3xf16> loc("b")
// CHECK-NEXT: %x_to_fp16_dtype_0 = mil.const {val = dense<"fp16"> : tensor<string>}
// CHECK-NEXT: %x_to_fp16 = mil.cast %x, %x_to_fp16_dtype_0 : (tensor<1x4xf32>, tensor<string>) -> tensor<1x4xf16> loc("x_to_fp16")
// CHECK-NEXT: %h = mil.linear %x_to_fp16, %w, %b : (tensor<1x4xf16>, tensor<3x4xf16>, tensor<3xf16>) -> tensor<1x3xf16>
// CHECK-NEXT: %axis = mil.const {val = dense<-1> : tensor<i32>}
// CHECK-NEXT: %y_cast_fp16 = mil.softmax %h, %axis : (tensor<1x3xf16>, tensor<i32>) -> tensor<1x3xf16>
// CHECK-NEXT: %y_dtype_0 = mil.const {val = dense<"fp32"> : tensor<string>}
// CHECK-NEXT: %y = mil.cast %y_cast_fp16, %y_dtype_0 : (tensor<1x3xf16>, tensor<string>) -> tensor<1x3xf32> loc("y")
// CHECK-NEXT: func.return %y : tensor<1x3xf32>
