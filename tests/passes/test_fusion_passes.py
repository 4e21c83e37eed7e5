"""Every fusion pass keeps every case of tests/filecheck/core/{fusion,recognize,concat_in_place}.mlir computing the same
(reference interpreter before vs after, random inputs), and the CPU pipeline does on a real
NeuralNetwork model whose batch norms, ReLU6 chains, pads and rank wrappers it fuses away."""
import os

import pytest

from mlir_coreml.frontend import load_model
from mlir_coreml.passes.manager import PassManager
from mlir_coreml.passes.pipelines import named_pipeline
from tests.passes.equivalence import assert_equivalent, ir_cases, parse
from tests.samples import SOURCE_MODELS

FOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "filecheck", "core")
CASES = [text for name in ("fusion.mlir", "recognize.mlir", "concat_in_place.mlir") for text in ir_cases(os.path.join(FOLDER, name))]
PASSES = ["fuse-conv-batchnorm", "fuse-conv-scale", "fuse-conv-bias", "fuse-linear-bias", "fuse-pad-conv",
          "fuse-epilogue", "fuse-layernorm", "fuse-gelu", "fuse-silu", "fuse-softmax",
          "blocked-layout{min-convs=1}", "concat-in-place,plan-memory"]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_every_pass_keeps_every_case_equivalent(index):
    module = parse(CASES[index])
    for name in PASSES:
        assert_equivalent(module, name, rtol=1e-5, atol=1e-4)


def test_cpu_pipeline_fuses_a_real_model():
    source = next((p for p in SOURCE_MODELS if p.name == "FourRecognize.mlmodel"), None)
    if source is None:
        pytest.skip("tests/data/espresso_samples has no FourRecognize.mlmodel")
    module = load_model(str(source))
    PassManager.from_pipeline("to-core").run(module)
    fused = module.clone()
    PassManager.from_pipeline(named_pipeline("coreml-cpu").replace("to-core,", "")).run(fused)
    names = [op.op_name for op in fused.walk() if op.op_name.startswith("core.")
             and op.op_name not in ("core.constant", "core.to_blocked", "core.from_blocked")]  # not the reorders
    assert names.count("core.conv2d") + names.count("core.conv2d_blocked") == 22 and len(names) <= 27  # 147 ops before
    assert_equivalent(module, "canonicalize,fuse-conv-batchnorm,fuse-pad-conv,fuse-epilogue", rtol=1e-4, atol=1e-3)
