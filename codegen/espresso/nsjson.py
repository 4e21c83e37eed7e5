"""JSON text exactly as Foundation's NSJSONSerialization pretty-prints it (coremlc's JSON files).

Style [V on every .net/.shape/metadata.json sample]: two-space indent, `"key" : value`, `/`
escaped as `\\/`, empty containers as `{` newline newline indent `}`, non-ASCII written as raw
UTF-8, no trailing newline. Numbers: integers as integers; floats with '%.17g' (coremlc stores
float32 values widened to double, e.g. 0.0039215688593685627), integral floats as integers
(`-6`). Pass float32 values as `float(numpy.float32(x))`. Key order is the dict's order.
"""
from __future__ import annotations

import math
import re

from mlir_coreml.frontend.espresso.format import JSON_FLOAT_FORMAT, JSON_INDENT, JSON_KEY_SEPARATOR

_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}
# What needs escaping: the characters above and the other control characters (as \u00XX).
_NEEDS_ESCAPE = re.compile(r'["\\/\x00-\x1f]')
# Integral doubles below this print as integers; larger ones keep the %g form.
_INTEGRAL_LIMIT = 2.0 ** 63


def _escape(match) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or "\\u%04x" % ord(ch)


def _string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"JSON cannot hold the non-finite number {value!r}")
    if value.is_integer() and abs(value) < _INTEGRAL_LIMIT:
        return str(int(value))
    return JSON_FLOAT_FORMAT % value


def _scalar(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _container(items: list[str], opener: str, closer: str, indent: str) -> str:
    if not items:
        return f"{opener}\n\n{indent}{closer}"
    inner = indent + JSON_INDENT
    return f"{opener}\n" + ",\n".join(inner + item for item in items) + f"\n{indent}{closer}"


def _value(value, indent: str) -> str:
    deeper = indent + JSON_INDENT
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
        items = [_string(k) + JSON_KEY_SEPARATOR + _value(v, deeper) for k, v in value.items()]
        return _container(items, "{", "}", indent)
    if isinstance(value, (list, tuple)):
        return _container([_value(v, deeper) for v in value], "[", "]", indent)
    return _scalar(value)


def dumps(obj) -> str:
    """Serialize `obj` (dicts, lists, str, int, float, bool, None) like NSJSONSerialization."""
    return _value(obj, "")
