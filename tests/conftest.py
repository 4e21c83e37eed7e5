"""Shared pytest fixtures.

``model_zoo`` (session scope) gives lazily built, content-hash-cached zoo models::

    def test_something(model_zoo):
        path, inputs, outputs = model_zoo.get("mobilenet_v2_small", "nn_fp16")

Forms: nn_fp32, nn_fp16, mlprogram, mlprogram_fp32, onnx (see tests/models/zoo.py).
Builds land in tests/.fixtures/<hash>/ (hash of zoo.py + name + form + tool versions), so
editing the zoo rebuilds, and concurrent pytest processes share the cache safely.
Set MLIR_COREML_FIXTURES to use another cache directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_FIXTURES = Path(__file__).resolve().parent / ".fixtures"

# compile_model generates and compiles a module per model by default; the suite runs the
# executor (same kernels, same bits) unless a test asks for codegen (tests/codegen/test_generated.py),
# so it does not pay a C build per model. Subprocesses (CLI tests) inherit this.
os.environ.setdefault("MLIR_COREML_CODEGEN", "0")


@pytest.fixture(scope="session")
def model_zoo():
    # Imported here, not at module level: torch and coremltools are test-only
    # dependencies and cost seconds to import; tests that don't use the zoo don't pay.
    pytest.importorskip("torch")
    pytest.importorskip("coremltools")
    try:
        from tests.models.zoo import ModelZoo
    except ImportError:  # e.g. --import-mode=importlib: the repo root is not on sys.path
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.models.zoo import ModelZoo

    return ModelZoo(os.environ.get("MLIR_COREML_FIXTURES") or _FIXTURES)
