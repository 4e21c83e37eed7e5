"""partition-devices: capability-table placements, the cost policy against greedy, the decision
report (in the view's partition-report shape), compute_units in the API and the CLI
(the hybrid run itself: tests/runtime/test_hybrid.py)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from mlir_coreml.codegen.view.report import parse_report
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.passes.manager import PassManager
from mlir_coreml.passes.partition_devices import main_function, partition_report, report_text
from mlir_coreml.passes.to_core import lower_to_core
from mlir_coreml.runtime.predict import compile_model

import mlir_coreml

ANE_TOLERANCE = 1e-2  # relative output error of the fp16 segments, as for emulate-ane-numerics
UNITS = ("cpu", "gpu", "ane")


def placed(path, policy):
    module = mlir_coreml.load(str(path))
    lower_to_core(module)
    PassManager.from_pipeline(f"canonicalize,cse,partition-devices{{policy={policy}}}").run(module)
    return module, partition_report(main_function(module), UNITS, policy)


@pytest.fixture(scope="module")
def lstm_model(model_zoo):
    path, inputs, _ = model_zoo.get("lstm", "nn_fp32")
    return path, inputs


def test_lstm_stays_off_the_neural_engine_and_cost_beats_greedy(lstm_model):
    path, _ = lstm_model
    greedy_module, greedy = placed(path, "greedy")
    _, cost = placed(path, "cost")
    lstms = [op for op in main_function(greedy_module).body.ops if op.op_name == "core.lstm"]
    assert lstms and all(op.attributes["device"].value == "cpu" for op in lstms)
    reasons = {r["unit"]: r["reason"] for r in greedy["rejected"]}
    assert "recurrent" in reasons["ane"] and "recurrent" in reasons["gpu"]
    # greedy puts the split/concat/linear between the LSTMs on the ANE: three switches
    assert len(greedy["segments"]) > 1 and {s["device"] for s in greedy["segments"]} >= {"cpu", "ane"}
    assert cost["estimated_ms"] < greedy["estimated_ms"] == greedy["greedy_estimated_ms"]
    assert cost["moved"] and len(cost["segments"]) < len(greedy["segments"])
    for report in (greedy, cost):
        segments = parse_report(report)
        assert sum(len(s.ops) for s in segments) == sum(len(s["ops"]) for s in report["segments"])
    assert "moved off their greedy unit" in report_text(cost)


def test_compute_units_api_and_cli(tmp_path, lstm_model):
    path, inputs = lstm_model
    model = mlir_coreml.compile_model(str(path), compute_units="cpu_and_ne")
    assert model.partition_report["units"] == ["cpu", "ane"]
    assert "LSTM" in report_text(model.partition_report)
    assert compile_model(str(path)).partition_report is None
    with pytest.raises(MlirCoremlError, match="unknown compute_units 'npu'"):
        compile_model(str(path), compute_units="npu")
    npz = tmp_path / "in.npz"
    np.savez(npz, **inputs)
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(path), "--inputs", str(npz),
                           "--compute-units", "all", "--report", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["partition"]["policy"] == "cost" and parse_report(report["partition"])
    # the hybrid run on the kernels, measured against the all-CPU run
    assert [d["name"] for d in report["measured"]] == model.output_names
    assert all(d["relative"] <= ANE_TOLERANCE for d in report["measured"])
    table = tmp_path / "report.txt"
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(path), "--inputs", str(npz),
                           "--compute-units", "cpu_and_ne", "--report", str(table)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = table.read_text()
    assert "measured run vs all-CPU fp32 run" in text and "partition-devices policy=cost units=cpu,ane" in text


def test_report_option_writes_json_and_bad_options_fail(tmp_path):
    text = """
module {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %y = core.relu %x : tensor<1x4xf32> loc("r")
    func.return %y : tensor<1x4xf32>
  }
}"""
    out = tmp_path / "p.json"
    module = parse_module(text)
    PassManager.from_pipeline(f"partition-devices{{policy=greedy report={out}}}").run(module)
    report = json.loads(out.read_text())
    assert [(s.device, s.ops) for s in parse_report(report)] == [("ane", ("r",))]
    with pytest.raises(MlirCoremlError, match="policy must be greedy or cost"):
        PassManager.from_pipeline("partition-devices{policy=best}").run(parse_module(text))
    with pytest.raises(MlirCoremlError, match="unknown unit 'npu'"):
        PassManager.from_pipeline("partition-devices{units=cpu,npu}").run(parse_module(text))


def test_run_prints_the_pipeline_that_partitions(lstm_model):
    path, _ = lstm_model
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(path), "--print-pipeline",
                           "--compute-units", "cpu_and_ne", "--precision", "fp16"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.strip()
    assert printed.endswith(",fp16-weights,partition-devices{policy=cost units=cpu,ane},outline-segments,"
                            "emulate-ane-numerics{devices=ane},blocked-layout,concat-in-place,plan-memory")
