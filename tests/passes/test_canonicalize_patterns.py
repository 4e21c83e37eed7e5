"""Every canonicalization case of tests/filecheck/core/canonicalize_patterns.mlir computes the
same before and after `canonicalize` (reference interpreter, random inputs), and so do
real converter outputs (zoo networks lowered from NeuralNetwork models)."""
import os

import pytest

from mlir_coreml.frontend import load_model
from mlir_coreml.passes.manager import PassManager
from tests.samples import SOURCE_MODELS
from tests.passes.equivalence import assert_equivalent, ir_cases, parse

CASES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "filecheck", "core", "canonicalize_patterns.mlir")


@pytest.mark.parametrize("index", range(len(ir_cases(CASES))))
def test_ir_case_is_equivalent(index):
    assert_equivalent(parse(ir_cases(CASES)[index]), "canonicalize")


def test_converter_noise_goes_and_the_model_computes_the_same():
    """FourRecognize (a real NeuralNetwork model) after nn-to-core: rank-5 wrappers around every
    layer and ReLU6 as relu/neg/max/neg chains; canonicalize removes them."""
    source = next((p for p in SOURCE_MODELS if p.name == "FourRecognize.mlmodel"), None)
    if source is None:
        pytest.skip("tests/data/espresso_samples has no FourRecognize.mlmodel")
    module = load_model(str(source))
    PassManager.from_pipeline("to-core,cse").run(module)
    after = module.clone()
    PassManager.from_pipeline("canonicalize").run(after)
    assert count(after, "core.reshape") <= 2 < count(module, "core.reshape")
    assert count(after, "core.linear_activation") == 0 < count(module, "core.linear_activation")
    assert count(after, "core.clip") == count(module, "core.max") > 0
    assert_equivalent(module, "canonicalize", rtol=1e-4, atol=1e-3)


def count(module, name: str) -> int:
    return sum(op.op_name == name for op in module.walk())
