"""`import mlir_coreml` and `python -m mlir_coreml --help` stay light: the heavy libraries load
when a command needs them, not before (numbers in benchmarks/startup.py's notes, not here)."""
import subprocess
import sys

HEAVY = ("numpy", "torch", "coremltools", "ray", "google.protobuf", "lark", "tqdm", "Cython", "onnxruntime",
         "pandas", "pyarrow", "PIL")

REPORT = "import sys; print(' '.join(sorted([m for m in sys.modules if m.split('.')[0] in {}])))"


def loaded_after(code: str) -> set[str]:
    tops = {h.split(".")[0] for h in HEAVY}
    script = code + "\n" + REPORT.replace("{}", repr(tops))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_importing_the_package_loads_no_heavy_library():
    assert loaded_after("import mlir_coreml, mlir_coreml.cli") == set()


def test_help_loads_no_heavy_library():
    code = ("import runpy, sys, io, contextlib\nsys.argv = ['mlir_coreml', '--help']\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        runpy.run_module('mlir_coreml', run_name='__main__')\n"
            "    except SystemExit:\n        pass")
    assert loaded_after(code) == set()
