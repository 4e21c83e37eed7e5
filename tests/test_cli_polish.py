"""CLI polish: `inspect --json`, `bench --compare onnxruntime` finding the .onnx beside the
model (or saying how to give one)."""
import json
import shutil

import pytest

from mlir_coreml.cli import main


@pytest.fixture(scope="module")
def mlp(model_zoo):
    return str(model_zoo.get("mlp", "nn_fp32")[0])


def test_inspect_json_matches_the_text_report(mlp, capsys):
    assert main(["inspect", mlp, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == mlp and summary["functions"][0]["inputs"][0]["name"] == "x"
    assert summary["parameters"]["f32"]["count"] > 0 and summary["flops"] > 0
    assert main(["inspect", mlp]) == 0
    text = capsys.readouterr().out
    assert f"{summary['parameters']['f32']['count']:,d}  f32" in text
    assert all(f"{n:6d}  {name}" in text for name, n in summary["ops"].items())


def test_bench_finds_the_onnx_beside_the_model(tmp_path, model_zoo, mlp, capsys):
    pytest.importorskip("onnxruntime")
    onnx_path = model_zoo.get("mlp", "onnx")[0]
    model = tmp_path / "mlp.mlmodel"
    shutil.copyfile(mlp, model)
    assert main(["bench", str(model), "--compare", "onnxruntime", "--runs", "3"]) == 1
    err = capsys.readouterr().err
    assert "no .onnx file beside" in err and "--compare onnxruntime=PATH.onnx" in err
    shutil.copyfile(onnx_path, tmp_path / "mlp.onnx")
    assert main(["bench", str(model), "--compare", "onnxruntime", "--runs", "3"]) == 0
    assert "onnxruntime" in capsys.readouterr().out
