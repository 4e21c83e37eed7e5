"""Our Core ML schema (frontend/proto) against coremltools' own.

Three views of "wire-compatible": real files parse to the same dict and re-serialize to the
same bytes; freshly converted models (NeuralNetwork, quantized, flexible shapes, ML Program,
stateful) do the same; and every field coremltools knows has the same name, number, type and
label in our descriptors.
"""
import glob
import os

import pytest
import torch
import coremltools as ct
from coremltools.models.neural_network import quantization_utils
from coremltools.proto import Model_pb2 as ct_model_pb2
from google.protobuf import descriptor_pb2, json_format

from mlir_coreml.frontend.proto import model_pb2

from tests.samples import SOURCE_MODELS
SAMPLES = [str(p) for p in SOURCE_MODELS]
UPSTREAM_PACKAGE, OUR_PACKAGE = "CoreML.Specification", "mlir_coreml.spec"
MLPACKAGE_SPEC = os.path.join("Data", "com.apple.CoreML", "model.mlmodel")


# -- wire-level view ----------------------------------------------------------------------

def read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


class WireView:
    """Encoded records of a message, read with *our* descriptors.

    Every field number must be declared by our schema (an undeclared one would survive a
    round trip only as an unknown field). Map entries are sorted: the protobuf runtime does
    not keep map order (re-parsing its own output can reorder them), so a file with a map of
    two or more entries can only match modulo entry order; `reorderable_maps` counts those.
    """

    def __init__(self):
        self.reorderable_maps = 0

    def records(self, data, descriptor, path):
        records, maps, pos = [], {}, 0
        while pos < len(data):
            start = pos
            key, pos = read_varint(data, pos)
            number, wire_type = key >> 3, key & 7
            field = descriptor.fields_by_number.get(number)
            assert field is not None, f"{path}: field number {number} is not in our schema"
            tag, body_start = data[start:pos], pos
            if wire_type == 0:
                _, pos = read_varint(data, pos)
            elif wire_type == 1:
                pos += 8
            elif wire_type == 5:
                pos += 4
            elif wire_type == 2:
                length, body_start = read_varint(data, pos)
                pos = body_start + length
            else:
                raise AssertionError(f"{path}.{field.name}: unexpected wire type {wire_type}")
            payload = data[body_start:pos]
            if wire_type == 2 and field.message_type is not None:
                payload = self.records(payload, field.message_type, f"{path}.{field.name}")
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                if number not in maps:
                    maps[number] = []
                    records.append(("map", number, maps[number]))
                maps[number].append((tag, payload))
                continue
            records.append((tag, payload))
        for entries in maps.values():
            self.reorderable_maps += len(entries) > 1
            entries.sort(key=repr)
        return records


def assert_same_as_coremltools(data):
    """`data` is an encoded Core ML Model; returns our parsed message."""
    ours = model_pb2.Model.FromString(data)
    theirs = ct_model_pb2.Model.FromString(data)
    assert json_format.MessageToDict(ours, preserving_proto_field_name=True) == json_format.MessageToDict(
        theirs, preserving_proto_field_name=True
    )
    reencoded = ours.SerializeToString()
    assert len(reencoded) == len(data)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)

    view = WireView()
    original = view.records(data, model_pb2.Model.DESCRIPTOR, "Model")
    assert view.records(reencoded, model_pb2.Model.DESCRIPTOR, "Model") == original
    if view.reorderable_maps == 0:
        assert reencoded == data
    return ours


# -- 1. real Apple-era .mlmodel files -----------------------------------------------------

def test_samples_are_present():
    assert len(SAMPLES) == 4


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.split(os.sep)[-3])
def test_sample_mlmodel_round_trips(path):
    with open(path, "rb") as f:
        data = f.read()
    model = assert_same_as_coremltools(data)
    kind = model.WhichOneof("Type")
    assert kind in ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
    assert len(getattr(model, kind).layers) > 0


# -- 2. models converted by coremltools in this process ------------------------------------

class ConvLSTMLinear(torch.nn.Module):
    """Conv + BN + ReLU, channels read as an 8-step sequence by an LSTM, then a linear head."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm = torch.nn.BatchNorm2d(8)
        self.lstm = torch.nn.LSTM(64, 16)
        self.head = torch.nn.Linear(16, 5)

    def forward(self, x):
        y = torch.relu(self.norm(self.conv(x)))
        y, _ = self.lstm(y.reshape(8, 1, 64))
        return torch.softmax(self.head(y[-1]), dim=-1)


class Accumulator(torch.nn.Module):
    """Keeps a running sum in a buffer, which converts to a Core ML state."""

    def __init__(self):
        super().__init__()
        self.register_buffer("acc", torch.zeros(1, 4))

    def forward(self, x):
        self.acc.add_(x)
        return self.acc * 2


def spec_bytes(mlmodel, tmp_path, name):
    """Encoded spec as it lands on disk: .mlmodel bytes, or model.mlmodel of an .mlpackage."""
    if mlmodel.get_spec().WhichOneof("Type") != "mlProgram":
        return mlmodel.get_spec().SerializeToString()
    package = tmp_path / f"{name}.mlpackage"
    mlmodel.save(str(package))
    return (package / MLPACKAGE_SPEC).read_bytes()


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    torch.manual_seed(0)
    tmp_path = tmp_path_factory.mktemp("converted")
    example = torch.rand(1, 3, 8, 8)
    traced = torch.jit.trace(ConvLSTMLinear().eval(), example)
    image = ct.ImageType(name="image", shape=(1, 3, 8, 8), scale=1 / 255.0, bias=[-0.5, -0.5, -0.5])
    nn = ct.convert(traced, inputs=[image], convert_to="neuralnetwork")

    conv = torch.jit.trace(torch.nn.Conv2d(3, 4, 3).eval(), torch.rand(1, 3, 16, 16))
    sizes = ct.EnumeratedShapes(shapes=[(1, 3, 16, 16), (1, 3, 32, 32)])
    flexible_dim = ct.RangeDim(8, 64, default=16)
    stateful = torch.jit.trace(Accumulator().eval(), torch.rand(1, 4), check_trace=False)

    models = {
        "nn_conv_lstm_linear": nn,
        "nn_linear_8bit": quantization_utils.quantize_weights(nn, nbits=8),
        "nn_lut_4bit": quantization_utils.quantize_weights(nn, nbits=4, quantization_mode="linear_lut"),
        "nn_enumerated_image_sizes": ct.convert(
            conv, inputs=[ct.ImageType(name="image", shape=sizes)], convert_to="neuralnetwork"
        ),
        "mlprogram_conv_lstm_linear": ct.convert(
            traced, inputs=[ct.TensorType(name="x", shape=example.shape)], convert_to="mlprogram"
        ),
        "mlprogram_shape_range": ct.convert(
            conv, inputs=[ct.TensorType(name="x", shape=(1, 3, flexible_dim, flexible_dim))], convert_to="mlprogram"
        ),
        "mlprogram_stateful": ct.convert(
            stateful,
            inputs=[ct.TensorType(name="x", shape=(1, 4))],
            states=[ct.StateType(wrapped_type=ct.TensorType(shape=(1, 4)), name="acc")],
            minimum_deployment_target=ct.target.iOS18,
        ),
    }
    return {name: spec_bytes(model, tmp_path, name) for name, model in models.items()}


def layer_kinds(network):
    return {layer.WhichOneof("layer") for layer in network.layers}


def mil_values(program):
    for function in program.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                yield from op.attributes.values()
                for argument in op.inputs.values():
                    yield from (binding.value for binding in argument.arguments if binding.HasField("value"))


def feature_type(model, name):
    return next(f.type for f in list(model.description.input) + list(model.description.state) if f.name == name)


def test_nn_conv_lstm_linear(converted):
    model = assert_same_as_coremltools(converted["nn_conv_lstm_linear"])
    assert {"convolution", "uniDirectionalLSTM", "innerProduct"} <= layer_kinds(model.neuralNetwork)
    assert model.neuralNetwork.preprocessing[0].WhichOneof("preprocessor") == "scaler"


@pytest.mark.parametrize("name, scheme", [("nn_linear_8bit", "linearQuantization"),
                                          ("nn_lut_4bit", "lookupTableQuantization")])
def test_nn_quantized_weights(converted, name, scheme):
    model = assert_same_as_coremltools(converted[name])
    conv = next(layer.convolution for layer in model.neuralNetwork.layers if layer.HasField("convolution"))
    assert conv.weights.quantization.WhichOneof("QuantizationType") == scheme
    assert conv.weights.rawValue


def test_nn_enumerated_image_sizes(converted):
    model = assert_same_as_coremltools(converted["nn_enumerated_image_sizes"])
    image = feature_type(model, "image").imageType
    assert {(s.width, s.height) for s in image.enumeratedSizes.sizes} == {(16, 16), (32, 32)}


def test_mlprogram_conv_lstm_linear(converted):
    model = assert_same_as_coremltools(converted["mlprogram_conv_lstm_linear"])
    values = list(mil_values(model.mlProgram))
    assert any(v.WhichOneof("value") == "blobFileValue" for v in values)
    assert any(v.WhichOneof("value") == "immediateValue" for v in values)


def test_mlprogram_shape_range(converted):
    model = assert_same_as_coremltools(converted["mlprogram_shape_range"])
    ranges = feature_type(model, "x").multiArrayType.shapeRange.sizeRanges
    assert [(r.lowerBound, r.upperBound) for r in ranges] == [(1, 1), (3, 3), (8, 64), (8, 64)]


def test_mlprogram_stateful(converted):
    model = assert_same_as_coremltools(converted["mlprogram_stateful"])
    assert feature_type(model, "acc").stateType.arrayType.shape == [1, 4]


# -- 3. descriptor-level: every coremltools field exists in ours, unchanged ----------------

def our_name(upstream_full_name):
    assert upstream_full_name.startswith(UPSTREAM_PACKAGE), upstream_full_name
    return OUR_PACKAGE + upstream_full_name[len(UPSTREAM_PACKAGE):]


def upstream_types(root):
    """All message and enum descriptors reachable from `root`, nested ones included."""
    messages, enums, todo = {}, {}, [root]
    while todo:
        message = todo.pop()
        if message.full_name in messages:
            continue
        messages[message.full_name] = message
        todo += list(message.nested_types)
        todo += [f.message_type for f in message.fields if f.message_type is not None]
        for enum in list(message.enum_types) + [f.enum_type for f in message.fields if f.enum_type]:
            enums[enum.full_name] = enum
    return messages, enums


def field_facts(message, package):
    """name -> (number, label, type, referenced type relative to `package`, oneof, packed)."""
    proto = descriptor_pb2.DescriptorProto()
    message.CopyToProto(proto)
    facts = {}
    for field in proto.field:
        type_name = field.type_name.lstrip(".")
        assert not type_name or type_name.startswith(package + "."), type_name
        type_name = type_name[len(package):]
        oneof = proto.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
        facts[field.name] = (field.number, field.label, field.type, type_name, oneof, field.options.packed)
    return facts


UPSTREAM_MESSAGES, UPSTREAM_ENUMS = upstream_types(ct_model_pb2.Model.DESCRIPTOR)
OUR_POOL = model_pb2.DESCRIPTOR.pool


def test_schema_covers_every_upstream_type():
    assert len(UPSTREAM_MESSAGES) > 300
    for name in UPSTREAM_MESSAGES:
        OUR_POOL.FindMessageTypeByName(our_name(name))
    for name in UPSTREAM_ENUMS:
        OUR_POOL.FindEnumTypeByName(our_name(name))


def test_every_upstream_field_matches():
    mismatches = []
    for name, upstream in sorted(UPSTREAM_MESSAGES.items()):
        ours = field_facts(OUR_POOL.FindMessageTypeByName(our_name(name)), OUR_PACKAGE)
        theirs = field_facts(upstream, UPSTREAM_PACKAGE)
        for field, facts in theirs.items():
            if ours.get(field) != facts:
                mismatches.append(f"{name}.{field}: upstream {facts}, ours {ours.get(field)}")
        mismatches += [f"{name}.{field}: not upstream" for field in ours.keys() - theirs.keys()]
    assert not mismatches, "\n".join(mismatches)


def test_every_upstream_enum_matches():
    for name, upstream in UPSTREAM_ENUMS.items():
        ours = OUR_POOL.FindEnumTypeByName(our_name(name))
        assert [(v.name, v.number) for v in ours.values] == [(v.name, v.number) for v in upstream.values], name


def test_layer_oneof_has_all_158_layers():
    layer = model_pb2.DESCRIPTOR.pool.FindMessageTypeByName(OUR_PACKAGE + ".NeuralNetworkLayer")
    assert len(layer.oneofs_by_name["layer"].fields) == 158


def test_descriptors_live_apart_from_coremltools():
    assert model_pb2.Model.DESCRIPTOR.full_name == "mlir_coreml.spec.Model"
    assert model_pb2.DESCRIPTOR.name == "mlir_coreml/frontend/proto/model.proto"
    assert ct_model_pb2.Model.DESCRIPTOR.full_name == "CoreML.Specification.Model"
