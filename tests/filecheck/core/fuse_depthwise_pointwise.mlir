// RUN: mlir-coreml opt %s -p fuse-depthwise-pointwise | filecheck %s
// RUN: mlir-coreml opt %s -p "fuse-depthwise-pointwise{min-bytes=0}" | filecheck %s --check-prefix=ALL
// RUN: mlir-coreml opt %s -p fuse-depthwise-pointwise | mlir-coreml opt - -p cse | filecheck %s
// A depthwise conv2d read only by a 1x1 conv2d becomes one core.depthwise_pointwise carrying both
// epilogues, when its result (32x64x64 f32: 512 KiB) would leave the cache; the 8x8x8 one stays
// two ops unless min-bytes allows it; a depthwise result with a second reader is never fused.

module {
  func.func @main(%x: tensor<1x32x64x64xf32>, %r: tensor<1x16x64x64xf32>, %s: tensor<1x8x8x8xf32>) -> (tensor<1x16x64x64xf32>, tensor<1x4x8x8xf32>, tensor<1x8x8x8xf32>) {
    %wd = core.constant {value = dense<0.1> : tensor<32x1x3x3xf32>} : tensor<32x1x3x3xf32>
    %d = core.conv2d %x, %wd {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], groups = 32, activation = "relu6"} : (tensor<1x32x64x64xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x64x64xf32> loc("dw")
    %wp = core.constant {value = dense<0.1> : tensor<16x32x1x1xf32>} : tensor<16x32x1x1xf32>
    %bp = core.constant {value = dense<0.5> : tensor<16xf32>} : tensor<16xf32>
    %p = core.conv2d %d, %wp, %bp, %r {operand_segments = [1, 1, 1, 1]} : (tensor<1x32x64x64xf32>, tensor<16x32x1x1xf32>, tensor<16xf32>, tensor<1x16x64x64xf32>) -> tensor<1x16x64x64xf32> loc("pw")
    %ws = core.constant {value = dense<0.1> : tensor<8x1x3x3xf32>} : tensor<8x1x3x3xf32>
    %ds = core.conv2d %s, %ws {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], groups = 8} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> loc("small_dw")
    %wps = core.constant {value = dense<0.1> : tensor<4x8x1x1xf32>} : tensor<4x8x1x1xf32>
    %ps = core.conv2d %ds, %wps {operand_segments = [1, 1, 0, 0]} : (tensor<1x8x8x8xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x8x8xf32> loc("small_pw")
    %ws2 = core.constant {value = dense<0.2> : tensor<8x1x3x3xf32>} : tensor<8x1x3x3xf32>
    %shared = core.conv2d %s, %ws2 {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], groups = 8} : (tensor<1x8x8x8xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x8x8xf32> loc("shared_dw")
    %both = core.conv2d %shared, %wps {operand_segments = [1, 1, 0, 0]} : (tensor<1x8x8x8xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x8x8xf32> loc("reads_shared")
    %sum = core.add %ps, %both : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
    func.return %p, %sum, %shared : tensor<1x16x64x64xf32>, tensor<1x4x8x8xf32>, tensor<1x8x8x8xf32>
  }
}
// CHECK-NOT: loc("dw")
// CHECK:     %p = core.depthwise_pointwise %x, %wd, %wp, %bp, %r {{.*}}dw_activation = "relu6"{{.*}} loc("pw")
// CHECK:     core.conv2d {{.*}} loc("small_dw")
// CHECK:     core.conv2d {{.*}} loc("small_pw")
// CHECK:     core.conv2d {{.*}} loc("shared_dw")
// CHECK:     core.conv2d {{.*}} loc("reads_shared")

// ALL:       core.depthwise_pointwise {{.*}} loc("pw")
// ALL:       %ps = core.depthwise_pointwise {{.*}} loc("small_pw")
// ALL:       core.conv2d {{.*}} loc("shared_dw")
// ALL:       core.conv2d {{.*}} loc("reads_shared")
