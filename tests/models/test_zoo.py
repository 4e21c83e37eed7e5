"""Every test-sized zoo model builds in every form, with names and types that agree.

The first run builds everything into tests/.fixtures (in parallel, one process per core);
later runs hit the content-hash cache.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("coremltools")

from tests.models import zoo  # noqa: E402

PAIRS = [(n, f) for n in zoo.names(small=True) for f in zoo.REGISTRY[n].forms]


@pytest.fixture(scope="module", autouse=True)
def _prebuilt(model_zoo):
    workers = int(os.environ.get("ZOO_BUILD_WORKERS", "0")) or None
    model_zoo.prebuild(PAIRS, workers=workers)


def _walk_weights(msg, counts):
    """Count fp32 / fp16 values in every WeightParams of a NeuralNetwork spec."""
    from google.protobuf.message import Message

    if type(msg).__name__ == "WeightParams":
        counts["fp32"] += len(msg.floatValue)
        counts["fp16"] += len(msg.float16Value) // 2
        return
    for fd, value in msg.ListFields():
        if fd.message_type is None:
            continue
        if fd.is_repeated:
            if fd.message_type.GetOptions().map_entry:
                value = value.values()
            for v in value:
                if isinstance(v, Message):
                    _walk_weights(v, counts)
        else:
            _walk_weights(value, counts)


def _check_coreml(path, form, inputs, outputs):
    ct = zoo._import_ct()
    spec = ct.utils.load_spec(str(path))
    assert spec.WhichOneof("Type") == zoo.SPEC_TYPE[form]
    desc = spec.description
    assert [f.name for f in desc.input] == list(inputs)
    assert [f.name for f in desc.output] == list(outputs)
    for f in desc.input:
        assert f.type.WhichOneof("Type") == "multiArrayType"
        assert tuple(f.type.multiArrayType.shape) == inputs[f.name].shape
    for f in desc.output:
        shape = tuple(f.type.multiArrayType.shape)
        if shape:  # NeuralNetwork outputs often carry no shape
            assert shape == outputs[f.name].shape, f.name
    if form.startswith("nn_"):
        counts = {"fp32": 0, "fp16": 0}
        _walk_weights(spec.neuralNetwork, counts)
        if form == "nn_fp32":
            assert counts["fp16"] == 0
        elif counts["fp32"] + counts["fp16"]:
            assert counts["fp16"] > 0, counts
    else:
        assert (path / "Manifest.json").is_file()
        main = spec.mlProgram.functions["main"]
        ops = [op.type for blk in main.block_specializations.values() for op in blk.operations]
        assert ops
        has_cast = "cast" in ops
        # Default compute precision inserts fp32<->fp16 casts; FLOAT32 does not.  coremltools
        # keeps recurrent ops in fp32 (no casts at all for a lone LSTM).
        if form == "mlprogram_fp32":
            assert not has_cast, ops
        else:
            assert has_cast or {"lstm", "gru", "rnn"} & set(ops), ops


def _check_onnx(path, inputs, outputs):
    import onnx

    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    inits = {t.name for t in m.graph.initializer}
    assert [i.name for i in m.graph.input if i.name not in inits] == list(inputs)
    assert [o.name for o in m.graph.output] == list(outputs)


@pytest.mark.parametrize("name,form", PAIRS, ids=[f"{n}-{f}" for n, f in PAIRS])
def test_zoo_model(model_zoo, name, form):
    path, inputs, outputs = model_zoo.get(name, form)
    assert path.exists()
    entry = zoo.REGISTRY[name]
    assert list(inputs) == [i.name for i in entry.inputs]
    assert list(outputs) == list(entry.outputs)
    for i in entry.inputs:
        assert inputs[i.name].shape == i.shape and inputs[i.name].dtype == np.dtype(i.dtype)
    for v in outputs.values():
        assert v.dtype == np.float32 and np.isfinite(v).all() and v.size
    meta = json.loads((path.parent / "meta.json").read_text())
    assert meta["form"] == form and meta["name"] == name
    if form == "onnx":
        _check_onnx(path, inputs, outputs)
    else:
        _check_coreml(path, form, inputs, outputs)


def test_inputs_are_deterministic():
    a = zoo.make_inputs("mlp")
    b = zoo.make_inputs("mlp")
    np.testing.assert_array_equal(a["x"], b["x"])
    m1, m2 = zoo.instantiate("resnet18_small"), zoo.instantiate("resnet18_small")
    for (k, v), (_, w) in zip(m1.state_dict().items(), m2.state_dict().items()):
        assert np.array_equal(v.numpy(), w.numpy()), k


def test_cache_key_depends_on_name_and_form():
    keys = {zoo.content_hash(n, f) for n, f in PAIRS[:20]}
    assert len(keys) == len(PAIRS[:20])


def test_cli_list(capsys):
    assert zoo.main(["list", "--small"]) == 0
    out = capsys.readouterr().out
    assert "mobilenet_v2_small" in out and "resnet18 " not in out


def test_cli_bad_form(capsys):
    assert zoo.main(["cached", "nope", "onnx"]) == 2
    assert "unknown zoo model" in capsys.readouterr().err
