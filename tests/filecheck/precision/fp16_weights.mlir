// RUN: mlir-coreml opt %s -p fp16-weights | filecheck %s
// RUN: mlir-coreml opt %s -p "fp16-weights{min-size=8}" | filecheck %s --check-prefix=MIN
// RUN: mlir-coreml opt %s -p "fp16-weights{skip=linear}" | filecheck %s --check-prefix=SKIP
// Weights of conv/linear/matmul become f16 constants; the ops still compute and return f32.
// A constant also read as an activation (the add) stays f32: its reader's result type follows it.

module {
  func.func @main(%x: tensor<1x2x4x4xf32>, %v: tensor<3x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x4xf32>) {
    %w = core.constant {value = dense<[[[[0.1]], [[0.2]]], [[[0.3]], [[0.4]]], [[[0.5]], [[0.6]]], [[[0.7]], [[0.8]]]]> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
    %b = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %y = core.conv2d %x, %w, %b {operand_segments = [1, 1, 1, 0]} : (tensor<1x2x4x4xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("conv")
    %lw = core.constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [2.0, 1.0, 0.5, 0.25]]> : tensor<2x4xf32>} : tensor<2x4xf32>
    %l = core.linear %v, %lw {operand_segments = [1, 1, 0, 0]} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32> loc("fc")
    %mw = core.constant {value = dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]> : tensor<4x2xf32>} : tensor<4x2xf32>
    %m = core.matmul %v, %mw : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
    %s = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %a = core.add %v, %s : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
    func.return %y, %l, %m, %a : tensor<1x4x4x4xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<3x4xf32>
  }
}
// CHECK:      %w = core.constant {value = dense<{{.*}}> : tensor<4x2x1x1xf16>} : tensor<4x2x1x1xf16>
// CHECK-NEXT: %b = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf16>} : tensor<4xf16>
// CHECK-NEXT: %y = core.conv2d %x, %w, %b {{.*}} : (tensor<1x2x4x4xf32>, tensor<4x2x1x1xf16>, tensor<4xf16>) -> tensor<1x4x4x4xf32>
// CHECK:      %lw = core.constant {{.*}} : tensor<2x4xf16>
// CHECK:      core.linear %v, %lw {{.*}} -> tensor<3x2xf32>
// CHECK:      %mw = core.constant {{.*}} : tensor<4x2xf16>
// CHECK:      core.matmul %v, %mw : (tensor<3x4xf32>, tensor<4x2xf16>) -> tensor<3x2xf32>
// CHECK:      %s = core.constant {{.*}} : tensor<4xf32>

// MIN:      %w = core.constant {{.*}} : tensor<4x2x1x1xf16>
// MIN:      %b = core.constant {{.*}} : tensor<4xf32>
// MIN:      %lw = core.constant {{.*}} : tensor<2x4xf16>

// SKIP:     %w = core.constant {{.*}} : tensor<4x2x1x1xf16>
// SKIP:     %lw = core.constant {{.*}} : tensor<2x4xf32>
// SKIP:     %mw = core.constant {{.*}} : tensor<4x2xf16>
