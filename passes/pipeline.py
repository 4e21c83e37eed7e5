"""Parse textual pipelines into pass instances, converting options to the fields' types."""
from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import typing

import lark

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass


@functools.lru_cache(maxsize=None)
def _parser() -> lark.Lark:
    with open(os.path.join(os.path.dirname(__file__), "pipeline.lark"), encoding="utf-8") as f:
        return lark.Lark(f.read(), start="pipeline", parser="lalr", maybe_placeholders=True)


def suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _convert(text_items: list[str], hint, where: str):
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, *_) = typing.get_args(hint) or (str,)
        return tuple(_convert([t], item_type, where) for t in text_items)
    if len(text_items) != 1:
        raise MlirCoremlError(f"expects a single value, got {','.join(text_items)}", where)
    text = text_items[0].strip('"')
    try:
        if hint is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if hint in (int, float, str):
            return hint(text)
    except ValueError:
        raise MlirCoremlError(f"'{text}' is not a valid {hint.__name__}", where) from None
    return text


def build_pass(cls: type[ModulePass], options: dict[str, list[str]]) -> ModulePass:
    fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, items in options.items():
        f = fields.get(key) or fields.get(key.replace("_", "-"))
        if f is None:
            raise MlirCoremlError(f"pass '{cls.name}' has no option '{key}'{suggest(key, fields)}",
                                  "pipeline")
        kwargs[f.name] = _convert(items, hints[f.name], f"pass '{cls.name}' option '{key}'")
    return cls(**kwargs)


def parse_pipeline(text: str) -> list[ModulePass]:
    """`canonicalize,cse,my-pass{opt=1 list=a,b}` -> pass instances (unknown names suggest the closest)."""
    from mlir_coreml.passes.registry import all_pass_names, get_pass_class

    if not text.strip():
        return []
    try:
        tree = _parser().parse(text)
    except lark.exceptions.UnexpectedInput as e:
        raise MlirCoremlError(f"malformed pipeline near {text[e.pos_in_stream:e.pos_in_stream + 10]!r}",
                              f"pipeline:{e.column}") from None
    passes = []
    for spec in tree.children:
        if spec is None:
            continue
        name_tok, options_tree = spec.children
        name = str(name_tok)
        cls = get_pass_class(name)
        if cls is None:
            raise MlirCoremlError(f"unknown pass '{name}'{suggest(name, all_pass_names())}", "pipeline")
        options = {}
        for opt in (options_tree.children if options_tree else []):
            key, value = opt.children
            options[str(key)] = [str(t) for t in value.children]
        passes.append(build_pass(cls, options))
    return passes


def format_pipeline(passes) -> str:
    """The inverse of parse_pipeline (options at their defaults are omitted)."""
    parts = []
    for p in passes:
        opts = []
        for f in dataclasses.fields(p):
            v = getattr(p, f.name)
            if v == f.default or (f.default_factory is not dataclasses.MISSING and v == f.default_factory()):
                continue
            text = ",".join(map(str, v)) if isinstance(v, tuple) else str(v).lower() if isinstance(v, bool) else str(v)
            opts.append(f"{f.name.replace('_', '-')}={text}")
        parts.append(p.name + ("{" + " ".join(opts) + "}" if opts else ""))
    return ",".join(parts)
