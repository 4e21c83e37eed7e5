"""Scoring tables of samples: the predictor Ray actors run (runtime/ray.py) and `run --dataset`
runs in-process, plus the table readers and the Parquet writer behind the CLI.

A batch is a dict of column name -> numpy array (Ray Data's "numpy" batch format). Input
columns map to model inputs; image inputs take uint8 H x W x C arrays or encoded image bytes
(decoded with Pillow, resized to the model's size). Outputs become columns: arrays lose the
leading unit dim predict gives them, a classifier gives its label column and a probability
column (in class-label order). Columns that are not inputs pass through (an image folder's
`path`), so results can be joined back. With `on_error="skip"` a row that cannot be decoded or
checked gets its reason in the `error` column (empty for good rows) and NaN/empty outputs; the
other rows of its batch are unaffected. With "raise" the first bad row stops the run.

The model travels as a packed, pre-compiled archive (`pack_model`): the driver compiles and
saves it once (and its batched variant), so no worker runs the frontend, the passes or the C
compiler.
"""
from __future__ import annotations

import io
import os
import tarfile
import tempfile

import numpy as np

from mlir_coreml.errors import MlirCoremlError

ERROR_COLUMN = "error"
ON_ERROR = ("raise", "skip")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SAMPLE_FILE, BATCHED_FILE = "model.mlir", "model_batched.mlir"


# -- the model as a pre-compiled archive ------------------------------------------------------

def pack_model(model_path, batch_size: int, threads: int | None = 1) -> bytes:
    """Compile `model_path` (any model file, a `lower --kernels` bundle, a saved `.mlir`) once
    for one sample and for `batch_size` samples per call, saved with their kernel builds, as tar bytes."""
    from mlir_coreml.runtime.predict import compile_model

    model = compile_model(os.fspath(model_path), threads=threads)
    with tempfile.TemporaryDirectory(prefix="mlir_coreml-pack-") as folder:
        model.save(os.path.join(folder, SAMPLE_FILE))
        variant = model.batched(batch_size) if batch_size > 1 else None
        if variant is not None:
            variant.save(os.path.join(folder, BATCHED_FILE))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(folder, arcname=".")
        return buffer.getvalue()


def load_shipped(path: str, threads: int | None = 1):
    """The CompiledModel of a saved `.mlir`, running the generated module shipped beside it
    when that build is there for this Python and toolchain, else the executor: never a compile."""
    from mlir_coreml.codegen import cython_emitter
    from mlir_coreml.runtime import build
    from mlir_coreml.runtime.predict import artefact_dir, compile_model
    from mlir_coreml.runtime.specialized import specialize

    model = compile_model(path, threads=threads, codegen=False)
    folder = artefact_dir(path)
    try:
        source = cython_emitter.emit(cython_emitter.Schedule(model.executor))
    except cython_emitter.Unsupported:
        return model
    if os.path.isfile(os.path.join(folder, build.module_name(build.cache_key(source)) + build.EXT_SUFFIX)):
        model.runner = specialize(model.executor, search=(folder,)) or model.runner
    return model


def unpack_model(blob: bytes, batch_size: int, threads: int | None = 1):
    """The CompiledModel of a `pack_model` archive, its batched variant registered."""
    folder = tempfile.mkdtemp(prefix="mlir_coreml-model-")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
        tar.extractall(folder, filter="data")
    model = load_shipped(os.path.join(folder, SAMPLE_FILE), threads)
    batched = os.path.join(folder, BATCHED_FILE)
    model.batch_variants[batch_size] = load_shipped(batched, threads) if os.path.exists(batched) else None
    return model


# -- the predictor -----------------------------------------------------------------------------

def _column_map(spec, names: list[str], what: str) -> dict[str, str]:
    """Model name -> column name from None (same names), a list (in model order) or a dict."""
    if spec is None:
        return {n: n for n in names}
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise MlirCoremlError(f"{what} names '{unknown[0]}', which is not one of the model's: {', '.join(names)}")
        return dict(spec)
    spec = list(spec)
    if what.startswith("input") and len(spec) != len(names):
        raise MlirCoremlError(f"{what} gives {len(spec)} columns for the model's {len(names)} inputs "
                              f"({', '.join(names)})")
    return dict(zip(names, spec))


def decode_image(value, expected) -> np.ndarray:
    """Encoded image bytes -> uint8 H x W x C in the model's size (RGB, or L for one channel)."""
    from PIL import Image

    shape = expected.shape
    try:
        with Image.open(io.BytesIO(bytes(value))) as image:
            image = image.convert("L" if shape[-3] == 1 else "RGB")
            if image.size != (shape[-1], shape[-2]):
                image = image.resize((shape[-1], shape[-2]), Image.BILINEAR)
            return np.asarray(image)
    except (OSError, ValueError, Image.DecompressionBombError) as e:  # Pillow's errors for bad image data
        raise MlirCoremlError(f"cannot decode the image ({len(value)} bytes): {type(e).__name__}") from None


def to_column(values: list) -> np.ndarray:
    """Per-row cells -> one column: arrays stacked, anything else (labels, bytes) as objects."""
    if values and isinstance(values[0], np.ndarray):
        return np.stack(values)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


class BatchPredictor:
    """A callable over numpy batches (a Ray Data callable class: built once per actor)."""

    def __init__(self, blob: bytes | None = None, model=None, *, batch_size: int = 32, input_columns=None,
                 output_columns=None, on_error: str = "raise", threads: int | None = 1):
        if on_error not in ON_ERROR:
            raise MlirCoremlError(f"on_error must be one of {', '.join(ON_ERROR)}, got '{on_error}'")
        if model is None:
            if not isinstance(blob, (bytes, bytearray)):  # a Ray object reference to the archive
                import ray

                blob = ray.get(blob)
            model = unpack_model(blob, batch_size, threads)
        self.model = model
        self.batch_size = batch_size
        self.on_error = on_error
        signature = model.signature
        self.inputs = _column_map(input_columns, list(signature.inputs), "input_columns")
        self.outputs = output_columns
        self._template = None

    def _sample(self, batch: dict, i: int) -> list[np.ndarray]:
        signature = self.model.signature
        sample = {}
        for name, column in self.inputs.items():
            value = batch[column][i]
            if name in signature.image_inputs and isinstance(value, (bytes, bytearray, memoryview, np.bytes_)):
                value = decode_image(value, signature.inputs[name])
            sample[name] = value
        return signature.check_inputs(sample)

    def _row_name(self, batch: dict, i: int) -> str:
        for key in ("path", "id"):
            if key in batch:
                return f"row {key}={batch[key][i]}"
        return f"row {i} of its batch"

    def __call__(self, batch: dict) -> dict:
        missing = [c for c in self.inputs.values() if c not in batch]
        if missing:
            raise MlirCoremlError(f"the dataset has no column '{missing[0]}' (it has {', '.join(batch)}); "
                                  f"map model inputs to columns with input_columns")
        rows = len(batch[next(iter(self.inputs.values()))])
        checked, errors = {}, [""] * rows
        for i in range(rows):
            try:
                checked[i] = self._sample(batch, i)
            except Exception as e:  # one bad row (a corrupt image, a wrong shape) must not lose the batch
                if self.on_error == "raise":
                    raise MlirCoremlError(f"{self._row_name(batch, i)}: {e}") from None
                errors[i] = f"{type(e).__name__}: {e}" if not isinstance(e, MlirCoremlError) else str(e)
        by_row = self._predict_rows(checked, errors)
        outputs = [by_row[i] if i in by_row else self.template() for i in range(rows)]
        columns = {k: v for k, v in batch.items() if k not in self.inputs.values()}
        columns.update(self._output_columns(outputs))
        if self.on_error == "skip":
            columns[ERROR_COLUMN] = to_column(errors)
        return columns

    def _predict_rows(self, checked: dict, errors: list) -> dict[int, dict]:
        """Row -> outputs; when the batch fails to run, each row runs alone, so only the rows
        that fail themselves are skipped."""
        try:
            return dict(zip(checked, self._predict(list(checked.values()))))
        except MlirCoremlError:
            if self.on_error == "raise":
                raise
        by_row = {}
        for i, args in checked.items():
            try:
                by_row[i] = self._predict([args])[0]
            except MlirCoremlError as e:
                errors[i] = str(e)
        return by_row

    def _predict(self, checked: list) -> list[dict]:
        from mlir_coreml.runtime.batch import run_checked

        signature = self.model.signature
        return [signature.format_outputs(r) for r in run_checked(self.model, checked, self.batch_size)]

    def template(self) -> dict:
        """The outputs of a skipped row: NaN arrays and probabilities, empty labels."""
        if self._template is None:
            zeros = [np.zeros(t.shape, t.element.numpy_dtype) for t in self.model.signature.inputs.values()]
            sample = self.model.signature.format_outputs(self.model.run_args(zeros))
            self._template = {k: _blank(v) for k, v in sample.items()}
        return self._template

    def _output_columns(self, outputs: list[dict]) -> dict[str, np.ndarray]:
        names = list(outputs[0]) if outputs else []
        mapping = _column_map(self.outputs, names, "output_columns")
        return {column: to_column([_cell(o[name]) for o in outputs]) for name, column in mapping.items()}


def _cell(value):
    """One output of one sample as a table cell."""
    if isinstance(value, dict):  # classifier probabilities, in class-label order
        return np.array(list(value.values()), dtype=np.float64)
    if isinstance(value, np.ndarray):
        return value[0] if value.ndim and value.shape[0] == 1 else value
    return value


def _blank(value):
    if isinstance(value, dict):
        return {k: float("nan") for k in value}
    if isinstance(value, np.ndarray):
        return np.full_like(value, np.nan) if value.dtype.kind == "f" else np.zeros_like(value)
    return "" if isinstance(value, str) else type(value)(0)
