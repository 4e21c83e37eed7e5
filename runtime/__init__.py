"""What runs a compiled model: the predict API, the executor that maps each op of the final IR
to a kernel or reference call, the loader and build cache of generated modules, and the
benchmark harness. Emitters and bundle writers live in codegen/."""
