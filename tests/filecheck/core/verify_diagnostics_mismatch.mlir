// RUN: not mlir-coreml opt %s --split-input-file --verify-diagnostics 2>&1 | filecheck %s
// An expectation that does not match, and one that is never produced, fail the run with one
// line naming both.

module {
  func.func @wrong(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %nope : tensor<4xf32> // expected-error {{some other message}}
  }
}

// -----

module {
  func.func @silent(%x: tensor<4xf32>) -> tensor<4xf32> {
    func.return %x : tensor<4xf32> // expected-error {{never raised}}
  }
}
// CHECK: error: {{.*}}verify_diagnostics_mismatch.mlir: 2 diagnostic(s) did not match: {{.*}}:7: unexpected error: {{.*}}use of undefined value %nope; {{.*}}:15: expected error 'never raised' was not produced
// CHECK-NOT: Traceback
