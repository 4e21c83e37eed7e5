"""Read every file of a compiled NeuralNetwork `.mlmodelc` bundle into data (no IR).

Weights are memory-mapped and handed out as zero-copy numpy views; every offset and size is
checked against the file size, and anything inconsistent raises MlirCoremlError naming the file.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir import guard
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.format import Analytics, CoremlData, PreprocessingRecords

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")


class _Cursor:
    """Bounds-checked little-endian reads over one file's bytes."""

    def __init__(self, data: bytes, where: str):
        self.data = data
        self.where = where
        self.pos = 0

    def _take(self, size: int, what: str) -> bytes:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise MlirCoremlError(
                f"truncated file: {what} needs {size} bytes at offset {self.pos}, "
                f"file has {len(self.data)}", where=self.where)
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def u32(self, what: str) -> int:
        return _U32.unpack(self._take(4, what))[0]

    def u64(self, what: str) -> int:
        return _U64.unpack(self._take(8, what))[0]

    def i64(self, what: str) -> int:
        return _I64.unpack(self._take(8, what))[0]

    def f32(self, what: str) -> float:
        return _F32.unpack(self._take(4, what))[0]

    def raw(self, size: int, what: str) -> bytes:
        return self._take(size, what)

    def string(self, what: str) -> str:
        size = self.u64(f"length of {what}")
        raw = self._take(size, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MlirCoremlError(f"{what} at offset {self.pos - size} is not UTF-8", where=self.where)

    @property
    def at_end(self) -> bool:
        return self.pos == len(self.data)

    def expect_end(self):
        if not self.at_end:
            raise MlirCoremlError(
                f"{len(self.data) - self.pos} unexpected bytes after offset {self.pos}", where=self.where)


@dataclass
class EspressoBundle:
    """Every file of a compiled bundle, decoded; optional files are None when absent."""

    path: Path
    net: dict
    shapes: dict
    weights: dict[int, np.ndarray]          # blob id -> uint8 view into the mapped file
    coremldata: CoremlData
    preprocessing: PreprocessingRecords | None
    optionals: bytes | None
    analytics: Analytics | None
    metadata: list | None

    def data_blobs(self) -> list[tuple[int, np.ndarray]]:
        """The non-padding blobs in id order, as write_weights takes them."""
        return [(blob_id, view) for blob_id, view in self.weights.items()
                if not fmt.is_padding_blob(blob_id)]

    def blob(self, blob_id: int, dtype: str | None = None) -> np.ndarray:
        """Blob `blob_id` as a typed zero-copy view; the element type comes from the net key
        that references the blob unless `dtype` is given."""
        where = str(self.path / fmt.WEIGHTS_FILE)
        if blob_id not in self.weights:
            raise MlirCoremlError(f"blob {blob_id} is not in the weights table", where=where)
        dtype = dtype or self._blob_dtype(blob_id)
        view = self.weights[blob_id]
        if view.nbytes % np.dtype(dtype).itemsize:
            raise MlirCoremlError(
                f"blob {blob_id} has {view.nbytes} bytes, not a whole number of {dtype}", where=where)
        return view.view(dtype)

    def _blob_dtype(self, blob_id: int) -> str:
        for layer in self.net.get("layers", []):
            for key, dtype in fmt.BLOB_KEY_DTYPES.items():
                if layer.get(key) == blob_id:
                    return dtype
        raise MlirCoremlError(f"no layer references blob {blob_id}; pass dtype",
                              where=str(self.path / fmt.NET_FILE))


def read_bundle(path) -> EspressoBundle:
    """Read the `.mlmodelc` directory at `path`."""
    root = Path(path)
    if not root.is_dir():
        raise MlirCoremlError("not a compiled model directory", where=str(root))
    coremldata_path = root / fmt.COREMLDATA_FILE
    return EspressoBundle(
        path=root,
        net=read_json(root / fmt.NET_FILE, root),
        shapes=read_json(root / fmt.SHAPE_FILE, root),
        weights=read_weights(root / fmt.WEIGHTS_FILE),
        coremldata=parse_coremldata(_read_bytes(coremldata_path, "protobuf", root), str(coremldata_path)),
        preprocessing=_optional(root, fmt.PREPROCESSING_FILE, parse_preprocessing),
        optionals=_optional(root, fmt.OPTIONALS_FILE, lambda data, where: data),
        analytics=_optional(root, fmt.ANALYTICS_FILE, parse_analytics),
        metadata=read_json(root / fmt.METADATA_FILE, root) if os.path.lexists(root / fmt.METADATA_FILE) else None,
    )


def _read_bytes(path: Path, kind: str, root: Path) -> bytes:
    """A file of the bundle at `root`: regular, inside it, within its kind's size limit."""
    if not os.path.lexists(path):
        raise MlirCoremlError("missing file of the compiled bundle", where=str(path))
    return guard.read_file(path, kind, root=root)


def _optional(root: Path, relative: str, parse):
    path = root / relative
    if not os.path.lexists(path):
        return None
    return parse(_read_bytes(path, "protobuf", root), str(path))


# --- JSON files ----------------------------------------------------------------------------------
def read_json(path: Path, root: Path | None = None):
    """Parse an espresso JSON file (net, shape, metadata) of the bundle at `root` (default: its folder)."""
    path = Path(path)
    return parse_json(_read_bytes(path, "json", root or path.parent), str(path))


def parse_json(data: bytes, where: str):
    if data[:4] == fmt.PBZE_MAGIC:
        raise MlirCoremlError("LZFSE-compressed espresso files are not supported "
                              "(pbze header); decompress the file first", where=where)
    return guard.load_json(data, where)


# --- model.espresso.weights ----------------------------------------------------------------------
def read_weights(path: Path) -> dict[int, np.ndarray]:
    """Map the weights file and return blob id -> uint8 view (no copy), in table order."""
    where = str(path)
    if not os.path.lexists(path):
        raise MlirCoremlError("missing file of the compiled bundle", where=where)
    fd, file_size = guard.open_regular(path, "weights", root=Path(path).parent)
    with os.fdopen(fd, "rb") as stream:
        if file_size < fmt.WEIGHTS_COUNT_SIZE:
            raise MlirCoremlError(f"truncated file: {file_size} bytes, the blob count needs 8", where=where)
        if stream.read(4) == fmt.PBZE_MAGIC:
            raise MlirCoremlError("LZFSE-compressed espresso files are not supported", where=where)
        # Mapped from the checked descriptor, exactly the size fstat reported.
        mapped = np.memmap(stream, dtype=np.uint8, mode="r", shape=(file_size,))
    count = int(mapped[:8].view("<u8")[0])
    table_end = fmt.WEIGHTS_COUNT_SIZE + count * fmt.WEIGHTS_ENTRY_SIZE
    if table_end > file_size:
        raise MlirCoremlError(
            f"truncated file: blob table of {count} entries needs {table_end} bytes, "
            f"file has {file_size}", where=where)
    table = mapped[fmt.WEIGHTS_COUNT_SIZE:table_end].view("<u8").reshape(count, 2)
    blobs: dict[int, np.ndarray] = {}
    offset = table_end
    for index, (blob_id, size) in enumerate(table.tolist()):
        if blob_id != index:
            raise MlirCoremlError(f"table entry {index} has blob id {blob_id}, expected {index}",
                                  where=where)
        if offset + size > file_size:
            raise MlirCoremlError(
                f"truncated file: blob {blob_id} needs bytes {offset}..{offset + size}, "
                f"file has {file_size}", where=where)
        blobs[blob_id] = mapped[offset:offset + size]
        offset += size
    if offset != file_size:
        raise MlirCoremlError(f"{file_size - offset} bytes after the last blob (offset {offset})",
                              where=where)
    return blobs


# --- coremldata.bin --------------------------------------------------------------------------------
def parse_coremldata(data: bytes, where: str) -> CoremlData:
    cursor = _Cursor(data, where)
    model_type = cursor.u32("model type")
    format_version = tuple(cursor.u64("format version word") for _ in range(3))
    platform = cursor.string("platform string")
    spec_version = cursor.u64("specification version")
    reserved = tuple(cursor.u64("reserved word") for _ in range(fmt.COREMLDATA_RESERVED_WORDS))
    description = cursor.raw(cursor.u64("description length"), "ModelDescription protobuf")
    trailer_start = cursor.pos
    output_names = labels = probabilities = None
    if model_type in fmt.NETWORK_MODEL_TYPES:
        labels, probabilities, output_names = _parse_network_trailer(cursor, model_type)
        cursor.expect_end()
    return CoremlData(model_type=model_type, format_version=format_version, platform=platform,
                      spec_version=spec_version, description=description,
                      output_names=output_names, trailer=data[trailer_start:], reserved=reserved,
                      class_labels=labels, probability_blob=probabilities)


def _parse_network_trailer(cursor: _Cursor, model_type: int):
    """(class labels, probabilities blob, output names) of a network model's trailer."""
    trailer_type = cursor.u64("trailer model type")
    if trailer_type != model_type:
        raise MlirCoremlError(
            f"trailer model type {trailer_type} at offset {cursor.pos - 8}, expected {model_type}",
            where=cursor.where)
    labels = probabilities = None
    if model_type == fmt.MODEL_TYPE_NN_CLASSIFIER:
        kind = fmt.CLASS_LABEL_KINDS.get(cursor.u64("class label kind"))
        if kind is None:
            raise MlirCoremlError(f"unknown class label kind at offset {cursor.pos - 8} (expected "
                                  f"{' or '.join(map(str, fmt.CLASS_LABEL_KINDS))})", where=cursor.where)
        count = cursor.u64("class label count")
        _check_count(cursor, count, 8, "class labels")
        read = cursor.string if kind == "string" else cursor.i64
        labels = tuple(read("class label") for _ in range(count))
        probabilities = cursor.string("probabilities blob name")
    count = cursor.u64("output name count")
    _check_count(cursor, count, 8, "output names")
    return labels, probabilities, tuple(cursor.string("output name") for _ in range(count))


def _check_count(cursor: _Cursor, count: int, min_item_size: int, what: str):
    """Reject counts that cannot fit in the rest of the file before looping over them."""
    remaining = len(cursor.data) - cursor.pos
    if count * min_item_size > remaining:
        raise MlirCoremlError(f"truncated file: {count} {what} cannot fit in the last "
                              f"{remaining} bytes (offset {cursor.pos})", where=cursor.where)


# --- model/coremldata.bin ----------------------------------------------------------------------------
def parse_preprocessing(data: bytes, where: str) -> PreprocessingRecords:
    cursor = _Cursor(data, where)
    records = []
    for _ in range(fmt.PREPROCESSING_RECORD_COUNT):
        count = cursor.u64("pre-processing entry count")
        _check_count(cursor, count, 12, "pre-processing entries")
        records.append(tuple((cursor.string("image input name"), cursor.f32("pre-processing value"))
                             for _ in range(count)))
    cursor.expect_end()
    return PreprocessingRecords(records=tuple(records))


# --- analytics/coremldata.bin ------------------------------------------------------------------------
def parse_analytics(data: bytes, where: str) -> Analytics:
    cursor = _Cursor(data, where)
    sections: dict[str, dict[str, str]] = {}
    while not cursor.at_end:
        name = cursor.string("analytics section name")
        count = cursor.u64("analytics entry count")
        _check_count(cursor, count, 16, "analytics entries")
        if name in sections:
            raise MlirCoremlError(f"analytics section {name!r} appears twice", where=where)
        entries = {}
        for _ in range(count):
            key = cursor.string("analytics key")
            if key in entries:
                raise MlirCoremlError(f"analytics key {key!r} appears twice in {name}", where=where)
            entries[key] = cursor.string("analytics value")
        sections[name] = entries
    return Analytics(sections=sections)
