"""A transformer block runs in C from end to end (issue 14): the linear layers through the
row-major GEMM (no transposed copies, no scratch), the fused q/k/v projection's split and the
head reshapes read in place by the attention kernel (layout bsc), so the generated module
calls no step back into Python; both runtimes agree with each other and with the reference."""
import numpy as np
import pytest

from mlir_coreml.codegen import cython_emitter
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from tests.codegen.helpers import Program

RNG = np.random.default_rng(14)
D, HEADS, SEQ, FF = 24, 3, 10, 40


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "kernel-cache"))


def _arr(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _linear(p, x, n_in, n_out):
    return p.op(core.LinearOp, {"input": x, "weight": p.const(_arr(n_out, n_in, scale=n_in ** -0.5)),
                                "bias": p.const(_arr(n_out)), "residual": None})


def _norm(p, x):
    return p.op(core.LayerNormOp, {"input": x, "gamma": p.const(_arr(D)), "beta": p.const(_arr(D))},
                {"axes": [-1], "eps": 1e-5})


def encoder_block():
    """Post-norm encoder layer as converters spell it: one q/k/v projection split in three,
    heads reshaped to [B, S, H, E] and transposed, a causal mask, the merge, the residuals and
    a gelu feed-forward."""
    p = Program(x=_arr(1, SEQ, D))
    x = p.args["x"]
    e = D // HEADS
    pieces = p.op(core.SplitOp, [_linear(p, x, D, 3 * D)], {"axis": 2, "sizes": [D, D, D]})
    q, k, v = (p.op(core.TransposeOp, [p.op(core.ReshapeOp, [t], {"shape": [1, SEQ, HEADS, e]})],
                    {"perm": [0, 2, 1, 3]}) for t in pieces)
    mask = p.const(np.triu(np.full((1, 1, SEQ, SEQ), -1e4, np.float32), 1))
    scores = p.op(core.MatmulOp, [q, k], {"transpose_b": True})
    scores = p.op(core.AddOp, [p.op(core.MulOp, [scores, p.const(np.float32(e ** -0.5))]), mask])
    ctx = p.op(core.MatmulOp, [p.op(core.SoftmaxOp, [scores], {"axis": -1}), v])
    ctx = p.op(core.ReshapeOp, [p.op(core.TransposeOp, [ctx], {"perm": [0, 2, 1, 3]})], {"shape": [1, SEQ, D]})
    x = _norm(p, p.op(core.AddOp, [_linear(p, ctx, D, D), x]))
    hidden = p.op(core.GeluOp, [_linear(p, x, D, FF)])
    y = _norm(p, p.op(core.AddOp, [_linear(p, hidden, FF, D), x]))
    return p.finish(p.op(core.ReshapeOp, [y], {"shape": [1, SEQ, D]}, name="y")), p.inputs


def direct_kinds(model) -> list[str]:
    """The kernel kind of each step of the generated module (None: a call back into Python),
    after checking the emitted source has no callback line."""
    schedule = model.runner.schedule
    source = cython_emitter.emit(schedule)
    assert "cb[" not in source, [s.op.op_name for s, spec in zip(schedule.steps, schedule.specs) if spec is None]
    return [None if spec is None else spec.kind for spec in schedule.specs]


def test_encoder_block_runs_in_c_without_copies():
    module, inputs = encoder_block()
    want = run_module(module.clone(), dict(inputs))[0]
    generated = compile_model(module.clone(), threads=1, codegen=True)
    executor = compile_model(module.clone(), threads=1, codegen=False)
    ops = [op.op_name for op in generated.function.body.ops]
    assert not {"core.split", "core.reshape", "core.transpose"} & set(ops[:-2]), ops   # the last reshape is y's
    attention = next(op for op in generated.function.body.ops if op.op_name == "core.scaled_dot_product_attention")
    assert (attention.layout, attention.heads, list(attention.offsets)) == ("bsc", HEADS, [0, D, 2 * D])
    kinds = direct_kinds(generated)
    assert None not in kinds and {"gemm", "attention", "layer_norm"} <= set(kinds)
    assert all(spec.staging_elements == 0 for spec in generated.runner.schedule.specs)   # no scratch at all
    ours, theirs = generated.predict(inputs)["y"], executor.predict(inputs)["y"]
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-4)


def test_yardstick_transformer_has_no_python_step(model_zoo):
    """The zoo transformer (the yardstick's architecture, small): every op of the generated
    module is a direct kernel call, one per linear, attention and layer norm."""
    path, inputs, outputs = model_zoo.get("transformer_small", "nn_fp32")
    model = compile_model(str(path), threads=1, codegen=True)
    kinds = direct_kinds(model)
    assert None not in kinds
    ops = [s.op.op_name for s in model.runner.schedule.steps]
    assert not {"core.split", "core.reshape", "core.transpose"} & set(ops), ops
    assert kinds.count("attention") == ops.count("core.scaled_dot_product_attention") == 2
    assert kinds.count("gemm") == ops.count("core.linear") == 8
    name = next(iter(outputs))
    got = model.predict(dict(inputs))[name]
    err = np.max(np.abs(got.reshape(outputs[name].shape) - outputs[name])) / np.max(np.abs(outputs[name]))
    assert err <= 1e-4
