// RUN: not mlir-coreml opt %s -p cse 2>&1 | filecheck %s
// The mask's set bits must count the stored values (29 = 0b11101: four bits, three values).

module {
  func.func @main() -> tensor<3x2xf32> {
    %w = core.sparse_to_dense {mask = dense<29> : tensor<1xu8>, nonzero = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : tensor<3x2xf32> loc("w")
    func.return %w : tensor<3x2xf32>
  }
}
// CHECK: the mask has 4 set bits but 3 nonzero values are stored
