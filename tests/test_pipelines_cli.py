"""Named pipelines and pass listings on the command line, and the promise behind them:
`opt -p coreml-cpu` prints exactly the module the CPU runtime executes."""
import re
import subprocess
import sys

from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.pipelines import PIPELINES
from mlir_coreml.runtime.predict import compile_model
from tests.samples import SOURCE_MODELS


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mlir_coreml", *args], capture_output=True, text=True,
                          input=stdin)


def test_list_passes_names_every_pass_with_its_options():
    out = cli("opt", "--list-passes").stdout
    # (all_pass_names() of this process may hold passes other tests registered)
    builtin = {name for text, _ in PIPELINES.values() for name in re.findall(r"[a-z][a-z0-9-]*(?=[,{]|$)", text)}
    assert builtin and all(f"  {name} " in out for name in builtin)
    assert "max-elements: int = 4194304" in out  # constant-fold's option


def test_list_pipelines_and_help():
    assert all(name in cli("opt", "--list-pipelines").stdout for name in PIPELINES)
    help_text = cli("opt", "--help").stdout
    assert "passes:" in help_text and "fuse-epilogue" in help_text and "coreml-cpu" in help_text


def test_print_pipeline():
    assert cli("run", "m.mlmodel", "--inputs", "x.npz", "--print-pipeline").stdout.strip() == PIPELINES["coreml-cpu"][0]
    lowered = cli("lower", "default", "-o", "unused.mlmodelc", "--print-pipeline").stdout.strip()
    assert lowered == PIPELINES["coremlc-2021"][0]


def test_opt_prints_what_the_runtime_executes(tmp_path):
    source = next(p for p in SOURCE_MODELS if p.name == "FourRecognize.mlmodel")
    imported = cli("import", str(source), "--resources").stdout
    printed = cli("opt", "-", "-p", "coreml-cpu", stdin=imported)
    assert printed.returncode == 0, printed.stderr
    model = compile_model(str(source), use_kernels=False)
    assert printed.stdout == print_module(model.module, resources=True)  # self-contained in, self-contained out
