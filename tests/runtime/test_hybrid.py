"""The hybrid run of a partitioned model (runtime/hybrid.py): every acceptance-zoo network,
placed by `partition-devices`, outlined per segment and run with one runner per segment
(gpu/ane segments with the Neural Engine's fp16 numerics), agrees with the all-CPU fp32 run.

Tolerance: relative error (max |hybrid - cpu| / max |cpu|) <= 1e-2, the emulate-ane-numerics
tolerance: fp16 activations between ops in the accelerator segments, fp32 accumulation.
"""
import numpy as np
import pytest

from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.types import F16, F32, TensorType
from mlir_coreml.passes.pipelines import named_pipeline
from mlir_coreml.runtime.hybrid import HybridRunner
from mlir_coreml.runtime.predict import compile_model
from tests.acceptance.test_zoo_models import NETWORKS, relative_error
from tests.passes.equivalence import run

HYBRID_TOLERANCE = 1e-2
PLACE = "partition-devices{policy=greedy},outline-segments,emulate-ane-numerics{devices=gpu,ane}"
# the CPU pipeline's fusions first (memory is planned per segment after outlining), so the
# segments hold the ops that really run
HYBRID = named_pipeline("coreml-cpu").replace(",concat-in-place,plan-memory", "") + "," + PLACE


def float_elements(fn) -> set:
    return {v.type.element for op in fn.body.ops for v in op.results
            if isinstance(v.type, TensorType) and v.type.element in (F16, F32) and op.op_name != "core.cast"}


@pytest.mark.parametrize("name", NETWORKS)
def test_zoo_hybrid_run_agrees_with_all_cpu(model_zoo, name):
    path, inputs, _ = model_zoo.get(name, "nn_fp32")
    cpu = compile_model(str(path), threads=1).predict(inputs)
    model = compile_model(str(path), threads=1, pipeline=HYBRID)
    assert isinstance(model.runner, HybridRunner) and model.runner.segments
    for segment in model.runner.segments:
        kinds = float_elements(segment.function)
        assert kinds <= ({F32} if segment.device == "cpu" else {F16, F32}), (segment.device, kinds)
        if segment.device != "cpu" and any(op.op_name == "core.cast" for op in segment.function.body.ops):
            assert F16 in kinds
    got = model.predict(inputs)
    for key, want in cpu.items():
        assert relative_error(got[key], want) <= HYBRID_TOLERANCE, key
    text = print_module(model.module, resources=True)
    assert print_module(parse_module(text), resources=True) == text


def test_segments_alternate_units_and_pass_values_between_them(model_zoo):
    path, inputs, _ = model_zoo.get("lstm", "nn_fp32")
    model = compile_model(str(path), threads=1, pipeline=HYBRID)
    devices = [s.device for s in model.runner.segments]
    assert "cpu" in devices and "ane" in devices and len(devices) >= 2
    lstms = [op for s in model.runner.segments for op in s.function.body.ops if op.op_name == "core.lstm"]
    assert lstms and all(op.attributes["device"].value == "cpu" for op in lstms)
    # the interpreter runs the outlined module too (func.call): the same as the hybrid runner
    reference = run(model.module, model.signature.check_inputs(inputs))
    got = model.runner.run(model.signature.check_inputs(inputs))
    for a, b in zip(reference, got):
        assert relative_error(b, a) <= 1e-5


def test_hybrid_segments_run_generated_modules(model_zoo):
    from mlir_coreml.runtime.specialized import SpecializedExecutor

    path, inputs, _ = model_zoo.get("lstm", "nn_fp32")
    generated = compile_model(str(path), threads=1, pipeline=HYBRID, codegen=True)
    plain = compile_model(str(path), threads=1, pipeline=HYBRID, codegen=False)
    assert any(isinstance(s.runner, SpecializedExecutor) for s in generated.runner.segments)
    for key, want in plain.predict(inputs).items():
        np.testing.assert_array_equal(generated.predict(inputs)[key], want)


def test_compute_units_report_measures_the_hybrid_run(model_zoo):
    path, inputs, _ = model_zoo.get("transformer_small", "nn_fp32")
    model = compile_model(str(path), threads=1, compute_units="all")
    report = model.precision_report(inputs)
    assert report.partition is not None and report.partition["segments"]
    assert [d.name for d in report.measured] == model.output_names
    assert all(d.relative <= HYBRID_TOLERANCE for d in report.measured)
    assert "measured run vs all-CPU fp32 run" in report.to_text()
