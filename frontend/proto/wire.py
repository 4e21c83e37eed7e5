"""Top-level protobuf fields read straight off the wire, without the schema: for questions
(which model type? the raw ModelDescription bytes?) that must not cost a full parse."""
from __future__ import annotations

from mlir_coreml.errors import MlirCoremlError


def _varint(data, pos: int, where) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise MlirCoremlError("truncated or malformed protobuf varint", where=where)
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def scan_fields(data, where) -> dict[int, list]:
    """Top-level protobuf fields: number -> values (ints for varints, memoryviews into `data`
    otherwise: a model's weight field is most of the file and is not copied)."""
    data = memoryview(data).cast("B")
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos, where)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = _varint(data, pos, where)
        elif wire_type == 2:
            size, pos = _varint(data, pos, where)
            value, pos = data[pos:pos + size], pos + size
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        else:
            raise MlirCoremlError(f"unsupported protobuf wire type {wire_type}", where=where)
        if pos > len(data):
            raise MlirCoremlError("truncated protobuf field", where=where)
        fields.setdefault(number, []).append(value)
    return fields
