"""Build a generated Cython module with the system C compiler, cached by content hash.

The cache key covers everything the binary depends on: the source, the compiler command and
flags, the kernel table version, Python's ABI and the Cython and numpy versions. Builds land
in `$MLIR_COREML_CACHE` (default `~/.cache/mlir_coreml`) under `kernels/<key>/`, written in a
temporary directory and renamed into place, so concurrent builds of the same model are safe
and an interrupted one leaves nothing behind. A progress bar (tqdm) shows on a terminal.

A build shipped inside a model (`export`, read back through `build(search=...)`) is native
code from wherever the model came from, so it is loaded only when the caller trusts it
(`trust=True`) or when it carries a keyed hash (HMAC-SHA256) made with this cache's secret key
(`<cache>/machine.key`, created on first export, readable only by its owner): proof that this
machine built it. Anything else is ignored and the kernels are rebuilt from the IR.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shlex
import shutil
import sys
import sysconfig
import tempfile

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.runtime.timing import phase

CACHE_ENV = "MLIR_COREML_CACHE"
CFLAGS = ("-O3", "-fno-strict-aliasing", "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION")
# Extra flags for both the compile and the link step, e.g. "-fsanitize=address,undefined" for the
# sanitizer run (tests/tools/asan_run.sh): a generated module must be instrumented like the
# extensions it calls. Part of the cache key, so such builds never mix with normal ones.
EXTRA_FLAGS_ENV = "MLIR_COREML_EXTRA_CFLAGS"
STAGES = ("cython", "compile", "link")
KEY_FILE = "machine.key"
MAC_SUFFIX = ".mac"  # beside an exported library: HMAC-SHA256(machine key, name + library bytes), hex
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX") or ".so"  # this Python's extension-module suffix


class BuildError(MlirCoremlError):
    """The C toolchain is missing or rejected the generated module."""


def cache_root() -> str:
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "mlir_coreml")


def _csrc_dir() -> str:
    from mlir_coreml import csrc

    return os.path.dirname(os.path.abspath(csrc.__file__))


def _toolchain() -> tuple[list[str], list[str], list[str]]:
    """(compiler, shared-object linker, include dirs) as this Python was built with."""
    import numpy

    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    ldshared = shlex.split(os.environ.get("LDSHARED") or sysconfig.get_config_var("LDSHARED") or "cc -shared")
    includes = [_csrc_dir(), numpy.get_include(), sysconfig.get_paths()["include"]]
    return cc, ldshared, includes


def cache_key(source: str) -> str:
    import numpy

    from mlir_coreml.csrc import _kernels

    cc, ldshared, includes = _toolchain()
    parts = [source, " ".join(cc + ldshared + list(CFLAGS) + extra_flags()), str(_kernels.KERNEL_TABLE_VERSION), sys.version,
             EXT_SUFFIX, _installed("Cython"), numpy.__version__]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _installed(package: str) -> str:
    """Which copy of `package` is installed (path, size and mtime of its `__init__`), without the
    cost of importing it (Cython's import takes longer than a warm compile's other steps)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return f"{package}: not installed"
    st = os.stat(spec.origin)
    return f"{spec.origin}:{st.st_size}:{st.st_mtime_ns}"


def module_name(key: str) -> str:
    return f"mc_program_{key[:24]}"


def cached_path(key: str) -> str:
    return os.path.join(cache_root(), "kernels", key, module_name(key) + EXT_SUFFIX)


_LOADED: dict[str, object] = {}  # module name -> module: a build is loaded once per process


def load_module(path: str, name: str):
    if name not in _LOADED:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED[name] = module
    return _LOADED[name]


def build(source: str, progress: bool | None = None, search: tuple[str, ...] = (), trust: bool = False):
    """The compiled, loaded module for `source`: from the cache; else from a `search` folder
    holding its build (a bundle's artefacts, see `export`) if `trust` or if this machine made it;
    else built into the cache."""
    with phase("kernel cache key"):
        key = cache_key(source)
    name = module_name(key)
    if name in _LOADED:
        return _LOADED[name]
    path = cached_path(key)
    if os.path.exists(path):
        with phase("load cached kernels"):
            return load_module(path, name)
    for folder in search:
        shipped = os.path.join(folder, name + EXT_SUFFIX)
        if not os.path.isfile(shipped):
            continue
        if trust:
            return load_module(shipped, name)
        if _adopt_own_build(shipped, name, path):
            return load_module(path, name)
    _compile(source, key, path, sys.stderr.isatty() if progress is None else progress)
    return load_module(path, name)


def export(module, folder: str) -> str:
    """Copy the build of a loaded generated `module` (and its source, for reading) into `folder`,
    with the keyed hash that lets this machine recognise the library as its own later."""
    os.makedirs(folder, exist_ok=True)
    built = module.__file__
    for path in (built, os.path.splitext(os.path.splitext(built)[0])[0] + ".pyx"):
        if os.path.isfile(path):
            shutil.copyfile(path, os.path.join(folder, os.path.basename(path)))
    with open(built, "rb") as f:
        mac = _mac(module.__name__, f.read())
    with open(os.path.join(folder, os.path.basename(built) + MAC_SUFFIX), "w", encoding="ascii") as f:
        f.write(mac)
    return folder


def _machine_key(create: bool) -> bytes | None:
    """This cache's secret (32 random bytes, mode 0600); None when absent and not `create`."""
    path = os.path.join(cache_root(), KEY_FILE)
    try:
        with open(path, "rb") as f:
            key = f.read(64)
        if len(key) == 32:
            return key
    except FileNotFoundError:
        pass
    if not create:
        return None
    os.makedirs(cache_root(), exist_ok=True)
    key = os.urandom(32)
    fd, tmp = tempfile.mkstemp(dir=cache_root(), prefix=".key-")
    with os.fdopen(fd, "wb") as f:  # mkstemp files are 0600 already
        f.write(key)
    try:
        os.link(tmp, path)  # never replaces a key another process wrote first
    except FileExistsError:
        pass
    finally:
        os.remove(tmp)
    return _machine_key(create=False)


def _mac(name: str, library: bytes, create: bool = True) -> str | None:
    import hmac

    key = _machine_key(create)
    if key is None:
        return None
    return hmac.new(key, name.encode() + b"\0" + library, hashlib.sha256).hexdigest()


def _adopt_own_build(shipped: str, name: str, path: str) -> bool:
    """Copy a shipped library into the cache at `path` if its keyed hash proves this machine
    built it. The bytes checked are the bytes installed: the shipped file is not loaded itself,
    so it cannot be swapped between the check and the load."""
    from mlir_coreml.codegen.atomic import write_file
    from mlir_coreml.ir.guard import read_file

    try:
        with open(shipped + MAC_SUFFIX, encoding="ascii") as f:
            claimed = f.read(128).strip()
        library = read_file(shipped, "weights")
    except (OSError, UnicodeDecodeError, MlirCoremlError):
        return False
    import hmac

    ours = _mac(name, library, create=False)
    if ours is None or not hmac.compare_digest(ours, claimed):
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_file(path, library)
    return True


def _run(cmd: list[str], cwd: str, stage: str) -> None:
    import subprocess  # only a build needs it: not imported on the warm path

    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as e:
        raise BuildError(f"cannot run the {stage} step ({cmd[0]}): {e}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BuildError(f"{stage} of the generated kernels failed: " + " | ".join(tail))


def _compile(source: str, key: str, path: str, progress: bool) -> None:
    cc, ldshared, includes = _toolchain()
    name = module_name(key)
    final_dir = os.path.dirname(path)
    os.makedirs(os.path.dirname(final_dir), exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=os.path.dirname(final_dir))
    bar = _Progress(len(STAGES), enabled=progress)
    try:
        with open(os.path.join(work, name + ".pyx"), "w", encoding="utf-8") as f:
            f.write(source)
        steps = [
            ("cython", [sys.executable, "-m", "cython", "-3", "-I", _csrc_dir(), name + ".pyx", "-o", name + ".c"]),
            ("compile", cc + list(CFLAGS) + _cflags() + extra_flags() + [f"-I{d}" for d in includes] +
             ["-c", name + ".c", "-o", name + ".o"]),
            ("link", ldshared + extra_flags() + [name + ".o", "-o", name + EXT_SUFFIX]),
        ]
        for stage, cmd in steps:
            bar.update(stage)
            with phase(f"kernel build: {stage}"):
                _run(cmd, work, stage)
        bar.update("done")
        for leftover in (name + ".o",):
            os.remove(os.path.join(work, leftover))
        try:
            os.rename(work, final_dir)
        except OSError:  # another process built the same key first: use theirs
            if not os.path.exists(path):
                raise
    finally:
        bar.close()
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)


def extra_flags() -> list[str]:
    return shlex.split(os.environ.get(EXTRA_FLAGS_ENV, ""))


def _cflags() -> list[str]:
    """Python's own shared-library flags (-fPIC and friends), without its optimisation/warning choices."""
    flags = shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    return [f for f in flags if not re.match(r"-(O\d|W)", f)]


class _Progress:
    """A tqdm bar over the build stages, shown only on a terminal."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc="mlir_coreml: building kernels", unit="step", leave=False,
                        disable=not enabled)
        self.started = False

    def update(self, stage: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_postfix_str(stage)

    def close(self) -> None:
        self.bar.close()
