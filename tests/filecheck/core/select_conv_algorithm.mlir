// RUN: mlir-coreml opt %s -p select-conv-algorithm | filecheck %s
// RUN: mlir-coreml opt %s -p "select-conv-algorithm{tiles=4}" | filecheck %s --check-prefix=F4
// RUN: mlir-coreml opt %s -p "select-conv-algorithm{winograd=false}" | filecheck %s --check-prefix=OFF
// RUN: mlir-coreml opt %s -p select-conv-algorithm | mlir-coreml opt - -p select-conv-algorithm | filecheck %s
// Each conv2d gets the algorithm the cost rule picks, printed as an attribute (and parsed back:
// a second run keeps it). 64 -> 64 channels on 56x56 and 256 on 14x14: Winograd F(4,3) saves
// more than its transforms cost; 3 -> 16 channels: the transforms dominate (im2col); 512
// channels on 7x7: F(2,3) (F(4,3)'s 4 tiles fill a quarter of the GEMM's 16-tile vectors), im2col
// when only F(4,3) is allowed; 1x1 is the GEMM on the input; a depthwise conv runs its own
// kernel; stride 2 has no Winograd form. A chosen algorithm is kept.

module {
  func.func @main(%x: tensor<1x64x56x56xf32>, %s: tensor<1x3x56x56xf32>, %d: tensor<1x512x7x7xf32>, %m: tensor<1x256x14x14xf32>) -> (tensor<1x256x14x14xf32>, tensor<1x64x56x56xf32>, tensor<1x16x56x56xf32>, tensor<1x512x7x7xf32>, tensor<1x64x56x56xf32>, tensor<1x64x56x56xf32>, tensor<1x64x28x28xf32>, tensor<1x64x56x56xf32>) {
    %w = core.constant {value = dense<0.01> : tensor<64x64x3x3xf32>} : tensor<64x64x3x3xf32>
    %a = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32> loc("wide")
    %wm = core.constant {value = dense<0.01> : tensor<256x256x3x3xf32>} : tensor<256x256x3x3xf32>
    %mid = core.conv2d %m, %wm {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x256x14x14xf32>, tensor<256x256x3x3xf32>) -> tensor<1x256x14x14xf32> loc("mid")
    %ws = core.constant {value = dense<0.01> : tensor<16x3x3x3xf32>} : tensor<16x3x3x3xf32>
    %b = core.conv2d %s, %ws {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x3x56x56xf32>, tensor<16x3x3x3xf32>) -> tensor<1x16x56x56xf32> loc("stem")
    %wd = core.constant {value = dense<0.01> : tensor<512x512x3x3xf32>} : tensor<512x512x3x3xf32>
    %c = core.conv2d %d, %wd {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x512x7x7xf32>, tensor<512x512x3x3xf32>) -> tensor<1x512x7x7xf32> loc("deep")
    %w1 = core.constant {value = dense<0.01> : tensor<64x64x1x1xf32>} : tensor<64x64x1x1xf32>
    %e = core.conv2d %x, %w1 {operand_segments = [1, 1, 0, 0]} : (tensor<1x64x56x56xf32>, tensor<64x64x1x1xf32>) -> tensor<1x64x56x56xf32> loc("pointwise")
    %wdw = core.constant {value = dense<0.01> : tensor<64x1x3x3xf32>} : tensor<64x1x3x3xf32>
    %f = core.conv2d %x, %wdw {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], groups = 64} : (tensor<1x64x56x56xf32>, tensor<64x1x3x3xf32>) -> tensor<1x64x56x56xf32> loc("dw")
    %g = core.conv2d %x, %w {operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x28x28xf32> loc("strided")
    %h = core.conv2d %x, %w {algorithm = "winograd2", operand_segments = [1, 1, 0, 0], pads = [1, 1, 1, 1]} : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>) -> tensor<1x64x56x56xf32> loc("pinned")
    func.return %mid, %a, %b, %c, %e, %f, %g, %h : tensor<1x256x14x14xf32>, tensor<1x64x56x56xf32>, tensor<1x16x56x56xf32>, tensor<1x512x7x7xf32>, tensor<1x64x56x56xf32>, tensor<1x64x56x56xf32>, tensor<1x64x28x28xf32>, tensor<1x64x56x56xf32>
  }
}
// CHECK: %a = core.conv2d {{.*}}algorithm = "winograd4"{{.*}} loc("wide")
// CHECK: %mid = core.conv2d {{.*}}algorithm = "winograd4"{{.*}} loc("mid")
// CHECK: %b = core.conv2d {{.*}}algorithm = "im2col"{{.*}} loc("stem")
// CHECK: %c = core.conv2d {{.*}}algorithm = "winograd2"{{.*}} loc("deep")
// CHECK: %e = core.conv2d {{.*}}algorithm = "gemm"{{.*}} loc("pointwise")
// CHECK: %f = core.conv2d {{.*}}algorithm = "depthwise"{{.*}} loc("dw")
// CHECK: %g = core.conv2d {{.*}}algorithm = "im2col"{{.*}} loc("strided")
// CHECK: %h = core.conv2d {{.*}}algorithm = "winograd2"{{.*}} loc("pinned")

// F4: %a = core.conv2d {{.*}}algorithm = "winograd4"{{.*}} loc("wide")
// F4: %mid = core.conv2d {{.*}}algorithm = "winograd4"{{.*}} loc("mid")
// F4: %c = core.conv2d {{.*}}algorithm = "im2col"{{.*}} loc("deep")

// OFF: %a = core.conv2d {{.*}}algorithm = "im2col"{{.*}} loc("wide")
// OFF: %mid = core.conv2d {{.*}}algorithm = "im2col"{{.*}} loc("mid")
// OFF: %h = core.conv2d {{.*}}algorithm = "winograd2"{{.*}} loc("pinned")
