// RUN: not mlir-coreml opt %s -p canonicalise 2>&1 | filecheck %s
module {
}
// CHECK: error: pipeline: unknown pass 'canonicalise'; did you mean 'canonicalize'?
