"""The first-use ISA self-check, the thread-count settings and the FMA peak probe."""
import os
import subprocess
import sys

import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
VECTOR_ISAS = ORDER[1:ORDER.index(K.detect_isa()) + 1]

PROBE = ("from mlir_coreml.csrc import _kernels as K; import numpy as np, os\n"
         "if os.environ.get('MLIR_COREML_PROBE_FORCE'):\n"
         "    try: K.force_isa(os.environ['MLIR_COREML_PROBE_FORCE'])\n"
         "    except ValueError: print('refused')\n"
         "w = np.arange(12, dtype=np.float32).reshape(3, 4)\n"
         "y = K.gemm(K.pack_weights(w, 'fp32'), np.ones((4, 2), np.float32))\n"
         "print(K.verified_isa(), K.current_isa(), float(y[2, 0]))\n")


def run_probe(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("MLIR_COREML_TEST_BREAK")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=full, timeout=120)


def test_every_isa_of_this_cpu_passes_the_self_check():
    assert K.verified_isa() == K.detect_isa()


@pytest.mark.parametrize("broken", VECTOR_ISAS or pytest.skip("no vector ISA on this CPU", allow_module_level=True))
def test_an_isa_that_disagrees_is_disabled_with_one_line(broken):
    res = run_probe(MLIR_COREML_TEST_BREAK_ISA=broken)
    assert res.returncode == 0, res.stderr
    fallback = ORDER[ORDER.index(broken) - 1]
    verified, current, value = res.stdout.split()[-3:]
    assert (verified, current) == (fallback, fallback)
    assert float(value) == 38.0          # 8 + 9 + 10 + 11: the answer still comes, from a verified path
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "disagree with the portable ones" in lines[0]
    assert {"avx2": "AVX2", "avx512": "AVX-512"}[broken] in lines[0]
    # a disabled ISA cannot be forced either
    res = run_probe(MLIR_COREML_TEST_BREAK_ISA=broken, MLIR_COREML_PROBE_FORCE=broken)
    assert "refused" in res.stdout


def test_num_threads_environment_variable(monkeypatch):
    K.set_num_threads(0)
    monkeypatch.setenv("MLIR_COREML_NUM_THREADS", "3")
    assert K.get_num_threads() == 3
    monkeypatch.setenv("MLIR_COREML_NUM_THREADS", "junk")   # ignored, not a crash
    assert K.get_num_threads() >= 1
    K.set_num_threads(2)                                    # an explicit setting wins
    monkeypatch.setenv("MLIR_COREML_NUM_THREADS", "5")
    assert K.get_num_threads() == 2
    K.set_num_threads(0)


def test_fma_peak_is_positive_on_every_isa():
    for isa in ORDER[:ORDER.index(K.detect_isa()) + 1]:
        K.force_isa(isa)
        try:
            assert K.fma_peak(seconds=0.002, repeats=1) > 0
        finally:
            K.force_isa(None)


# -- coverage of the self-check ------------------------------------------------------------------

def kernel_table_fields() -> list[str]:
    """The function-pointer fields of the kernel table that generated modules call."""
    import re
    from pathlib import Path

    header = (Path(K.__file__).parent / "kernel_table.h").read_text()
    struct = header[header.index("typedef struct {"):header.index("} mc_kernel_table;")]
    return re.findall(r"\(\*(\w+)\)", struct)


def test_the_self_check_covers_every_family_of_the_kernel_table():
    families = set(K.isa_check_families())
    assert set(kernel_table_fields()) <= families
    # the _kernels entry points the executor calls beyond the table
    assert {"conv_transpose2d", "layer_norm", "resize", "float_to_half"} <= families


@pytest.mark.parametrize("family", K.isa_check_families())
def test_a_family_that_disagrees_disables_its_isa_and_is_named(family):
    broken = VECTOR_ISAS[-1]
    res = run_probe(MLIR_COREML_TEST_BREAK_ISA=f"{broken}:{family}")
    assert res.returncode == 0, res.stderr
    fallback = ORDER[ORDER.index(broken) - 1]
    assert res.stdout.split()[-3:-1] == [fallback, fallback]
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"({family})" in lines[0]


def test_breaking_another_family_name_changes_nothing():
    res = run_probe(MLIR_COREML_TEST_BREAK_ISA=f"{VECTOR_ISAS[-1]}:no_such_family")
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout.split()[-3:-1] == [VECTOR_ISAS[-1]] * 2
