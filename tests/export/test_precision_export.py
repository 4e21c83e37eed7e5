"""fp16 weights and placement written into Apple's formats, read back by coremltools and by us.

- `fp16-weights` on a NeuralNetwork: every layer's WeightParams is half precision
  (float16Value, no floatValue) in the exported `.mlmodel`;
- `add-fp16-cast` on an ML Program: fp16 consts in weight.bin, fp16 ops, `cast` after each
  fp32 input and before each output, as coremltools' own fp16 conversion writes them;
- `partition-devices` on an ML Program: each op's `IntendedBackend` attribute (the list of
  backend names of coremltools' compute_plan_utils), the LSTM's on the CPU.

Each exported file loads in coremltools (`MLModel(path, skip_model_load=True)`) and re-imports
to the same IR text as the module that was written; the fp16 models compute within the fp16
tolerances of the acceptance matrix (2e-2 fp16 weights, 5e-2 fp16 compute).
"""
from __future__ import annotations

import logging

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.mlmodel_writer import export_model
from mlir_coreml.frontend.proto import is_repeated
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.manager import PassManager
from tests.acceptance.test_zoo_models import relative_error
from tests.export.test_export_roundtrip import blobs

ct = pytest.importorskip("coremltools")
logging.getLogger("coremltools").setLevel(logging.ERROR)

NETWORKS = ["mobilenet_v2_small", "transformer_small", "lstm", "gru_loop", "mlp"]
FP16_WEIGHTS, FP16_COMPUTE = 2e-2, 5e-2
FP16_BLOB = 1  # weight.bin blob dtype code of fp16 (docs/coreml-formats.md)
# a while_loop stays fp32 inside (casts around it), where coremltools converts its body too
CONTROL_FLOW = {"gru_loop"}


def exported(model_zoo, tmp_path, name, form, pipeline, emit):
    path, inputs, outputs = model_zoo.get(name, form)
    module = mlir_coreml.load(str(path))
    PassManager.from_pipeline(pipeline).run(module)
    target = tmp_path / f"{name}.{emit}"
    export_model(module, str(target), emit)
    again = mlir_coreml.load(str(target))
    assert print_module(again, resources=True) == print_module(module, resources=True)
    return target, again, inputs, outputs


def predicted(module, inputs) -> dict:
    fn = next(op for op in module.walk() if op.op_name == "func.func" and op.attributes["sym_name"].value == "main")
    names = [v.name for v in fn.return_op.operands]
    return dict(zip(names, run_module(module, dict(inputs))))


def weight_params(spec):
    """Every WeightParams holding data in a NeuralNetwork spec."""
    found = []

    def visit(msg):
        for fd, value in msg.ListFields():
            if fd.message_type is None:
                continue
            for item in (value if is_repeated(fd) else [value]):
                if not hasattr(item, "ListFields"):  # map entries
                    continue
                if fd.message_type.name == "WeightParams":
                    found.append(item)
                else:
                    visit(item)
    visit(spec)
    return [wp for wp in found if wp.floatValue or wp.float16Value]


@pytest.mark.parametrize("name", NETWORKS)
def test_fp16_weights_mlmodel(model_zoo, tmp_path, name):
    target, again, inputs, outputs = exported(model_zoo, tmp_path, name, "nn_fp32", "fp16-weights", "mlmodel")
    spec = ct.models.MLModel(str(target), skip_model_load=True).get_spec()
    params = weight_params(spec)
    assert params and all(wp.float16Value and not wp.floatValue for wp in params)
    got = predicted(again, inputs)
    for key, want in outputs.items():
        assert relative_error(got[key], want) <= FP16_WEIGHTS, key


@pytest.mark.parametrize("name", NETWORKS)
def test_add_fp16_cast_mlpackage_as_coremltools_writes_it(model_zoo, tmp_path, name):
    target, again, inputs, outputs = exported(model_zoo, tmp_path, name, "mlprogram_fp32", "add-fp16-cast",
                                              "mlpackage")
    spec = ct.models.MLModel(str(target), skip_model_load=True).get_spec()
    assert {dtype for dtype, _, _ in blobs(target)} == {FP16_BLOB}
    if name not in CONTROL_FLOW:
        ops = [op.type for b in spec.mlProgram.functions["main"].block_specializations.values() for op in b.operations]
        assert ops.count("cast") == len(spec.description.input) + len(spec.description.output)
        # coremltools' own fp16 conversion of the same network: the same ops (ours adds no others)
        theirs = ct.models.MLModel(str(model_zoo.get(name, "mlprogram")[0]), skip_model_load=True).get_spec()
        theirs_ops = [op.type for b in theirs.mlProgram.functions["main"].block_specializations.values()
                      for op in b.operations]
        assert sorted(t for t in ops if t != "const") == sorted(t for t in theirs_ops if t != "const")
    got = predicted(again, inputs)
    for key, want in outputs.items():
        assert np.asarray(got[key]).dtype == np.float32
        assert relative_error(got[key], want) <= FP16_COMPUTE, key


def test_intended_backend_in_mlpackage(model_zoo, tmp_path):
    target, again, _, _ = exported(model_zoo, tmp_path, "lstm", "mlprogram_fp32",
                                   "partition-devices{policy=greedy},add-fp16-cast", "mlpackage")
    spec = ct.models.MLModel(str(target), skip_model_load=True).get_spec()
    block = spec.mlProgram.functions["main"].block_specializations[spec.mlProgram.functions["main"].opset]
    placed = {}
    for op in block.operations:
        attr = op.attributes.get("IntendedBackend")
        if attr is not None:
            assert attr.type.listType.type.tensorType.dataType == ct.proto.MIL_pb2.DataType.STRING
            placed.setdefault(op.type, set()).add(tuple(v.immediateValue.tensor.strings.values[0]
                                                        for v in attr.immediateValue.list.values))
    assert placed["lstm"] == {("bnns", "classic_cpu", "e5_minimal_cpu")}
    assert placed["linear"] == {("ane",)}
    assert "cast" not in placed  # casts added after placement carry no hint
