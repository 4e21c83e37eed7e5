"""Lazy pass registry: pass `fuse-conv-batchnorm` lives in `passes/fuse_conv_batchnorm.py`;
modules whose names start with `_` hold helpers shared by several passes.

Nothing is imported until a pipeline names the pass. Plugins add passes through the
`mlir_coreml.plugins` entry-point group with names `pass:<name>` pointing at the pass class.
"""
from __future__ import annotations

import importlib
import os

from mlir_coreml.passes.base import ModulePass

# Modules of this package that hold infrastructure rather than a pass.
INFRASTRUCTURE = {"__init__", "base", "manager", "pipeline", "pipelines", "registry"}

_extra: dict[str, type[ModulePass]] = {}


def register_pass(cls: type[ModulePass]) -> type[ModulePass]:
    """Register a pass class defined outside this package (tests, scripts)."""
    _extra[cls.name] = cls
    return cls


def registered_pass_names() -> set[str]:
    """Names of the passes registered at run time (`register_pass`): code outside the package."""
    return set(_extra)


def _builtin_names() -> list[str]:
    folder = os.path.dirname(__file__)
    return sorted(f[:-3].replace("_", "-") for f in os.listdir(folder)
                  if f.endswith(".py") and f[:-3] not in INFRASTRUCTURE and not f.startswith("_"))


def _plugin_entries() -> dict:
    from importlib.metadata import entry_points  # ~20 ms to import; only for names no builtin has

    return {ep.name.split(":", 1)[1]: ep for ep in entry_points(group="mlir_coreml.plugins")
            if ep.name.startswith("pass:")}


def all_pass_names() -> list[str]:
    return sorted(set(_builtin_names()) | set(_extra) | set(_plugin_entries()))


def builtin_pass_names() -> list[str]:
    return _builtin_names()


def get_pass_class(name: str) -> type[ModulePass] | None:
    """The pass class called `name`: registered, builtin, then from an entry point (not for the
    name of a named pipeline: reading the entry points costs ~20 ms per compile)."""
    if name in _extra:
        return _extra[name]
    if name in _builtin_names():
        module = importlib.import_module(f"mlir_coreml.passes.{name.replace('-', '_')}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ModulePass) and value.name == name:
                return value
        raise ImportError(f"mlir_coreml.passes.{name.replace('-', '_')} defines no pass named '{name}'")
    from mlir_coreml.passes.pipelines import PIPELINES

    ep = None if name in PIPELINES else _plugin_entries().get(name)
    if ep is not None:
        cls = ep.load()
        _extra[name] = cls
        return cls
    return None


def describe_passes() -> str:
    """Every pass with its one-line description and options (`opt --list-passes`, `opt --help`)."""
    import dataclasses
    import typing

    lines = []
    for name in all_pass_names():
        cls = get_pass_class(name)
        lines.append(f"  {name:<22} {cls.description}")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind = getattr(hints.get(f.name), "__name__", str(hints.get(f.name)))
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            lines.append(f"  {'':<22}   {f.name.replace('_', '-')}: {kind} = {default!r}")
    return "\n".join(lines) + "\n"
