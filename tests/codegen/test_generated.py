"""Model-specialised generated modules (codegen/cython_emitter.py, runtime/build.py, runtime/specialized.py):
the same bits as the executor single-threaded, direct kernel calls, a content-hash build cache,
harmless hostile names, and the executor fallback when there is no C compiler."""
import os

import numpy as np
import pytest

from mlir_coreml.codegen import cython_emitter
from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.specialized import SpecializedExecutor, specialize
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.pipelines import CPU_PIPELINE, named_pipeline
from mlir_coreml.passes.plan_memory import KEPT, SIZE_ATTR, result_last_uses, result_offsets, scratch_of
from tests.codegen.helpers import Program

RNG = np.random.default_rng(5)
HOSTILE = '"); import os; os.system("touch PWNED") #\'\'\' {0} \\n'


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    """One build cache for this module's tests, separate from the user's."""
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "kernel-cache"))


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def small_cnn(name="x"):
    """conv+bn+relu, a residual add, depthwise relu6, pooling, reshape, linear, gelu, softmax and a
    batched linear (rows > 1): every direct kernel kind plus reference steps in between."""
    p = Program(**{name: _arr(2, 3, 12, 12)})
    x = p.args[name]
    w1, b1 = p.const(_arr(8, 3, 3, 3)), p.const(_arr(8))
    y = p.op(core.Conv2dOp, {"input": x, "weight": w1, "bias": b1, "residual": None}, {"pads": [1, 1, 1, 1]})
    y = p.op(core.BatchNormOp, [y, p.const(_arr(8)), p.const(np.abs(_arr(8)) + 0.5), p.const(_arr(8)),
                                p.const(_arr(8))], {"eps": 1e-5})
    y = p.op(core.ReluOp, [y])
    z = p.op(core.Conv2dOp, {"input": y, "weight": p.const(_arr(8, 8, 3, 3)), "bias": None, "residual": None},
             {"pads": [1, 1, 1, 1]})
    z = p.op(core.ReluOp, [p.op(core.AddOp, [z, y])])
    z = p.op(core.Conv2dOp, {"input": z, "weight": p.const(_arr(8, 1, 3, 3)), "bias": None, "residual": None},
             {"pads": [1, 1, 1, 1], "groups": 8, "activation": "relu6"})
    z = p.op(core.Pool2dOp, [z], {"kind": "max", "kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                                  "ceil_mode": True})
    z = p.op(core.Pool2dOp, [z], {"kind": "avg", "kernel": [2, 2], "strides": [1, 1], "pads": [0, 1, 0, 1]})
    seq = p.op(core.ReshapeOp, [z], {"shape": [2, 8, 49]})
    seq = p.op(core.LinearOp, {"input": seq, "weight": p.const(_arr(16, 49)), "bias": p.const(_arr(16)),
                               "residual": None})
    seq = p.op(core.GeluOp, [seq])
    g = p.op(core.ReshapeOp, [p.op(core.GlobalPoolOp, [z], {"kind": "avg"})], {"shape": [2, 8]})
    g = p.op(core.SigmoidOp, [g])
    logits = p.op(core.LinearOp, {"input": g, "weight": p.const(_arr(5, 8)), "bias": None, "residual": None})
    return p.finish(p.op(core.SoftmaxOp, [logits], name="probs"), seq), p.inputs


def _both(module, **kw):
    generated = compile_model(module, threads=1, codegen=True, **kw)
    plain = compile_model(module, threads=1, codegen=False, **kw)
    assert isinstance(generated.runner, SpecializedExecutor)
    return generated, plain


# the NCHW kernels: blocked-layout would run this chain as blocked ops (tests/codegen/test_blocked_path.py)
NCHW = named_pipeline(CPU_PIPELINE).replace("blocked-layout,", "")


@pytest.mark.parametrize("precision", ["fp16", None])
def test_same_bits_as_the_executor(precision):
    module, inputs = small_cnn()
    generated, plain = _both(module, precision=precision, pipeline=NCHW)
    specs = [spec for spec in generated.runner.schedule.specs if spec is not None]
    # fp32 panels ("stored" f32 weights) are direct calls too, through the table's *_w32 entries
    assert {spec.kind for spec in specs} == {"conv2d", "pool2d", "global_pool", "gemm", "softmax", "activation", "copy"}
    panel_types = {spec.weights.dtype for spec in specs if spec.weights is not None}
    assert panel_types == {np.dtype(np.uint16 if precision == "fp16" else np.float32)}
    for _ in range(2):  # the second run reuses the arena
        ours, theirs = generated.predict(inputs), plain.predict(inputs)
        for name in theirs:
            np.testing.assert_array_equal(ours[name], theirs[name])


def test_concat_operands_are_written_in_place():
    p = Program(x=_arr(1, 4, 6, 6))
    x = p.args["x"]

    def conv(value, cout, k):
        return p.op(core.Conv2dOp, {"input": value, "weight": p.const(_arr(cout, value.type.shape[1], k, k)),
                                    "bias": None, "residual": None}, {"pads": [k // 2] * 4, "activation": "relu"})

    squeeze = conv(x, 3, 1)
    both = p.op(core.ConcatOp, [conv(squeeze, 5, 1), conv(squeeze, 6, 3)], {"axis": 1})
    module = p.finish(p.op(core.SigmoidOp, [conv(both, 2, 3)], name="y"))
    generated, plain = _both(module, precision="fp16")
    schedule = generated.runner.schedule
    assert len(schedule.elided) == 1
    (i,) = schedule.elided
    concat = schedule.steps[i]
    base = schedule.offset[concat.outputs[0]]
    assert [schedule.offset[v] - base for v in concat.inputs] == [0, 5 * 36 * 4]
    np.testing.assert_array_equal(generated.predict(p.inputs)["y"], plain.predict(p.inputs)["y"])


def test_results_own_their_memory():
    module, inputs = small_cnn()
    model = compile_model(module, threads=1, codegen=True, precision="fp16")
    first = model.predict(inputs)
    kept = {k: v.copy() for k, v in first.items()}
    model.predict({"x": inputs["x"] * 2})
    for k in kept:
        np.testing.assert_array_equal(first[k], kept[k])
        assert not np.may_share_memory(first[k], model.runner.arena)


def small_f16_net():
    """An ML Program computing in fp16: every kernel result is staged in fp32 scratch and
    rounded (the batched linear's too)."""
    p = Program(x=_arr(1, 4, 8, 8).astype(np.float16))
    y = p.op(core.Conv2dOp, {"input": p.args["x"], "weight": p.const(_arr(6, 4, 3, 3).astype(np.float16)),
                             "bias": None, "residual": None}, {"pads": [1, 1, 1, 1], "activation": "relu"})
    y = p.op(core.ReshapeOp, [y], {"shape": [6, 64]})
    y = p.op(core.LinearOp, {"input": y, "weight": p.const(_arr(3, 64).astype(np.float16)), "bias": None,
                             "residual": None})
    return p.finish(p.op(core.SoftmaxOp, [y], name="probs")), p.inputs


def small_attention_net():
    """The transformer kernel calls: layer norm, a split into q/k/v (one buffer per result),
    reshape/transpose copies, fused attention, a batched matmul of two activations."""
    p = Program(x=_arr(1, 6, 16))
    x = p.op(core.LayerNormOp, {"input": p.args["x"], "gamma": p.const(_arr(16)), "beta": p.const(_arr(16))},
             {"axes": [-1], "eps": 1e-5})
    qkv = p.op(core.LinearOp, {"input": x, "weight": p.const(_arr(48, 16)), "bias": None, "residual": None})
    heads = [p.op(core.TransposeOp, [p.op(core.ReshapeOp, [v], {"shape": [1, 6, 2, 8]})], {"perm": [0, 2, 1, 3]})
             for v in p.op(core.SplitOp, [qkv], {"axis": 2, "sizes": [16, 16, 16]})]
    ctx = p.op(core.ScaledDotProductAttentionOp, {"q": heads[0], "k": heads[1], "v": heads[2], "mask": None},
               {"scale": 0.25})
    gram = p.op(core.MatmulOp, [ctx, p.op(core.TransposeOp, [heads[2]], {"perm": [0, 1, 3, 2]})])
    return p.finish(p.op(core.ReshapeOp, [gram], {"shape": [1, 2, 36]}, name="y")), p.inputs


@pytest.mark.parametrize("net", [small_cnn, small_f16_net, small_attention_net])
def test_both_runtimes_allocate_what_plan_memory_printed(net):
    """The arena, every kernel result's place, each call's scratch and the release points are
    plan-memory's attributes, read back from the printed IR: neither runtime plans its own."""
    module, inputs = net()
    model = compile_model(module, threads=1, codegen=True, precision="fp16")
    printed = parse_module(print_module(model.module))
    fn = next(op for op in printed.walk() if op.op_name == "func.func")
    body, ops = list(fn.body.ops), list(model.function.body.ops)
    at = {id(op): i for i, op in enumerate(ops)}       # an op of the running module -> its printed twin
    s = model.runner.schedule
    assert model.runner.arena.size == model.executor.arena.size == s.arena_size == fn.attributes[SIZE_ATTR].value
    assert bool(s.offset) == (net is not small_f16_net)  # fp16 results are rounded into fresh arrays
    if net is small_attention_net:
        kinds = {spec.kind for spec in s.specs if spec is not None}
        assert {"layer_norm", "split", "copy", "attention", "matmul"} <= kinds
    for v, offset in s.offset.items():
        assert result_offsets(body[at[id(v.op)]])[v.index] == offset
    for step in model.executor.steps:
        assert step.out_offset in (-1, result_offsets(body[at[id(step.op)]])[0])
    scratched = [i for i, spec in enumerate(s.specs) if spec is not None and spec.staging_elements]
    assert bool(scratched) == (net is small_f16_net)   # only fp16 results are staged: row GEMMs need no scratch
    for i in scratched:
        offset, size = scratch_of(body[at[id(s.steps[i].op)]])
        assert s.scratch[i] == offset and size == 4 * s.specs[i].staging_elements
    released_after = {v: at[id(step.op)] for step in model.executor.steps for v in step.release}
    for step in model.executor.steps:
        for v, last in zip(step.outputs, result_last_uses(body[at[id(step.op)]])):
            assert released_after.get(v, KEPT) == last
    ours, theirs = model.predict(inputs), compile_model(module, threads=1, codegen=False,
                                                         precision="fp16").predict(inputs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name])


def test_second_compile_does_not_rebuild(monkeypatch):
    module, inputs = small_cnn()
    model = compile_model(module, threads=1, codegen=True)
    calls = []
    monkeypatch.setattr(build, "_LOADED", {})  # only the disk cache may serve it
    monkeypatch.setattr(build, "_compile", lambda *a, **k: calls.append(a))
    again = compile_model(module, threads=1, codegen=True)
    assert calls == [] and isinstance(again.runner, SpecializedExecutor)
    path = build.cached_path(build.cache_key(cython_emitter.emit(model.runner.schedule)))
    assert os.path.exists(path)


def test_hostile_names_never_reach_the_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module, inputs = small_cnn(name=HOSTILE)
    for op in module.walk():
        for r in op.results:
            r.name = HOSTILE
    model = compile_model(module, threads=1, codegen=True, precision="fp16")
    source = cython_emitter.emit(model.runner.schedule)
    assert "PWNED" not in source and "os.system" not in source
    out = model.predict(inputs)
    assert not (tmp_path / "PWNED").exists()
    np.testing.assert_array_equal(out[HOSTILE], compile_model(module, threads=1, codegen=False,
                                                              precision="fp16").predict(inputs)[HOSTILE])


def test_no_compiler_falls_back_to_the_executor(tmp_path, monkeypatch):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setenv("CC", "/nonexistent/cc")
    module, inputs = small_cnn()
    with pytest.warns(RuntimeWarning, match="without generated kernels"):
        model = compile_model(module, threads=1, codegen=True)
    assert not isinstance(model.runner, SpecializedExecutor)
    assert model.predict(inputs)["probs"].shape == (2, 5)
    assert not any(p.name.startswith(".") for p in (tmp_path / "empty-cache" / "kernels").iterdir())


def test_progress_bar_on_request(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path / "fresh"))
    monkeypatch.setattr(build, "_LOADED", {})
    module, _ = small_cnn()
    executor = compile_model(module, threads=1, codegen=False).executor
    assert specialize(executor, progress=True) is not None
    assert "building kernels" in capsys.readouterr().err


def test_bad_bindings_are_refused_not_crashed():
    module, _ = small_cnn()
    model = compile_model(module, threads=1, codegen=True, precision="fp16")
    runner = model.runner
    weights = list(runner.schedule.weights)
    weights[0] = weights[0][:-1]
    with pytest.raises(ValueError, match="weights"):
        runner.module.Program(runner.arena, weights, list(runner.schedule.biases), [None] * len(runner.schedule.steps))
    with pytest.raises(ValueError, match="arena"):
        runner.module.Program(runner.arena[:-1], list(runner.schedule.weights), list(runner.schedule.biases),
                              [None] * len(runner.schedule.steps))


ZOO = [("mobilenet_v2_small", "nn_fp16"), ("resnet18_small", "nn_fp32"), ("transformer_small", "nn_fp16"),
       ("squeezenet1_1_small", "nn_fp32"),
       ("unet_small", "mlprogram_fp32"), ("squeezenet1_1_small", "mlprogram"), ("lstm", "nn_fp32")]


@pytest.mark.parametrize("name,form", ZOO)
def test_zoo_models_same_bits(model_zoo, name, form):
    path, inputs, _ = model_zoo.get(name, form)
    generated = compile_model(path, threads=1, codegen=True, precision="fp16")
    plain = compile_model(path, threads=1, codegen=False, precision="fp16")
    assert isinstance(generated.runner, SpecializedExecutor)
    assert generated.runner.direct_steps > 0
    ours, theirs = generated.predict(inputs), plain.predict(inputs)
    for key in theirs:
        np.testing.assert_array_equal(ours[key], theirs[key])


def test_control_flow_stays_on_the_executor(model_zoo):
    path, inputs, _ = model_zoo.get("gru_loop_scripted", "mlprogram")
    model = compile_model(path, threads=1, codegen=True)
    assert not isinstance(model.runner, SpecializedExecutor)
    model.predict(inputs)


def _no_compiler(monkeypatch, tmp_path):
    """From here on a build would fail: only a stored build can be used."""
    monkeypatch.setenv(build.CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setattr(build, "_LOADED", {})

    def refuse(*args, **kwargs):
        raise AssertionError("recompiled")

    monkeypatch.setattr(build, "_compile", refuse)


def test_saved_model_reloads_without_compiling(tmp_path, monkeypatch):
    module, inputs = small_cnn()
    model = compile_model(module, threads=1, codegen=True, precision="fp16")
    saved = model.save(tmp_path / "cnn.mlir")
    assert any(p.suffix == ".so" or ".so" in p.name for p in (tmp_path / "cnn.mlir.kernels").iterdir())
    _no_compiler(monkeypatch, tmp_path)  # another machine: its build is used only when trusted
    again = compile_model(saved, threads=1, codegen=True, precision="fp16", trust_bundled_kernels=True)
    assert isinstance(again.runner, SpecializedExecutor)
    np.testing.assert_array_equal(again.predict(inputs)["probs"], model.predict(inputs)["probs"])


def test_bundle_with_kernels_runs_without_compiling(model_zoo, tmp_path, monkeypatch):
    from mlir_coreml.runtime.bundle_kernels import lower_with_kernels

    path, inputs, _ = model_zoo.get("mobilenet_v2_small", "nn_fp16")
    bundle = tmp_path / "m.mlmodelc"
    lower_with_kernels(path, bundle)
    assert list((bundle / "mlir_coreml").glob("mc_program_*.pyx"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind
    plain = compile_model(bundle, threads=1, codegen=False).predict(inputs)
    _no_compiler(monkeypatch, tmp_path)
    model = compile_model(bundle, threads=1, codegen=True, trust_bundled_kernels=True)
    assert isinstance(model.runner, SpecializedExecutor)
    ours = model.predict(inputs)
    for key in plain:
        np.testing.assert_array_equal(ours[key], plain[key])
