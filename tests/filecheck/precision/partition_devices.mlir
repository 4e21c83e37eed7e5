// RUN: mlir-coreml opt %s -p "partition-devices{policy=greedy}" | filecheck %s --check-prefix=GREEDY
// RUN: mlir-coreml opt %s -p "partition-devices{policy=cost}" | filecheck %s --check-prefix=COST
// RUN: mlir-coreml opt %s -p "partition-devices{policy=greedy units=cpu,gpu}" | filecheck %s --check-prefix=GPU
// RUN: mlir-coreml opt %s -p "partition-devices{policy=greedy},emulate-ane-numerics{devices=ane}" | filecheck %s --check-prefix=HYBRID
// RUN: mlir-coreml opt %s -p "partition-devices{policy=cost}" | mlir-coreml opt - -p "" | filecheck %s --check-prefix=COST
// A dilated convolution cannot run on the Neural Engine; the LSTM runs on the CPU only. Greedy
// puts every other op on its first preferred unit (ane), switching units four times; the cost
// model keeps these tiny ops on the CPU, where a switch costs more than it saves.

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
// GREEDY:      %a = core.conv2d {{.*}}device = "ane"
// GREEDY-NEXT: %b = core.conv2d {{.*}}device = "gpu"
// GREEDY-NEXT: %c = core.relu %b {device = "ane"}
// GREEDY:      %t = core.tanh %s {device = "ane"}
// GREEDY-NEXT: core.lstm {{.*}}device = "cpu"
// GREEDY-NEXT: %z = core.sigmoid %y {device = "ane"}

// COST:     core.conv2d {{.*}}device = "cpu"
// COST-NOT: device = "{{ane|gpu}}"

// GPU:     %a = core.conv2d {{.*}}device = "gpu"
// GPU:     core.lstm {{.*}}device = "cpu"
// GPU-NOT: "ane"

// HYBRID:      %a = core.conv2d {{.*}} -> tensor<1x2x8x8xf16>
// HYBRID:      %[[B:.*]] = core.cast %a {to = "f32"}
// HYBRID-NEXT: %b = core.conv2d %[[B]], {{.*}}device = "gpu"{{.*}} -> tensor<1x2x8x8xf32>
// HYBRID:      core.lstm {{.*}} : (tensor<4x1x8xf32>, {{.*}}
