// RUN: mlir-coreml opt %s -p "partition-devices{policy=greedy},outline-segments,emulate-ane-numerics{devices=gpu,ane}" | filecheck %s
// RUN: mlir-coreml opt %s -p "partition-devices{policy=greedy},outline-segments,emulate-ane-numerics{devices=gpu,ane}" | mlir-coreml opt - -p "" | filecheck %s
// RUN: mlir-coreml opt %s -p "outline-segments" | filecheck %s --check-prefix=UNPLACED
// Each run of ops on one unit becomes a function carrying its unit; main calls them in order, the
// values crossing a boundary are their arguments and results (f32), the constants are copied into
// each segment that reads them, and the gpu/ane segments cast to f16 at entry and back before return.
// The outlined module prints and parses back to the same text.

module {
  func.func @main(%x: tensor<1x2x8x8xf32>, %s: tensor<4x1x8xf32>) -> (tensor<1x2x8x8xf32>, tensor<4x1x8xf32>) {
    %w = core.constant {value = dense<0.25> : tensor<2x2x3x3xf32>} : tensor<2x2x3x3xf32>
    %a = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x2x8x8xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x8x8xf32> loc("conv")
    %b = core.conv2d %a, %w {operand_segments = [1, 1, 0, 0], pads = [2, 2, 2, 2], dilations = [2, 2]} : (tensor<1x2x8x8xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x8x8xf32> loc("dilated")
    %c = core.relu %b : tensor<1x2x8x8xf32> loc("relu")
    %wi = core.constant {value = dense<0.1> : tensor<1x32x8xf32>} : tensor<1x32x8xf32>
    %wh = core.constant {value = dense<0.1> : tensor<1x32x8xf32>} : tensor<1x32x8xf32>
    %t = core.tanh %s : tensor<4x1x8xf32> loc("tanh")
    %y, %h, %cell = core.lstm %t, %wi, %wh {operand_segments = [1, 1, 1, 0, 0, 0, 0]} : (tensor<4x1x8xf32>, tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> (tensor<4x1x8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) loc("lstm")
    %z = core.sigmoid %y : tensor<4x1x8xf32> loc("gate")
    func.return %c, %z : tensor<1x2x8x8xf32>, tensor<4x1x8xf32>
  }
}
// CHECK:      func.func @main(
// CHECK-NEXT:   %a = func.call %x {callee = @main_seg0_ane} : tensor<1x2x8x8xf32>
// CHECK-NEXT:   %b = func.call %a {callee = @main_seg1_gpu} : tensor<1x2x8x8xf32>
// CHECK-NEXT:   %c, %t = func.call %b, %s {callee = @main_seg2_ane}
// CHECK-NEXT:   %y = func.call %t {callee = @main_seg3_cpu} : tensor<4x1x8xf32>
// CHECK-NEXT:   %z = func.call %y {callee = @main_seg4_ane} : tensor<4x1x8xf32>
// CHECK-NEXT:   func.return %c, %z
// CHECK:      func.func @main_seg0_ane(%x: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> attributes {device = "ane"}
// CHECK-NEXT:   %w = core.constant {{.*}} : tensor<2x2x3x3xf16>
// CHECK-NEXT:   %[[X:.*]] = core.cast %x {to = "f16"} : (tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf16>
// CHECK-NEXT:   %a = core.conv2d %[[X]], %w {{.*}}device = "ane"{{.*}} -> tensor<1x2x8x8xf16>
// CHECK-NEXT:   %[[A:.*]] = core.cast %a {to = "f32"} : (tensor<1x2x8x8xf16>) -> tensor<1x2x8x8xf32>
// CHECK-NEXT:   func.return %[[A]] : tensor<1x2x8x8xf32>
// CHECK:      func.func @main_seg1_gpu(%a: tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32> attributes {device = "gpu"}
// CHECK:        core.conv2d {{.*}}dilations = [2, 2], device = "gpu"{{.*}} -> tensor<1x2x8x8xf16>
// CHECK:      func.func @main_seg3_cpu(%t: tensor<4x1x8xf32>) -> tensor<4x1x8xf32> attributes {device = "cpu"}
// CHECK-NEXT:   %wi = core.constant {{.*}} : tensor<1x32x8xf32>
// CHECK-NEXT:   %wh = core.constant {{.*}} : tensor<1x32x8xf32>
// CHECK-NEXT:   core.lstm %t, %wi, %wh {{.*}}device = "cpu"{{.*}} : (tensor<4x1x8xf32>,
// CHECK-NEXT:   func.return %y : tensor<4x1x8xf32>

// UNPLACED:     func.func @main(
// UNPLACED:     core.conv2d
// UNPLACED-NOT: func.call
