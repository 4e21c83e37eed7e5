"""The runtime's kernel path (csrc._kernels, fp16 weights, fp32 accumulation) against the
numpy reference path, op by op, including fused epilogues."""
import numpy as np
import pytest

from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.csrc import _kernels
from mlir_coreml.ir.dialects import core
from tests.codegen.helpers import Const, Program, rel_err, single_op

RNG = np.random.default_rng(1)
FP16_TOLERANCE = 2e-2


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def both_paths(cls, operands, attrs=None, expect_kernel=True, threads=1):
    module, _, args = single_op(cls, operands, attrs)
    fast = compile_model(module, threads=threads, precision="fp16")
    slow = compile_model(module, use_kernels=False)
    assert fast.executor.kernel_ops == (1 if expect_kernel else 0)
    feed = dict(zip(fast.inputs, args))
    got, ref = fast.predict(feed), slow.predict(feed)
    assert got.keys() == ref.keys()
    return got, ref


def assert_paths_agree(cls, operands, attrs=None, tol=FP16_TOLERANCE, expect_kernel=True):
    got, ref = both_paths(cls, operands, attrs, expect_kernel)
    for name in ref:
        assert got[name].shape == ref[name].shape and got[name].dtype == ref[name].dtype
        assert rel_err(got[name], ref[name]) <= tol, f"{name}: relative error {rel_err(got[name], ref[name])}"


CONV_CASES = [  # (C, H, W, Cout, KH, KW, stride, dilation, pads, groups)
    (3, 9, 9, 8, 3, 3, 1, 1, (1, 1, 1, 1), 1),
    (8, 10, 7, 16, 3, 3, 2, 1, (0, 1, 2, 0), 1),
    (16, 8, 8, 16, 1, 1, 1, 1, (0, 0, 0, 0), 1),
    (8, 8, 8, 8, 3, 3, 1, 1, (1, 1, 1, 1), 8),      # depthwise
    (8, 9, 9, 8, 5, 5, 2, 1, (2, 2, 2, 2), 8),      # depthwise, strided
    (8, 8, 8, 12, 3, 3, 1, 2, (2, 2, 2, 2), 4),     # grouped, dilated
    (5, 7, 6, 3, 1, 2, 2, 1, (0, 0, 0, 1), 1),
    (1, 1, 1, 1, 1, 1, 1, 1, (0, 0, 0, 0), 1),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("batch", [1, 2])
def test_conv2d(case, batch):
    c, h, w, cout, kh, kw, stride, dil, pads, groups = case
    operands = {"input": randn(batch, c, h, w), "weight": Const(randn(cout, c // groups, kh, kw)),
                "bias": Const(randn(cout)), "residual": None}
    assert_paths_agree(core.Conv2dOp, operands, {"strides": [stride] * 2, "dilations": [dil] * 2,
                                                 "pads": list(pads), "groups": groups})


@pytest.mark.parametrize("act,alpha,beta", [("relu", 0, 0), ("relu6", 0, 0), ("clip", -0.5, 0.7),
                                            ("leaky_relu", 0.1, 0), ("sigmoid", 0, 0), ("tanh", 0, 0),
                                            ("gelu", 0, 0), ("gelu_tanh", 0, 0), ("silu", 0, 0),
                                            ("elu", 1.0, 0), ("hard_sigmoid", 0.2, 0.5)])
@pytest.mark.parametrize("residual", [False, True])
def test_conv2d_fused_epilogue(act, alpha, beta, residual):
    x = randn(1, 6, 7, 7)
    operands = {"input": x, "weight": Const(randn(6, 6, 3, 3)), "bias": Const(randn(6)),
                "residual": randn(1, 6, 7, 7) if residual else None}
    assert_paths_agree(core.Conv2dOp, operands, {"pads": [1, 1, 1, 1], "activation": act, "alpha": alpha,
                                                 "beta": beta})


def test_conv2d_f16_weights():
    operands = {"input": randn(1, 4, 6, 6), "weight": Const(randn(8, 4, 3, 3).astype(np.float16)),
                "bias": Const(randn(8).astype(np.float16)), "residual": None}
    assert_paths_agree(core.Conv2dOp, operands, {"activation": "relu"})


@pytest.mark.parametrize("shape", [(1, 16), (3, 16), (2, 5, 16), (1, 1, 1, 16)])
@pytest.mark.parametrize("act,residual", [("none", False), ("gelu", True), ("softplus", False), ("relu", True)])
def test_linear(shape, act, residual):
    operands = {"input": randn(*shape), "weight": Const(randn(10, 16)), "bias": Const(randn(10)),
                "residual": randn(*shape[:-1], 10) if residual else None}
    assert_paths_agree(core.LinearOp, operands, {"activation": act})


def test_linear_without_bias():
    assert_paths_agree(core.LinearOp, {"input": randn(4, 7), "weight": Const(randn(3, 7)), "bias": None,
                                       "residual": None})


@pytest.mark.parametrize("kind,k,s,p,ceil,exclude", [
    ("max", 3, 2, 1, False, True), ("max", 2, 2, 0, True, True), ("max", 3, 2, (0, 1, 1, 0), True, True),
    ("avg", 3, 2, 1, False, True), ("avg", 3, 2, 1, False, False), ("avg", 3, 2, 1, True, False),
    ("avg", 2, 3, 1, True, True), ("avg", 1, 1, 0, False, True)])
def test_pool2d(kind, k, s, p, ceil, exclude):
    pads = [p] * 4 if isinstance(p, int) else list(p)
    assert_paths_agree(core.Pool2dOp, [randn(2, 3, 9, 8)], {"kind": kind, "kernel": [k, k], "strides": [s, s],
                                                             "pads": pads, "ceil_mode": ceil,
                                                             "exclude_padding": exclude}, tol=1e-5)


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_global_pool(kind):
    assert_paths_agree(core.GlobalPoolOp, [randn(2, 5, 7, 3)], {"kind": kind}, tol=1e-5)


def test_softmax_last_axis_uses_kernel_other_axes_reference():
    x = randn(3, 4, 17) * 5
    assert_paths_agree(core.SoftmaxOp, [x], {"axis": -1}, tol=1e-5)
    assert_paths_agree(core.SoftmaxOp, [x], {"axis": 1}, tol=1e-5, expect_kernel=False)


ACTIVATION_OPS = [(core.ReluOp, {}), (core.ClipOp, {"alpha": -1.0, "beta": 2.0}), (core.LeakyReluOp, {"alpha": 0.3}),
                  (core.SigmoidOp, {}), (core.TanhOp, {}), (core.GeluOp, {"mode": "exact"}),
                  (core.GeluOp, {"mode": "tanh"}), (core.SiluOp, {})]


@pytest.mark.parametrize("cls,attrs", ACTIVATION_OPS, ids=[f"{c.name}{a.get('mode', '')}" for c, a in ACTIVATION_OPS])
def test_activation_kernels(cls, attrs):
    assert_paths_agree(cls, [randn(2, 3, 5, 7) * 4], attrs, tol=1e-5)


def test_activation_without_kernel_uses_reference():
    assert_paths_agree(core.EluOp, [randn(4, 5)], {"alpha": 0.7}, tol=0, expect_kernel=False)


def test_single_thread_is_deterministic():
    operands = {"input": randn(1, 16, 12, 12), "weight": Const(randn(32, 16, 3, 3)), "bias": Const(randn(32)),
                "residual": None}
    module, _, args = single_op(core.Conv2dOp, operands, {"pads": [1, 1, 1, 1], "activation": "relu"})
    model = compile_model(module, threads=1, precision="fp16")
    first = model.predict({"in0": args[0]})["out0"]
    for _ in range(3):
        assert np.array_equal(model.predict({"in0": args[0]})["out0"], first)


def test_two_threads_agree():
    operands = {"input": randn(2, 16, 12, 12), "weight": Const(randn(32, 16, 3, 3)), "bias": Const(randn(32)),
                "residual": None}
    module, _, args = single_op(core.Conv2dOp, operands, {"pads": [1, 1, 1, 1]})
    before = _kernels.get_num_threads()
    try:
        one = compile_model(module, threads=1, precision="fp16").predict({"in0": args[0]})["out0"]
        two = compile_model(module, threads=2, precision="fp16").predict({"in0": args[0]})["out0"]
    finally:
        _kernels.set_num_threads(before)
    assert rel_err(two, one) <= 1e-5


@pytest.mark.parametrize("sa,sb,tb", [((3, 16), (16, 10), False), ((2, 4, 16), (10, 16), True), ((16,), (16, 5), False)])
def test_matmul_by_constant_uses_gemm(sa, sb, tb):
    assert_paths_agree(core.MatmulOp, [randn(*sa), Const(randn(*sb))], {"transpose_b": tb})


def test_matmul_of_two_activations_runs_the_batched_kernel():
    assert_paths_agree(core.MatmulOp, [randn(3, 4), randn(4, 5)], tol=1e-5)


def test_f32_weights_run_in_fp32_panels():
    x, w = randn(1, 4, 6, 6), randn(8, 4, 3, 3)
    module, _, args = single_op(core.Conv2dOp, {"input": x, "weight": Const(w), "bias": None, "residual": None})
    exact = compile_model(module)
    assert exact.executor.kernel_ops == 1
    ref = compile_model(module, use_kernels=False).predict({"in0": x})["out0"]
    got = exact.predict({"in0": x})["out0"]
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    # fp16 panels miss that bound: the f32 run really computed with the f32 weights
    rounded = compile_model(module, precision="fp16").predict({"in0": x})["out0"]
    assert np.abs(rounded - ref).max() > 1e-5 * np.abs(ref).max()
    module16, _, _ = single_op(core.Conv2dOp, {"input": x, "weight": Const(w.astype(np.float16)), "bias": None,
                                               "residual": None})
    assert compile_model(module16).executor.kernel_ops == 1


def test_precision_is_chosen_by_the_pipeline_only():
    from mlir_coreml import MlirCoremlError

    module, _, _ = single_op(core.ReluOp, [randn(2)])
    with pytest.raises(MlirCoremlError, match="unknown precision 'fp8'"):
        compile_model(module, precision="fp8")
    with pytest.raises(TypeError):
        compile_model(module, weight_precision="fp16")


# -- epilogue fusion: the fusion passes fold the single-use ops after conv/linear into them -----

def absorbed_ops(module, compiled) -> list[str]:
    """The compute ops of `module` that the compiled module no longer has (reshapes aside)."""
    def names(m):
        return sorted(op.op_name for op in m.walk()
                      if op.op_name.startswith("core.") and op.op_name not in ("core.constant", "core.reshape"))
    left = names(compiled)
    gone = []
    for name in names(module):
        if name in left:
            left.remove(name)
        else:
            gone.append(name)
    return gone


def fused_program(chain, seed=0):
    """x -> conv -> chain...; `chain` names the follow-up ops."""
    rng = np.random.default_rng(seed)
    p = Program(x=rng.standard_normal((1, 4, 6, 6)).astype(np.float32))
    x = p.args["x"]
    early = p.op(core.SigmoidOp, [x])  # exists before the conv: a valid residual
    w = p.const(rng.standard_normal((4, 4, 3, 3)).astype(np.float32))
    v = p.op(core.Conv2dOp, {"input": x, "weight": w, "bias": p.const(rng.standard_normal(4).astype(np.float32)),
                             "residual": None}, {"pads": [1, 1, 1, 1]})
    conv_out = v
    for kind in chain:
        if kind == "bn":
            params = [p.const(a.astype(np.float32)) for a in (rng.standard_normal(4), rng.random(4) + 0.5,
                                                              rng.standard_normal(4), rng.standard_normal(4))]
            v = p.op(core.BatchNormOp, [v] + params, {"eps": 1e-3})
        elif kind == "add_early":
            v = p.op(core.AddOp, [early, v])
        elif kind == "add_late":
            late = p.op(core.TanhOp, [x])  # defined after the conv: cannot be the conv's residual
            v = p.op(core.AddOp, [v, late])
        elif kind == "to5d":
            v = p.op(core.ReshapeOp, [v], {"shape": [1, 1, 4, 6, 6]})
        elif kind == "to4d":
            v = p.op(core.ReshapeOp, [v], {"shape": [1, 4, 6, 6]})
        elif kind == "relu":
            v = p.op(core.ReluOp, [v])
        elif kind == "elu":
            v = p.op(core.EluOp, [v])
        elif kind == "also_return_conv":
            pass
    outputs = [p.op(core.ExpOp, [v], name="y")]
    if "also_return_conv" in chain:
        outputs.append(conv_out)
    return p.finish(*outputs), p.inputs


@pytest.mark.parametrize("chain,fused", [
    (["bn", "relu"], 2), (["add_early", "relu"], 2), (["bn", "add_early", "relu"], 3),
    (["bn", "to5d", "relu", "to4d"], 2),
    (["to5d", "add_early", "to4d"], 1),  # the add lifts out of the rank-5 wrapper: a residual
    (["add_late", "relu"], 2),  # the fused conv runs where the add was, after `late` exists
    (["relu", "also_return_conv"], 0), (["elu"], 0), (["bn", "elu"], 1)])
def test_epilogue_fusion(chain, fused):
    module, inputs = fused_program(chain)
    fast = compile_model(module, threads=1, precision="fp16")
    slow = compile_model(module, use_kernels=False)
    gone = [name for name in absorbed_ops(module, fast.module) if name not in ("core.sigmoid", "core.tanh")]
    assert len(gone) == fused, gone  # (an unused `early` sigmoid or `late` tanh is dead code, not fused)
    assert all(s.op.op_name != "core.batch_norm" for s in fast.executor.steps) or "bn" not in chain
    got, ref = fast.predict(inputs), slow.predict(inputs)
    for name in ref:
        assert rel_err(got[name], ref[name]) <= FP16_TOLERANCE


def test_linear_epilogue_fusion():
    rng = np.random.default_rng(3)
    p = Program(x=rng.standard_normal((2, 5, 8)).astype(np.float32))
    h = p.op(core.LinearOp, {"input": p.args["x"], "weight": p.const(rng.standard_normal((8, 8)).astype(np.float32)),
                             "bias": None, "residual": None})
    y = p.op(core.GeluOp, [p.op(core.AddOp, [h, p.args["x"]])], {"mode": "tanh"}, name="y")
    module = p.finish(y)
    fast = compile_model(module, threads=1, precision="fp16")
    assert [s.op.op_name for s in fast.executor.steps] == ["core.linear"]
    assert fast.executor.steps[0].op.activation == "gelu_tanh" and fast.executor.steps[0].op.residual is not None
    ref = compile_model(module, use_kernels=False).predict(p.inputs)["y"]
    assert rel_err(fast.predict(p.inputs)["y"], ref) <= FP16_TOLERANCE


def test_f16_activations_run_on_the_kernels_and_round_to_f16():
    """ML Programs in fp16 compute precision: f16 tensors in and out of conv/linear/pool."""
    rng = np.random.default_rng(5)
    p = Program(x=rng.standard_normal((1, 4, 8, 8)).astype(np.float16))
    w = p.const(rng.standard_normal((6, 4, 3, 3)).astype(np.float16))
    y = p.op(core.Conv2dOp, {"input": p.args["x"], "weight": w, "bias": None, "residual": None},
             {"pads": [1, 1, 1, 1]})
    y = p.op(core.ReluOp, [y])
    y = p.op(core.Pool2dOp, [y], {"kind": "max", "kernel": [2, 2], "strides": [2, 2]})
    y = p.op(core.ReshapeOp, [p.op(core.GlobalPoolOp, [y])], {"shape": [1, 6]})
    y = p.op(core.LinearOp, {"input": y, "weight": p.const(rng.standard_normal((3, 6)).astype(np.float16)),
                             "bias": None, "residual": None})
    module = p.finish(p.op(core.SoftmaxOp, [y], name="probs"))
    fast = compile_model(module, threads=1)
    assert all(s.kind == "kernel" for s in fast.executor.steps if s.op.op_name != "core.reshape")
    got = fast.predict(p.inputs)["probs"]
    ref = compile_model(module, use_kernels=False).predict(p.inputs)["probs"]
    assert got.dtype == np.float16 and rel_err(got, ref) <= 5e-2


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("coordinates,size,scales", [
    ("asymmetric", (8, 12), ()), ("align_corners", (7, 5), ()), ("half_pixel", (9, 13), ()),
    ("offset_corners", (3, 2), ()), ("asymmetric", (10, 15), (2.5, 3.0)), ("half_pixel", (1, 1), ())])
def test_upsample_kernel(mode, coordinates, size, scales):
    attrs = {"size": list(size), "mode": mode, "coordinates": coordinates, "scales": list(scales)}
    assert_paths_agree(core.UpsampleOp, [randn(2, 3, 4, 5)], attrs, tol=1e-6)


@pytest.mark.parametrize("C,H,W,Cout,K,stride,pads,output_padding,groups,bias", [
    (4, 5, 5, 6, 3, 2, (1, 1, 1, 1), (1, 1), 1, True),
    (8, 4, 6, 8, 4, 2, (1, 1, 1, 1), (0, 0), 2, False),
    (3, 3, 3, 2, 2, 1, (0, 0, 0, 0), (0, 0), 1, True)])
def test_conv_transpose_kernel(C, H, W, Cout, K, stride, pads, output_padding, groups, bias):
    operands = {"input": randn(1, C, H, W), "weight": Const(randn(C, Cout // groups, K, K)),
                "bias": Const(randn(Cout)) if bias else None}
    attrs = {"strides": [stride, stride], "pads": list(pads), "output_padding": list(output_padding),
             "groups": groups}
    assert_paths_agree(core.ConvTranspose2dOp, operands, attrs)


@pytest.mark.parametrize("shape,axes,params", [((2, 5, 16), [-1], "both"), ((3, 4, 6), [1, 2], "gamma"),
                                               ((4, 7), [-1], "none"), ((1, 1, 1), [-1], "both")])
def test_layer_norm_kernel(shape, axes, params):
    n = int(np.prod([shape[a] for a in axes]))
    pshape = tuple(shape[a] for a in axes)
    operands = {"input": randn(*shape),
                "gamma": Const(randn(*pshape)) if params in ("both", "gamma") else None,
                "beta": Const(randn(*pshape)) if params == "both" else None}
    assert n > 0
    assert_paths_agree(core.LayerNormOp, operands, {"axes": axes, "eps": 1e-5}, tol=1e-6)


def test_layer_norm_over_leading_axes_stays_on_the_reference_path():
    assert_paths_agree(core.LayerNormOp, {"input": randn(3, 4, 5), "gamma": None, "beta": None},
                       {"axes": [1]}, tol=0, expect_kernel=False)


@pytest.mark.parametrize("b_shape", [(2, 4, 5), (4, 5)])
@pytest.mark.parametrize("epilogue", [("none", False), ("gelu", True), ("gelu_tanh", False), ("relu", True)])
def test_matmul_of_activations_runs_its_epilogue_in_c(b_shape, epilogue):
    """core.matmul of two activations with a fused residual and activation: the kernel (on the
    executor and in the generated module) against the reference."""
    act, with_residual = epilogue
    rng = np.random.default_rng(len(b_shape))
    p = Program(a=rng.standard_normal((2, 3, 4)).astype(np.float32), b=rng.standard_normal(b_shape).astype(np.float32),
                r=rng.standard_normal((2, 3, 5)).astype(np.float32))
    operands = {"a": p.args["a"], "b": p.args["b"], "residual": p.args["r"] if with_residual else None}
    y = p.op(core.MatmulOp, operands, {"activation": act}, name="y")
    module, inputs = p.finish(y), p.inputs
    slow = compile_model(module, use_kernels=False).predict(inputs)
    for codegen in (False, True):
        fast = compile_model(module, threads=1, codegen=codegen)
        step = next(s for s in fast.executor.steps if s.op.op_name == "core.matmul")
        assert step.kind == "kernel" and step.run.spec is not None
        np.testing.assert_allclose(fast.predict(inputs)["y"], slow["y"], rtol=1e-5, atol=1e-5)
