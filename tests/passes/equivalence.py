"""Equivalence checking for passes: the reference interpreter runs a module before and after
a pipeline on the same random inputs; the results must agree.

`ir_cases(path)` reads the chunks of a `--split-input-file` IR test, so each pattern's
FileCheck cases are also its equivalence cases."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.interpreter import Interpreter
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.passes.manager import PassManager


def ir_cases(path) -> list[str]:
    from mlir_coreml.opt import split_chunks

    with open(path, encoding="utf-8") as f:
        return [c.text for c in split_chunks(f.read(), split=True)]


def main_function(module):
    return next(op for op in module.walk() if op.op_name == "func.func")


def random_inputs(module, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    args = []
    for arg in main_function(module).regions[0].block.args:
        t = arg.type
        dtype = t.element.numpy_dtype
        if np.issubdtype(dtype, np.floating):
            args.append((rng.standard_normal(t.shape) * 4).astype(dtype))
        else:
            args.append(rng.integers(0, 4, size=t.shape).astype(dtype))
    return args


def run(module, args):
    return [np.asarray(v) for v in Interpreter(module).call(None, list(args))]


def assert_equivalent(module, pipeline: str, args=None, rtol=1e-5, atol=1e-5) -> None:
    """Run `pipeline` on (a clone of) `module`; both must compute the same on `args`."""
    after = module.clone()
    PassManager.from_pipeline(pipeline).run(after)
    args = random_inputs(module) if args is None else args
    for i, (want, got) in enumerate(zip(run(module, args), run(after, args))):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"result {i} after '{pipeline}'")


def parse(text: str):
    return parse_module(text, filename="<case>")
