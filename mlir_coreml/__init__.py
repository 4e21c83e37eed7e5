"""mlir_coreml: an MLIR-style compiler and CPU runtime for Apple Core ML models.

Public API (see DESIGN.md): `load(path)` -> IR module, `compile_model(path)` -> CompiledModel.
Submodules are imported lazily so `import mlir_coreml` stays fast.
"""
__version__ = "0.1.0"

from mlir_coreml.errors import MlirCoremlError

__all__ = ["MlirCoremlError", "load", "compile_model", "register_custom_layer", "__version__"]


def load(path):
    """Read a `.mlmodel`, `.mlpackage`, `.mlmodelc` or `.mlir` file into an IR module."""
    from mlir_coreml.frontend import load_model

    return load_model(path)


def compile_model(path_or_module, pipeline=None, threads=None, trust_bundled_kernels=False, precision=None,
                  compute_units=None):
    """Compile a model for CPU execution; returns a CompiledModel with `.predict`. Native code
    shipped inside the model runs only if this machine built it or `trust_bundled_kernels`.
    `precision` "fp16" | "ane" | "fp32" (runtime/precision.py); `compute_units` "cpu" | "all" | "cpu_and_ne" |
    "cpu_and_gpu" partitions over those units (`.partition_report`); `.precision_report()` gives the drift."""
    from mlir_coreml.runtime.predict import compile_model as _compile

    return _compile(path_or_module, pipeline=pipeline, threads=threads, trust_bundled_kernels=trust_bundled_kernels,
                    precision=precision, compute_units=compute_units)


def register_custom_layer(class_name, fn=None):
    """Provide the implementation of a Core ML custom layer class (see ir/custom_layers.py)."""
    from mlir_coreml.ir.custom_layers import register_custom_layer as register

    return register(class_name, fn)
