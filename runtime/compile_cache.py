"""The lowered, planned IR of a model file, cached so a second `compile_model` skips the frontend
and the pass pipeline.

An entry lives in `<cache>/models/<key>/` (the cache root of runtime/build.py). The key covers
all the lowering depends on: the model's bytes (every file of a bundle or package), the
lowering options (pipeline, precision, compute units, function), the project's code (size and
mtime of every file of the package, so an edit or a reinstall misses), the kernels' ISA (passes
may choose layouts and algorithms by vector width), Python and numpy, and the size limits of
ir/guard.py (a model refused under one limit must not be served under another).

The entry is the `Lowered` result pickled (protocol 5, ir/pickling.py) with the weight arrays
out of band in `weights.bin`, each 64-byte aligned: loading maps that file copy-on-write, so
the weights are not read, copied or parsed until a kernel packs them; the packed panels
follow in `packed/` (runtime/pack_memo.py). Entries are written into a temporary folder and
renamed into place (concurrent compiles are safe); an entry that cannot be read is deleted
and compiled again. Like the
kernel builds beside it, the cache is trusted as this user's own: point MLIR_COREML_CACHE at a
folder no one else can write. MLIR_COREML_COMPILE_CACHE=0 turns it off; entries beyond
MLIR_COREML_COMPILE_CACHE_MB (default 2048) are evicted, least recently used first.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import mmap
import os
import pickle
import shutil
import sys
import tempfile

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.pickling import IRPickler

ENABLE_ENV = "MLIR_COREML_COMPILE_CACHE"
LIMIT_ENV = "MLIR_COREML_COMPILE_CACHE_MB"  # entries past this many MB are evicted, least recently used first
DEFAULT_LIMIT_MB = 2048
MAX_DIGESTS = 4096  # remembered model digests (one small file per model path) kept at most
FORMAT = 1  # bump when the entry layout changes
ALIGN = 64
IR_FILE, WEIGHTS_FILE = "ir.pickle", "weights.bin"
PACKED_DIR = "packed"  # the kernels' weight panels (runtime/pack_memo.py)
SUBPACKAGES = ("ir", "passes", "frontend", "codegen", "runtime", "csrc")
SKIP_DIRS = {"__pycache__"}
ARTEFACT_DIR = "mlir_coreml"  # kernel builds a bundle carries (runtime/predict.py artefact_dir): not the model
# what a stale or foreign entry can raise while unpickling: any of these means "compile again"
UNREADABLE = (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError, KeyError,
              pickle.UnpicklingError)


def enabled(pipeline: str | None = None) -> bool:
    """On unless MLIR_COREML_COMPILE_CACHE=0 or the compile may run a pass registered at run
    time (code the key cannot see): one named in `pipeline` or shadowing a builtin pass."""
    if os.environ.get(ENABLE_ENV, "1") in ("0", ""):
        return False
    from mlir_coreml.passes.registry import builtin_pass_names, registered_pass_names

    registered = registered_pass_names()
    if not registered:
        return True
    from mlir_coreml.passes.pipeline import pass_names

    return not registered & (set(builtin_pass_names()) | pass_names(pipeline or ""))


def entry_for(source, options: dict) -> Entry | None:
    """The cache entry of model file `source` compiled with `options` (JSON-able), or None when
    `source` is not a file path or the cache is off."""
    if not isinstance(source, (str, os.PathLike)) or not enabled(options.get("pipeline")):
        return None
    path = os.fspath(source)
    if not os.path.exists(path):
        return None
    from mlir_coreml.csrc import _kernels
    import numpy

    facts = dict(format=FORMAT, model=model_digest(path), options=options, code=code_fingerprint(),
                 isa=_kernels.current_isa(), python=sys.version, numpy=numpy.__version__,
                 limits=sorted((k, v) for k, v in os.environ.items() if k.startswith("MLIR_COREML_LIMIT_")))
    key = hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
    return Entry(key)


def model_digest(path: str) -> str:
    """SHA-256 over the model's bytes (for a folder: each file's relative path and bytes),
    remembered per path with the files' stat signature: an unchanged file is not read again.
    The signature includes ctime, which no tool can set back, so a rewrite always shows."""
    files = _model_files(path)
    signature = [[rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
                 for rel, st in ((rel, os.stat(full)) for rel, full in files)]
    memo = os.path.join(_models_root(), "digests", hashlib.sha256(os.path.abspath(path).encode()).hexdigest())
    try:
        with open(memo, encoding="ascii") as f:
            known = json.load(f)
        if known["signature"] == signature:
            return known["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = hashlib.sha256()
    for rel, full in files:
        digest.update(rel.encode() + b"\0")
        with open(full, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    from mlir_coreml.codegen.atomic import write_file

    try:
        os.makedirs(os.path.dirname(memo), exist_ok=True)
        write_file(memo, json.dumps(dict(signature=signature, digest=digest.hexdigest())).encode("ascii"))
    except (OSError, MlirCoremlError):  # a read-only cache still works, it only hashes every time
        pass
    return digest.hexdigest()


def _model_files(path: str) -> list[tuple[str, str]]:
    """(relative name, full path) of the model's files, in a fixed order."""
    if not os.path.isdir(path):
        return [(os.path.basename(path), path)]
    found = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not (root == path and d == ARTEFACT_DIR))
        found += [(os.path.relpath(os.path.join(root, n), path), os.path.join(root, n)) for n in sorted(names)]
    return found


def _models_root() -> str:
    from mlir_coreml.runtime.build import cache_root

    return os.path.join(cache_root(), "models")


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """Size and mtime of every file of the installed package (once per process)."""
    digest = hashlib.sha256()
    for folder in _package_folders():
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                st = os.stat(os.path.join(root, name))
                digest.update(f"{os.path.join(root, name)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _package_folders() -> list[str]:
    """The folders of the package's own code: the facade's folder (its `__path__` also names a
    source checkout's root, see mlir_coreml/__init__.py) and each subpackage's."""
    folders = [os.path.dirname(os.path.abspath(importlib.util.find_spec("mlir_coreml").origin))]
    for package in SUBPACKAGES:
        spec = importlib.util.find_spec(f"mlir_coreml.{package}")
        folders += list(spec.submodule_search_locations or ())
    return folders


class Entry:
    def __init__(self, key: str):
        self.key = key
        self.folder = os.path.join(_models_root(), key)
        self.mapping: memoryview | None = None  # weights.bin as mapped by the last load

    def load(self):
        """The cached object, or None (absent or unreadable: then removed)."""
        if not os.path.isfile(os.path.join(self.folder, IR_FILE)):
            return None
        try:
            value, self.mapping = read_pickle(self.folder, IR_FILE, WEIGHTS_FILE)
            os.utime(os.path.join(self.folder, IR_FILE))  # recently used: evicted last
            return value
        except UNREADABLE:
            shutil.rmtree(self.folder, ignore_errors=True)
            return None

    def store(self, value) -> bool:
        """Write `value`; False (nothing written) when it cannot be pickled."""
        parent = os.path.dirname(self.folder)
        os.makedirs(parent, exist_ok=True)
        work = tempfile.mkdtemp(prefix=f".{self.key[:12]}-", dir=parent)
        try:
            if not write_pickle(work, IR_FILE, WEIGHTS_FILE, value):
                return False
            try:
                os.rename(work, self.folder)
            except OSError:  # another process stored the same key first
                pass
        finally:
            shutil.rmtree(work, ignore_errors=True)
        evict(keep=self.key)
        return True


def write_pickle(folder: str, name: str, buffers_name: str, value) -> bool:
    """Pickle `value` into `folder`/`name`, its large buffers into `buffers_name` (64-byte aligned);
    False when it cannot be pickled."""
    buffers: list[pickle.PickleBuffer] = []
    try:
        payload = io.BytesIO()
        IRPickler(payload, protocol=5, buffer_callback=buffers.append).dump(value)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):  # a closure somewhere, say
        return False
    spans = _write_buffers(os.path.join(folder, buffers_name), buffers)
    with open(os.path.join(folder, name), "wb") as f:
        pickle.dump((spans, payload.getvalue()), f, protocol=5)
    return True


def read_pickle(folder: str, name: str, buffers_name: str):
    """(value, mapping of the buffers file) as `write_pickle` wrote them."""
    with open(os.path.join(folder, name), "rb") as f:
        spans, payload = pickle.load(f)
    mapping = _map(os.path.join(folder, buffers_name)) if spans else None
    buffers = [mapping[start:start + n] if mapping is not None else bytearray(n) for start, n in spans]
    return pickle.loads(payload, buffers=buffers), mapping


def evict(keep: str = "") -> None:
    """Remove the least recently used entries until the cache holds at most MLIR_COREML_COMPILE_CACHE_MB
    (never `keep`, the entry just written), and the oldest remembered digests past MAX_DIGESTS."""
    try:
        limit = float(os.environ.get(LIMIT_ENV, DEFAULT_LIMIT_MB)) * 2 ** 20
    except ValueError:
        limit = DEFAULT_LIMIT_MB * 2 ** 20
    root = _models_root()
    entries = []
    for name in os.listdir(root):
        files = [os.path.join(root, name, f) for f in (IR_FILE, WEIGHTS_FILE)]
        try:
            size = sum(os.stat(f).st_size for f in files) + _folder_size(os.path.join(root, name, PACKED_DIR))
            entries.append((os.stat(files[0]).st_mtime_ns, size, name))
        except OSError:  # the digests folder, a folder being written, one being removed
            continue
    total = sum(size for _, size, _ in entries)
    for _, size, name in sorted(entries):
        if total <= limit:
            break
        if name != keep:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
            total -= size
    digests = os.path.join(root, "digests")
    names = os.listdir(digests) if os.path.isdir(digests) else []
    if len(names) > MAX_DIGESTS:
        paths = sorted((os.path.join(digests, n) for n in names), key=_mtime)
        for path in paths[:len(paths) - MAX_DIGESTS // 2]:
            with contextlib.suppress(OSError):
                os.remove(path)


def _folder_size(folder: str) -> int:
    try:
        return sum(entry.stat().st_size for entry in os.scandir(folder))
    except OSError:
        return 0


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _write_buffers(path: str, buffers) -> list[tuple[int, int]]:
    spans = []
    with open(path, "wb") as f:
        for buf in buffers:
            raw = buf.raw()
            offset = -f.tell() % ALIGN
            f.write(b"\0" * offset)
            spans.append((f.tell(), raw.nbytes))
            f.write(raw)
    return spans


def _map(path: str) -> memoryview | None:
    """The file as writable, copy-on-write memory (nothing is read until touched); None if empty."""
    if os.path.getsize(path) == 0:
        return None
    with open(path, "rb") as f:
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY))
