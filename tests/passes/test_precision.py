"""fp16-weights and emulate-ane-numerics: the IR they print runs, within stated tolerances of
fp32 (reference interpreter before vs after, and the kernels), with the precision report."""
import json
import subprocess
import sys

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.runtime.predict import compile_model

# Relative output error (||diff|| / ||fp32||) on the calibration input: fp16 weights keep 11
# significant bits, so a few ulps of fp16 (~1e-3) after a whole network; ANE numerics also
# round every activation, a few times more.
FP16_TOLERANCE = 2e-3
ANE_TOLERANCE = 1e-2
MODELS = ["mobilenet_v2_small", "transformer_small", "lstm"]


@pytest.fixture(scope="module", params=MODELS)
def zoo_model(request, model_zoo):
    path, inputs, _ = model_zoo.get(request.param, "nn_fp32")
    return str(path), inputs


def test_fp16_weights_halves_weights_within_tolerance(zoo_model):
    path, inputs = zoo_model
    model = compile_model(path, precision="fp16")
    report = model.precision_report()
    assert report.tensors and report.bytes_after * 2 == report.bytes_before
    assert all(t.after == "f16" for t in report.tensors)
    assert report.drift and max(d.relative for d in report.drift) <= FP16_TOLERANCE
    assert not report.overflow
    # what runs is what the IR says: the kernels see f16 weights and agree with fp32
    exact = compile_model(path)
    got, ref = model.predict(inputs), exact.predict(inputs)
    for name, want in ref.items():
        rel = np.linalg.norm(got[name] - want) / np.linalg.norm(want)
        assert rel <= FP16_TOLERANCE * 5, f"{name}: {rel}"


def test_emulate_ane_numerics_drift_and_types(zoo_model):
    path, inputs = zoo_model
    model = compile_model(path, precision="ane")
    report = model.precision_report(inputs)
    assert report.drift and max(d.relative for d in report.drift) <= ANE_TOLERANCE
    fn = model.function
    results = [r for op in fn.body.ops for r in op.results if isinstance(r.type, TensorType)]
    f32 = [r for r in results if r.type.element == F32 and r.op.op_name != "core.cast"]
    assert not [r for r in f32 if not r.op.regions], "every activation is f16 between ops"
    assert any(r.type.element == F16 for r in results)
    got = model.predict(inputs)
    assert all(np.asarray(v).dtype != np.float16 for v in got.values() if isinstance(v, np.ndarray))


OVERFLOW_IR = """
module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %k = core.constant {value = dense<[1000.0, 1.0, 1000.0, 1.0]> : tensor<4xf32>} : tensor<4xf32>
    %y = core.mul %x, %k : tensor<4xf32> loc("scale")
    %z = core.tanh %y : tensor<4xf32> loc("squash")
    func.return %z : tensor<4xf32>
  }
}
"""


def test_ane_overflow_names_the_op():
    model = compile_model(parse_module(OVERFLOW_IR), precision="ane")
    report = model.precision_report({"x": np.array([100.0, 100.0, -1.0, 1.0], np.float32)})
    assert report.overflow == ["'core.mul' at scale: 1 values became inf"]
    assert "overflow: 'core.mul' at scale" in report.to_text()


def test_fp32_precision_is_a_no_op_and_unknown_names_the_choices():
    module = parse_module(OVERFLOW_IR)
    assert compile_model(module, precision="fp32").precision_report().tensors == []
    with pytest.raises(MlirCoremlError, match="unknown precision 'int3'; choose one of fp32, fp16, ane"):
        compile_model(module, precision="int3")


def test_public_api_and_cli_report(tmp_path, model_zoo):
    path, inputs, _ = model_zoo.get("mlp", "nn_fp32")
    assert mlir_coreml.compile_model(str(path), precision="fp16").precision_report().tensors
    npz = tmp_path / "in.npz"
    np.savez(npz, **inputs)
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(path), "--inputs", str(npz),
                           "--precision", "fp16", "--report", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["precision"] == "fp16" and report["bytes_after"] * 2 == report["bytes_before"]
    assert {t["after"] for t in report["tensors"]} == {"f16"} and report["drift"]


@pytest.mark.parametrize("case, pipeline, tolerance", [
    ("precision/outline_segments.mlir", "partition-devices{policy=greedy},outline-segments", 0.0),
    ("mil/add_fp16_cast.mlir", "add-fp16-cast", 5e-3),
])
def test_outline_segments_exact_and_add_fp16_cast_within_fp16(case, pipeline, tolerance):
    """Reference interpreter before vs after: outlining moves ops, it computes nothing new (exact);
    add-fp16-cast rounds every value to fp16 (relative error a few fp16 ulps)."""
    import os

    from mlir_coreml.passes.manager import PassManager
    from tests.passes.equivalence import ir_cases, random_inputs, run

    (text,) = ir_cases(os.path.join(os.path.dirname(__file__), "..", "filecheck", case))
    before, after = parse_module(text), parse_module(text)
    PassManager.from_pipeline(pipeline).run(after)
    args = random_inputs(before)
    for want, got in zip(run(before, args), run(after, args)):
        assert got.dtype == want.dtype
        assert np.linalg.norm(got - want) <= tolerance * np.linalg.norm(want)
