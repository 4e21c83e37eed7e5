"""Batch inference on Ray Data (`pip install 'mlir_coreml[ray]'`), public as `mlir_coreml.ray`.

`predict_dataset(dataset, model_path, ...)` returns a lazy ray.data.Dataset: `map_batches` with
the callable class runtime/dataset.BatchPredictor, so each actor unpacks and loads the model
once. The driver compiles the model (and its batched variant) and ships the saved build
through the object store: actors neither lower nor run the C compiler. Batches are numpy.

To use an existing cluster, connect first (`ray.init(address="ray://head:10001")`, or
`RAY_ADDRESS`) — every worker needs mlir_coreml installed, on the same Python and CPU
architecture as the driver for the generated kernels to load (others run the executor).
"""
from __future__ import annotations

import os

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.runtime.dataset import BatchPredictor, pack_model

INSTALL_HINT = "Ray Data is an optional extra: pip install 'mlir_coreml[ray]'"


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is the [data] extra of ray)
    except ImportError:
        raise MlirCoremlError(INSTALL_HINT) from None
    return ray


def init_ray(address: str | None = None) -> None:
    """Connect to the cluster at `address` (None or "": RAY_ADDRESS, else a local instance)."""
    ray = _ray()
    if ray.is_initialized():
        return
    try:
        ray.init(address=address or None, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise MlirCoremlError(f"cannot connect to Ray: {e}", address or "local") from None


def predict_dataset(dataset, model_path, *, batch_size: int = 32, concurrency: int = 1, input_columns=None,
                    output_columns=None, on_error: str = "raise", num_cpus: float = 1):
    """Score every row of `dataset` (a ray.data.Dataset) with the model at `model_path`.

    `input_columns` maps model inputs to columns (a dict, or a list in the model's input order;
    default: columns named like the inputs); `output_columns` selects/renames outputs (a dict
    output -> column, or a list of outputs). `concurrency` actors of `num_cpus` CPUs each run
    `batch_size` rows per call. Returns the lazy result Dataset: the outputs, the passed-through
    columns and, with on_error="skip", an `error` column naming why a row was skipped."""
    ray = _ray()
    if not isinstance(dataset, ray.data.Dataset):
        raise MlirCoremlError(f"predict_dataset expects a ray.data.Dataset, got {type(dataset).__name__}")
    if not ray.is_initialized():
        init_ray()
    threads = max(1, int(num_cpus))
    archive = ray.put(pack_model(os.fspath(model_path), batch_size, threads=threads))
    return dataset.map_batches(
        BatchPredictor,
        fn_constructor_kwargs=dict(blob=archive, batch_size=batch_size, input_columns=input_columns,
                                   output_columns=output_columns, on_error=on_error, threads=threads),
        batch_size=batch_size, batch_format="numpy", zero_copy_batch=True,
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=concurrency), num_cpus=num_cpus)
