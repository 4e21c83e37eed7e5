"""Protobuf messages -> IR attributes, and `WeightParams` -> weight constants, for the `.mlmodel` importer.

Conversion is generic over the descriptors so that every layer's params mirror the proto: set
fields only (proto3 defaults are implied), enums by name, sub-messages as dicts, map fields as
dicts, bytes as hex strings. `WeightParams` sub-messages are pulled out as weights, named by
their path inside the params message (`weights`, `weightParams[1].inputGateBiasVector`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.proto import is_repeated

WEIGHT_MESSAGE = "WeightParams"


@dataclass
class Weight:
    path: str
    message: object  # the WeightParams


@dataclass
class Converted:
    attributes: dict = field(default_factory=dict)
    weights: list = field(default_factory=list)


def _scalar(fd: FieldDescriptor, value):
    if fd.type == FieldDescriptor.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(value)
        return ev.name if ev is not None else int(value)
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return "0x" + bytes(value).hex()
    if fd.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return float(value)
    return value


def message_to_dict(msg, weights: list | None = None, prefix: str = "", skip: tuple = ()) -> dict:
    """The set fields of `msg` (except `skip`) as a plain dict; WeightParams go to `weights` when
    it is given."""
    out = {}
    for fd, value in msg.ListFields():
        if fd.name in skip:
            continue
        path = prefix + fd.name
        if fd.type != FieldDescriptor.TYPE_MESSAGE:
            out[fd.name] = [_scalar(fd, v) for v in value] if is_repeated(fd) else _scalar(fd, value)
            continue
        if fd.message_type.GetOptions().map_entry:
            vfd = fd.message_type.fields_by_name["value"]
            out[fd.name] = {str(k): (message_to_dict(v) if vfd.type == FieldDescriptor.TYPE_MESSAGE else _scalar(vfd, v))
                            for k, v in sorted(value.items())}
            continue
        if fd.message_type.name == WEIGHT_MESSAGE and weights is not None:
            items = list(enumerate(value)) if is_repeated(fd) else [(None, value)]
            for i, wp in items:
                weights.append(Weight(path if i is None else f"{path}[{i}]", wp))
            continue
        if is_repeated(fd):
            out[fd.name] = [message_to_dict(v, weights, f"{path}[{i}].") for i, v in enumerate(value)]
        else:
            out[fd.name] = message_to_dict(value, weights, path + ".")
    return out


def convert_params(params) -> Converted:
    weights: list[Weight] = []
    attrs = message_to_dict(params, weights)
    return Converted(attrs, weights)


# -- weight shapes ---------------------------------------------------------------------------

def _conv_shape(p, path):
    if path == "bias":
        return (p.get("outputChannels", 0),)
    kh, kw = tuple(p.get("kernelSize", ())) or (3, 3)
    groups = max(p.get("nGroups", 0), 1)
    if p.get("isDeconvolution"):
        return (p.get("kernelChannels", 0), p.get("outputChannels", 0) // groups, kh, kw)
    return (p.get("outputChannels", 0), p.get("kernelChannels", 0), kh, kw)


def _conv3d_shape(p, path):
    if path == "bias":
        return (p.get("outputChannels", 0),)
    kernel = tuple(max(p.get(f"kernel{a}", 1), 1) for a in ("Depth", "Height", "Width"))
    groups = max(p.get("nGroups", 0), 1)
    if p.get("isDeconvolution"):
        return (p.get("inputChannels", 0), p.get("outputChannels", 0) // groups) + kernel
    return (p.get("outputChannels", 0), p.get("inputChannels", 0) // groups) + kernel


WEIGHT_SHAPES = {
    "convolution": _conv_shape,
    "convolution3d": _conv3d_shape,
    "innerProduct": lambda p, f: (p.get("outputChannels", 0), p.get("inputChannels", 0)) if f == "weights"
    else (p.get("outputChannels", 0),),
    "batchnorm": lambda p, f: (p.get("channels", 0),),
    "embedding": lambda p, f: (p.get("outputChannels", 0), p.get("inputDim", 0)) if f == "weights"
    else (p.get("outputChannels", 0),),
    "embeddingND": lambda p, f: (p.get("embeddingSize", 0), p.get("vocabSize", 0)) if f == "weights"
    else (p.get("embeddingSize", 0),),
    "batchedMatmul": lambda p, f: (p.get("weightMatrixSecondDimension", 0), p.get("weightMatrixFirstDimension", 0))
    if f == "weights" else (p.get("weightMatrixSecondDimension", 0),),
    "loadConstant": lambda p, f: tuple(p.get("shape", ())),
    "loadConstantND": lambda p, f: tuple(p.get("shape", ())),
    "scale": lambda p, f: tuple(p.get("shapeScale" if f == "scale" else "shapeBias", ())),
    "bias": lambda p, f: tuple(p.get("shape", ())),
    "layerNormalization": lambda p, f: tuple(p.get("normalizedShape", ())),
}


def weight_shape(kind: str, params: dict, path: str, count: int | None) -> tuple:
    """The weight's natural shape when the params determine it and it fits `count`; else [count]."""
    rule = WEIGHT_SHAPES.get(kind)
    shape = None
    if rule is not None:
        try:
            shape = tuple(int(d) for d in rule(params, path))
        except (TypeError, ValueError):
            shape = None
    if shape and all(d > 0 for d in shape) and (count is None or int(np.prod(shape)) == count):
        return shape
    if count is None:
        return None
    return (count,)


@dataclass
class StoredWeight:
    """One WeightParams as stored: `dtype` f32 / f16 (plain) or u8 / i8 (quantized codes, with
    `quantization` holding the nn.dequantize attributes); `load()` gives the flat stored array."""

    dtype: str
    shape: tuple
    load: object
    count: int
    quantization: dict | None = None


def stored_weight(wp, kind: str, params: dict, path: str, where: str) -> StoredWeight | None:
    """Describe one WeightParams without copying its data; None for an empty one."""
    if len(wp.floatValue):
        n = len(wp.floatValue)
        return StoredWeight("f32", weight_shape(kind, params, path, n), lambda: np.array(wp.floatValue, np.float32), n)
    if wp.float16Value:
        data = wp.float16Value
        if len(data) % 2:
            raise MlirCoremlError(f"weight '{path}' has an odd number of float16 bytes", where)
        n = len(data) // 2
        return StoredWeight("f16", weight_shape(kind, params, path, n), lambda: np.frombuffer(data, np.float16), n)
    raw, signed = (wp.int8RawValue, True) if wp.int8RawValue else (wp.rawValue, False)
    if not raw:
        return None
    if not wp.HasField("quantization"):
        if len(raw) % 4:
            raise MlirCoremlError(f"weight '{path}' has raw bytes without quantization parameters", where)
        n = len(raw) // 4
        return StoredWeight("f32", weight_shape(kind, params, path, n), lambda: np.frombuffer(raw, "<f4"), n)
    q = wp.quantization
    nbits = 8 if signed else q.numberOfBits
    if not 1 <= nbits <= 8:
        raise MlirCoremlError(f"weight '{path}' has numberOfBits {nbits} (expected 1..8)", where)
    shape = weight_shape(kind, params, path, None)
    if shape is None or int(np.prod(shape)) * nbits > len(raw) * 8:
        shape = (len(raw) * 8 // nbits,)
    qtype = q.WhichOneof("QuantizationType")
    if qtype == "linearQuantization":
        qparams = {"mode": "linear", "scale": [float(v) for v in q.linearQuantization.scale],
                   "bias": [float(v) for v in q.linearQuantization.bias]}
    elif qtype == "lookupTableQuantization":
        qparams = {"mode": "lut", "lut": [float(v) for v in q.lookupTableQuantization.floatValue]}
    else:
        raise MlirCoremlError(f"weight '{path}' is quantized without linear or lookup-table parameters", where)
    qparams["numberOfBits"] = nbits
    dtype = "i8" if signed else "u8"
    return StoredWeight(dtype, shape, lambda: np.frombuffer(raw, np.int8 if signed else np.uint8), len(raw), qparams)
