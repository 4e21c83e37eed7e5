"""quantize-weights and compressed weights end to end: the numpy quantizers, the compressed
constants' reference semantics, the int8 kernel panels, zoo models within stated tolerances,
and coremltools-compressed models (NeuralNetwork and ML Program forms) imported compressed."""
import numpy as np
import pytest

from mlir_coreml.csrc import _kernels as K
from mlir_coreml.ir.interpreter import Interpreter
from mlir_coreml.passes._quantization import kmeans_1d, palettize, quantize_linear
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.quantized_panels import quantized_panels
from tests.passes.equivalence import ir_cases, parse, random_inputs, run

# Relative output error (||diff|| / ||fp32||) on the zoo's test input: 8-bit codes keep ~2.5
# significant digits per weight, errors average out over a layer; 4-bit LUTs and blocks lose more.
TOLERANCE = {"int8": 1e-2, "int4": 8e-2, "lut8": 1e-2, "lut4": 1.5e-1}
ZOO = ["resnet18_small", "mobilenet_v2_small", "transformer_small"]
QUANTIZED = ("core.dequantize", "core.lut_to_dense")


def quantized_ops(module):
    return [op for op in module.walk() if op.op_name in QUANTIZED]


def test_linear_quantizer_round_trips_within_half_a_step():
    w = np.random.default_rng(0).standard_normal((6, 5, 3, 3)).astype(np.float32)
    for symmetric in (True, False):
        for blocks in ((6, 1, 1, 1), (1, 1, 1, 1), (6, 5, 1, 1)):
            p = quantize_linear(w, 8, symmetric, blocks)
            scale = p["scale"]
            zero = p.get("zero_point", np.zeros_like(scale)).astype(np.float32)
            rep = lambda a: np.broadcast_to(  # noqa: E731
                np.repeat(np.repeat(a, w.shape[0] // a.shape[0], 0), w.shape[1] // a.shape[1], 1), w.shape)
            back = (p["data"].astype(np.float32) - rep(zero)) * rep(scale)
            assert np.all(np.abs(back - w) <= rep(scale) / 2 + 1e-6)


def test_kmeans_is_deterministic_and_optimal_on_clusters():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(c, 0.01, 100) for c in (-1.0, 0.0, 2.0, 5.0)])
    c1, i1 = kmeans_1d(values, 4)
    c2, i2 = kmeans_1d(values, 4)
    assert np.array_equal(c1, c2) and np.array_equal(i1, i2)
    np.testing.assert_allclose(c1, [-1.0, 0.0, 2.0, 5.0], atol=0.01)
    p = palettize(values.reshape(4, 100).astype(np.float32), 2, (4, 1))
    assert p["lut"].shape == (4, 1, 4) and p["indices"].dtype == np.uint8


# pipeline -> relative error allowed on the IR test's tiny weights (per-tensor 4 bits: 15 steps
# over the whole range; 2-bit LUT per channel: exact for channels of <= 4 distinct values)
IR_PIPELINES = {
    "quantize-weights{min-size=8 mode=linear-symmetric}": 1e-2,
    "quantize-weights{min-size=8 mode=linear granularity=per-tensor bits=4}": 1.5e-1,
    "quantize-weights{min-size=8 mode=lut bits=2}": 1e-5,
    "quantize-weights{min-size=8 mode=linear granularity=per-block block-size=2 bits=6}": 2e-2,
}


@pytest.mark.parametrize("pipeline", IR_PIPELINES)
def test_ir_cases_stay_close_and_round_trip(pipeline):
    from mlir_coreml.ir.printer import print_module
    from mlir_coreml.passes.manager import PassManager

    for text in ir_cases("tests/filecheck/precision/quantize_weights.mlir"):
        module = parse(text)
        after = module.clone()
        PassManager.from_pipeline(pipeline).run(after)
        args = random_inputs(module)
        for want, got in zip(run(module, args), run(after, args)):
            assert np.linalg.norm(got - want) <= IR_PIPELINES[pipeline] * np.linalg.norm(want)
        assert quantized_ops(after)
        printed = print_module(after)
        assert print_module(parse(printed)) == printed


def test_int8_panels_decode_as_the_reference():
    rng = np.random.default_rng(2)
    for isa in ("portable", "auto"):
        K.force_isa(isa)
        try:
            for m, k, n in ((13, 70, 37), (64, 300, 200)):
                q = rng.integers(-127, 128, (m, k)).astype(np.int8)
                scale, offset = rng.random(m).astype(np.float32), rng.standard_normal(m).astype(np.float32)
                x = rng.standard_normal((k, n)).astype(np.float32)
                w = q * scale[:, None] + offset[:, None]
                np.testing.assert_allclose(K.gemm(K.pack_quantized_weights(q, 1, scale, offset), x), w @ x,
                                           rtol=1e-4, atol=1e-3)
                u = rng.integers(0, 256, (m, k)).astype(np.uint8)
                np.testing.assert_allclose(K.gemm(K.pack_quantized_weights(u, 1, scale, offset), x),
                                           (u * scale[:, None] + offset[:, None]) @ x, rtol=1e-4, atol=1e-2)
                lut = rng.standard_normal((m, 16)).astype(np.float32)
                idx = rng.integers(0, 16, (m, k)).astype(np.uint8)
                packed = K.pack_quantized_weights(idx.view(np.int8), 1, lut=lut, lut_stride=16)
                np.testing.assert_allclose(K.gemm(packed, x), np.take_along_axis(lut, idx.astype(int), 1) @ x,
                                           rtol=1e-4, atol=1e-3)
                qc = rng.integers(-127, 128, (2 * m, 3, 3, 3)).astype(np.int8)
                s2 = rng.random(2 * m).astype(np.float32)
                xi = rng.standard_normal((1, 6, 9, 9)).astype(np.float32)
                ref = K.conv2d(xi, K.pack_conv_weights(qc * s2[:, None, None, None], 2, "fp32"), padding=1)
                np.testing.assert_allclose(K.conv2d(xi, K.pack_quantized_weights(qc, 2, s2), padding=1), ref,
                                           rtol=1e-4, atol=1e-3)
        finally:
            K.force_isa("auto")
    for nibbles_isa in ("portable", "auto"):  # 4-bit codes, two per byte
        K.force_isa(nibbles_isa)
        try:
            idx = rng.integers(0, 16, (13, 70)).astype(np.uint8)
            x = rng.standard_normal((70, 9)).astype(np.float32)
            lut = rng.standard_normal(16).astype(np.float32)
            packed = K.pack_quantized_weights(idx, 1, lut=lut, nibbles=True)
            assert packed.data.nbytes == 16 * 70 // 2
            np.testing.assert_allclose(K.gemm(packed, x), lut[idx] @ x, rtol=1e-4, atol=1e-3)
            small = rng.integers(0, 4, (13, 70)).astype(np.uint8)  # a 2-bit palette: the table is padded to 16
            np.testing.assert_allclose(K.gemm(K.pack_quantized_weights(small, 1, lut=lut[:4], nibbles=True), x),
                                       lut[:4][small] @ x, rtol=1e-4, atol=1e-3)
            s, o = rng.random(13).astype(np.float32), rng.random(13).astype(np.float32)
            np.testing.assert_allclose(K.gemm(K.pack_quantized_weights(idx, 1, s, o, nibbles=True), x),
                                       (idx * s[:, None] + o[:, None]) @ x, rtol=1e-4, atol=1e-3)
        finally:
            K.force_isa("auto")
    with pytest.raises(ValueError, match="does not cover the codes"):
        K.pack_quantized_weights(np.full((8, 8), 20, np.int8), 1, lut=np.zeros(16, np.float32))


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("precision", ["int8", "lut4"])
def test_zoo_models_within_tolerance(model_zoo, name, precision):
    path, inputs, _ = model_zoo.get(name, "nn_fp32")
    model = compile_model(str(path), precision=precision)
    report = model.precision_report(inputs)
    assert report.tensors and report.bytes_after * 3 < report.bytes_before
    assert max(d.relative for d in report.drift) <= TOLERANCE[precision]
    # what runs is what the IR says: the kernels agree with fp32 as closely as the reference does
    got, ref = model.predict(inputs), compile_model(str(path)).predict(inputs)
    for key, want in ref.items():
        assert np.linalg.norm(got[key] - want) / np.linalg.norm(want) <= TOLERANCE[precision] * 1.5
    assert "top-1 agreement" in report.to_text() or not report.top1_agreement


@pytest.mark.parametrize("precision,ratio", [("int8", 0.27), ("lut4", 0.14)])
def test_resident_weights_are_the_codes(model_zoo, precision, ratio):
    path, _, _ = model_zoo.get("resnet18_small", "nn_fp32")
    model = compile_model(str(path), precision=precision)
    weights = [op.results[0] for op in quantized_ops(model.module)]
    packed = [quantized_panels(v, 1) for v in weights]
    assert packed and all(p is not None and p.quantized for p in packed)
    fp32 = sum(v.type.num_elements * 4 for v in weights)
    assert sum(p.nbytes for p in packed) <= ratio * fp32


@pytest.fixture(scope="module")
def compressed_models(tmp_path_factory):
    """coremltools-compressed models of one small conv net: ML Program (iOS16 and iOS18 ops) and
    NeuralNetwork (quantization_utils), with the network's fp32 input and output."""
    ct = pytest.importorskip("coremltools")
    torch = pytest.importorskip("torch")
    import coremltools.optimize.coreml as cto
    from coremltools.models.neural_network.quantization_utils import quantize_weights

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(16 * 8 * 8, 10)).eval()
    x = torch.rand(1, 3, 8, 8)
    traced = torch.jit.trace(net, x)
    spec = [ct.TensorType(name="x", shape=x.shape)]
    d = tmp_path_factory.mktemp("compressed")
    paths = {}
    for target in ("iOS16", "iOS18"):
        ml = ct.convert(traced, inputs=spec, convert_to="mlprogram", compute_precision=ct.precision.FLOAT32,
                        minimum_deployment_target=getattr(ct.target, target))
        configs = {"linear": cto.OpLinearQuantizerConfig(mode="linear_symmetric", weight_threshold=100),
                   "lut": cto.OpPalettizerConfig(nbits=4, mode="kmeans", weight_threshold=100)}
        if target == "iOS18":
            configs = {"linear": cto.OpLinearQuantizerConfig(mode="linear", dtype="int4", granularity="per_block",
                                                             block_size=16, weight_threshold=100),
                       "lut": cto.OpPalettizerConfig(nbits=4, mode="kmeans", granularity="per_grouped_channel",
                                                     group_size=4, weight_threshold=100)}
        paths[f"{target}_plain"] = d / f"{target}_plain.mlpackage"
        ml.save(str(paths[f"{target}_plain"]))
        for kind, config in configs.items():
            optimize = cto.linear_quantize_weights if kind == "linear" else cto.palettize_weights
            paths[f"{target}_{kind}"] = d / f"{target}_{kind}.mlpackage"
            optimize(ml, cto.OptimizationConfig(global_config=config)).save(str(paths[f"{target}_{kind}"]))
    nn = ct.convert(traced, inputs=spec, convert_to="neuralnetwork")
    for bits, mode in ((8, "linear"), (6, "linear"), (4, "linear_lut"), (2, "linear_lut")):
        paths[f"nn_{bits}_{mode}"] = d / f"nn_{bits}_{mode}.mlmodel"
        quantize_weights(nn, bits, mode).save(str(paths[f"nn_{bits}_{mode}"]))
    return paths, x.numpy(), net(x).detach().numpy()


COMPRESSED = ["iOS16_linear", "iOS16_lut", "iOS18_linear", "iOS18_lut", "nn_8_linear", "nn_6_linear",
              "nn_4_linear_lut", "nn_2_linear_lut"]


@pytest.mark.parametrize("key", COMPRESSED)
def test_compressed_models_import_compressed_and_run(compressed_models, key, tmp_path):
    import coremltools as ct

    import mlir_coreml
    from mlir_coreml.codegen.mlmodel_writer import export_model

    paths, x, _ = compressed_models
    path = str(paths[key])
    model = compile_model(path)
    assert quantized_ops(model.module), "the weights stay compressed in core"
    # the kernels (int8 panels where the parameters are per channel) agree with the format's
    # own dequantization, run by the reference interpreter on the imported dialect
    imported = mlir_coreml.load(path)
    want = Interpreter(imported).call(None, [x])[0]
    got = next(iter(model.predict({"x": x}).values()))
    np.testing.assert_allclose(got, np.asarray(want).reshape(got.shape), rtol=1e-3, atol=1e-3)
    # exported as imported (compressed), loadable by coremltools, re-imported to the same IR
    out = tmp_path / ("out.mlmodel" if path.endswith(".mlmodel") else "out.mlpackage")
    export_model(imported, out, "mlmodel" if path.endswith(".mlmodel") else "mlpackage")
    ct.models.MLModel(str(out), skip_model_load=True)
    again = compile_model(str(out))
    assert [op.op_name for op in quantized_ops(again.module)] == [op.op_name for op in quantized_ops(model.module)]
    np.testing.assert_array_equal(next(iter(again.predict({"x": x}).values())), got)


EXPORTS = [("nn_fp32", "mlmodel", "quantize-weights{mode=linear-symmetric}"),
           ("nn_fp32", "mlmodel", "quantize-weights{mode=linear bits=6}"),
           ("nn_fp32", "mlmodel", "quantize-weights{mode=lut bits=4}"),
           ("nn_fp16", "mlmodel", "quantize-weights{mode=linear}"),
           ("mlprogram", "mlpackage", "quantize-weights{mode=linear-symmetric}"),
           ("mlprogram", "mlpackage", "quantize-weights{mode=lut bits=2}")]


def _export_and_reimport(module, pipeline, out, emit):
    import coremltools as ct

    import mlir_coreml
    from mlir_coreml.codegen.mlmodel_writer import export_model
    from mlir_coreml.ir.printer import print_module
    from mlir_coreml.passes.manager import PassManager

    PassManager.from_pipeline(pipeline).run(module)
    export_model(module, out, emit)
    model = ct.models.MLModel(str(out), skip_model_load=True)
    if emit == "mlpackage":  # coremltools' own MIL reader type-checks every op
        from coremltools.converters.mil.frontend.milproto.load import load as milproto_load

        spec = model.get_spec()
        program = milproto_load(spec, spec.specificationVersion, model.weights_dir)
        assert any(op.op_type.startswith("constexpr_") for op in program.functions["main"].operations)
    again = mlir_coreml.load(str(out))
    assert print_module(again) == print_module(module)
    return again


@pytest.mark.parametrize("form,emit,pipeline", EXPORTS)
def test_quantized_export_loads_in_coremltools_and_reimports(model_zoo, tmp_path, form, emit, pipeline):
    import mlir_coreml

    path, inputs, _ = model_zoo.get("resnet18_small", form)
    module = mlir_coreml.load(str(path))
    x = list(inputs.values())
    want = np.asarray(Interpreter(module).call(None, x)[0])
    again = _export_and_reimport(module, pipeline, tmp_path / f"q.{emit}", emit)
    got = np.asarray(Interpreter(again).call(None, x)[0])
    assert np.array_equal(got, np.asarray(Interpreter(module).call(None, x)[0]))
    assert np.linalg.norm(got - want) <= 0.5 * np.linalg.norm(want)  # 2-bit palettes drift most
    # and it runs compressed: the same codes reach the kernels
    compiled = compile_model(str(tmp_path / f"q.{emit}"))
    assert quantized_ops(compiled.module)
    out = next(iter(compiled.predict(inputs).values()))
    np.testing.assert_allclose(out, got.reshape(out.shape), rtol=1e-3, atol=1e-3)


IOS18_PIPELINES = ["quantize-weights{mode=linear-symmetric bits=4 granularity=per-block block-size=16 min-size=100}",
                   "quantize-weights{mode=linear min-size=100}",
                   "quantize-weights{mode=lut bits=4 min-size=100}"]


@pytest.mark.parametrize("pipeline", IOS18_PIPELINES)
def test_ios18_quantized_export(compressed_models, tmp_path, pipeline):
    import mlir_coreml

    paths, x, _ = compressed_models
    module = mlir_coreml.load(str(paths["iOS18_plain"]))
    want = np.asarray(Interpreter(module).call(None, [x])[0])
    again = _export_and_reimport(module, pipeline, tmp_path / "q.mlpackage", "mlpackage")
    got = np.asarray(Interpreter(again).call(None, [x])[0])
    assert np.linalg.norm(got - want) <= 0.15 * np.linalg.norm(want)


def test_cli_lower_quantized_and_run_report(model_zoo, tmp_path):
    import json
    import subprocess
    import sys

    path, inputs, _ = model_zoo.get("mlp", "nn_fp32")
    out = tmp_path / "q.mlmodel"
    cmd = [sys.executable, "-m", "mlir_coreml", "lower", str(path), "-o", str(out), "--emit", "mlmodel",
           "-p", "quantize-weights{mode=lut bits=4 min-size=16}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert any(op.op_name == "core.lut_to_dense" for op in compile_model(str(out)).module.walk())
    npz, report = tmp_path / "in.npz", tmp_path / "report.json"
    np.savez(npz, **inputs)
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "run", str(path), "--inputs", str(npz),
                           "--precision", "int8", "--report", str(report)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["precision"] == "int8" and {t["after"] for t in data["tensors"]} == {"i8"}
    assert data["bytes_after"] * 3 < data["bytes_before"] and data["drift"]
    bad = tmp_path / "bad.mlmodel"
    proc = subprocess.run(cmd[:6] + [str(bad)] + cmd[7:-1] + ["quantize-weights{bits=5}"],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "bits must be 8, 6, 4 or 2" in proc.stderr and "Traceback" not in proc.stderr
    assert not bad.exists()
