"""Property test: the runtime's kernel path agrees with the reference path on random
convolution / pooling / linear geometries (odd sizes, size-1 dims, groups, dilation)."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from mlir_coreml.runtime.predict import compile_model  # noqa: E402
from mlir_coreml.ir.dialects import core  # noqa: E402
from tests.codegen.helpers import Const, rel_err, single_op  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def agree(cls, operands, attrs, tol):
    module, _, args = single_op(cls, operands, attrs)
    fast = compile_model(module, threads=1, precision="fp16")
    slow = compile_model(module, use_kernels=False)
    assert fast.executor.kernel_ops == 1
    feed = dict(zip(fast.inputs, args))
    got, ref = fast.predict(feed)["out0"], slow.predict(feed)["out0"]
    assert got.shape == ref.shape
    assert rel_err(got, ref) <= tol, rel_err(got, ref)


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 4))
    depthwise = draw(st.booleans())
    if depthwise:
        groups, cg = draw(st.integers(2, 6)), 1
    cout = groups * (1 if depthwise else draw(st.integers(1, 4)))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dil = draw(st.integers(1, 2))
    pads = [draw(st.integers(0, 2)) for _ in range(4)]
    h = draw(st.integers(max(1, dil * (kh - 1) + 1 - pads[0] - pads[1]), 11))
    w = draw(st.integers(max(1, dil * (kw - 1) + 1 - pads[2] - pads[3]), 11))
    return dict(n=draw(st.integers(1, 2)), c=groups * cg, h=h, w=w, cout=cout, kh=kh, kw=kw, groups=groups,
                strides=[draw(st.integers(1, 3)), draw(st.integers(1, 3))], dil=dil, pads=pads,
                bias=draw(st.booleans()), act=draw(st.sampled_from(["none", "relu", "sigmoid", "elu"])),
                seed=draw(st.integers(0, 2 ** 16)))


@SETTINGS
@given(conv_cases())
def test_conv2d_random_geometry(case):
    rng = np.random.default_rng(case["seed"])
    operands = {"input": rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(np.float32),
                "weight": Const(rng.standard_normal((case["cout"], case["c"] // case["groups"], case["kh"],
                                                     case["kw"])).astype(np.float32)),
                "bias": Const(rng.standard_normal(case["cout"]).astype(np.float32)) if case["bias"] else None,
                "residual": None}
    agree(core.Conv2dOp, operands, {"strides": case["strides"], "dilations": [case["dil"]] * 2,
                                    "pads": case["pads"], "groups": case["groups"], "activation": case["act"],
                                    "alpha": 1.0}, 2e-2)


@SETTINGS
@given(st.sampled_from(["max", "avg"]), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.lists(st.integers(0, 1), min_size=4, max_size=4), st.booleans(), st.booleans(), st.integers(1, 9),
       st.integers(1, 9), st.integers(0, 2 ** 16))
def test_pool2d_random_geometry(kind, kh, kw, sh, sw, pads, ceil, exclude, h, w, seed):
    h, w = max(h, kh - pads[0] - pads[1]), max(w, kw - pads[2] - pads[3])
    pads = [min(pads[0], kh - 1), min(pads[1], kh - 1), min(pads[2], kw - 1), min(pads[3], kw - 1)]
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w)).astype(np.float32)
    agree(core.Pool2dOp, [x], {"kind": kind, "kernel": [kh, kw], "strides": [sh, sw], "pads": pads,
                               "ceil_mode": ceil, "exclude_padding": exclude}, 1e-5)


@SETTINGS
@given(st.lists(st.integers(1, 5), min_size=0, max_size=2), st.integers(1, 40), st.integers(1, 40),
       st.booleans(), st.integers(0, 2 ** 16))
def test_linear_random_geometry(lead, k, n, bias, seed):
    rng = np.random.default_rng(seed)
    operands = {"input": rng.standard_normal(tuple(lead) + (k,)).astype(np.float32),
                "weight": Const(rng.standard_normal((n, k)).astype(np.float32)),
                "bias": Const(rng.standard_normal(n).astype(np.float32)) if bias else None, "residual": None}
    agree(core.LinearOp, operands, {}, 2e-2)
