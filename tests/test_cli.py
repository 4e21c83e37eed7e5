"""The CLI contract: the README's main job on the embedded demo model, inspect, run, bench,
custom layers through the plugin API, and one-line errors with no partial outputs."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.demo import INPUT, OUTPUT, build_demo_model
from mlir_coreml.errors import MlirCoremlError


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mlir_coreml", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.mlmodel"
    path.write_bytes(build_demo_model())
    return path


def test_main_job_on_the_embedded_default_model(tmp_path):
    out = tmp_path / "demo.mlmodelc"
    proc = cli("lower", "default", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert {"model.espresso.net", "model.espresso.shape", "model.espresso.weights", "coremldata.bin",
            "metadata.json"} <= set(os.listdir(out))
    report = cli("inspect", str(out))
    assert report.returncode == 0, report.stderr
    assert "espresso.convolution" in report.stdout and "FLOPs: 0.0061 G" in report.stdout


def test_bundle_predicts_like_the_source_model(demo, tmp_path):
    out = tmp_path / "demo.mlmodelc"
    assert cli("lower", str(demo), "-o", str(out)).returncode == 0
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    source = mlir_coreml.compile_model(str(demo)).predict({INPUT: image})[OUTPUT]
    bundle = mlir_coreml.compile_model(str(out)).predict({INPUT: image})[OUTPUT]
    np.testing.assert_allclose(bundle.ravel(), source.ravel(), rtol=1e-4, atol=1e-6)
    assert abs(float(source.sum()) - 1.0) < 1e-4  # softmax probabilities


def test_run_and_bench(demo, tmp_path):
    inputs = tmp_path / "in.npz"
    np.savez(inputs, **{INPUT: np.random.default_rng(1).random((1, 3, 64, 64), dtype=np.float32) * 255})
    outputs = tmp_path / "out.npz"
    proc = cli("run", str(demo), "--inputs", str(inputs), "--outputs", str(outputs))
    assert proc.returncode == 0, proc.stderr
    assert np.load(outputs)[OUTPUT].size == 4
    bench = cli("bench", str(demo), "--runs", "3")
    assert bench.returncode == 0, bench.stderr
    assert "mlir_coreml" in bench.stdout and "median ms" in bench.stdout
    profile = cli("bench", str(demo), "--runs", "2", "--profile")
    assert profile.returncode == 0, profile.stderr
    assert "core.conv2d" in profile.stdout and "ms per run" in profile.stdout


@pytest.mark.parametrize("args, message", [
    (["import", "missing.mlmodel"], "missing.mlmodel: no such file or directory"),
    (["inspect", "model.txt"], "unknown model form '.txt'"),
    (["opt", "missing.mlir"], "missing.mlir: cannot read"),
])
def test_errors_are_one_line_without_traceback(tmp_path, args, message):
    (tmp_path / "model.txt").write_text("x")
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_failed_lower_leaves_nothing_behind(tmp_path):
    bad = tmp_path / "bad.mlmodel"
    bad.write_bytes(b"\x08\x04\x12\xff\xff garbage")
    out = tmp_path / "out.mlmodelc"
    proc = cli("lower", str(bad), "-o", str(out))
    assert proc.returncode == 1 and "bad.mlmodel" in proc.stderr
    assert not out.exists() and os.listdir(tmp_path) == ["bad.mlmodel"]


def test_debug_shows_the_traceback(tmp_path):
    proc = cli("--debug", "import", str(tmp_path / "missing.mlmodel"))
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_custom_layer_runs_through_a_registered_implementation(tmp_path):
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model(specificationVersion=4)
    for name, io in (("x", model.description.input), ("y", model.description.output)):
        feature = io.add(name=name)
        feature.type.multiArrayType.shape.extend([3])
        feature.type.multiArrayType.dataType = 65568
    layer = model.neuralNetwork.layers.add(name="swish", input=["x"], output=["y"])
    layer.custom.className = "AcmeSwish"
    path = tmp_path / "custom.mlmodel"
    path.write_bytes(model.SerializeToString())
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    with pytest.raises(MlirCoremlError, match="custom layer class 'AcmeSwish'"):
        mlir_coreml.compile_model(str(path)).predict({"x": x})
    mlir_coreml.register_custom_layer("AcmeSwish", lambda inputs, params, weights: inputs[0] / (1 + np.exp(-inputs[0])))
    try:
        y = mlir_coreml.compile_model(str(path)).predict({"x": x})["y"]
    finally:
        from mlir_coreml.ir.custom_layers import unregister_custom_layer

        unregister_custom_layer("AcmeSwish")
    np.testing.assert_allclose(y.ravel(), x / (1 + np.exp(-x)), rtol=1e-6)
