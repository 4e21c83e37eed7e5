"""The acceptance matrix of the frontend and execution issues: every zoo network, in each Core
ML form, imports, round-trips exactly as text, and predicts like PyTorch — through the
reference interpreter and through the compiled kernel path, on the executor and on the
generated module.

Tolerances (relative = max |ours - torch| / max |torch|): 1e-4 for fp32 weights with fp32
compute, 2e-2 for fp16 weights with fp32 accumulation, 5e-2 for ML Programs with fp16 compute.
"""
import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module

NETWORKS = ["mobilenet_v2_small", "resnet18_small", "squeezenet1_1_small", "unet_small", "transformer_small",
            "lstm", "gru_loop", "gru_loop_scripted", "gru", "mlp"]
TOLERANCE = {"nn_fp32": 1e-4, "nn_fp16": 2e-2, "mlprogram": 5e-2, "mlprogram_fp32": 1e-4}
CASES = [(n, f) for n in NETWORKS for f in TOLERANCE]


def relative_error(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    return float(np.max(np.abs(got.reshape(want.shape) - want)) / max(np.max(np.abs(want)), 1e-12))


def check_outputs(got: dict, want: dict, tol: float):
    assert set(got) >= set(want), f"outputs {sorted(got)} lack {sorted(set(want) - set(got))}"
    for name, expected in want.items():
        err = relative_error(got[name], expected)
        assert err <= tol, f"output {name}: relative error {err:.3g} > {tol}"


@pytest.mark.parametrize("name, form", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_import_round_trip_and_reference(model_zoo, name, form):
    path, inputs, outputs = model_zoo.get(name, form)
    module = mlir_coreml.load(str(path))
    text = print_module(module, resources=True)
    assert print_module(parse_module(text), resources=True) == text
    results = run_module(module, dict(inputs))
    fn = next(op for op in module.walk() if op.op_name == "func.func")
    names = [v.name for v in fn.regions[0].blocks[0].last_op.operands]
    check_outputs(dict(zip(names, results)), outputs, TOLERANCE[form])


@pytest.mark.parametrize("runtime", ["executor", "generated"])
@pytest.mark.parametrize("name, form", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_compiled_kernel_path(model_zoo, name, form, runtime, monkeypatch):
    """Both runtimes run what plan-memory planned: the executor, and the generated module
    (models with control flow run on the executor either way)."""
    path, inputs, outputs = model_zoo.get(name, form)
    monkeypatch.setenv("MLIR_COREML_CODEGEN", "1" if runtime == "generated" else "0")
    compiled = mlir_coreml.compile_model(str(path), threads=1)
    assert (type(compiled.runner).__name__ == "SpecializedExecutor") == (runtime == "generated") or \
        name.startswith(("lstm", "gru"))
    check_outputs(compiled.predict(dict(inputs)), outputs, TOLERANCE[form])
