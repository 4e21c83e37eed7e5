"""The blocked layout end to end: `blocked-layout` rewrites chains of convolutions to NCHW16c
ops, and the executor and the generated module run them in C (csrc/blocked.c, blocked_dw.c)
on every ISA of this CPU, for fp32- and fp16-stored weights, within 1e-4 (relative to the
largest output) of the reference interpreter on the NCHW model; the generated module gives the
executor's bits."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.passes.pipelines import CPU_PIPELINE, named_pipeline
from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.specialized import SpecializedExecutor
from tests.codegen.helpers import Program
from tests.csrc.test_kernels import ISAS

TOL = 1e-4
BLOCKED = named_pipeline(CPU_PIPELINE).replace("select-conv-algorithm,",
                                                "select-conv-algorithm,blocked-layout,")
BLOCKED_OPS = (core.ToBlockedOp, core.FromBlockedOp, core.Conv2dBlockedOp, core.Pool2dBlockedOp,
               core.GlobalPoolBlockedOp)


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "kernel-cache"))


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


def network(dtype, batch=2, seed=0):
    """20 input channels (a tail lane block) -> dense 3x3 + relu -> 1x1 with a residual -> depthwise
    3x3 stride 2 + clip -> max pool -> two 3x3 convs concatenated (16 + 16) -> relu(add) -> a strided
    conv to 24 channels (a tail) and a global average pool; a mid value is returned too."""
    rng = np.random.default_rng(seed)

    def arr(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    p = Program(x=arr(batch, 20, 13, 11))

    def conv(v, cin, cout, k, groups=1, residual=None, **attrs):
        w = arr(cout, cin // groups, k, k, scale=1 / np.sqrt(cin // groups * k * k)).astype(dtype)
        attrs = {"pads": [k // 2] * 4, "groups": groups, **attrs}
        return p.op(core.Conv2dOp, {"input": v, "weight": p.const(w), "bias": p.const(arr(cout)),
                                    "residual": residual}, attrs)

    a = conv(p.args["x"], 20, 32, 3, activation="relu")
    b = conv(a, 32, 32, 1, residual=a)
    d = conv(b, 32, 32, 3, groups=32, strides=[2, 2], activation="clip", alpha=0.0, beta=6.0)
    m = p.op(core.Pool2dOp, [d], {"kind": "max", "kernel": [3, 3], "pads": [1, 1, 1, 1]})
    cat = p.op(core.ConcatOp, [conv(m, 32, 16, 3), conv(m, 32, 16, 3)], {"axis": 1})
    r = p.op(core.ReluOp, [p.op(core.AddOp, [cat, m])])
    y = conv(r, 32, 24, 3, strides=[2, 2])
    g = p.op(core.GlobalPoolOp, [r], {"kind": "avg"})
    return p.finish(y, g, b), p.inputs


def rel_err(got, want) -> float:
    return float(np.abs(np.asarray(got, np.float64) - want).max() / np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("codegen", [True, False])
def test_blocked_network_matches_the_reference(isa, dtype, codegen):
    module, inputs = network(dtype)
    want = [w.astype(np.float64) for w in run_module(module.clone(), dict(inputs))]
    compiled = compile_model(module, pipeline=BLOCKED, threads=1, codegen=codegen)
    kinds = {type(op) for op in compiled.module.walk()}
    assert set(BLOCKED_OPS) <= kinds and core.Conv2dOp not in kinds
    if codegen:
        assert isinstance(compiled.runner, SpecializedExecutor)
        assert {"reorder", "conv2d_blocked", "pool_blocked"} <= \
            {spec.kind for spec in compiled.runner.schedule.specs if spec is not None}
    else:
        assert all(step.kind == "kernel" for step in compiled.runner.steps if isinstance(step.op, BLOCKED_OPS))
    for got, ref in zip(compiled.predict(inputs).values(), want):
        assert rel_err(got, ref) <= TOL


def test_generated_module_same_bits_as_the_executor():
    module, inputs = network(np.float16, batch=1, seed=3)
    generated = compile_model(module.clone(), pipeline=BLOCKED, threads=1, codegen=True)
    plain = compile_model(module, pipeline=BLOCKED, threads=1, codegen=False)
    for name, value in plain.predict(inputs).items():
        np.testing.assert_array_equal(generated.predict(inputs)[name], value)


def test_blocked_and_nchw_paths_agree_and_threads_do_not_matter():
    module, inputs = network(np.float32, seed=5)
    nchw = compile_model(module.clone(), threads=1).predict(inputs)
    blocked = [compile_model(module.clone(), pipeline=BLOCKED, threads=t).predict(inputs) for t in (1, 2)]
    for name, value in nchw.items():
        assert rel_err(blocked[0][name], value.astype(np.float64)) <= TOL
        np.testing.assert_array_equal(blocked[0][name], blocked[1][name])
