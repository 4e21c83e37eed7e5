"""Implementations of Core ML custom layers (`className` in the model), supplied by the user.

    import mlir_coreml

    @mlir_coreml.register_custom_layer("AAPLSwish")
    def swish(inputs, parameters, weights):
        x = inputs[0]
        return x / (1 + np.exp(-x))

An implementation takes the layer's input arrays, its `parameters` dict and its weight arrays,
and returns one array or a list (one per output). Packages can also provide implementations
through the `mlir_coreml.plugins` entry-point group: `custom:<className> = module:function`.
"""
from __future__ import annotations

import functools
from mlir_coreml.errors import MlirCoremlError

_registry: dict = {}  # className -> fn(inputs, parameters, weights)


def register_custom_layer(class_name: str, fn=None):
    """Register `fn` for custom layers of `class_name`; usable as a decorator."""
    if fn is None:
        return functools.partial(register_custom_layer, class_name)
    _registry[class_name] = fn
    return fn


def unregister_custom_layer(class_name: str) -> None:
    _registry.pop(class_name, None)


@functools.lru_cache(maxsize=None)
def _plugin_layers() -> dict:
    from importlib.metadata import entry_points

    return {ep.name.split(":", 1)[1]: ep for ep in entry_points(group="mlir_coreml.plugins")
            if ep.name.startswith("custom:")}


def custom_layer(class_name: str, where: str | None = None):
    """The implementation registered for `class_name`, or a clear error naming the class."""
    fn = _registry.get(class_name)
    if fn is None and class_name in _plugin_layers():
        fn = _registry[class_name] = _plugin_layers()[class_name].load()
    if fn is None:
        raise MlirCoremlError(f"no implementation is registered for custom layer class '{class_name}'; "
                              f"register one with mlir_coreml.register_custom_layer('{class_name}', fn)", where)
    return fn
