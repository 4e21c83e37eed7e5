"""Every layer kind survives `lower`: the per-layer models of tests/frontend/test_mlmodel_import.py
(builder- and PyTorch-made, several ranks, shapes and parameters, fixed seeds) are lowered to
`.mlmodelc` as they run, read back by our own bundle reader, and must give the source's outputs
both on the reference interpreter (espresso dialect) and through espresso-to-core and the
executor's kernels.

The per-layer tests are collected again here with their parametrization; an autouse fixture
wraps their `read` / `run_module` so that every model read from an `.mlmodel` and run also goes
through a bundle."""
import itertools

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.frontend.mlmodelc import read as read_bundle
from mlir_coreml.ir.dialects import espresso_forms
from mlir_coreml.ir.dialects.nn.base import NNLayer
from mlir_coreml.ir.interpreter import run_module as interpret
from tests.frontend import test_mlmodel_import as per_layer

# values that cannot match draw for draw (numpy's generator, seeded per layer)
RANDOM_KINDS = per_layer.RANDOM_KINDS

SEMANTIC_TESTS = sorted({name.split("[")[0] for name in per_layer.semantic_coverage()})
globals().update({name: getattr(per_layer, name) for name in SEMANTIC_TESTS})

_bundled_kinds: set = set()
_counter = itertools.count()


def _compare(got, want, random: bool, what: str):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.size == w.size, f"{what}: {g.shape} vs source {w.shape}"
        if random:
            continue
        g = g.reshape(w.shape)
        if w.dtype.kind != "f":
            np.testing.assert_array_equal(g, w, err_msg=what)
            continue
        finite = np.isfinite(w)
        np.testing.assert_array_equal(np.where(finite, 0, g), np.where(finite, 0, w), err_msg=what)
        if finite.any():
            err = per_layer.rel_err(g[finite], w[finite])
            assert err <= 1e-4, f"{what} differs from the source: {err:.2e}"


def _through_bundle(path, source, inputs, want, tmp_path):
    """Lower `path`, read the bundle back and run it two ways; both must match `want`."""
    kinds = {op.layer_kind for op in source.walk() if isinstance(op, NNLayer)}
    bundle = tmp_path / f"model{next(_counter)}.mlmodelc"
    lower_model(path, bundle)
    module = read_bundle(bundle)
    args = module.body.first_op.body.args
    named = inputs if isinstance(inputs, dict) else {a.name: x for a, x in zip(source.body.first_op.body.args, inputs)}
    arrays = [np.asarray(named[a.name]) for a in args]
    arrays = [x.reshape(a.type.shape) if a.type.is_static and x.size == a.type.num_elements else x
              for x, a in zip(arrays, args)]
    random = bool(kinds & RANDOM_KINDS)
    _compare(interpret(module, arrays), want, random, f"{bundle.name} (interpreter)")
    _bundled_kinds.update(kinds)
    if any(x.shape != tuple(a.type.shape or ()) for x, a in zip(arrays, args)):
        return bundle  # fed another sequence length than declared: the compiled plan is for the declared one
    compiled = mlir_coreml.compile_model(module, threads=1)
    got = compiled.runner.run([x.astype(t.element.numpy_dtype) for x, t in zip(arrays, compiled.inputs.values())])
    _compare(got, want, random, f"{bundle.name} (espresso-to-core)")
    return bundle


@pytest.fixture(autouse=True)
def through_bundles(monkeypatch, tmp_path, request):
    sources: dict[int, tuple] = {}
    original_read, original_run = per_layer.read, per_layer.run_module

    def read(path, *args, **kwargs):
        module = original_read(path, *args, **kwargs)
        sources[id(module)] = (path, module)
        return module

    def run_module(module, inputs):
        want = original_run(module, inputs)
        if id(module) in sources:
            _through_bundle(sources[id(module)][0], module, inputs, want, tmp_path)
        return want

    monkeypatch.setattr(per_layer, "read", read)
    monkeypatch.setattr(per_layer, "run_module", run_module)
    _bundled_kinds.clear()
    yield
    table = per_layer.semantic_coverage()
    declared = table.get(request.node.name, table.get(request.node.originalname, frozenset()))
    missed = declared - _bundled_kinds
    assert not missed, f"{request.node.name}: {sorted(missed)} never went through a bundle"


def test_every_layer_kind_goes_through_a_bundle():
    covered = set().union(*per_layer.semantic_coverage().values())
    assert covered == set(per_layer.LAYER_OPS)


def test_a_foreign_layer_of_an_inferred_type_is_not_run_as_ours():
    """An Apple-internal `squeeze` (catalogue example: axes 3, 4, nd_axis, version) lacks our
    `nn_layer_kind` key: it stays an unknown layer."""
    from mlir_coreml.ir.dialects import espresso
    from mlir_coreml.ir.opdef import build
    from mlir_coreml.ir.types import F32, TensorType

    x = build(espresso.GenericLayerOp, [], [TensorType((1, 4, 1, 1), F32)], {"layer_type": "load_constant"})
    fields = {"size_of_axes": 2, "axes_0": 3, "axes_1": 4, "nd_axis": 0, "version": 1}
    foreign = build(espresso.GenericLayerOp, [x.results[0]], [TensorType((4,), F32)], {"layer_type": "squeeze", **fields})
    ours = build(espresso.GenericLayerOp, [x.results[0]], [TensorType((4,), F32)],
                 {"layer_type": "squeeze", "nn_layer_kind": "squeeze", **fields})
    assert not espresso_forms.is_inferred_layer(foreign) and espresso_forms.is_inferred_layer(ours)
    assert espresso_forms.decode_params(ours.fields())["axes"] == [3, 4]


def test_every_kind_has_a_distinct_inferred_type():
    types = {espresso_forms.espresso_type_of(kind) for kind in per_layer.LAYER_OPS}
    assert len(types) == len(per_layer.LAYER_OPS)
    assert all(espresso_forms.kind_of(espresso_forms.espresso_type_of(k)) == k for k in per_layer.LAYER_OPS)


def test_layer_notes_list_every_kind_with_its_form():
    """docs/espresso-layers.md has one row per layer kind; an inferred row names the type written."""
    from pathlib import Path

    notes = Path(__file__).resolve().parents[2] / "docs" / "espresso-layers.md"
    rows = {}
    for line in notes.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    assert set(rows) == set(per_layer.LAYER_OPS)
    for kind, (form, evidence) in rows.items():
        assert evidence in ("paired", "seen", "inferred", "inferred (type seen)", "inferred (type paired)") or "/" in evidence, kind
        if evidence.startswith("inferred"):
            assert f"`{espresso_forms.espresso_type_of(kind)}`" in form, kind


def test_lower_warns_once_with_the_inferred_forms(tmp_path, capsys):
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    import coremltools as ct

    from mlir_coreml.cli import main

    builder = NeuralNetworkBuilder([("x", datatypes.Array(2, 3))], [("y", None)], disable_rank5_shape_mapping=True)
    builder.add_gelu("g", "x", "g_out")
    builder.add_transpose("t", [1, 0], "g_out", "t_out")
    builder.add_softmax_nd("s", "t_out", "y", axis=-1)
    path = tmp_path / "m.mlmodel"
    ct.utils.save_spec(builder.spec, str(path))
    assert main(["lower", str(path), "-o", str(tmp_path / "m.mlmodelc")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ") and str(path) in err[0]
    assert err[0].endswith("inferred espresso forms (no Apple-compiled bundle shows them; "
                           "see docs/espresso-layers.md): gelu, transpose (ND)")  # softmax_nd: paired


# (input C, H, W), kernel, stride, symmetric pad (top, left), kind, exclude_pad_area
CEIL_POOLS = [((3, 7, 7), (3, 3), (2, 2), (0, 0), "MAX", True),
              ((2, 8, 9), (3, 2), (2, 3), (1, 1), "MAX", True),
              ((2, 6, 6), (2, 2), (2, 2), (1, 0), "AVERAGE", True),
              ((4, 9, 5), (3, 3), (2, 2), (1, 1), "AVERAGE", False),
              ((1, 5, 8), (4, 3), (3, 2), (0, 1), "AVERAGE", False)]


@pytest.mark.parametrize("shape, kernel, stride, pads, kind, exclude", CEIL_POOLS)
def test_ceil_mode_pooling_is_written_as_pool(tmp_path, shape, kernel, stride, pads, kind, exclude):
    """`includeLastPixel` (Caffe's ceil rule, SqueezeNet) is espresso's `pool` with top_shape_style 2."""
    import json

    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    import coremltools as ct

    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], [("y", None)])
    builder.add_pooling("pool", kernel[0], kernel[1], stride[0], stride[1], kind, "INCLUDE_LAST_PIXEL", "x", "y",
                        exclude_pad_area=exclude, padding_top=pads[0], padding_bottom=pads[0],
                        padding_left=pads[1], padding_right=pads[1])
    path = tmp_path / "pool.mlmodel"
    ct.utils.save_spec(builder.spec, str(path))
    source = per_layer.read(str(path))
    x = np.random.RandomState(sum(shape)).randn(1, 1, *shape).astype(np.float32)
    want = interpret(source, {"x": x})
    bundle = _through_bundle(str(path), source, {"x": x}, want, tmp_path)
    layer = json.loads((bundle / "model.espresso.net").read_text())["layers"][0]
    assert layer["type"] == "pool" and layer["top_shape_style"] == 2


# (input C, H, W), output channels, kernel, stride, border mode, groups, outputShape, bias
DECONVOLUTIONS = [((4, 5, 5), 6, (3, 3), (2, 2), "valid", 1, None, True),
                  ((4, 4, 6), 4, (2, 3), (1, 2), "same", 2, None, False),
                  ((2, 3, 3), 3, (3, 3), (2, 2), "valid", 1, (8, 7), True),
                  ((6, 4, 4), 6, (4, 4), (2, 2), "same", 3, None, True)]


@pytest.mark.parametrize("shape, c_out, kernel, stride, mode, groups, out_shape, bias", DECONVOLUTIONS)
def test_deconvolution_is_written_as_deconvolution(tmp_path, shape, c_out, kernel, stride, mode, groups, out_shape,
                                                   bias):
    import json

    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    import coremltools as ct

    rng = np.random.RandomState(sum(shape) + c_out)
    weights = rng.randn(kernel[0], kernel[1], shape[0], c_out // groups).astype(np.float32)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], [("y", None)])
    builder.add_convolution("up", shape[0], c_out, kernel[0], kernel[1], stride[0], stride[1], mode, groups,
                            weights, rng.randn(c_out).astype(np.float32) if bias else None, bias, is_deconv=True,
                            output_shape=out_shape, input_name="x", output_name="y")
    path = tmp_path / "deconv.mlmodel"
    ct.utils.save_spec(builder.spec, str(path))
    source = per_layer.read(str(path))
    x = rng.randn(1, 1, *shape).astype(np.float32)
    bundle = _through_bundle(str(path), source, {"x": x}, interpret(source, {"x": x}), tmp_path)
    layer = json.loads((bundle / "model.espresso.net").read_text())["layers"][0]
    assert layer["type"] == "deconvolution" and layer["K"] == shape[0] and layer["C"] == c_out


ACTIVATIONS = [("RELU", None), ("TANH", None), ("SIGMOID", None), ("LEAKYRELU", [0.3]), ("LINEAR", [0.5, -1.0]),
               ("SIGMOID_HARD", [0.25, 0.4]), ("SCALED_TANH", [1.7, 0.6]), ("ELU", 0.8),
               ("THRESHOLDEDRELU", 0.2), ("SOFTPLUS", None), ("SOFTSIGN", None),
               ("PRELU", np.array([0.1, -0.2, 0.3], np.float32)),
               ("PARAMETRICSOFTPLUS", [np.array([0.5, 1.0, 2.0], np.float32), np.array([1.0, 0.7, 0.2], np.float32)])]


UNARIES = [("sqrt", {}), ("rsqrt", {"epsilon": 0.0}), ("rsqrt", {}), ("abs", {}), ("log", {}), ("exp", {}),
           ("inverse", {"epsilon": 0.0}), ("threshold", {"alpha": 0.3}), ("power", {"alpha": 2.0}),
           ("abs", {"shift": 0.5, "scale": 2.0})]


@pytest.mark.parametrize("shape", [(3,), (3, 4, 5)], ids=["C", "CHW"])
def test_activations_and_constant_elementwise_through_bundles(tmp_path, shape):
    """Every activation kind (modes from the samples, from third-party tables, or inferred), unary
    functions and add/multiply with a constant, on rank-1 and rank-3 inputs."""
    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    import coremltools as ct

    builder = NeuralNetworkBuilder([("x", datatypes.Array(*shape))], [(f"a{i}", None) for i in range(len(ACTIVATIONS))]
                                   + [(f"u{i}", None) for i in range(len(UNARIES))] + [("plus", None), ("times", None)])
    for i, (kind, params) in enumerate(ACTIVATIONS):
        builder.add_activation(f"act{i}", kind, "x", f"a{i}", params=params)
    for i, (mode, kwargs) in enumerate(UNARIES):
        builder.add_unary(f"un{i}", "x", f"u{i}", mode=mode, **kwargs)
    builder.add_elementwise("add_c", ["x"], "plus", "ADD", alpha=1.5)
    builder.add_elementwise("mul_c", ["x"], "times", "MULTIPLY", alpha=-0.75)
    path = tmp_path / "acts.mlmodel"
    ct.utils.save_spec(builder.spec, str(path))
    source = per_layer.read(str(path))
    x = np.random.RandomState(len(shape)).randn(1, 1, *shape, *((1, 1) if len(shape) == 1 else ())).astype(np.float32)
    _through_bundle(str(path), source, {"x": x}, interpret(source, {"x": x}), tmp_path)


@pytest.mark.parametrize("compute_mean_var, instance", [(False, False), (True, True)])
def test_standalone_batchnorm_through_bundles(tmp_path, compute_mean_var, instance):
    """A batchnorm with no convolution to fold into: espresso's `batchnorm` with its statistics
    as params; the variants computing statistics at run time take the inferred form."""
    import json

    from coremltools.models import datatypes
    from coremltools.models.neural_network import NeuralNetworkBuilder
    import coremltools as ct

    rng = np.random.RandomState(3)
    c = 4
    gamma, beta, mean = rng.randn(c), rng.randn(c), rng.randn(c)
    variance = rng.uniform(0.5, 2.0, c)
    builder = NeuralNetworkBuilder([("x", datatypes.Array(c, 3, 5))], [("y", None)])
    builder.add_activation("pre", "TANH", "x", "t")
    builder.add_batchnorm("bn", c, gamma, beta, mean, variance, "t", "y", compute_mean_var=compute_mean_var,
                          instance_normalization=instance, epsilon=1e-3)
    path = tmp_path / "bn.mlmodel"
    ct.utils.save_spec(builder.spec, str(path))
    source = per_layer.read(str(path))
    x = rng.randn(1, 1, c, 3, 5).astype(np.float32)
    bundle = _through_bundle(str(path), source, {"x": x}, interpret(source, {"x": x}), tmp_path)
    layer = json.loads((bundle / "model.espresso.net").read_text())["layers"][1]
    assert layer["type"] == ("general_batchnorm" if compute_mean_var else "batchnorm")
