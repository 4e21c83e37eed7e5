"""Shared checks of the lowering tests: run the reference interpreter before and after a
lowering pass and compare, and assert only runnable dialects remain."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.passes.manager import PassManager

RUNNABLE = {"core", "func", "builtin"}
LOOP_MODELS = {"gru", "gru_loop_scripted"}  # control flow (nn.loop / mil.while_loop): core has none


def rel_err(got, want) -> float:
    want = np.asarray(want, np.float64)
    got = np.asarray(got, np.float64).reshape(want.shape)
    if want.size == 0:
        return 0.0
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12))


def leftover_dialects(module) -> set[str]:
    return {op.op_name.split(".", 1)[0] for op in module.walk()} - RUNNABLE


def resource_names_are_unique(module) -> bool:
    """Distinct weight blobs have distinct resource names (they print as one resources section)."""
    blobs = {}
    for op in module.walk():
        attr = op.attributes.get("value") if op.op_name == "core.constant" else None
        if isinstance(attr, DenseResourceAttr) and blobs.setdefault(attr.name, attr.blob) is not attr.blob:
            return False
    return True


def lower_and_compare(module, inputs: dict, pipeline: str):
    """(outputs before, outputs after) of lowering `module` in place with `pipeline`."""
    before = run_module(module, inputs)
    PassManager.from_pipeline(pipeline).run(module)  # verifies after the pass
    assert leftover_dialects(module) == set(), sorted({op.op_name for op in module.walk()})
    assert resource_names_are_unique(module)
    after = run_module(module, inputs)
    assert len(before) == len(after)
    return before, after


def element_types_of_constants(module) -> set[str]:
    return {str(op.results[0].type.element) for op in module.walk() if op.op_name == "core.constant"}
