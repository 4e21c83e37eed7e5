"""`run MODEL --dataset PATH --output OUT.parquet [--ray [ADDRESS]]`: read a table of samples
(a Parquet file, an .npz of equal-length columns, or a folder of images), score it in batches
with the predictor of runtime/dataset.py — in this process, or on Ray Data actors — and write
one Parquet file (atomically), with a progress bar on a terminal.

An image folder is the table (`path`, `bytes`), files in sorted order; the model's image
input reads the `bytes` column unless told otherwise. Multi-dimensional columns are written as
Arrow's canonical fixed-shape tensor type, which pyarrow, pandas and Ray read back as arrays.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.runtime.dataset import ERROR_COLUMN, IMAGE_SUFFIXES, BatchPredictor, to_column

FORMATS = "a .parquet file, an .npz file or a folder of images"


def _image_files(folder: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_SUFFIXES)]
    if not found:
        raise MlirCoremlError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder", folder)
    return found


def arrow_to_numpy(array) -> np.ndarray:
    """One Arrow column -> numpy: tensors and fixed-length lists as stacked arrays."""
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array.type, pa.FixedShapeTensorType):
        return array.to_numpy_ndarray()
    if pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type) or pa.types.is_large_list(array.type):
        return np.stack([arrow_to_numpy(item.values) for item in array])
    return array.to_numpy(zero_copy_only=False)


def numpy_to_arrow(column: np.ndarray):
    import pyarrow as pa

    if column.dtype != object and column.ndim > 1:
        return pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(column))
    return pa.array(list(column) if column.dtype == object else column)


def iter_table(path: str, batch_size: int):
    """(row count, iterator of numpy column batches) of the table at `path`."""
    if os.path.isdir(path):
        files = _image_files(path)

        def images():
            for start in range(0, len(files), batch_size):
                chunk = files[start:start + batch_size]
                yield {"path": to_column(chunk), "bytes": to_column([_read_bytes(f) for f in chunk])}

        return len(files), images()
    if path.endswith(".npz"):
        columns = _read_npz(path)
        rows = len(next(iter(columns.values())))
        return rows, ({k: v[s:s + batch_size] for k, v in columns.items()} for s in range(0, rows, batch_size))
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            table = pq.ParquetFile(path)
        except (OSError, ValueError) as e:
            raise MlirCoremlError(f"cannot read the Parquet table: {e}", path) from None
        return table.metadata.num_rows, ({name: arrow_to_numpy(batch.column(name)) for name in batch.schema.names}
                                         for batch in table.iter_batches(batch_size=batch_size))
    raise MlirCoremlError(f"unknown dataset kind (expected {FORMATS})", path)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise MlirCoremlError(f"cannot read: {e.strerror or e}", path) from None


def _read_npz(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            columns = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise MlirCoremlError(f"cannot read the table: {e}", path) from None
    if not columns or len({len(v) for v in columns.values()}) != 1:
        raise MlirCoremlError("an .npz table needs columns of one length (the rows)", path)
    return columns


def ray_dataset(path: str):
    """The table at `path` as a ray.data.Dataset (same columns as `iter_table` gives)."""
    import ray.data

    if os.path.isdir(path) or path.endswith("/"):
        if os.path.isdir(path):
            _image_files(path)  # the same clear error for a folder without images
        return ray.data.read_binary_files(path, include_paths=True, file_extensions=[s[1:] for s in IMAGE_SUFFIXES])
    if path.endswith(".npz"):
        import pyarrow as pa

        columns = _read_npz(path)
        return ray.data.from_arrow(pa.table({k: numpy_to_arrow(v) for k, v in columns.items()}))
    if path.endswith(".parquet"):
        return ray.data.read_parquet(path)
    raise MlirCoremlError(f"unknown dataset kind (expected {FORMATS})", path)


def _write_parquet(f, batches, progress) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, skipped = None, 0
    try:
        for batch in batches:
            table = pa.table({k: numpy_to_arrow(np.asarray(v) if not isinstance(v, np.ndarray) else v)
                              for k, v in batch.items()})
            writer = writer or pq.ParquetWriter(f, table.schema)
            writer.write_table(table)
            if ERROR_COLUMN in batch:
                skipped += sum(bool(e) for e in batch[ERROR_COLUMN])
            progress.update(table.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return skipped


def run_dataset(model, dataset: str, output: str, *, ray_address: str | None = None, use_ray: bool = False,
                batch_size: int = 32, concurrency: int = 1, input_columns=None, on_error: str = "skip",
                threads: int | None = 1) -> int:
    """Score `dataset` with `model` into the Parquet file `output`; returns the skipped row count."""
    from tqdm import tqdm

    from mlir_coreml.codegen.atomic import write_file

    dataset, output = os.fspath(dataset), os.fspath(output)
    try:
        import PIL  # noqa: F401  (decodes image rows)
        import pyarrow  # noqa: F401  (reads and writes the tables)
    except ImportError as e:
        raise MlirCoremlError(f"scoring a dataset needs {e.name}: pip install 'mlir_coreml[dataset]'") from None
    if not os.path.exists(dataset) and not (use_ray and "://" in dataset):  # Ray reads URIs (s3://...) itself
        raise MlirCoremlError("no such dataset", dataset)
    if input_columns is None and os.path.isdir(dataset):
        input_columns = ["bytes"]
    if use_ray:
        rows, batches = _ray_batches(model, dataset, ray_address, batch_size, concurrency, input_columns,
                                     on_error, threads)
    else:
        from mlir_coreml.runtime.predict import compile_model

        predictor = BatchPredictor(model=compile_model(model, threads=threads), batch_size=batch_size,
                                   input_columns=input_columns, on_error=on_error)
        rows, table = iter_table(dataset, batch_size)
        batches = (predictor(batch) for batch in table)
    with tqdm(total=rows, desc="mlir_coreml: scoring", unit="row", disable=None) as progress:
        state = {}
        write_file(output, lambda f: state.setdefault("skipped", _write_parquet(f, batches, progress)))
    skipped = state.get("skipped", 0)
    if skipped:
        print(f"skipped {skipped} of {rows} rows (the reason is in the '{ERROR_COLUMN}' column)", file=sys.stderr)
    return skipped


def _ray_batches(model, dataset, address, batch_size, concurrency, input_columns, on_error, threads):
    from mlir_coreml.runtime.ray import init_ray, predict_dataset

    init_ray(address)
    ds = ray_dataset(dataset)
    scored = predict_dataset(ds, model, batch_size=batch_size, concurrency=concurrency,
                             input_columns=input_columns, on_error=on_error, num_cpus=threads or 1)
    # the row count for the progress bar, without reading the rows when it can
    rows = len(_image_files(dataset)) if os.path.isdir(dataset) else ds.count()
    return rows, scored.iter_batches(batch_size=batch_size, batch_format="numpy")
