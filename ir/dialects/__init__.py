"""Dialects, one module each, loaded lazily by op-name prefix.

Third-party packages add dialects through the `mlir_coreml.plugins` entry-point group: an
entry point named after the dialect prefix pointing at a module whose import registers its
ops (and, for passes, see passes/registry.py).
"""
from __future__ import annotations

import functools
import importlib

DIALECTS = {
    "builtin": "mlir_coreml.ir.dialects.builtin",
    "func": "mlir_coreml.ir.dialects.func",
    "core": "mlir_coreml.ir.dialects.core",
    "nn": "mlir_coreml.ir.dialects.nn",
    "mil": "mlir_coreml.ir.dialects.mil",
    "espresso": "mlir_coreml.ir.dialects.espresso",
    "classical": "mlir_coreml.ir.dialects.classical",
}

_loaded: set[str] = set()
_missing: set[str] = set()


@functools.lru_cache(maxsize=None)
def _plugin_dialects() -> dict[str, str]:
    from importlib.metadata import entry_points

    found = {}
    for ep in entry_points(group="mlir_coreml.plugins"):
        if ep.name.startswith("dialect:"):
            found[ep.name.split(":", 1)[1]] = ep.value
    return found


def load_dialect(prefix: str) -> bool:
    """Import the dialect that owns ops named `prefix.*`; False if there is none."""
    if prefix in _loaded:
        return True
    if prefix in _missing:
        return False
    module = DIALECTS.get(prefix) or _plugin_dialects().get(prefix)
    if module is None:
        _missing.add(prefix)
        return False
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        _missing.add(prefix)
        return False
    _loaded.add(prefix)
    return True
