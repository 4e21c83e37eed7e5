"""The small defects of issue 12, each with generated cases: JSON nulls in an Apple bundle, `opt`
keeping self-contained IR self-contained, and `run --inputs` given anything but an .npz."""
from __future__ import annotations

import json
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlir_coreml
from mlir_coreml.cli import main

KEYS = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEYS, where=st.integers(-1, 20))
def test_json_null_in_a_bundle_reads_and_writes_back(model_forms, tmp_path_factory, key, where):
    root = tmp_path_factory.mktemp("null")
    bundle = root / "m.mlmodelc"
    assert main(["lower", str(model_forms["mlmodel"]), "-o", str(bundle)]) == 0
    net_path = bundle / "model.espresso.net"
    net = json.loads(net_path.read_text())
    target = net if where < 0 else net["layers"][where % len(net["layers"])]
    target.setdefault("x_" + key, None)
    net_path.write_text(json.dumps(net))
    again = root / "again.mlmodelc"
    assert main(["lower", str(bundle), "-o", str(again)]) == 0
    written = json.loads((again / "model.espresso.net").read_text())
    target = written if where < 0 else written["layers"][where % len(written["layers"])]
    assert target["x_" + key] is None


def test_opt_keeps_the_weights_of_self_contained_ir(model_forms, tmp_path):
    out = tmp_path / "out.mlir"
    assert main(["opt", str(model_forms["mlir"]), "-p", "cse", "-o", str(out)]) == 0
    assert "dialect_resources" in out.read_text()
    before = [op.attributes["value"].value for op in mlir_coreml.load(model_forms["mlir"]).walk()
              if "value" in op.attributes]
    after = [op.attributes["value"].value for op in mlir_coreml.load(out).walk() if "value" in op.attributes]
    assert len(before) == len(after) and all(np.array_equal(a, b) for a, b in zip(before, after))


def _npy(path):
    np.save(path, np.zeros(3, np.float32))
    os.replace(str(path) + ".npy", path)


BAD_INPUTS = {
    "npy": _npy,
    "garbage": lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),
    "empty": lambda p: p.write_bytes(b""),
    "pickle": lambda p: np.savez(open(p, "wb"), x=np.array([{"a": 1}], dtype=object)),
    "fifo": lambda p: os.mkfifo(p),
    "directory": lambda p: p.mkdir(),
    "device": lambda p: os.symlink("/dev/zero", p),
}


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(BAD_INPUTS)))
def test_run_with_anything_but_an_npz_is_one_line(model_forms, tmp_path_factory, capsys, kind):
    path = tmp_path_factory.mktemp("inputs") / "in.npz"
    BAD_INPUTS[kind](path)
    assert main(["run", str(model_forms["mlmodel"]), "--inputs", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
