"""Batch inference on Ray Data: `predict_dataset` (see runtime/ray.py; needs `mlir_coreml[ray]`)."""
from mlir_coreml.runtime.ray import init_ray, predict_dataset

__all__ = ["init_ray", "predict_dataset"]
