"""The compile cache (runtime/compile_cache.py), IR pickling (ir/pickling.py) and the compile
timing report (runtime/timing.py)."""
from __future__ import annotations

import io
import os
import pickle
import re

import numpy as np
import pytest

from tests.runtime.nn_builder import builder, save

import mlir_coreml
from mlir_coreml.ir.pickling import IRPickler
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.verifier import verify
from mlir_coreml.runtime import compile_cache
from mlir_coreml.runtime.predict import compile_model


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MLIR_COREML_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(compile_cache.ENABLE_ENV, raising=False)
    monkeypatch.delenv("MLIR_COREML_TIMING", raising=False)
    return tmp_path / "cache"


def conv_net(folder, seed: int = 0, name: str = "net") -> str:
    """conv 3x3 + relu -> conv 1x1 -> global average pool -> inner product, seeded weights."""
    rng = np.random.default_rng(seed)
    b = builder({"x": (3, 8, 8)})
    conv = dict(stride_height=1, stride_width=1, groups=1, has_bias=True)
    b.add_convolution("c1", kernel_channels=3, output_channels=8, height=3, width=3, border_mode="same",
                      W=rng.standard_normal((3, 3, 3, 8)).astype(np.float32), b=rng.standard_normal(8).astype(np.float32),
                      input_name="x", output_name="c1", **conv)
    b.add_activation("r1", "RELU", "c1", "r1")
    b.add_convolution("c2", kernel_channels=8, output_channels=16, height=1, width=1, border_mode="valid",
                      W=rng.standard_normal((1, 1, 8, 16)).astype(np.float32), b=rng.standard_normal(16).astype(np.float32),
                      input_name="r1", output_name="c2", **conv)
    b.add_pooling("gap", 1, 1, 1, 1, "AVERAGE", "VALID", "c2", "gap", is_global=True)
    b.add_reshape_static("flat", "gap", "flat", (16,))
    b.add_inner_product("fc", rng.standard_normal((5, 16)).astype(np.float32), rng.standard_normal(5).astype(np.float32),
                        16, 5, True, "flat", "output")
    return save(b, folder, name)


def activation_chain(folder, layers: int) -> str:
    b = builder({"x": (4,)})
    name = "x"
    for i in range(layers):
        b.add_activation(f"a{i}", "LINEAR", name, f"a{i}", params=[1.0, 0.001])
        name = f"a{i}"
    b.add_activation("last", "RELU", name, "output")
    return save(b, folder, "chain")


INPUT = {"x": np.random.default_rng(1).standard_normal((3, 8, 8)).astype(np.float32)}


def phases(model) -> list[str]:
    return [name for _, name, _ in model.compile_timing.rows]


def test_a_second_compile_is_served_from_the_cache_and_predicts_the_same(tmp_path):
    path = conv_net(tmp_path)
    cold = compile_model(path, threads=1)
    warm = compile_model(path, threads=1)
    assert "parse" in phases(cold) and "cache store" in phases(cold)
    assert "parse" not in phases(warm) and "pass pipeline" not in phases(warm)
    assert print_module(warm.module) == print_module(cold.module)
    np.testing.assert_array_equal(warm.predict(INPUT)["output"], cold.predict(INPUT)["output"])
    assert warm.precision == cold.precision


def test_the_cached_weights_are_mapped_not_copied(tmp_path, private_cache):
    path = conv_net(tmp_path)
    compile_model(path)
    entry = compile_cache.entry_for(path, dict(pipeline=None, precision=None, compute_units=None, function_name=None))
    lowered = entry.load()
    arrays = [op.attributes["value"].value for op in lowered.module.walk() if "value" in op.attributes
              and isinstance(getattr(op.attributes["value"], "value", None), np.ndarray)]
    big = [a for a in arrays if a.nbytes >= 64]
    assert big and all(a.base is not None and a.flags.writeable for a in big)
    assert os.path.getsize(os.path.join(entry.folder, compile_cache.WEIGHTS_FILE)) >= sum(a.nbytes for a in big)


def test_changing_the_model_file_misses(tmp_path):
    path = conv_net(tmp_path, seed=0)
    first = compile_model(path).predict(INPUT)["output"]
    conv_net(tmp_path, seed=7)  # same path, same size, other weights
    second = compile_model(path)
    assert "parse" in phases(second)
    expected = compile_model(conv_net(tmp_path, seed=7, name="fresh")).predict(INPUT)["output"]
    np.testing.assert_array_equal(second.predict(INPUT)["output"], expected)
    assert not np.array_equal(first, expected)


@pytest.mark.parametrize("options", [dict(precision="fp16"), dict(pipeline="canonicalize"),
                                     dict(compute_units="all")])
def test_changing_the_lowering_options_misses(tmp_path, options):
    path = conv_net(tmp_path)
    compile_model(path)
    other = compile_model(path, **options)
    assert "parse" in phases(other)
    again = compile_model(path, **options)
    assert "parse" not in phases(again)
    assert again.precision == other.precision
    assert str(again.partition_report) == str(other.partition_report)


def test_runtime_options_share_the_entry(tmp_path):
    path = conv_net(tmp_path)
    compile_model(path, threads=1)
    warm = compile_model(path, threads=2, use_kernels=False)
    assert "parse" not in phases(warm)
    assert warm.threads == 2 and warm.options["use_kernels"] is False


def test_changing_the_code_misses(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "module.py").write_text("x = 1\n")
    with monkeypatch.context() as patch:
        patch.setattr(compile_cache, "_package_folders", lambda: [str(code)])
        compile_cache.code_fingerprint.cache_clear()
        before = compile_cache.code_fingerprint()
        compile_cache.code_fingerprint.cache_clear()
        (code / "module.py").write_text("x = 22\n")
        after = compile_cache.code_fingerprint()
    compile_cache.code_fingerprint.cache_clear()  # not the fake folders' fingerprint for later tests
    assert before != after
    # and the fingerprint is part of the key
    path = conv_net(tmp_path)
    key = compile_cache.entry_for(path, {}).key
    monkeypatch.setattr(compile_cache, "code_fingerprint", lambda: "another build")
    assert compile_cache.entry_for(path, {}).key != key


def test_the_package_is_stat_once_per_process(tmp_path, monkeypatch):
    """The package's files do not change under a running process: the first key computation
    stats each of them, a second one none (the model's own files are still looked at)."""
    path = conv_net(tmp_path)
    package = tuple(os.path.join(folder, "") for folder in compile_cache._package_folders())
    real_stat = os.stat
    seen = []

    def counting_stat(name, *args, **kwargs):
        seen.append(os.fspath(name))
        return real_stat(name, *args, **kwargs)

    compile_cache.code_fingerprint.cache_clear()
    monkeypatch.setattr(os, "stat", counting_stat)
    first = compile_cache.entry_for(path, {}).key
    package_stats = sum(name.startswith(package) for name in seen)
    seen.clear()
    second = compile_cache.entry_for(path, {}).key
    monkeypatch.undo()
    assert package_stats > 100 and path in seen  # the counter sees the walk and the model
    assert second == first
    assert [name for name in seen if name.startswith(package)] == []


def test_an_unreadable_entry_is_compiled_again(tmp_path, private_cache):
    path = conv_net(tmp_path)
    expected = compile_model(path).predict(INPUT)["output"]
    [entry] = [d for d in (private_cache / "models").iterdir() if d.name != "digests"]
    (entry / compile_cache.IR_FILE).write_bytes(b"not a pickle")
    again = compile_model(path)
    assert "parse" in phases(again)
    np.testing.assert_array_equal(again.predict(INPUT)["output"], expected)
    assert "parse" not in phases(compile_model(path))


def test_the_cache_can_be_turned_off(tmp_path, private_cache, monkeypatch):
    monkeypatch.setenv(compile_cache.ENABLE_ENV, "0")
    path = conv_net(tmp_path)
    compile_model(path)
    assert "parse" in phases(compile_model(path))
    assert not (private_cache / "models").exists()


def test_a_registered_pass_in_the_pipeline_turns_the_cache_off(tmp_path, monkeypatch):
    from mlir_coreml.passes import registry

    path = conv_net(tmp_path)
    monkeypatch.setattr(registry, "registered_pass_names", lambda: {"my-pass"})
    assert compile_cache.entry_for(path, dict(pipeline=None)) is not None
    assert compile_cache.entry_for(path, dict(pipeline="canonicalize,my-pass")) is None
    monkeypatch.setattr(registry, "registered_pass_names", lambda: {"cse"})  # shadows a builtin
    assert compile_cache.entry_for(path, dict(pipeline=None)) is None


def test_ir_pickling_handles_long_programs(tmp_path):
    module = mlir_coreml.load(activation_chain(tmp_path, 3000))  # deeper than pickle's default recursion
    stream = io.BytesIO()
    IRPickler(stream, protocol=5).dump(module)
    copy = pickle.loads(stream.getvalue())
    verify(copy)
    assert print_module(copy) == print_module(module)
    originals, copies = list(module.walk()), list(copy.walk())
    assert [[(u.operation.op_name, u.index) for r in op.results for u in r.uses] for op in originals] == \
        [[(u.operation.op_name, u.index) for r in op.results for u in r.uses] for op in copies]


def test_a_long_program_is_cached(tmp_path):
    path = activation_chain(tmp_path, 3000)
    x = {"x": np.linspace(-1, 1, 4).astype(np.float32)}
    cold = compile_model(path).predict(x)["output"]
    warm = compile_model(path)
    assert "parse" not in phases(warm)
    np.testing.assert_array_equal(warm.predict(x)["output"], cold)


def test_a_package_is_hashed_with_every_file(tmp_path):
    package = tmp_path / "m.mlpackage"
    (package / "Data").mkdir(parents=True)
    (package / "Data" / "weight.bin").write_bytes(b"1234")
    before = compile_cache.model_digest(str(package))
    (package / "Data" / "weight.bin").write_bytes(b"1235")
    assert compile_cache.model_digest(str(package)) != before
    (package / "mlir_coreml").mkdir()  # shipped kernel builds are not the model
    (package / "mlir_coreml" / "k.so").write_bytes(b"x")
    after = compile_cache.model_digest(str(package))
    (package / "mlir_coreml" / "k.so").write_bytes(b"y")
    assert compile_cache.model_digest(str(package)) == after


# -- the timing report -------------------------------------------------------------------------

REPORT_LINE = re.compile(r"^  +\d+\.\d{4} \( *\d+\.\d%\)  ( *)(\S.*)$")


def parse_report(text: str) -> list[tuple[int, str]]:
    lines = text.splitlines()
    assert lines[0] == lines[2] and re.fullmatch(r"===-+===", lines[0])
    assert "Compile time report" in lines[1]
    assert re.fullmatch(r"  Total Execution Time: \d+\.\d{4} seconds", lines[3])
    assert lines[5] == "  ----Wall Time----  ----Name----"
    rows = []
    for line in lines[6:]:
        m = REPORT_LINE.match(line)
        assert m, line
        rows.append((len(m.group(1)) // 2, m.group(2)))
    assert rows[-1] == (0, "Total")
    return rows[:-1]


def test_a_cold_compile_reports_where_its_time_goes(tmp_path, capsys):
    compile_model(conv_net(tmp_path), timing=True)
    rows = parse_report(capsys.readouterr().err)
    top = [name for depth, name in rows if depth == 0]
    assert top[:2] == ["cache lookup", "cache load"]
    assert {"parse", "pass pipeline", "cache store", "executor (pack weights)", "generated module"} <= set(top)
    nested = [name for depth, name in rows if depth == 1]
    assert {"to-core", "plan-memory"} <= set(nested)  # the passes, under the pipeline phase


def test_the_environment_variable_asks_for_the_report(tmp_path, capsys, monkeypatch):
    path = conv_net(tmp_path)
    compile_model(path)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("MLIR_COREML_TIMING", "1")
    model = mlir_coreml.compile_model(path)
    rows = parse_report(capsys.readouterr().err)
    assert ("parse" not in [name for _, name in rows]) and (0, "cache load") in rows
    assert model.compile_timing.seconds("cache load") > 0


def test_a_warm_compile_loads_neither_the_frontend_nor_the_passes(tmp_path, private_cache):
    import subprocess
    import sys

    path = conv_net(tmp_path)
    compile_model(path)
    script = ("import sys, mlir_coreml\n"
              f"mlir_coreml.compile_model({path!r})\n"
              "print(' '.join(m for m in sys.modules if m.startswith(('google.protobuf', 'Cython', "
              "'mlir_coreml.frontend.', 'mlir_coreml.passes.manager', 'mlir_coreml.passes.nn_to_core'))))")
    env = dict(os.environ, MLIR_COREML_CACHE=str(private_cache))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_run_timing_prints_the_report_on_stderr(tmp_path):
    import subprocess
    import sys

    path = conv_net(tmp_path)
    np.savez(tmp_path / "in.npz", **INPUT)
    args = [sys.executable, "-m", "mlir_coreml", "run", path, "--inputs", str(tmp_path / "in.npz"), "--timing"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "output:" in done.stdout
    rows = parse_report(done.stderr)
    assert (0, "parse") in rows and (1, "to-core") in rows


def test_the_least_recently_used_entries_are_evicted_past_the_limit(tmp_path, private_cache, monkeypatch):
    paths = [conv_net(tmp_path, seed=i, name=f"net{i}") for i in range(3)]
    compile_model(paths[0])
    compile_model(paths[1])
    [size] = {sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) for d in (private_cache / "models").iterdir()
              if d.name != "digests"}
    assert "parse" not in phases(compile_model(paths[0]))  # now paths[1] is the least recently used
    monkeypatch.setenv(compile_cache.LIMIT_ENV, str(2.5 * size / 2 ** 20))
    compile_model(paths[2])
    assert "parse" not in phases(compile_model(paths[0]))
    assert "parse" in phases(compile_model(paths[1]))


def test_a_warm_compile_maps_the_packed_panels_instead_of_packing(tmp_path, monkeypatch, private_cache):
    from mlir_coreml.csrc import _kernels

    path = conv_net(tmp_path)
    cold = compile_model(path, threads=1)
    [packed] = list((private_cache / "models").glob("*/packed"))
    assert (packed / "panels.bin").stat().st_size > 0

    def no_packing(*args, **kwargs):
        raise AssertionError("a warm compile packed the weights again")

    with monkeypatch.context() as patch:
        for name in ("pack_weights", "pack_conv_weights", "pack_conv_transpose_weights"):
            patch.setattr(_kernels, name, no_packing)
        warm = compile_model(path, threads=1)
    np.testing.assert_array_equal(warm.predict(INPUT)["output"], cold.predict(INPUT)["output"])
    (packed / "packed.pickle").write_bytes(b"garbage")  # unreadable panels are packed again
    again = compile_model(path, threads=1)
    assert "parse" not in phases(again) and (packed / "packed.pickle").read_bytes() != b"garbage"
    np.testing.assert_array_equal(again.predict(INPUT)["output"], cold.predict(INPUT)["output"])
