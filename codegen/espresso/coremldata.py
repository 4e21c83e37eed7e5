"""Write the binary side files of a compiled NeuralNetwork bundle, and derive them from a source.

coremldata.bin, model/coremldata.bin, neural_network_optionals/coremldata.bin,
analytics/coremldata.bin and metadata.json; layouts are in frontend/espresso/format.py.
"""
from __future__ import annotations

import base64
import hashlib
import struct
import threading

from mlir_coreml.codegen.espresso import nsjson
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.format import Analytics, CoremlData, PreprocessingRecords
from mlir_coreml.frontend.proto.wire import scan_fields

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _U64.pack(len(raw)) + raw


# --- coremldata.bin --------------------------------------------------------------------------------
def nn_trailer(output_names) -> bytes:
    """The neuralNetwork trailer for output names given in *file* order."""
    return network_trailer(fmt.MODEL_TYPE_NEURAL_NETWORK, output_names)


def network_trailer(model_type: int, output_names, class_labels=None, probability_blob: str | None = None) -> bytes:
    """The trailer of a network model (neuralNetwork, its classifier or regressor); layout in
    frontend/espresso/format.py."""
    out = bytearray(_U64.pack(model_type))
    if model_type == fmt.MODEL_TYPE_NN_CLASSIFIER:
        labels = list(class_labels or ())
        strings = all(isinstance(label, str) for label in labels)
        kind = next(code for code, name in fmt.CLASS_LABEL_KINDS.items() if name == ("string" if strings else "int64"))
        out += _U64.pack(kind) + _U64.pack(len(labels))
        out += b"".join(_string(label) if strings else _I64.pack(int(label)) for label in labels)
        out += _string(probability_blob or "")
    out += _U64.pack(len(output_names)) + b"".join(_string(name) for name in output_names)
    return bytes(out)


def write_coremldata(data: CoremlData) -> bytes:
    """Serialize the root coremldata.bin; the network trailer is rebuilt from `output_names`
    when present, otherwise `trailer` is written as is."""
    out = bytearray(_U32.pack(data.model_type))
    out += b"".join(_U64.pack(word) for word in data.format_version)
    out += _string(data.platform)
    out += _U64.pack(data.spec_version)
    out += b"".join(_U64.pack(word) for word in data.reserved)
    out += _U64.pack(len(data.description)) + data.description
    if data.output_names is None:
        out += data.trailer
    else:
        out += network_trailer(data.model_type, data.output_names, data.class_labels, data.probability_blob)
    return bytes(out)


def parse_written_coremldata(data: bytes) -> CoremlData:
    from mlir_coreml.frontend.espresso.bundle import parse_coremldata

    return parse_coremldata(data, fmt.COREMLDATA_FILE)


def coremldata_from_mlmodel(mlmodel: bytes, *, where: str | None = None, model=None) -> CoremlData:
    """The root coremldata.bin fields coremlc derives from a network `.mlmodel` file (`model`: the
    parsed protobuf when the caller has it; classifiers need their labels from it).

    The description is the raw bytes of Model field 2; the trailer lists the description's
    outputs in reverse order (a classifier's predicted label excluded); the format-version words
    depend on the model type and spec version.
    """
    fields = scan_fields(mlmodel, where)
    model_type = next((number for number in fields if number >= 200), None)
    if model_type not in fmt.NETWORK_MODEL_TYPES:
        raise MlirCoremlError(f"model type field {model_type} is not a NeuralNetwork (500, or its classifier "
                              "403 or regressor 303)", where=where)
    description = fields.get(fmt.MLMODEL_DESCRIPTION_FIELD, [b""])[-1]
    spec_version = fields.get(1, [0])[-1]
    outputs = [bytes(scan_fields(feature, where).get(fmt.FEATURE_DESCRIPTION_NAME_FIELD, [b""])[-1]).decode("utf-8")
               for feature in scan_fields(description, where).get(fmt.MODEL_DESCRIPTION_OUTPUT_FIELD, [])]
    labels = probabilities = None
    if model_type == fmt.MODEL_TYPE_NN_CLASSIFIER:
        model = model if model is not None else _parse_model(mlmodel, where)
        labels, probabilities = classifier_labels(model)
        outputs = [name for name in outputs if name != model.description.predictedFeatureName]
    names = tuple(reversed(outputs))
    return CoremlData(model_type=model_type, format_version=fmt.coremldata_format_version(model_type, spec_version),
                      platform=fmt.COREMLDATA_PLATFORM, spec_version=spec_version,
                      description=bytes(description), output_names=names,
                      trailer=network_trailer(model_type, names, labels, probabilities),
                      class_labels=labels, probability_blob=probabilities)


def pipeline_coremldata(mlmodel: bytes, stages: list[CoremlData], where: str | None = None,
                        empty_metadata: bool = False) -> CoremlData:
    """The root coremldata.bin of a pipeline bundle whose stage bundles hold `stages` (layout in
    frontend/espresso/format.py): the one layout of every pipeline root, whatever its stages are.
    `empty_metadata`: the compiler appends an empty `metadata` to a description without one, as
    coremlc does for pipelines of ML Programs [3P byte-compared, docs/pipeline-bundles.md]."""
    fields = scan_fields(mlmodel, where)
    model_type = next((number for number in fields if number >= 200), None)
    if model_type not in fmt.PIPELINE_MODEL_TYPES:
        raise MlirCoremlError(f"model type field {model_type} is not a pipeline", where=where)
    platform = fmt.COREMLDATA_PLATFORM + "".join(
        f".{fmt.pipeline_stage_folder(index)}v{'.'.join(map(str, stage.format_version))}{stage.platform}"
        for index, stage in enumerate(stages))
    description = bytes(fields.get(fmt.MLMODEL_DESCRIPTION_FIELD, [b""])[-1])
    if empty_metadata:
        description = with_metadata(description, where)
    return CoremlData(model_type=model_type, format_version=fmt.PIPELINE_FORMAT_VERSION, platform=platform,
                      spec_version=fields.get(1, [0])[-1], description=description, output_names=None,
                      trailer=_U64.pack(len(stages)) + _U64.pack(model_type))


def write_strings(strings) -> bytes:
    """u64 count, then each string as u64 length + UTF-8 bytes (pipeline stage names)."""
    return _U64.pack(len(strings)) + b"".join(_string(text) for text in strings)


def with_metadata(description: bytes, where: str | None = None) -> bytes:
    """`description` with an empty `metadata` (field 100) appended when it has none: what the
    compilers of ML Programs store [3P: mlmodelc-export, byte-compared with coremlc 3600]."""
    if fmt.DESCRIPTION_METADATA_FIELD in scan_fields(description, where):
        return description
    return description + fmt.EMPTY_METADATA


def classifier_labels(model) -> tuple[tuple, str]:
    """(class labels, probabilities blob) of a NeuralNetworkClassifier model: the blob is
    `labelProbabilityLayerName`, or the last layer's output when that is empty (Core ML's rule)."""
    network = model.neuralNetworkClassifier
    kind = network.WhichOneof("ClassLabels")
    labels = tuple(getattr(network, kind).vector) if kind else ()
    probabilities = network.labelProbabilityLayerName
    if not probabilities and network.layers and network.layers[-1].output:
        probabilities = network.layers[-1].output[0]
    return labels, probabilities


def _parse_model(data: bytes, where: str | None):
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model()
    try:
        model.ParseFromString(data)
    except Exception:  # protobuf raises DecodeError, sometimes others, on garbage
        raise MlirCoremlError("not a Core ML model protobuf", where) from None
    return model


# --- model/coremldata.bin --------------------------------------------------------------------------
def write_preprocessing(data: PreprocessingRecords) -> bytes:
    out = bytearray()
    for record in data.records:
        out += _U64.pack(len(record))
        for name, value in record:
            out += _string(name) + _F32.pack(value)
    return bytes(out)


def preprocessing_from_scaler(input_name: str, *, channel_scale: float = 1.0, blue_bias: float = 0.0,
                              green_bias: float = 0.0, red_bias: float = 0.0,
                              gray_bias: float = 0.0, gray: bool = False) -> PreprocessingRecords:
    """Records for one image input with a NeuralNetworkImageScaler, in the observed order
    (1.0, 0, grayscale flag, three colour biases, gray bias, scale). The blue/green/red order is
    a guess: every sample had equal colour biases. The flag is 1.0 for the GRAYSCALE image of
    LetterClass, 0 for the RGB images of S1-S5 [O]."""
    values = (1.0, 0.0, float(gray), blue_bias, green_bias, red_bias, gray_bias, channel_scale)
    return PreprocessingRecords(records=tuple(((input_name, value),) for value in values))


# --- neural_network_optionals/coremldata.bin -------------------------------------------------------
def write_optionals(era: str = "2021") -> bytes:
    return bytes(fmt.OPTIONALS_SIZES[era] or 0)


# --- analytics/coremldata.bin ----------------------------------------------------------------------
def write_analytics(data: Analytics) -> bytes:
    out = bytearray()
    for name, entries in data.sections.items():
        out += _string(name) + _U64.pack(len(entries))
        for key, value in entries.items():
            out += _string(key) + _string(value)
    return bytes(out)


def sha256_base64(data) -> str:
    """`data`: bytes, or a list of buffers hashed as their concatenation."""
    digest = hashlib.sha256()
    for chunk in data if isinstance(data, list) else (data,):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode("ascii")


class BackgroundSha256:
    """sha256_base64(data) computed on a thread of its own, overlapping the caller's work (hashlib
    releases the GIL while it hashes; a 50 MB model takes ~70 ms). `result()` waits for it."""

    def __init__(self, data):
        self._digest = None
        self._thread = threading.Thread(target=self._run, args=(data,), daemon=True)
        self._thread.start()

    def _run(self, data) -> None:
        self._digest = sha256_base64(data)

    def result(self) -> str:
        self._thread.join()
        return self._digest


def analytics_for(*, net: bytes, shape: bytes, weights: bytes, mlmodel: bytes, model_name: str,
                  layer_count: int) -> Analytics:
    """The 2021 coremlc analytics: hashes of the written files and of the source `.mlmodel`.
    `layer_count` is the number of layers of the source NeuralNetwork."""
    details = {
        "modelDimension": str(layer_count),
        "nnModelNetHash": sha256_base64(net),
        "nnModelShapeHash": sha256_base64(shape),
        "nnModelWeightsHash": sha256_base64(weights),
    }
    spec = {"modelHash": sha256_base64(mlmodel), "modelName": model_name}
    sections = {fmt.ANALYTICS_NN_SECTION: details, fmt.ANALYTICS_SPEC_SECTION: spec}
    return Analytics(sections={name: dict(sorted(entries.items())) for name, entries in sorted(sections.items())})


# --- metadata.json ---------------------------------------------------------------------------------
def write_metadata(metadata) -> bytes:
    return nsjson.dumps(metadata).encode("utf-8")


def write_json(obj) -> bytes:
    """model.espresso.net / model.espresso.shape bytes."""
    return nsjson.dumps(obj).encode("utf-8")
