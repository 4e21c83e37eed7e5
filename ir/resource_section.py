"""The trailing `{-# dialect_resources: { builtin: { name: "0x…", … } } #-}` section of IR text,
read without the grammar.

It holds the weights as hex and can be most of a file (93 MB for ResNet-18), so it is split off
before lark sees the text and scanned with one regex per entry straight from the file's bytes:
each blob is decoded from a view of the input (no token copies), and reading a file costs
about 1.5 times its size. A line that starts with `{-#` can only begin this section: a quoted
string never holds a raw newline and a comment ends at one.
"""
from __future__ import annotations

import binascii
import re

from mlir_coreml.errors import MlirCoremlError

_START = r"(?m)^[ \t]*\{-#"
_HEADER = r"\{-#\s*dialect_resources\s*:\s*\{\s*builtin\s*:\s*\{\s*"
_NAME = r'[A-Za-z0-9_$.\-]+|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
_ENTRY = r'(' + _NAME + r')\s*:\s*"0x'   # then the hex digits up to the closing quote
_AFTER = r'"\s*(,\s*)?'
_FOOTER = r"\}\s*\}\s*#-\}\s*"
_PATTERNS = {kind: tuple(re.compile(p.encode() if kind is bytes else p)
                         for p in (_START, _HEADER, _ENTRY, _AFTER, _FOOTER))
             for kind in (str, bytes)}


def split(text: str | bytes) -> int:
    """Where the resources section starts in `text` (len(text) when there is none)."""
    m = _PATTERNS[type(text)][0].search(text)
    return m.start() if m else len(text)


def read_entries(text: str | bytes, start: int, filename: str) -> list[tuple[str, bytes, str]]:
    """(name, raw bytes, where) per entry of the section beginning at `start`."""
    _, header, entry, after, footer = _PATTERNS[type(text)]
    quote = b'"' if isinstance(text, bytes) else '"'
    m = header.match(text, start)
    if m is None:
        raise _error("expected '{-# dialect_resources: { builtin: {'", text, start, filename)
    pos, entries = m.end(), []
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line, line_start, counted = text.count(newline, 0, pos) + 1, text.rfind(newline, 0, pos) + 1, pos
    view = memoryview(text) if isinstance(text, bytes) else None
    while True:
        m = entry.match(text, pos)
        if m is None:
            break
        name = m.group(1)
        name = name.decode() if isinstance(name, bytes) else name
        # The digits run to the next quote (a memchr, much faster than a regex over megabytes);
        # the hex decoder rejects anything in between that is not a hex digit.
        a = m.end()
        b = text.find(quote, a)
        try:
            if b < 0:
                raise ValueError("no closing quote")
            raw = binascii.unhexlify(view[a:b]) if view is not None else bytes.fromhex(text[a:b])
        except (ValueError, binascii.Error) as e:
            raise _error(f"resource {name} is not valid hex ({e})", text, a, filename) from None
        line += text.count(newline, counted, m.start())  # incrementally: the section is megabytes
        line_start, counted = max(line_start, text.rfind(newline, counted, m.start()) + 1), m.start()
        entries.append((name, raw, f"{filename}:{line}:{m.start() - line_start + 1}"))
        m = after.match(text, b)
        pos = m.end()
        if m.group(1) is None:
            break
    m = footer.match(text, pos)
    if m is None or m.end() != len(text):
        raise _error("malformed resources section (expected `name: \"0x…\"` entries and '} } #-}' at the end)",
                     text, pos, filename)
    return entries


def _where(text, pos: int, filename: str) -> str:
    newline = b"\n" if isinstance(text, bytes) else "\n"
    line = text.count(newline, 0, pos) + 1
    col = pos - (text.rfind(newline, 0, pos) + 1) + 1
    return f"{filename}:{line}:{col}"


def _error(message: str, text, pos: int, filename: str) -> MlirCoremlError:
    return MlirCoremlError(message, _where(text, pos, filename))
