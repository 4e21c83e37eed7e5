"""fuse-depthwise-pointwise end to end: MobileNetV2-style blocks (expand 1x1, depthwise 3x3 relu6
at stride 1 and 2, project 1x1, residual) with fp32- and fp16-stored weights; the pipeline with
the pass forms core.depthwise_pointwise and the compiled model (executor and generated module)
matches the reference interpreter of the unfused module, and the fused op's own numpy
reference agrees with the unfused ops."""
import numpy as np
import pytest

from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.passes.pipelines import named_pipeline
from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from tests.codegen.helpers import Program
from tests.codegen.test_winograd_path import rel_err

PIPELINE = named_pipeline("coreml-cpu").replace("select-conv-algorithm",
                                                "fuse-depthwise-pointwise{min-bytes=0},select-conv-algorithm")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "kernel-cache"))


def mobilenet_blocks(dtype, seed=0):
    rng = np.random.default_rng(seed)

    def w(*shape):
        return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(dtype)

    p = Program(x=rng.standard_normal((1, 8, 17, 19)).astype(np.float32))

    def conv(v, weight, **attrs):
        bias = p.const(rng.standard_normal(weight.shape[0]).astype(np.float32))
        return p.op(core.Conv2dOp, {"input": v, "weight": p.const(weight), "bias": bias, "residual": None}, attrs)

    def block(v, channels, stride):
        e = p.op(core.ClipOp, [conv(v, w(6 * channels, channels, 1, 1))], {"alpha": 0.0, "beta": 6.0})
        d = p.op(core.ClipOp, [conv(e, w(6 * channels, 1, 3, 3), pads=[1, 1, 1, 1], groups=6 * channels,
                                    strides=[stride, stride])], {"alpha": 0.0, "beta": 6.0})
        y = conv(d, w(channels, 6 * channels, 1, 1))
        return p.op(core.AddOp, [y, v]) if stride == 1 else y

    y = block(p.args["x"], 8, 1)
    y = block(y, 8, 2)
    return p.finish(y), p.inputs


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("codegen", [True, False])
def test_fused_blocks_match_the_reference(dtype, codegen):
    module, inputs = mobilenet_blocks(dtype)
    want = run_module(module.clone(), dict(inputs))[0].astype(np.float64)
    compiled = compile_model(module, threads=1, pipeline=PIPELINE, codegen=codegen)
    fused = [op for op in compiled.module.walk() if isinstance(op, core.DepthwisePointwiseOp)]
    assert len(fused) == 2
    assert rel_err(next(iter(compiled.predict(inputs).values())), want) <= 1e-5


def test_fused_reference_is_the_unfused_computation():
    module, inputs = mobilenet_blocks(np.float32, seed=3)
    want = run_module(module.clone(), dict(inputs))[0]
    from mlir_coreml.passes.manager import PassManager

    PassManager.from_pipeline(PIPELINE.replace(",concat-in-place,plan-memory", "")).run(module)
    assert any(isinstance(op, core.DepthwisePointwiseOp) for op in module.walk())
    assert rel_err(run_module(module, dict(inputs))[0], want.astype(np.float64)) <= 1e-5
