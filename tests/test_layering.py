"""The directory tree is the architecture: these tests hold the import graph to DESIGN.md's
rules by parsing every module's imports (ast), and check that `python -m mlir_coreml` runs
from the source checkout's root, where the facade folder shadows the installed package.

Rules (a layer may import the ones after the arrow, and `mlir_coreml.errors` everywhere):
  ir       -> ir, csrc (the IR imports no pass, reader, backend or runtime; an op whose semantics
              are a compiled kernel, like the tree ensembles, calls it from the leaf layer csrc)
  csrc     -> csrc only (the kernels import nothing of the project)
  frontend -> ir, passes (readers import no backend and no runtime)
  codegen  -> ir, passes, frontend, csrc (the emitters and bundle writers do not run models)
  nothing outside the facade folder `mlir_coreml/` imports it (its `load`, `compile_model`, the CLI)
  no module imports another module's `_private` name
"""
import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ("ir", "passes", "codegen", "runtime", "frontend", "csrc", "mlir_coreml", "benchmarks")
ALLOWED = {
    "ir": {"ir", "csrc"},
    "csrc": {"csrc"},
    "frontend": {"ir", "passes", "frontend"},
    "codegen": {"ir", "passes", "frontend", "csrc", "codegen"},
}
# Facade names other layers may use: the error type and the version string are data, not API.
FACADE_SHARED = {"errors", "__version__"}
# Compiled extension modules are named `_x` by the Cython convention; they are the csrc API.
EXTENSION_MODULES = {"mlir_coreml.csrc._kernels", "mlir_coreml.csrc._fp16", "mlir_coreml.csrc._trees"}


def imports():
    """(layer, file:line, imported dotted name) for every `mlir_coreml...` import in the tree."""
    for layer in LAYERS:
        for folder, _, files in os.walk(os.path.join(ROOT, layer)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), path)
                where = os.path.relpath(path, ROOT)
                for node in ast.walk(tree):
                    for dotted in _names(node):
                        if dotted.split(".")[0] == "mlir_coreml":
                            yield layer, f"{where}:{node.lineno}", dotted


def _names(node):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [f"{node.module}.{a.name}" for a in node.names]
    return []


def target_layer(dotted: str) -> str:
    parts = dotted.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "mlir_coreml"  # the facade folder itself


ALL_IMPORTS = list(imports())


def test_the_graph_is_seen():
    layers = {(layer, target_layer(d)) for layer, _, d in ALL_IMPORTS}
    assert ("runtime", "codegen") in layers and ("passes", "ir") in layers  # the walk found the tree


def test_layers_import_only_what_they_may():
    bad = [f"{where}: {layer}/ imports {dotted}" for layer, where, dotted in ALL_IMPORTS
           if layer in ALLOWED and target_layer(dotted) not in ALLOWED[layer] | {"mlir_coreml"}]
    assert not bad, "\n".join(bad)


def test_nothing_imports_the_facade():
    bad = []
    for layer, where, dotted in ALL_IMPORTS:
        parts = dotted.split(".")
        if layer == "mlir_coreml" or target_layer(dotted) != "mlir_coreml":
            continue
        if len(parts) < 2 or parts[1] not in FACADE_SHARED:
            bad.append(f"{where}: {layer}/ imports the facade ({dotted})")
    assert not bad, "\n".join(bad)


def test_no_private_names_cross_modules():
    bad = []
    for _, where, dotted in ALL_IMPORTS:
        last = dotted.rsplit(".", 1)[-1]
        if last.startswith("_") and not last.startswith("__") and dotted not in EXTENSION_MODULES:
            bad.append(f"{where}: imports the private name {dotted}")
    assert not bad, "\n".join(bad)


def site_packages():
    import numpy

    return os.path.dirname(os.path.dirname(numpy.__file__))


@pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, "setup.py")), reason="needs the source checkout")
def test_module_runs_from_the_checkout_root():
    # -S skips the editable install's path hook, as a non-editable `pip install .` would: the
    # checkout's `mlir_coreml/` folder is then what `python -m` finds first.
    env = dict(os.environ, PYTHONPATH=site_packages())
    case = os.path.join("tests", "filecheck", "cse_dce.mlir")
    proc = subprocess.run([sys.executable, "-S", "-m", "mlir_coreml", "opt", case, "-p", "cse"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("module")
