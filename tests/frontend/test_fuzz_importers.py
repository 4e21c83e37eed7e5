"""Model files are untrusted input: mutated real files (bit flips, truncation, splices, size
fields set to huge values) must only ever raise the project's own MlirCoremlError from the
importers — never a crash, a MemoryError, or another exception type."""
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlir_coreml
from mlir_coreml.errors import MlirCoremlError

from tests.samples import BUNDLES, SOURCE_MODELS

SOURCES = [str(p) for p in SOURCE_MODELS]

mutations = st.lists(st.tuples(st.sampled_from(["flip", "truncate", "splice", "big"]),
                               st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=4)


def mutate(data: bytes, steps) -> bytes:
    data = bytearray(data)
    for kind, where, byte in steps:
        if not data:
            break
        i = min(int(where * len(data)), len(data) - 1)
        if kind == "flip":
            data[i] ^= 1 << (byte % 8)
        elif kind == "truncate":
            del data[i:]
        elif kind == "splice":
            data[i:i] = bytes([byte]) * (byte % 17 + 1)
        else:  # a plausible length/offset field made huge
            data[i:i + 8] = (0xFFFFFFFFFF - byte).to_bytes(8, "little")
    return bytes(data)


def load_expecting_only_our_errors(path):
    try:
        mlir_coreml.load(path)
    except MlirCoremlError:
        pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(SOURCES), mutations)
def test_mutated_mlmodel_files(tmp_path, source, steps):
    with open(source, "rb") as f:
        data = f.read()
    path = tmp_path / "fuzz.mlmodel"
    path.write_bytes(mutate(data, steps))
    load_expecting_only_our_errors(str(path))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(BUNDLES),
       st.sampled_from(["model.espresso.net", "model.espresso.shape", "model.espresso.weights", "coremldata.bin"]),
       mutations)
def test_mutated_mlmodelc_bundles(tmp_path, bundle, member, steps):
    target = tmp_path / "fuzz.mlmodelc"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(bundle, target)
    victim = target / member
    if not victim.exists():
        return
    victim.write_bytes(mutate(victim.read_bytes(), steps))
    load_expecting_only_our_errors(str(target))
