"""`nn-to-core` on the zoo's small models in NeuralNetwork fp32 and fp16-weight forms:
interpreter(before) == interpreter(after) within 1e-5 relative, interpreter(after) matches
PyTorch (1e-4 fp32 / 2e-2 fp16 weights), only core/func/builtin ops remain, fp16 weights stay
f16 constants; models with `loop` layers fail with an error naming the layer."""
import pytest

from mlir_coreml.errors import MlirCoremlError
from tests.lowering.helpers import LOOP_MODELS, element_types_of_constants, lower_and_compare, rel_err

pytest.importorskip("coremltools")
from tests.models.zoo import names  # noqa: E402

import mlir_coreml  # noqa: E402

TORCH_TOL = {"nn_fp32": 1e-4, "nn_fp16": 2e-2}
MODELS = [n for n in names(small=True) if n not in LOOP_MODELS]


@pytest.mark.parametrize("form", ["nn_fp32", "nn_fp16"])
@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_lowers_and_keeps_semantics(model_zoo, name, form):
    path, inputs, torch_outputs = model_zoo.get(name, form)
    module = mlir_coreml.load(str(path))
    stored = element_types_of_constants(module)
    before, after = lower_and_compare(module, inputs, "nn-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= 1e-5
    for a, want in zip(after, torch_outputs.values()):
        assert rel_err(a, want) <= TORCH_TOL[form]
    if "f16" in stored:
        assert "f16" in element_types_of_constants(module), "fp16 weights must stay f16 constants"


@pytest.mark.parametrize("name", sorted(LOOP_MODELS))
def test_loop_layers_stay_on_the_reference_path(model_zoo, name):
    """core has no control flow: loops/GRUs stay nn ops (run by reference), the rest lowers."""
    from mlir_coreml.passes.manager import PassManager
    from mlir_coreml.passes.nn_to_core import REFERENCE_PATH

    path, _, _ = model_zoo.get(name, "nn_fp32")
    module = mlir_coreml.load(str(path))
    pm = PassManager.from_pipeline("nn-to-core")
    pm.run(module)
    kept = [op for op in module.walk() if op.op_name in REFERENCE_PATH]
    assert kept and pm.context.statistics["nn-to-core: ops kept on the reference path"] > 0
    inside = {id(inner) for op in kept for inner in op.walk()}
    assert all(not op.op_name.startswith("nn.") or id(op) in inside for op in module.walk())


@pytest.mark.parametrize("form", ["nn_fp32", "nn_fp16"])
@pytest.mark.parametrize("name", ["mobilenet_v2_small", "unet_small", "transformer_small", "lstm", "mlp"])
def test_runtime_runs_the_lowered_model(model_zoo, name, form):
    """compile_model lowers with nn-to-core; the kernels pack weights in fp16, hence 2e-2."""
    path, inputs, torch_outputs = model_zoo.get(name, form)
    got = mlir_coreml.compile_model(str(path)).predict(inputs)
    for key, want in torch_outputs.items():
        assert rel_err(got[key], want) <= 2e-2


@pytest.mark.parametrize("nbits", [8, 4])
def test_quantized_weights_become_constants(tmp_path, model_zoo, nbits):
    """`nn.dequantize` (linear n-bit weights) is evaluated into f32 constants at lowering."""
    import coremltools as ct
    from coremltools.models.neural_network import quantization_utils

    path, inputs, _ = model_zoo.get("layer_conv_bn_relu", "nn_fp32")
    model = ct.models.MLModel(str(path), skip_model_load=True)
    quantized = quantization_utils.quantize_weights(model, nbits=nbits, quantization_mode="linear")
    out = str(tmp_path / "quantized.mlmodel")
    quantized.save(out)
    module = mlir_coreml.load(out)
    assert any(op.op_name == "nn.dequantize" for op in module.walk())
    before, after = lower_and_compare(module, inputs, "nn-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= 1e-5
