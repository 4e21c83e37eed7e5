"""MLIR_COREML_EXTRA_CFLAGS (the sanitizer run, tests/tools/asan_run.sh) reaches generated-module
builds and keeps them apart from normal builds in the kernel cache."""
from mlir_coreml.runtime import build


def test_extra_flags_are_split_and_change_the_cache_key(monkeypatch):
    monkeypatch.delenv(build.EXTRA_FLAGS_ENV, raising=False)
    plain = build.cache_key("source")
    assert build.extra_flags() == []
    monkeypatch.setenv(build.EXTRA_FLAGS_ENV, "-fsanitize=address,undefined  -g")
    assert build.extra_flags() == ["-fsanitize=address,undefined", "-g"]
    assert build.cache_key("source") != plain
