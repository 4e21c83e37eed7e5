"""Every ML Program form loads, runs like PyTorch and lowers to a bundle that predicts like its
source: a single-file `.mlmodel` with `weights/` beside it, pipelines of ML Programs (and mixed
with a NeuralNetwork stage), compressed weights (iOS16 constexpr ops, iOS18 blockwise and
sub-byte forms) that stay compressed in the bundle, and an iOS18 stateful model with
`predict(..., state=model.make_state())`.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model

ct = pytest.importorskip("coremltools")
torch = pytest.importorskip("torch")

from tests.models import zoo  # noqa: E402


class _Stage(torch.nn.Module):
    def __init__(self, n_in, n_out, act):
        super().__init__()
        self.linear, self.act = torch.nn.Linear(n_in, n_out), act

    def forward(self, x):
        return self.act(self.linear(x))


def _convert(module, shape, input_name, output_name, path=None, **kw):
    example = torch.rand(*shape)
    with zoo._quiet():
        model = ct.convert(torch.jit.trace(module, example), inputs=[ct.TensorType(name=input_name, shape=shape)],
                           outputs=[ct.TensorType(name=output_name)], **kw)
    if path is not None:
        model.save(str(path))
    return model


def _program(module, shape, input_name="x", output_name="y", path=None, target="iOS16"):
    return _convert(module, shape, input_name, output_name, path, minimum_deployment_target=getattr(ct.target, target),
                    compute_precision=ct.precision.FLOAT32)


def _predicts_like(path, bundle, inputs, want, tolerance=1e-5):
    for source in (path, bundle):
        got = mlir_coreml.compile_model(source).predict(inputs)
        for key, w in want.items():
            np.testing.assert_allclose(np.asarray(got[key]).reshape(w.shape), w, rtol=tolerance, atol=tolerance)


def test_single_file_ml_program_mlmodel(tmp_path):
    torch.manual_seed(1)
    module = _Stage(16, 8, torch.tanh).eval()
    package = tmp_path / "p.mlpackage"
    _program(module, (2, 16), path=package)
    folder = tmp_path / "single"
    folder.mkdir()
    shutil.copy(package / "Data" / "com.apple.CoreML" / "model.mlmodel", folder / "model.mlmodel")
    shutil.copytree(package / "Data" / "com.apple.CoreML" / "weights", folder / "weights")
    x = np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)
    want = {"y": module(torch.from_numpy(x)).detach().numpy()}
    bundle = tmp_path / "single.mlmodelc"
    lower_model(folder / "model.mlmodel", bundle)
    assert (bundle / "weights" / "weight.bin").read_bytes() == (folder / "weights" / "weight.bin").read_bytes()
    _predicts_like(folder / "model.mlmodel", bundle, {"x": x}, want)


@pytest.mark.parametrize("first", ["mlprogram", "neuralnetwork"])
def test_pipeline_of_ml_programs(tmp_path, first):
    torch.manual_seed(2)
    a, b = _Stage(16, 32, torch.relu).eval(), _Stage(32, 8, torch.sigmoid).eval()
    if first == "mlprogram":
        stage_a = _program(a, (1, 16), "x", "h")
    else:
        stage_a = _convert(a, (1, 16), "x", "h", convert_to="neuralnetwork")
    stage_b = _program(b, (1, 32), "h", "y")
    path = tmp_path / "pipeline.mlpackage"
    with zoo._quiet():
        ct.utils.make_pipeline(stage_a, stage_b).save(str(path))
    x = np.random.default_rng(0).standard_normal((1, 16)).astype(np.float32)
    want = {"y": b(a(torch.from_numpy(x))).detach().numpy()}
    bundle = tmp_path / "pipeline.mlmodelc"
    lower_model(path, bundle)
    assert (bundle / "model1" / "model.mil").is_file() and (bundle / "model1" / "coremldata.bin").is_file()
    assert (bundle / "model0" / ("model.mil" if first == "mlprogram" else "model.espresso.net")).is_file()
    meta = json.loads((bundle / "metadata.json").read_text())[0]
    kinds = {"mlprogram": "MLModelType_mlProgram", "neuralnetwork": "MLModelType_neuralNetwork"}
    assert meta["modelType"] == {"name": "MLModelType_pipeline",
                                 "structure": [{"name": kinds[first]}, {"name": "MLModelType_mlProgram"}]}
    _predicts_like(path, bundle, {"x": x}, want, 1e-4)


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.linear = torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.Linear(16 * 8 * 8, 32)

    def forward(self, x):
        return self.linear(torch.relu(self.conv(x)).flatten(1))


def _compressions():
    import coremltools.optimize.coreml as cto

    return {
        "int8": (cto.linear_quantize_weights,
                 cto.OpLinearQuantizerConfig(mode="linear_symmetric", weight_threshold=0)),
        "palette4": (cto.palettize_weights, cto.OpPalettizerConfig(nbits=4, weight_threshold=0)),
        "sparse": (cto.prune_weights, cto.OpMagnitudePrunerConfig(target_sparsity=0.5, weight_threshold=0)),
        "int4-blocks": (cto.linear_quantize_weights,
                        cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int4", granularity="per_block",
                                                    block_size=8, weight_threshold=0)),
    }


COMPRESSED = [("iOS16", "int8", "constexpr_affine_dequantize"), ("iOS16", "palette4", "constexpr_lut_to_dense"),
              ("iOS16", "sparse", "constexpr_sparse_to_dense"), ("iOS18", "int8", "constexpr_blockwise_shift_scale"),
              ("iOS18", "palette4", "constexpr_lut_to_dense"), ("iOS18", "sparse", "constexpr_sparse_to_dense"),
              ("iOS18", "int4-blocks", "constexpr_blockwise_shift_scale")]


@pytest.fixture(scope="module")
def uncompressed():
    """target -> (torch module, its ML Program): one conversion per target for all compressions."""
    cache = {}

    def get(target):
        if target not in cache:
            torch.manual_seed(3)
            module = _Net().eval()
            cache[target] = module, _program(module, (1, 8, 8, 8), target=target)
        return cache[target]

    return get


@pytest.mark.parametrize("target, kind, op", COMPRESSED, ids=[f"{t}-{k}" for t, k, _ in COMPRESSED])
def test_compressed_weights_stay_compressed(tmp_path, uncompressed, target, kind, op):
    import coremltools.optimize.coreml as cto

    module, model = uncompressed(target)
    compress, config = _compressions()[kind]
    path = tmp_path / "q.mlpackage"
    with zoo._quiet():
        compress(model, cto.OptimizationConfig(global_config=config)).save(str(path))
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 8)).astype(np.float32)
    # the reference interpreter on the imported (still compressed) program is the oracle
    from mlir_coreml.ir.interpreter import run_module

    want = {"y": np.asarray(run_module(mlir_coreml.load(path), [x])[0])}
    if kind != "sparse":  # quantization is lossy, not wrong (pruning half the weights is neither)
        close = np.abs(want["y"] - module(torch.from_numpy(x)).detach().numpy()).max() / np.abs(want["y"]).max()
        assert close < 0.2
    bundle = tmp_path / "q.mlmodelc"
    lower_model(path, bundle)
    text = (bundle / "model.mil").read_text()
    assert f"= {op}(" in text and "BLOBFILE" in text
    if kind == "int4-blocks":
        assert "tensor<int4, [" in text
    source_weights = path / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    assert (bundle / "weights" / "weight.bin").read_bytes() == source_weights.read_bytes()
    assert "storagePrecision" in json.loads((bundle / "metadata.json").read_text())[0]
    _predicts_like(path, bundle, {"x": x}, want, 1e-4)
    exported = tmp_path / "exported.mlpackage"  # and back to Apple's source format, still compressed
    lower_model(path, exported, emit="mlpackage")
    assert (exported / "Data" / "com.apple.CoreML" / "weights" / "weight.bin").read_bytes() == \
        source_weights.read_bytes()
    _predicts_like(exported, bundle, {"x": x}, want, 1e-4)


class _Accumulator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("acc", torch.zeros(1, 4))
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x):
        self.acc.add_(self.linear(x))
        return self.acc * 2


def test_stateful_model(tmp_path):
    torch.manual_seed(4)
    module = _Accumulator().eval()
    with zoo._quiet():
        traced = torch.jit.trace(module, torch.rand(1, 4), check_trace=False)
        model = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=(1, 4))], outputs=[ct.TensorType(name="y")],
                           states=[ct.StateType(wrapped_type=ct.TensorType(shape=(1, 4), dtype=np.float16), name="acc")],
                           minimum_deployment_target=ct.target.iOS18)
    path = tmp_path / "state.mlpackage"
    model.save(str(path))
    module.acc.zero_()
    bundle = tmp_path / "state.mlmodelc"
    lower_model(path, bundle)
    assert "state<tensor<fp16, [1, 4]>> acc" in (bundle / "model.mil").read_text()
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.printer import print_module

    text = print_module(mlir_coreml.load(path))
    assert "state<tensor<1x4xf16>>" in text and print_module(parse_module(text)) == text
    xs = np.random.default_rng(0).standard_normal((3, 1, 4)).astype(np.float32)
    with torch.no_grad():
        want = [module(torch.from_numpy(x)).numpy() for x in xs]
    for source in (path, bundle):
        compiled = mlir_coreml.compile_model(source)
        assert list(compiled.inputs) == ["x"] and compiled.output_names == ["y"]
        state = compiled.make_state()
        for x, w in zip(xs, want):  # the state carries over from one prediction to the next
            np.testing.assert_allclose(compiled.predict({"x": x}, state=state)["y"], w, rtol=2e-2, atol=2e-2)
        np.testing.assert_allclose(state.read_state("acc"), want[-1] / 2, rtol=2e-2, atol=2e-2)
        state.write_state("acc", np.zeros((1, 4)))
        np.testing.assert_allclose(compiled.predict({"x": xs[0]}, state=state)["y"], want[0], rtol=2e-2, atol=2e-2)
