"""Threat: attribute values built to overflow the C kernels (docs/threat-model.md, "kernels").

A convolution's stride, dilation or padding is a uint64 in the protobuf; whatever value a model
carries, compiling and predicting either works or ends in one MlirCoremlError naming the op —
never an OverflowError from a kernel wrapper. Values come from hypothesis.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.proto import model_pb2

U64 = st.one_of(st.integers(1, 8), st.integers(2 ** 31 - 2, 2 ** 31 + 2), st.integers(2 ** 32 - 1, 2 ** 64 - 1))


@pytest.fixture(scope="module")
def conv_spec(model_zoo):
    path, inputs, _ = model_zoo.get("layer_conv", "nn_fp32")
    spec = model_pb2.Model()
    with open(path, "rb") as f:
        spec.ParseFromString(f.read())
    return spec, inputs


def _conv(spec):
    return next(layer.convolution for layer in spec.neuralNetwork.layers if layer.HasField("convolution"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stride=U64, dilation=U64, field=st.sampled_from(["stride", "dilationFactor"]))
def test_huge_geometry_is_one_error(conv_spec, tmp_path_factory, stride, dilation, field):
    base, inputs = conv_spec
    spec = model_pb2.Model()
    spec.CopyFrom(base)
    conv = _conv(spec)
    del conv.stride[:]
    del conv.dilationFactor[:]
    conv.stride.extend([stride if field == "stride" else 1, 1])
    conv.dilationFactor.extend([dilation if field == "dilationFactor" else 1, 1])
    path = tmp_path_factory.mktemp("geometry") / "m.mlmodel"
    path.write_bytes(spec.SerializeToString())
    try:
        out = compile_model(path, precision="fp16").predict(inputs)
    except MlirCoremlError as e:
        assert "\n" not in str(e)
        return
    assert all(np.asarray(v).size >= 0 for v in out.values())
