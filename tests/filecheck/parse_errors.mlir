// RUN: not mlir-coreml opt %s 2>&1 | filecheck %s
// A use of an undefined value names the file, line and column.

module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %nope : tensor<4xf32>
  }
}
// CHECK: error: {{.*}}parse_errors.mlir:6:17: use of undefined value %nope
// CHECK-NOT: Traceback
