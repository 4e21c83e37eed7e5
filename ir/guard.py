"""The resource guard: the limits every reader applies to a model file, which may come from a stranger.

One place for them (docs/threat-model.md explains why each exists):
- `read_file(path, kind, root)`: a file of a model is read only if it is a regular file (not a
  FIFO, a device, a directory) that lies inside the model's folder `root` once symlinks are
  resolved, no larger than its kind's limit, and only up to the size `fstat` reported.
- `check_elements(count, where)`: the total element count of one tensor shape.
- `Nesting`: the depth of nested structure (regions, blocks, JSON arrays, attribute lists),
  counted while reading, so no reader recurses deeper than the limit allows.
- `load_json(data, where)`: JSON with that nesting limit and a bound on integer literals.

Legitimate giant models raise a limit with an environment variable (`MLIR_COREML_LIMIT_<NAME>`,
e.g. `MLIR_COREML_LIMIT_WEIGHTS=200G`, `MLIR_COREML_LIMIT_NESTING=128`) or, from Python, with
`raised_limits(weights=..., nesting=...)`. Every refusal says which variable raises the limit.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import stat

from mlir_coreml.errors import MlirCoremlError

ENV_PREFIX = "MLIR_COREML_LIMIT_"
_GIB = 1 << 30

# name -> default. File kinds are bytes; `elements` counts tensor elements; `nesting` levels.
DEFAULTS = {
    "protobuf": 2 * _GIB,    # .mlmodel, coremldata.bin: protobuf's own ceiling for one message
    "json": 256 << 20,       # model.espresso.net/shape, metadata.json, Manifest.json
    "text": 2 * _GIB,        # model.mil, .mlir (a .mlir may carry its weights as hex)
    "weights": 64 * _GIB,    # weight.bin, model.espresso.weights: memory-mapped, never read whole
    "elements": 1 << 31,     # elements of one tensor (8 GiB of float32)
    "nesting": 100,          # nested levels of structure in any format (Python recursion stays bounded)
    "digits": 64,            # digits of one integer literal in JSON
}
KINDS = ("protobuf", "json", "text", "weights")
_OVERRIDES: dict[str, int] = {}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


def limit(name: str) -> int:
    """The current value of limit `name` (an override, else the environment, else the default)."""
    if name in _OVERRIDES:
        return _OVERRIDES[name]
    text = os.environ.get(ENV_PREFIX + name.upper())
    if text:
        m = _SIZE.match(text)
        if m is None:
            raise MlirCoremlError(f"cannot read the limit '{text}' (expected a number like 512M or 4G)",
                                  ENV_PREFIX + name.upper())
        return int(m.group(1)) << (10 * " kmgt".index(m.group(2).lower() or " "))
    return DEFAULTS[name]


@contextlib.contextmanager
def raised_limits(**values: int):
    """`with raised_limits(weights=200 << 30, nesting=128): ...` — for one trusted giant model."""
    unknown = set(values) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown limits {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    saved = dict(_OVERRIDES)
    _OVERRIDES.update(values)
    try:
        yield
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def _how_to_raise(name: str) -> str:
    return f"set {ENV_PREFIX}{name.upper()} to raise the limit"


def refuse(what: str, name: str, where: str | None) -> MlirCoremlError:
    return MlirCoremlError(f"{what}, over the limit of {limit(name)} ({_how_to_raise(name)})", where)


# -- files ------------------------------------------------------------------------------------

def inside(path, root, where: str | None = None) -> str:
    """`path` with symlinks resolved, refused unless it lies inside `root` (resolved too)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise MlirCoremlError(f"'{os.path.basename(os.fspath(path))}' leads outside the model's folder "
                              f"(to {real})", where or os.fspath(path))
    return real


def open_regular(path, kind: str, root=None) -> tuple[int, int]:
    """(fd, size) of `path` opened for reading: a regular file (inside `root` when given) within
    its kind's size limit. The caller closes the fd. O_NONBLOCK: opening a FIFO does not hang."""
    where = os.fspath(path)
    real = inside(path, root) if root is not None else where
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise MlirCoremlError("cannot read: no such file", where) from None
    except OSError as e:
        raise MlirCoremlError(f"cannot read: {e.strerror or e}", where) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise MlirCoremlError("not a regular file (a FIFO, device, socket or directory); refusing to read it", where)
    if info.st_size > limit(kind):
        os.close(fd)
        raise refuse(f"{kind} file of {info.st_size} bytes", kind, where)
    return fd, info.st_size


def read_file(path, kind: str, root=None) -> bytes:
    """The bytes of a model's file, checked as `open_regular` does; never more than the size
    `fstat` reported, so a file that grows while we read cannot exhaust memory."""
    fd, size = open_regular(path, kind, root)
    try:
        chunks, remaining = [], size
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 30))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as e:
        raise MlirCoremlError(f"cannot read: {e.strerror or e}", os.fspath(path)) from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_text(path, kind: str = "text", root=None) -> str:
    data = read_file(path, kind, root)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MlirCoremlError(f"not UTF-8 text (byte {e.start})", os.fspath(path)) from None


# -- shapes and nesting -----------------------------------------------------------------------

def max_elements() -> int:
    return limit("elements")


def check_elements(count: int, where: str | None, what: str = "tensor") -> None:
    if count > limit("elements"):
        raise refuse(f"{what} of {count} elements", "elements", where)


def nesting_error(depth: int, where: str | None) -> MlirCoremlError:
    """The one error for structure nested too deeply, whichever reader finds it."""
    return refuse(f"structure nested {depth} levels deep", "nesting", where)


def check_depth(depth: int, where: str | None) -> None:
    if depth > limit("nesting"):
        raise nesting_error(depth, where)


def load_json(data: bytes, where: str, kind: str = "json"):
    """Parse JSON bytes, refusing nesting over the limit and integers over `digits` digits before
    the recursive standard parser sees them (it would end in RecursionError or ValueError)."""
    if len(data) > limit(kind):
        raise refuse(f"{kind} data of {len(data)} bytes", kind, where)
    _check_json_structure(data, where)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise MlirCoremlError(f"not UTF-8 text (byte {e.start})", where) from None
    except json.JSONDecodeError as e:
        raise MlirCoremlError(f"invalid JSON at {e.lineno}:{e.colno}: {e.msg}", where) from None
    except (ValueError, RecursionError) as e:
        raise MlirCoremlError(f"invalid JSON: {e}", where) from None


def _check_json_structure(data: bytes, where: str) -> None:
    deepest, digits = limit("nesting"), limit("digits")
    # Fast path: nesting cannot exceed the number of opening brackets, nor a digit run its length.
    if data.count(b"[") + data.count(b"{") <= deepest and re.search(rb"\d{%d}" % (digits + 1), data) is None:
        return
    # Strings in the unrolled form: a per-character alternation costs memory per character.
    pattern = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|\d{%d,}' % (digits + 1))
    depth = 0
    for m in pattern.finditer(data):
        first = data[m.start():m.start() + 1]
        if first in b"[{":
            depth += 1
            if depth > deepest:
                raise nesting_error(depth, f"{where}: byte {m.start()}")
        elif first in b"]}":
            depth -= 1
        elif first != b'"':
            raise refuse(f"a number of {m.end() - m.start()} digits", "digits", f"{where}: byte {m.start()}")
