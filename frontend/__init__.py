"""Readers for every Core ML form, each producing IR in the format's own dialect."""
from __future__ import annotations

import os

from mlir_coreml.errors import MlirCoremlError


def load_model(path: str):
    """Read `path` into an IR module, choosing the reader by what the path is."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MlirCoremlError("no such file or directory", path)
    if path.endswith(".mlir"):
        from mlir_coreml.ir.parser import parse_module

        with open(path, encoding="utf-8") as f:
            return parse_module(f.read(), filename=path)
    raise MlirCoremlError("this model form is not supported yet (expected .mlir; .mlmodel, .mlpackage and "
                          ".mlmodelc readers are being added)", path)
