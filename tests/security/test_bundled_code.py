"""Threat: native code shipped inside a model (docs/threat-model.md, "no code execution").

A saved model carries its generated-kernel build (`<file>.mlir.kernels/`). Loading it must
never run a library this machine did not build unless the user trusts it; every provenance
below is generated from one real build by changing who made it or what it holds.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from mlir_coreml.runtime import build
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.specialized import SpecializedExecutor
from tests.codegen.test_generated import small_cnn


class Recompiled(Exception):
    pass


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A model saved with its kernels by this machine, and the cache that built them."""
    root = tmp_path_factory.mktemp("shipped")
    cache = root / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(build.CACHE_ENV, str(cache))
        mp.setattr(build, "_LOADED", {})
        module, inputs = small_cnn()
        model = compile_model(module, threads=1, codegen=True)
        path = model.save(root / "cnn.mlir")
    return root, cache, inputs


def _tamper(kernels):
    lib = next(kernels.glob(f"*{build.EXT_SUFFIX}"))
    lib.write_bytes(lib.read_bytes() + b"\0")


def _forge_mac(kernels):
    mac = next(kernels.glob("*" + build.MAC_SUFFIX))
    mac.write_text("0" * 64)


def _drop_mac(kernels):
    next(kernels.glob("*" + build.MAC_SUFFIX)).unlink()


# provenance -> (which cache loads it, how the shipped build is changed, may it load?)
CASES = {
    "own_build": ("same", None, True),
    "other_machine": ("other", None, False),
    "tampered_library": ("same", _tamper, False),
    "forged_mac": ("same", _forge_mac, False),
    "no_mac": ("same", _drop_mac, False),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("trust", [False, True])
def test_shipped_build_runs_only_when_ours_or_trusted(case, trust, saved, tmp_path, monkeypatch):
    root, cache, inputs = saved
    which, change, ours = CASES[case]
    model = tmp_path / "cnn.mlir"
    shutil.copyfile(root / "cnn.mlir", model)
    shutil.copytree(root / "cnn.mlir.kernels", tmp_path / "cnn.mlir.kernels")
    if change is not None:
        change(tmp_path / "cnn.mlir.kernels")
    own_cache = tmp_path / "cache"
    shutil.copytree(cache, own_cache)
    shutil.rmtree(own_cache / "kernels")  # the cache keeps its key, not the build
    monkeypatch.setenv(build.CACHE_ENV, str(own_cache if which == "same" else tmp_path / "other-cache"))
    monkeypatch.setattr(build, "_LOADED", {})

    def refuse(*args, **kwargs):
        raise Recompiled

    monkeypatch.setattr(build, "_compile", refuse)
    if not (ours or trust):
        with pytest.raises(Recompiled):
            compile_model(model, threads=1, codegen=True, trust_bundled_kernels=trust)
        return
    compiled = compile_model(model, threads=1, codegen=True, trust_bundled_kernels=trust)
    assert isinstance(compiled.runner, SpecializedExecutor)
    assert np.isfinite(compiled.predict(inputs)["probs"]).all()
