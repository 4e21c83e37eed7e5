"""Winograd convolutions end to end: the algorithm the IR names (chosen by select-conv-algorithm in
coreml-cpu, or written in the model) is what the executor and the generated module run, with the
fused epilogue (bias, residual, activation), for fp32- and fp16-stored weights, within 1e-5
(relative to the largest output) of the reference interpreter."""
import numpy as np
import pytest

from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.passes.pipelines import named_pipeline
from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.specialized import SpecializedExecutor
from tests.codegen.helpers import Program

TOL = 1e-5
# the Winograd kernels: blocked-layout would run these small convs as blocked direct convs
NCHW = named_pipeline("coreml-cpu").replace("blocked-layout,", "")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "kernel-cache"))


def residual_block(channels, size, dtype, algorithm="auto", batch=1, seed=0):
    """relu(conv(relu(conv(x) + b1)) + b2 + x): ResNet's basic block, both convs 3x3 pad 1."""
    rng = np.random.default_rng(seed)

    def arr(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    p = Program(x=arr(batch, channels, size[0], size[1]))
    x = p.args["x"]
    attrs = {"pads": [1, 1, 1, 1], "algorithm": algorithm}

    def conv(v):
        w = arr(channels, channels, 3, 3, scale=1 / np.sqrt(9 * channels)).astype(dtype)
        return p.op(core.Conv2dOp, {"input": v, "weight": p.const(w), "bias": p.const(arr(channels)),
                                    "residual": None}, attrs)

    y = p.op(core.ReluOp, [conv(x)])
    y = p.op(core.ReluOp, [p.op(core.AddOp, [conv(y), x])])
    return p.finish(y), p.inputs


def rel_err(got, want) -> float:
    return float(np.abs(np.asarray(got, np.float64) - want).max() / np.abs(want).max())


def algorithms_of(compiled):
    return [op.algorithm for op in compiled.module.walk() if isinstance(op, core.Conv2dOp)]


@pytest.mark.parametrize("algorithm", ["winograd2", "winograd4"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("codegen", [True, False])
def test_pinned_winograd_matches_the_reference(algorithm, dtype, codegen):
    module, inputs = residual_block(12, (9, 11), dtype, algorithm, batch=2)
    want = run_module(module.clone(), dict(inputs))[0].astype(np.float64)
    compiled = compile_model(module, threads=1, codegen=codegen, pipeline=NCHW)
    assert algorithms_of(compiled) == [algorithm, algorithm]
    assert rel_err(next(iter(compiled.predict(inputs).values())), want) <= TOL
    if codegen:
        assert isinstance(compiled.runner, SpecializedExecutor)
        tiles = {spec.winograd for spec in compiled.runner.schedule.specs if spec is not None and spec.kind == "conv2d"}
        assert tiles == {int(algorithm[-1])}


def test_generated_module_same_bits_as_the_executor():
    module, inputs = residual_block(16, (10, 10), np.float32, "winograd4")
    generated = compile_model(module.clone(), threads=1, codegen=True, pipeline=NCHW)
    plain = compile_model(module, threads=1, codegen=False, pipeline=NCHW)
    for name, value in plain.predict(inputs).items():
        np.testing.assert_array_equal(generated.predict(inputs)[name], value)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_cost_rule_picks_winograd_for_wide_maps(dtype):
    """64 channels on 28x28 (a ResNet stage): the default pipeline chooses F(4,3) for both convs."""
    module, inputs = residual_block(64, (28, 28), dtype, seed=1)
    want = run_module(module.clone(), dict(inputs))[0].astype(np.float64)
    compiled = compile_model(module, threads=1)
    assert algorithms_of(compiled) == ["winograd4", "winograd4"]
    assert rel_err(next(iter(compiled.predict(inputs).values())), want) <= TOL


def test_winograd_off_keeps_im2col():
    module, inputs = residual_block(64, (28, 28), np.float32, seed=1)
    pipeline = NCHW.replace("select-conv-algorithm", "select-conv-algorithm{winograd=false}")
    compiled = compile_model(module, threads=1, pipeline=pipeline)
    assert algorithms_of(compiled) == ["im2col", "im2col"]
