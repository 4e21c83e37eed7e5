"""Threat: a model folder whose files are not what they seem (docs/threat-model.md, "reading").

For every file of every model form whose absence makes loading fail (so the reader needs it),
replace it by each hostile kind of file; loading must end in one MlirCoremlError, never hang on
a FIFO, never read a device until memory runs out, never follow a link out of the folder.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import mlir_coreml
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir import guard

FORMS = ("mlmodel", "mlpackage", "espresso_bundle", "mil_bundle", "mlir")


def _fifo(path: Path, outside: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path, outside: Path) -> None:
    os.symlink("/dev/zero", path)


def _link_outside(path: Path, outside: Path) -> None:
    os.symlink(outside, path)


def _directory(path: Path, outside: Path) -> None:
    path.mkdir()


HOSTILE = {"fifo": _fifo, "dev_zero": _dev_zero, "link_outside": _link_outside, "directory": _directory}


def _files(model: Path) -> list[Path]:
    if model.is_file():
        return [model]
    return sorted(p for p in model.rglob("*") if p.is_file())


def _needed_files(copy_of, form: str) -> list[str]:
    """Relative paths of the files whose removal makes loading fail."""
    first = copy_of(form)
    needed = []
    for file in _files(first):
        relative = "." if first.is_file() else os.path.relpath(file, first)
        model = copy_of(form)
        (model if model.is_file() else model / relative).unlink()
        try:
            mlir_coreml.load(model)
        except MlirCoremlError:
            needed.append(relative)
    return needed


@pytest.mark.parametrize("form", FORMS)
def test_hostile_files_give_one_error(form, copy_of, tmp_path, no_hang):
    needed = _needed_files(copy_of, form)
    assert needed, f"no file of the {form} is needed to load it?"
    for relative in needed:
        for kind, make in HOSTILE.items():
            model = copy_of(form)
            if model.is_file() and kind == "link_outside":
                continue  # a model file may itself be a link: only a folder has an inside
            target = model / relative
            # the outside file holds the right bytes: only its place makes it unacceptable
            outside = tmp_path / f"outside-{kind}-{target.name}"
            outside.write_bytes(target.read_bytes())
            target.unlink()
            make(target, outside)
            with pytest.raises(MlirCoremlError) as info:
                mlir_coreml.load(model)
            assert "\n" not in str(info.value), (relative, kind)


def test_file_is_read_only_up_to_its_size_limit(copy_of):
    model = copy_of("mlmodel")
    size = model.stat().st_size
    with guard.raised_limits(protobuf=size - 1):
        with pytest.raises(MlirCoremlError, match="MLIR_COREML_LIMIT_PROTOBUF"):
            mlir_coreml.load(model)
    with guard.raised_limits(protobuf=size):
        mlir_coreml.load(model)


def test_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLIR_COREML_LIMIT_JSON", "3K")
    assert guard.limit("json") == 3 << 10
    monkeypatch.setenv("MLIR_COREML_LIMIT_JSON", "lots")
    with pytest.raises(MlirCoremlError, match="MLIR_COREML_LIMIT_JSON"):
        guard.limit("json")
