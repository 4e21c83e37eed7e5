"""Readers for every Core ML form, each producing IR in the format's own dialect."""
from __future__ import annotations

import os

from mlir_coreml.errors import MlirCoremlError


# Function attribute: the output name of each result, in order, as predict returns them. Readers
# set it where an output is not the SSA name of its value (an Apple bundle's classifier); otherwise
# compile_model records the result names before lowering, which may forward a result (an identity
# reshape, a flatten) to a value named differently.
RESULT_NAMES_ATTR = "coreml.result_names"
PIPELINE_FIELDS = (200, 201, 202)   # Model.proto: pipelineClassifier, pipelineRegressor, pipeline

# Reader module per model form; each exposes `read(path) -> module` (imported on first use).
READERS = {
    ".mlmodel": "mlir_coreml.frontend.mlmodel",
    ".mlpackage": "mlir_coreml.frontend.mlpackage",
    ".mlmodelc": "mlir_coreml.frontend.mlmodelc",
}


def load_model(path: str):
    """Read `path` into an IR module, choosing the reader by the file's extension."""
    import importlib

    path = os.fspath(path)
    if not os.path.exists(path):
        raise MlirCoremlError("no such file or directory", path)
    if path.endswith(".mlir"):
        from mlir_coreml.ir.guard import read_file
        from mlir_coreml.ir.parser import parse_module

        return parse_module(read_file(path, "text"), filename=path)
    ext = os.path.splitext(path.rstrip("/"))[1].lower()
    if ext not in READERS:
        raise MlirCoremlError(f"unknown model form '{ext}' (expected .mlmodel, .mlpackage, .mlmodelc or .mlir)", path)
    try:
        reader = importlib.import_module(READERS[ext])
    except ModuleNotFoundError as e:
        if e.name != READERS[ext]:
            raise
        raise MlirCoremlError(f"reading {ext} files is not supported by this build yet", path) from None
    return reader.read(path)


def is_ml_program(path, data: bytes | None = None) -> bool:
    """Whether `path` is an ML Program: an `.mlpackage`, an `.mlmodel` whose Model type is
    `mlProgram` (field 502), or a compiled bundle holding `model.mil`. `data`: the `.mlmodel`'s
    bytes when the caller has read them already."""
    path = os.fspath(path)
    suffix = os.path.splitext(path.rstrip("/"))[1].lower()
    if suffix == ".mlpackage":
        return True
    if suffix == ".mlmodelc":
        return os.path.isfile(os.path.join(path, "model.mil"))
    if suffix != ".mlmodel" or (data is None and not os.path.isfile(path)):
        return False
    from mlir_coreml.frontend.espresso.format import MODEL_TYPE_ML_PROGRAM
    from mlir_coreml.frontend.proto.wire import scan_fields

    try:
        if data is None:
            from mlir_coreml.ir.guard import read_file

            data = read_file(path, "protobuf")
        fields = scan_fields(data, path)
        if MODEL_TYPE_ML_PROGRAM in fields:
            return True
        if not any(number in fields for number in PIPELINE_FIELDS):
            return False
        from mlir_coreml.frontend.pipeline import holds_ml_program
        from mlir_coreml.frontend.proto import model_pb2

        return holds_ml_program(model_pb2.Model.FromString(data))
    except Exception:  # noqa: BLE001 - unreadable or corrupt: not ours to report here (the reader will)
        return False
