// RUN: mlir-coreml opt %s -p "quantize-weights{min-size=8 mode=linear-symmetric}" | filecheck %s
// RUN: mlir-coreml opt %s -p "quantize-weights{min-size=8 mode=linear granularity=per-tensor bits=4}" | filecheck %s --check-prefix=AFFINE
// RUN: mlir-coreml opt %s -p "quantize-weights{min-size=8 mode=lut bits=2}" | filecheck %s --check-prefix=LUT
// RUN: mlir-coreml opt %s -p "quantize-weights{min-size=8 skip=fc}" | filecheck %s --check-prefix=SKIP
// Conv and linear weights become compressed constants (the bias, the small add operand and a
// constant also read as an activation stay); the ops still read f32 and return f32.

module {
  func.func @main(%x: tensor<1x2x4x4xf32>, %v: tensor<3x4xf32>) -> (tensor<1x4x4x4xf32>, tensor<3x2xf32>, tensor<3x4xf32>) {
    %w = core.constant {value = dense<[[[[0.1]], [[0.2]]], [[[0.3]], [[-0.4]]], [[[0.5]], [[0.6]]], [[[0.7]], [[-0.8]]]]> : tensor<4x2x1x1xf32>} : tensor<4x2x1x1xf32>
    %b = core.constant {value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %y = core.conv2d %x, %w, %b {operand_segments = [1, 1, 1, 0]} : (tensor<1x2x4x4xf32>, tensor<4x2x1x1xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("conv")
    %lw = core.constant {value = dense<[[1.0, 0.5, 0.25, 0.125], [2.0, 1.0, -0.5, 0.25]]> : tensor<2x4xf32>} : tensor<2x4xf32>
    %l = core.linear %v, %lw {operand_segments = [1, 1, 0, 0]} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32> loc("fc")
    %s = core.constant {value = dense<[[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]> : tensor<3x4xf32>} : tensor<3x4xf32>
    %a = core.add %v, %s : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
    func.return %y, %l, %a : tensor<1x4x4x4xf32>, tensor<3x2xf32>, tensor<3x4xf32>
  }
}
// CHECK:      %w = core.dequantize {data = dense<{{.*}}> : tensor<4x2x1x1xi8>, scale = dense<{{.*}}> : tensor<4x1x1x1xf32>} : tensor<4x2x1x1xf32>
// CHECK-NEXT: %b = core.constant {{.*}} : tensor<4xf32>
// CHECK-NEXT: %y = core.conv2d %x, %w, %b {{.*}} -> tensor<1x4x4x4xf32>
// CHECK-NEXT: %lw = core.dequantize {data = dense<[[127, 64, 32, 16], [127, 64, -32, 16]]> : tensor<2x4xi8>, scale = dense<{{.*}}> : tensor<2x1xf32>} : tensor<2x4xf32>
// CHECK:      %s = core.constant {{.*}} : tensor<3x4xf32>

// AFFINE:     %w = core.dequantize {data = dense<{{.*}}> : tensor<4x2x1x1xu8>, scale = dense<{{.*}}> : tensor<1x1x1x1xf32>, zero_point = dense<{{.*}}> : tensor<1x1x1x1xu8>, bits = 4} : tensor<4x2x1x1xf32>

// LUT:        %w = core.lut_to_dense {indices = dense<{{.*}}> : tensor<4x2x1x1xu8>, lut = dense<{{.*}}> : tensor<4x1x1x1x4xf32>, bits = 2} : tensor<4x2x1x1xf32>
// LUT:        %lw = core.lut_to_dense {{.*}} lut = dense<{{.*}}> : tensor<2x1x4xf32>, bits = 2} : tensor<2x4xf32>

// SKIP:       %w = core.dequantize
// SKIP:       %lw = core.constant
