"""Every IR test file round-trips: once printed, parse -> print reproduces the text exactly,
in both the pretty and the generic form (files that test parse errors are skipped by design:
they are expected not to parse)."""
import os

import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filecheck")
FILES = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(ROOT) for f in fs if f.endswith(".mlir"))


def parseable(text, path):
    try:
        return parse_module(text, path)
    except MlirCoremlError:
        return None


def cases(path) -> list[str]:
    """The file, or its chunks when its RUN lines split it (`--split-input-file`)."""
    from mlir_coreml.opt import split_chunks

    with open(path, encoding="utf-8") as f:
        text = f.read()
    return [c.text for c in split_chunks(text, "--split-input-file" in text)]


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(f, ROOT) for f in FILES])
def test_file_round_trips(path):
    for case in cases(path):
        module = parseable(case, path)
        if module is None:
            assert "not mlir-coreml" in case or "expected-error" in case, \
                f"{path} does not parse but is not an error test"
            continue
        for generic in (False, True):
            text = print_module(module, generic=generic, resources=True)
            assert print_module(parse_module(text, path), generic=generic, resources=True) == text
