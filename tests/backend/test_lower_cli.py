"""`python -m mlir_coreml lower MODEL -o OUT.mlmodelc`: the bundle appears whole or not at all."""
import subprocess
import sys
from pathlib import Path

import pytest

from mlir_coreml.frontend.espresso import format as fmt

from tests.samples import SAMPLES
S4 = SAMPLES / "getbouncer__cardscan-ios__SSDOcr-2021"
pytestmark = pytest.mark.skipif(not S4.is_dir(), reason="sample S4 not available")


def lower(*args):
    return subprocess.run([sys.executable, "-m", "mlir_coreml", "lower", *map(str, args)],
                          capture_output=True, text=True)


def test_lower_writes_the_2021_bundle_by_default(tmp_path):
    out = tmp_path / "SSDOcr.mlmodelc"
    proc = lower(S4 / "source" / "SSDOcr.mlmodel", "-o", out)
    assert proc.returncode == 0, proc.stderr
    apple = S4 / "SSDOcr.mlmodelc"
    for name in (fmt.COREMLDATA_FILE, fmt.PREPROCESSING_FILE, fmt.OPTIONALS_FILE):
        assert (out / name).read_bytes() == (apple / name).read_bytes(), name
    assert (out / fmt.METADATA_FILE).exists() and (out / fmt.ANALYTICS_FILE).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["SSDOcr.mlmodelc"]  # no staging left behind


def test_lower_replaces_an_existing_bundle(tmp_path):
    out = tmp_path / "x.mlmodelc"
    out.mkdir()
    (out / "coremldata.bin").write_bytes(b"")  # recognisably a bundle (tests/security/test_outputs.py)
    (out / "stale").write_text("old")
    proc = lower(S4 / "source" / "SSDOcr.mlmodel", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert not (out / "stale").exists() and (out / fmt.NET_FILE).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["x.mlmodelc"]


def test_a_failing_lower_leaves_nothing_at_the_output(tmp_path):
    bad = tmp_path / "bad.mlmodel"
    bad.write_bytes(b"\x08\x04\x12\x00\xaa\x1f\x00")  # a spec version, an empty description, no model
    out = tmp_path / "bad.mlmodelc"
    proc = lower(bad, "-o", out)
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "bad.mlmodel" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mlmodel"]
