"""Atomic outputs: every file and bundle the project writes appears whole or not at all.

Content goes to a temporary sibling first and is renamed into place; an existing directory is
replaced only once its successor is complete (and restored if that rename fails). OS errors
become one-line MlirCoremlErrors naming the output.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from mlir_coreml.errors import MlirCoremlError


def _temp_name(path: Path, kind: str) -> str:
    return f".{path.name}.{kind}-"


def write_file(path, content: bytes | Callable) -> None:
    """Write `content` (bytes, or `fn(binary file)`) to the file `path`."""
    path = Path(os.fspath(path)).absolute()
    if path.is_dir():
        raise MlirCoremlError("output path is a directory", str(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_name(path, "tmp"))
    except OSError as e:
        raise MlirCoremlError(f"cannot write: {e.strerror or e}", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            content(f) if callable(content) else f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise MlirCoremlError(f"cannot write: {e.strerror or e}", str(path)) from None
        raise


def is_our_output(path: Path) -> bool:
    """Whether the directory `path` is something this project writes, so replacing it loses
    nothing the user made: empty, a compiled bundle (coremldata.bin), a package (Manifest.json)
    or a generated-kernel folder (only mc_program_* files)."""
    entries = list(path.iterdir())
    if not entries:
        return True
    if any((path / marker).is_file() and not (path / marker).is_symlink()
           for marker in ("coremldata.bin", "Manifest.json")):
        return True
    return all(e.name.startswith("mc_program_") and e.is_file() and not e.is_symlink() for e in entries)


def write_directory(output, fill: Callable[[Path], None], replaceable: Callable[[Path], bool] = is_our_output,
                    kind: str = "a directory this tool wrote") -> None:
    """Build a directory with `fill(staging_dir)` and move it to `output`. An existing `output`
    is replaced only if it is a real directory (not a symlink) and `replaceable(output)`
    (default `is_our_output`); `kind` names what it must be in the error otherwise."""
    output = Path(os.fspath(output)).absolute()
    if output.is_symlink():
        raise MlirCoremlError("output path is a symbolic link; not replacing it (name the real path)", str(output))
    if output.exists() and not (output.is_dir() and replaceable(output)):
        raise MlirCoremlError(f"output path exists and is not {kind}; not replacing it", str(output))
    if not output.parent.is_dir():
        raise MlirCoremlError("the output's parent directory does not exist", str(output))
    try:
        staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=_temp_name(output, "tmp")))
    except OSError as e:
        raise MlirCoremlError(f"cannot write: {e.strerror or e}", str(output)) from None
    try:
        staging.chmod(0o755)
        fill(staging)
        _replace_directory(staging, output)
    except BaseException as e:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(e, OSError):
            raise MlirCoremlError(f"cannot write: {e.strerror or e}", str(output)) from None
        raise


def write_files(staging: Path, files: dict[str, bytes | list]) -> None:
    """`fill` helper: relative path -> bytes, or a list of buffers written one after another (a
    large file needs no joined copy first), creating subdirectories."""
    for relative, data in files.items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.writelines(data) if isinstance(data, list) else f.write(data)


def _replace_directory(staging: Path, output: Path) -> None:
    if not output.exists():
        os.rename(staging, output)
        return
    backup = Path(tempfile.mkdtemp(dir=output.parent, prefix=_temp_name(output, "old")))
    backup.rmdir()
    os.rename(output, backup)
    try:
        os.rename(staging, output)
    except BaseException:
        os.rename(backup, output)
        raise
    shutil.rmtree(backup, ignore_errors=True)
