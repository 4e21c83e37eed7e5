r"""Parse textual pipelines into pass instances, converting options to the fields' types.

    pipeline := [pass ("," pass)*]      pass := NAME ["{" option* "}"]
    option   := NAME "=" ITEM ("," ITEM)*
    NAME     := [A-Za-z_][A-Za-z0-9_-]*  ITEM := "[^"]*" | [^\s,{}=]+    (whitespace between tokens)

Hand-written: the grammar is four lines, and building a parser-generator parser
cost more start-up time (~0.1 s) than running `lower`'s whole default pipeline.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import typing

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass

_SPACE = re.compile(r"\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_ITEM = re.compile(r'"[^"]*"|[^\s,{}=]+')


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.pos = _SPACE.match(text).end()

    def at_end(self) -> bool:
        return self.pos == len(self.text)

    def accept(self, punctuation: str) -> bool:
        if not self.text.startswith(punctuation, self.pos):
            return False
        self.pos = _SPACE.match(self.text, self.pos + 1).end()
        return True

    def expect(self, punctuation: str) -> None:
        if not self.accept(punctuation):
            self.fail()

    def token(self, pattern: re.Pattern) -> str:
        match = pattern.match(self.text, self.pos)
        if match is None:
            self.fail()
        self.pos = _SPACE.match(self.text, match.end()).end()
        return match.group()

    def fail(self):
        text, pos = self.text, self.pos
        near = repr(text[pos:pos + 10]) if pos < len(text) else "the end"
        column = pos - text.rfind("\n", 0, pos)
        raise MlirCoremlError(f"malformed pipeline near {near}", f"pipeline:{column}")


def _parse(text: str) -> list[tuple[str, dict[str, list[str]]]]:
    """(pass name, option -> items) per pass of a non-empty pipeline text."""
    scan = _Scanner(text)
    specs = []
    while True:
        name, options = scan.token(_NAME), {}
        if scan.accept("{"):
            while not scan.accept("}"):
                key = scan.token(_NAME)
                scan.expect("=")
                items = [scan.token(_ITEM)]
                while scan.accept(","):
                    items.append(scan.token(_ITEM))
                options[key] = items
        specs.append((name, options))
        if scan.at_end():
            return specs
        scan.expect(",")


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

    from mlir_coreml.passes.pipelines import PIPELINES, named_pipeline

    if not text.strip():
        return []
    passes = []
    for name, options in _parse(text):
        cls = get_pass_class(name)
        if cls is None and name in PIPELINES and not options:
            passes += parse_pipeline(named_pipeline(name))
            continue
        if cls is None:
            raise MlirCoremlError(f"unknown pass '{name}'{suggest(name, all_pass_names() + list(PIPELINES))}",
                                  "pipeline")
        passes.append(build_pass(cls, options))
    return passes


def pass_names(text: str) -> set[str]:
    """Every name `text` runs, its named pipelines expanded (the names too), no pass imported."""
    from mlir_coreml.passes.pipelines import PIPELINES, named_pipeline

    names = set()
    for name, options in (_parse(text) if text.strip() else []):
        names.add(name)
        if name in PIPELINES and not options:
            names |= pass_names(named_pipeline(name))
    return names


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
