"""mlir_coreml: an MLIR-style compiler and CPU runtime for Apple Core ML models.

Public API (see DESIGN.md): `load(path)` -> IR module, `compile_model(path)` -> CompiledModel.
Submodules are imported lazily so `import mlir_coreml` stays fast.
"""
__version__ = "0.1.0"

import os as _os
import sys as _sys


def _subpackage_path() -> list[str]:
    """Where `mlir_coreml.ir`, `.passes`, ... live when this folder is imported from the source
    checkout (`python -m mlir_coreml` run at its root): the top-level folders become subpackages
    only at install time, so look in an installed copy first, then beside this folder."""
    here = _os.path.dirname(_os.path.abspath(__file__))
    root = _os.path.dirname(here)
    if not (_os.path.isfile(_os.path.join(root, "setup.py")) and _os.path.isdir(_os.path.join(root, "ir"))):
        return []  # an installed package: setuptools laid the subpackages out inside it
    installed = [_os.path.join(entry, "mlir_coreml") for entry in _sys.path if entry]
    installed = [d for d in installed if _os.path.isdir(_os.path.join(d, "ir")) and
                 _os.path.abspath(d) != here]
    return installed + [root]


__path__ += _subpackage_path()

from mlir_coreml.errors import MlirCoremlError

__all__ = ["MlirCoremlError", "load", "compile_model", "register_custom_layer", "__version__"]


def load(path):
    """Read a `.mlmodel`, `.mlpackage`, `.mlmodelc` or `.mlir` file into an IR module."""
    from mlir_coreml.frontend import load_model

    return load_model(path)


def compile_model(path_or_module, pipeline=None, threads=None, function_name=None, trust_bundled_kernels=False,
                  precision=None, compute_units=None, timing=None):
    """Compile a model for CPU execution; returns a CompiledModel with `.predict`.
    `function_name` picks the function of a multi-function ML Program (as coremltools'
    `MLModel(..., function_name=...)`; default: the model's default function). Native code
    shipped inside the model runs only if this machine built it or `trust_bundled_kernels`.
    `precision` "fp16" | "ane" | "fp32" (runtime/precision.py); `compute_units` "cpu" | "all" | "cpu_and_ne" |
    "cpu_and_gpu" partitions over those units (`.partition_report`); `.precision_report()` gives the drift.
    A model file compiled before is served from the compile cache; `timing=True` (or
    MLIR_COREML_TIMING=1) prints where the time went (`.compile_timing` keeps it)."""
    from mlir_coreml.runtime.timing import finish, phase, session

    with session() as (clock, owned):
        with phase("import"):  # the first compile of a process loads the compiler itself
            from mlir_coreml.runtime.predict import compile_model as _compile
        model = _compile(path_or_module, pipeline=pipeline, threads=threads, function_name=function_name,
                         trust_bundled_kernels=trust_bundled_kernels, precision=precision,
                         compute_units=compute_units, timing=timing)
    finish(clock, owned, timing)
    return model


def register_custom_layer(class_name, fn=None):
    """Provide the implementation of a Core ML custom layer class (see ir/custom_layers.py)."""
    from mlir_coreml.ir.custom_layers import register_custom_layer as register

    return register(class_name, fn)
