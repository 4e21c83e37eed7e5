// RUN: mlir-coreml opt %s -p cse | filecheck %s
// RUN: mlir-coreml opt %s -p mil-to-core | filecheck %s --check-prefix=CORE
// RUN: mlir-coreml opt %s -p mil-to-core | mlir-coreml opt - -p infer-shapes | filecheck %s --check-prefix=CORE
// Pruned weights: both MIL forms (iOS16 packed mask + shape, iOS18 mask tensor) lower to one
// core.sparse_to_dense (mask one bit per element, LSB first; the nonzero values in order).

module {
  func.func @main(%x: tensor<1x2xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>) {
    %w16 = mil.constexpr_sparse_to_dense {mask = dense<[29]> : tensor<1xu8>, nonzero_data = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>, shape = dense<[3, 2]> : tensor<2xu32>, operand_segments = [0, 0, 0]} : tensor<3x2xf32> loc("w16")
    %y16 = mil.matmul %x, %w16 {transpose_y = true, operand_segments = [1, 1, 0, 0]} : (tensor<1x2xf32>, tensor<3x2xf32>) -> tensor<1x3xf32>
    %nz = mil.const {val = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<4xf32>
    %m = mil.const {val = dense<[[1, 0], [1, 1], [1, 0]]> : tensor<3x2xu8>} : tensor<3x2xu8>
    %w18 = mil.constexpr_sparse_to_dense %nz, %m {operand_segments = [1, 1, 0]} : (tensor<4xf32>, tensor<3x2xu8>) -> tensor<3x2xf32> loc("w18")
    %y18 = mil.matmul %x, %w18 {transpose_y = true, operand_segments = [1, 1, 0, 0]} : (tensor<1x2xf32>, tensor<3x2xf32>) -> tensor<1x3xf32>
    func.return %y16, %y18 : tensor<1x3xf32>, tensor<1x3xf32>
  }
}
// CHECK: %w16 = mil.constexpr_sparse_to_dense {mask = dense<29> : tensor<1xu8>
// CHECK: %w18 = mil.constexpr_sparse_to_dense %nz, %m

// CORE: core.sparse_to_dense {mask = dense<29> : tensor<1xu8>, nonzero = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<3x2xf32> loc("w16")
// CORE: core.sparse_to_dense {mask = dense<29> : tensor<1xu8>, nonzero = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>} : tensor<3x2xf32> loc("w18")
// CORE-NOT: constexpr
