"""`espresso-to-core` on the Apple-compiled sample bundles: interpreter(before) and
interpreter(after) agree on random inputs, only core ops remain, and the runtime runs them."""
import glob
import os

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.core import Location
from mlir_coreml.ir.dialects.espresso import GenericLayerOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.passes.manager import PassManager
from tests.lowering.helpers import lower_and_compare, rel_err

SAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "data", "espresso_samples", "*",
                                        "*.mlmodelc")))


def random_inputs(module, seed=0):
    fn = next(op for op in module.regions[0].block.ops if op.op_name == "func.func")
    rng = np.random.default_rng(seed)
    return {a.name: rng.standard_normal(a.type.shape).astype(np.float32) for a in fn.regions[0].blocks[0].args}


def test_there_are_six_samples():
    assert len(SAMPLES) == 6


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_sample_bundle_lowers_and_keeps_semantics(path):
    module = mlir_coreml.load(path)
    before, after = lower_and_compare(module, random_inputs(module), "espresso-to-core")
    for b, a in zip(before, after):
        # f32 accumulation order differs (espresso's loop vs core's einsum) over deep nets
        assert rel_err(a, b) <= 1e-4


@pytest.mark.parametrize("path", [p for p in SAMPLES if "FourRecognize" in p or "uxmodel" in p],
                         ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_runtime_runs_the_lowered_bundle(path):
    module = mlir_coreml.load(path)
    inputs = random_inputs(module)
    want = run_module(module, inputs)
    got = mlir_coreml.compile_model(path).predict(inputs)
    for g, w in zip(got.values(), want):
        assert rel_err(g, w) <= 2e-2


def test_unknown_layer_is_a_clear_error():
    """A layer type the dialect keeps as `espresso.layer` has no lowering: the pass names it."""
    module = mlir_coreml.load(next(p for p in SAMPLES if "uxmodel" in p))
    fn = next(op for op in module.regions[0].block.ops if op.op_name == "func.func")
    block = fn.regions[0].blocks[0]
    x = block.args[0]
    odd = build(GenericLayerOp, [x], [x.type], {"layer_type": "mystery"}, location=Location(name="odd_layer"))
    block.insert_before(odd, block.first_op)
    with pytest.raises(MlirCoremlError, match=r"'espresso.layer' \(layer 'odd_layer'\): espresso layer type "
                                              r"'mystery' has no lowering"):
        PassManager.from_pipeline("espresso-to-core").run(module)
