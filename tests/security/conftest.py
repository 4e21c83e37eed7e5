"""Shared models for the security tests: one of each form, built once per session and copied
per test, so each test may tamper with its own copy."""
from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.ir.printer import print_module


@pytest.fixture(scope="session")
def model_forms(model_zoo, tmp_path_factory) -> dict[str, Path]:
    """form -> a model of that form: NeuralNetwork .mlmodel and its espresso .mlmodelc, ML Program
    .mlpackage and its model.mil .mlmodelc, and IR text carrying its weights."""
    root = tmp_path_factory.mktemp("forms")
    nn_path, _, _ = model_zoo.get("layer_conv", "nn_fp32")
    pkg_path, _, _ = model_zoo.get("layer_conv", "mlprogram_fp32")
    forms = {"mlmodel": root / "nn.mlmodel", "mlpackage": root / "prog.mlpackage"}
    shutil.copyfile(nn_path, forms["mlmodel"])
    shutil.copytree(pkg_path, forms["mlpackage"])
    forms["espresso_bundle"] = root / "nn.mlmodelc"
    lower_model(forms["mlmodel"], forms["espresso_bundle"])
    forms["mil_bundle"] = root / "prog.mlmodelc"
    lower_model(forms["mlpackage"], forms["mil_bundle"])
    forms["mlir"] = root / "nn.mlir"
    forms["mlir"].write_text(print_module(mlir_coreml.load(forms["mlmodel"]), resources=True))
    return forms


@pytest.fixture
def copy_of(model_forms, tmp_path):
    """copy_of(form) -> a fresh private copy of that form's model."""

    count = iter(range(1 << 30))

    def copy(form: str) -> Path:
        source = model_forms[form]
        target = tmp_path / f"copy{next(count)}" / source.name
        target.parent.mkdir()
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target)
        return target

    return copy


class Hang(Exception):
    pass


@pytest.fixture
def no_hang():
    """A safety net, not a timing assertion: a regression that blocks (a FIFO read) fails the
    test instead of stalling the suite."""

    def alarm(signum, frame):
        raise Hang("the reader blocked")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
