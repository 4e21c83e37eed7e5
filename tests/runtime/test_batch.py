"""Batched predict (runtime/batch.py): a batch runs through the kernels in one call per chunk
and gives what predicting each sample alone gives; models whose shapes do not allow it fall
back to one run per sample."""
import numpy as np
import pytest

from mlir_coreml import MlirCoremlError
from mlir_coreml.ir.dialects import core
from mlir_coreml.runtime.batch import Unbatchable, batched_module
from mlir_coreml.runtime.predict import compile_model
from tests.codegen.helpers import Program
from tests.codegen.test_runtime_api import small_model

ZOO = [("mobilenet_v2_small", "nn_fp16"), ("transformer_small", "mlprogram"), ("resnet18_small", "mlprogram_fp32"),
       ("mlp", "nn_fp32"), ("unet_small", "nn_fp16")]


def _samples(model, count, seed=0):
    rng = np.random.default_rng(seed)
    return [{k: rng.standard_normal(tuple(1 if d is None else d for d in t.shape)).astype(np.float32)
             for k, t in model.inputs.items()} for _ in range(count)]


def _assert_same(expected: list[dict], got: list[dict]):
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert list(e) == list(g)
        for key in e:
            if isinstance(e[key], (str, dict)):
                assert e[key] == pytest.approx(g[key]) if isinstance(e[key], dict) else e[key] == g[key]
                continue
            assert g[key].shape == e[key].shape and g[key].dtype == e[key].dtype
            np.testing.assert_allclose(g[key], e[key], rtol=1e-4, atol=1e-4)


def _count_runs(variant):
    calls = []
    run = variant.runner.run
    variant.runner.run = lambda args: calls.append(args[0].shape) or run(args)
    return calls


@pytest.mark.parametrize("name,form", ZOO)
def test_zoo_batch_equals_per_sample(model_zoo, name, form):
    path, _, _ = model_zoo.get(name, form)
    model = compile_model(path)
    samples = _samples(model, 7)
    expected = [model.predict(s) for s in samples]
    calls = _count_runs(model.batched(3))
    _assert_same(expected, model.predict(samples, batch_size=3))
    # 7 samples in chunks of 3: three runs of the kernels, the last padded to the batch size
    assert [shape[0] for shape in calls] == [3, 3, 3]


def test_leading_batch_dim_dict_and_classifier():
    module, inputs = small_model(classifier=True)
    model = compile_model(module, threads=1)
    rng = np.random.default_rng(1)
    images = rng.standard_normal((5, 3, 8, 8)).astype(np.float32)
    scale = np.ones((5, 4), np.float32)
    got = model.predict_batch({"image": images, "scale": scale}, batch_size=2)
    expected = [model.predict({"image": images[i:i + 1], "scale": scale[i:i + 1]}) for i in range(5)]
    _assert_same(expected, got)
    assert got[0]["classLabel"] in "abcd" and set(got[0]["probs"]) == set("abcd")
    assert model.predict({"image": images, "scale": scale}, batch_size=4)[4]["classLabel"] == expected[4]["classLabel"]


def test_default_list_predict_is_batched():
    module, inputs = small_model()
    model = compile_model(module, threads=1)
    calls = _count_runs(model.batched(3))
    batch = [inputs, {"image": inputs["image"] * 2, "scale": inputs["scale"]}, inputs]
    _assert_same([model.predict(s) for s in batch], model.predict(batch))
    assert len(calls) == 1


def test_sequence_model_falls_back_to_per_sample(model_zoo):
    path, _, _ = model_zoo.get("lstm", "nn_fp32")
    model = compile_model(path)
    samples = _samples(model, 3)
    _assert_same([model.predict(s) for s in samples], model.predict_batch(samples, batch_size=2))
    assert model.batched(2) is None and "leading dim" in model.unbatchable_reason


def _program_with(op_cls, operands_fn, attrs):
    p = Program(x=np.zeros((1, 4, 6), np.float32))
    return p.finish(p.op(op_cls, operands_fn(p), attrs)), p


@pytest.mark.parametrize("op_cls,attrs,why", [
    (core.TransposeOp, {"perm": [1, 0, 2]}, "moves the batch axis"),
    (core.ReshapeOp, {"shape": [4, 6]}, "batch axis first"),
    (core.SoftmaxOp, {"axis": 0}, "axis 0"),
])
def test_ops_across_the_batch_axis_are_unbatchable(op_cls, attrs, why):
    module, _ = _program_with(op_cls, lambda p: [p.args["x"]], attrs)
    fn = next(op for op in module.walk() if op.op_name == "func.func")
    with pytest.raises(Unbatchable, match=why):
        batched_module(module, fn.attributes["sym_name"].value, 4)


def test_mismatched_batch_sizes_are_one_clear_error():
    module, _ = small_model()
    model = compile_model(module, threads=1)
    with pytest.raises(MlirCoremlError, match="share their leading"):
        model.predict_batch({"image": np.zeros((3, 3, 8, 8), np.float32), "scale": np.ones((2, 4), np.float32)})


def test_default_batch_keeps_activations_in_cache(monkeypatch):
    from mlir_coreml.runtime import batch

    module, inputs = small_model()
    model = compile_model(module, threads=1)
    arena = model.executor.arena_size
    assert batch.default_batch_size(model, 100) == min(batch.MAX_DEFAULT_BATCH, batch.CACHE_BUDGET // arena)
    monkeypatch.setattr(batch, "CACHE_BUDGET", arena * 2)
    assert batch.default_batch_size(model, 5) == 2
    monkeypatch.setattr(batch, "CACHE_BUDGET", arena - 1)
    samples = [inputs, {"image": inputs["image"] * 3, "scale": inputs["scale"]}]
    _assert_same([model.predict(s) for s in samples], model.predict(samples))
    assert model.batch_variants == {}  # one sample per call: no batched build
