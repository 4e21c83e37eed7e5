"""`mil-to-core` on the zoo's small models in ML Program forms. fp32 compute: interpreter(before)
== interpreter(after) within 1e-5 and PyTorch within 1e-4. fp16 compute (coremltools' default):
the converter's casts are kept, so activations stay f16 in core too; before/after agree within
2e-2 (a one-ulp f16 rounding difference can propagate) and PyTorch within 5e-2."""
import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.manager import PassManager
from tests.lowering.helpers import LOOP_MODELS, lower_and_compare, rel_err

pytest.importorskip("coremltools")
from tests.models.zoo import names  # noqa: E402

import mlir_coreml  # noqa: E402

TOL = {"mlprogram_fp32": (1e-5, 1e-4), "mlprogram": (2e-2, 5e-2)}
MODELS = [n for n in names(small=True) if n not in LOOP_MODELS]


@pytest.mark.parametrize("form", ["mlprogram_fp32", "mlprogram"])
@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_lowers_and_keeps_semantics(model_zoo, name, form):
    path, inputs, torch_outputs = model_zoo.get(name, form)
    module = mlir_coreml.load(str(path))
    before, after = lower_and_compare(module, inputs, "mil-to-core")
    same_tol, torch_tol = TOL[form]
    for b, a in zip(before, after):
        assert rel_err(a, b) <= same_tol
    for a, want in zip(after, torch_outputs.values()):
        assert rel_err(a, want) <= torch_tol


def test_fp16_compute_is_kept(model_zoo):
    path, _, _ = model_zoo.get("layer_conv", "mlprogram")
    module = mlir_coreml.load(str(path))
    PassManager.from_pipeline("mil-to-core").run(module)
    convs = [op for op in module.walk() if op.op_name == "core.conv2d"]
    assert convs and all(str(op.output.type.element) == "f16" for op in convs)
    casts = {op.attributes["to"].value for op in module.walk() if op.op_name == "core.cast"}
    assert casts == {"f16", "f32"}


@pytest.mark.parametrize("name", sorted(LOOP_MODELS))
def test_while_loop_stays_on_the_reference_path(model_zoo, name):
    """core has no control flow: the loop and its body stay mil ops, everything else lowers."""
    path, _, _ = model_zoo.get(name, "mlprogram")
    module = mlir_coreml.load(str(path))
    pm = PassManager.from_pipeline("mil-to-core")
    pm.run(module)
    loops = [op for op in module.walk() if op.op_name == "mil.while_loop"]
    assert loops and pm.context.statistics["mil-to-core: ops kept on the reference path"] > 0
    inside = {id(inner) for loop in loops for inner in loop.walk()}
    assert all(not op.op_name.startswith("mil.") or id(op) in inside for op in module.walk())


@pytest.mark.parametrize("form", ["mlprogram_fp32", "mlprogram"])
@pytest.mark.parametrize("name", ["resnet18_small", "transformer_small", "lstm"])
def test_runtime_runs_the_lowered_model(model_zoo, name, form):
    path, inputs, torch_outputs = model_zoo.get(name, form)
    got = mlir_coreml.compile_model(str(path)).predict(inputs)
    for key, want in torch_outputs.items():
        assert rel_err(got[key], want) <= 5e-2
