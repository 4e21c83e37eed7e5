"""`.mlmodel` (NeuralNetwork) import: the `nn` dialect, its reference semantics, and bad input.

* the four Apple sample source models import, verify and print -> parse -> print identically;
* small PyTorch models converted by coremltools (convert_to="neuralnetwork") run in the
  reference interpreter and match PyTorch (relative max error <= 1e-4);
* fp16 / 8-bit linear / n-bit LUT weights import in their stored form (`nn.dequantize`);
* classic rank-5 layers built with NeuralNetworkBuilder match independent numpy code;
* every one of the 158 layer kinds is checked by some test against an independent computation
  (tests declare the kinds they check; see `checks` and test_every_layer_kind_has_a_semantic_test);
* truncated, random, non-model and hostile files raise MlirCoremlError naming file and layer.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ct = pytest.importorskip("coremltools")
import torch.nn.functional as F  # noqa: E402
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402
from coremltools.models.neural_network import quantization_utils  # noqa: E402

from mlir_coreml.errors import MlirCoremlError  # noqa: E402
import mlir_coreml  # noqa: E402
from mlir_coreml.frontend.mlmodel import read, read_bytes  # noqa: E402
from mlir_coreml.ir.dialects.nn import LAYER_OPS  # noqa: E402
from mlir_coreml.ir.dialects.nn.base import NNLayer  # noqa: E402
from mlir_coreml.ir.interpreter import run_module as interpret  # noqa: E402
from mlir_coreml.ir.parser import parse_module  # noqa: E402
from mlir_coreml.ir.printer import print_module  # noqa: E402
from mlir_coreml.ir.verifier import verify  # noqa: E402

from tests.samples import SOURCE_MODELS

SAMPLES = [str(p) for p in SOURCE_MODELS]


def rel_err(got, want):
    want = np.asarray(want, np.float64)
    got = np.asarray(got, np.float64).reshape(want.shape)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def ops_of(module):
    return [op for op in module.walk() if op.op_name.startswith("nn.")]


def roundtrip(module, generic=False):
    text = print_module(module, generic=generic)
    again = parse_module(text)
    verify(again)
    assert print_module(again, generic=generic) == text


# -- which layer kinds each test checks ---------------------------------------------------------
#
# A test that checks layers' reference semantics against an independent computation (PyTorch, or
# numpy written in the test) declares the kinds it checks: `@checks(...)` on the test function, or
# the last entry of a TORCH_CASES / ND_CASES case. semantic_coverage() gathers them into one table;
# test_every_layer_kind_has_a_semantic_test requires it to cover all 158 kinds, and the autouse
# fixture below keeps declarations honest: a test must run a model containing every kind it declares.

CHECKED: dict[str, frozenset] = {}  # test function name -> layer kinds


def checks(*kinds):
    def declare(test):
        CHECKED[test.__name__] = frozenset(kinds)
        return test
    return declare


_kinds_run: set = set()


# Kinds whose values the kernel path cannot reproduce bit for bit from the reference: random draws.
RANDOM_KINDS = frozenset({"randomNormal", "randomNormalLike", "randomNormalStatic", "randomUniform",
                          "randomUniformLike", "randomUniformStatic", "randomBernoulli", "randomBernoulliLike",
                          "randomBernoulliStatic", "categoricalDistribution"})


def run_module(module, inputs):
    """The reference interpreter, noting which layer kinds ran; the same model also runs through
    the kernel path (nn-to-core, the executor's kernels) and must agree with it."""
    kinds = {op.layer_kind for op in module.walk() if isinstance(op, NNLayer)}
    _kinds_run.update(kinds)
    results = interpret(module, inputs)
    check_kernel_path(module, inputs, results, random=bool(kinds & RANDOM_KINDS))
    return results


def check_kernel_path(module, inputs, expected, random=False):
    compiled = mlir_coreml.compile_model(module, threads=1)
    # in argument order, as given (some tests feed the interpreter other batch sizes than declared)
    args = [np.asarray(inputs[name], dtype=t.element.numpy_dtype) for name, t in compiled.inputs.items()]
    got = compiled.runner.run(args)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g, e = np.asarray(g), np.asarray(e)
        assert g.size == e.size, f"kernel path: {g.shape} vs reference {e.shape}"
        g = g.reshape(e.shape)
        if random:
            continue
        if e.dtype.kind != "f":
            np.testing.assert_array_equal(g, e)
            continue
        finite = np.isfinite(e)
        np.testing.assert_array_equal(np.where(finite, 0, g), np.where(finite, 0, e))  # nan and inf alike
        if finite.any():
            err = rel_err(g[finite], e[finite])
            assert err <= 1e-4, f"kernel path differs from the reference: {err:.2e}"


@pytest.fixture(autouse=True)
def _declared_kinds_ran(request):
    _kinds_run.clear()
    yield
    table = semantic_coverage()
    declared = table.get(request.node.name, table.get(request.node.originalname, frozenset()))
    unrun = declared - _kinds_run
    assert not unrun, f"{request.node.name} declares {sorted(unrun)} but ran no model containing them"


# -- the dialect -------------------------------------------------------------------------------

def test_every_layer_kind_has_an_op():
    from mlir_coreml.frontend.proto import neural_network_pb2

    layer_oneof = neural_network_pb2.NeuralNetworkLayer.DESCRIPTOR.oneofs_by_name["layer"]
    kinds = {f.name for f in layer_oneof.fields}
    assert len(kinds) == 158
    assert kinds == set(LAYER_OPS)
    names = {cls.name for cls in LAYER_OPS.values()}
    assert len(names) == 158
    assert {"nn.convolution", "nn.inner_product", "nn.batchnorm", "nn.gather_nd", "nn.clamped_relu",
            "nn.flatten_to_2d", "nn.uni_directional_lstm", "nn.non_maximum_suppression"} <= names


def semantic_coverage() -> dict[str, frozenset]:
    """Test id -> the layer kinds whose semantics it checks (see `checks`)."""
    table = dict(CHECKED)
    for test, cases in (("test_torch_model_matches_interpreter", TORCH_CASES), ("test_nd_layer_semantics", ND_CASES)):
        table.update({f"{test}[{name}]": frozenset(case[-1]) for name, case in cases.items()})
    return table


# Kinds no test can check against an independent computation, with the reason. Keep it minimal.
UNCHECKED_KINDS: dict[str, str] = {}


def test_every_layer_kind_has_a_semantic_test():
    kinds = set(LAYER_OPS)  # all 158 (test_every_layer_kind_has_an_op)
    checked = set().union(*semantic_coverage().values())
    assert not checked - kinds, f"unknown layer kinds declared: {sorted(checked - kinds)}"
    stale = sorted(checked & set(UNCHECKED_KINDS))
    assert not stale, f"checked now, so drop from UNCHECKED_KINDS: {stale}"
    missing = sorted(kinds - checked - set(UNCHECKED_KINDS))
    assert not missing, f"{len(missing)} layer kinds lack a per-layer semantic test: {', '.join(missing)}"


def test_declared_attributes_match_the_schema():
    """Every attribute an nn op declares is a field of its params message, with the matching kind."""
    from google.protobuf.descriptor import FieldDescriptor as FD
    from mlir_coreml.frontend.proto import neural_network_pb2

    scalar = {FD.TYPE_FLOAT: "float", FD.TYPE_DOUBLE: "float", FD.TYPE_BOOL: "bool", FD.TYPE_STRING: "str",
              FD.TYPE_ENUM: "str"}
    layer = neural_network_pb2.NeuralNetworkLayer.DESCRIPTOR
    for kind, cls in LAYER_OPS.items():
        params = layer.fields_by_name[kind].message_type
        for name, definition in cls.attribute_defs.items():
            if name in ("weight_fields", "carried"):
                continue
            assert name in params.fields_by_name, f"{kind}.{name}"
            field = params.fields_by_name[name]
            if field.type == FD.TYPE_MESSAGE:
                want = "array" if field.is_repeated else "dict"
            else:
                want = scalar.get(field.type, "int")
                want = want + "s" if field.is_repeated else want
            assert definition.kind == want, f"{kind}.{name}: {definition.kind} vs {want}"


# -- Apple sample models -------------------------------------------------------------------------

@pytest.mark.parametrize("path", SAMPLES, ids=[p.split("/")[-3] for p in SAMPLES])
def test_sample_model_imports_and_roundtrips(path):
    from mlir_coreml.frontend.proto import model_pb2

    spec = model_pb2.Model()
    with open(path, "rb") as f:
        spec.ParseFromString(f.read())
    module = read(path)
    verify(module)
    layers = [op for op in ops_of(module) if op.op_name not in ("nn.dequantize", "nn.image_preprocess")]
    assert [op.location.name for op in layers] == [layer.name for layer in spec.neuralNetwork.layers]
    assert all(op.results[0].name == layer.output[0] for op, layer in zip(layers, spec.neuralNetwork.layers))
    fn = module.functions[0]
    assert [a.name for a in fn.arguments] == [f.name for f in spec.description.input]
    # Classic (rank-5) convention: an RGB image input is [1, 1, 3, H, W].
    img = spec.description.input[0].type.imageType
    assert fn.arguments[0].type.shape == (1, 1, 3, img.height, img.width)
    assert any(op.op_name == "nn.image_preprocess" for op in module.walk())
    roundtrip(module)


def test_sample_model_runs():
    path = [p for p in SAMPLES if "FourRecognize" in p][0]
    module = read(path)
    x = np.random.RandomState(0).uniform(0, 255, (1, 1, 3, 36, 80)).astype(np.float32)
    (out,) = run_module(module, {"input1": x})
    assert out.shape == (1, 1, 11, 1, 17)
    # the model ends in a channel softmax
    np.testing.assert_allclose(out.sum(axis=2), 1.0, rtol=1e-5)


# -- PyTorch models through coremltools ------------------------------------------------------------

def convert(tmp_path, name, module, *inputs):
    module.eval()
    traced = torch.jit.trace(module, inputs)
    mlmodel = ct.convert(traced, inputs=[ct.TensorType(name=f"x{i}", shape=x.shape) for i, x in enumerate(inputs)],
                         convert_to="neuralnetwork")
    path = str(tmp_path / f"{name}.mlmodel")
    mlmodel.save(path)
    return path


def check_against_torch(path, module, *inputs, tol=1e-4):
    imported = read(path)
    verify(imported)
    roundtrip(imported)
    outs = run_module(imported, {f"x{i}": x.numpy() for i, x in enumerate(inputs)})
    with torch.no_grad():
        want = module(*inputs)
    want = want if isinstance(want, (tuple, list)) else (want,)
    assert len(outs) == len(want)
    for got, ref in zip(outs, want):
        assert rel_err(got, ref.numpy()) <= tol
    return imported


class ConvNet(torch.nn.Module):
    """conv / bn / relu / pool / linear (bn after relu, so the converter cannot fold it)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8 * 4 * 4, 5)
        self.bn.running_mean.uniform_(-1, 1)
        self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x):
        y = F.max_pool2d(self.bn(torch.relu(self.conv(x))), 2)
        return self.fc(y.flatten(1))


class SpatialNet(torch.nn.Module):
    """strided, dilated depthwise and transposed convolutions, padded average pooling."""

    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8)
        self.t = torch.nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.g = torch.nn.Conv2d(4, 4, 1, groups=2, bias=False)

    def forward(self, x):
        y = F.leaky_relu(self.dw(torch.relu(self.c(x))), 0.1)
        y = F.avg_pool2d(y, 3, stride=1, padding=1)
        y = self.g(self.t(y))
        return torch.sigmoid(y.mean(dim=(2, 3)))


class ResampleNet(torch.nn.Module):
    def forward(self, x):
        a = F.interpolate(x, scale_factor=2, mode="nearest")
        b = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        c = F.interpolate(x, size=(10, 12), mode="bilinear", align_corners=True)
        return (torch.cat([a, b], 1), c, F.pad(x, (1, 2, 3, 0), mode="reflect"), F.pad(x, (1, 1, 1, 1), mode="replicate"),
                F.pad(x, (1, 1, 2, 2), value=0.5), F.pixel_shuffle(torch.cat([x, x, x, x], 1), 2))


class ActivationNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.prelu = torch.nn.PReLU(3)

    def forward(self, x):
        return (torch.tanh(x), F.elu(x, 0.7), F.softplus(x), F.hardsigmoid(x), F.gelu(x), self.prelu(x), F.relu6(x),
                F.softsign(x), F.selu(x), F.silu(x), F.hardtanh(x, -0.5, 0.5), torch.clamp(x, -0.2, 0.3))


class ElementwiseNet(torch.nn.Module):
    def forward(self, x, y):
        return (x + y, x - y, x * y, x / (y.abs() + 1), torch.maximum(x, y), torch.minimum(x, y), torch.exp(x),
                torch.log(x.abs() + 1), torch.sqrt(x.abs()), x ** 2, torch.rsqrt(x.abs() + 1), torch.floor(x),
                torch.ceil(x), torch.sin(x), torch.cos(x), (x > y).float(), torch.where(x > 0, x, y),
                torch.pow(x.abs(), y))


class ReduceNet(torch.nn.Module):
    def forward(self, x):
        return (x.sum(1), x.mean(-1, keepdim=True), x.amax(2), x.amin(0), torch.logsumexp(x, 1), x.norm(dim=1),
                torch.argmax(x, 1).float(), torch.softmax(x, 1), torch.log_softmax(x, -1), torch.cumsum(x, 1),
                torch.topk(x, 2, dim=-1)[0])


class ShapeNet(torch.nn.Module):
    def forward(self, x):
        b, c = torch.split(x, [1, 2], dim=1)
        return (x.permute(0, 2, 1).reshape(2, -1), b, c, torch.stack([x, x], 1), x[:, 1:3, ::2], x.flatten(1),
                x.repeat(1, 2, 1), x[:, torch.tensor([2, 0])], torch.tril(x[0]), x.transpose(1, 2).contiguous(),
                torch.flip(x, [1]), x.unsqueeze(1).squeeze(1))


class AttentionBlock(torch.nn.Module):
    """A transformer encoder layer written out (batched matmul, softmax, layer norm, gelu, split)."""

    def __init__(self, d=16, heads=2):
        super().__init__()
        self.qkv, self.out = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.n1, self.n2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.f1, self.f2 = torch.nn.Linear(d, 32), torch.nn.Linear(32, d)

    def forward(self, x):
        q, k, v = self.qkv(x).split(16, dim=-1)
        q, k, v = (t.reshape(1, 6, 2, 8).transpose(1, 2) for t in (q, k, v))
        a = torch.softmax(q @ k.transpose(-1, -2) * 0.3535533905932738, -1) @ v
        x = self.n1(x + self.out(a.transpose(1, 2).reshape(1, 6, 16)))
        return self.n2(x + self.f2(F.gelu(self.f1(x))))


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = AttentionBlock(), AttentionBlock()

    def forward(self, x):
        return self.b(self.a(x))


class Conv3dNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv3d(4, 6, 3, stride=(1, 2, 1), padding=1, groups=2)
        self.d = torch.nn.Conv3d(6, 2, (1, 3, 2), dilation=(1, 2, 1))

    def forward(self, x):
        y = self.c(x)
        return (self.d(y), F.max_pool3d(y, 2), F.avg_pool3d(y, 3, stride=1, padding=1),
                F.avg_pool3d(y, 3, stride=1, padding=1, count_include_pad=False))


class Recurrent(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        y, state = self.rnn(x)
        return (y,) + (tuple(state) if isinstance(state, tuple) else (state,))


TORCH_CASES = {
    "convnet": (ConvNet, [(1, 3, 8, 8)],
                ("activation", "batchnorm", "convolution", "innerProduct", "pooling", "reshapeStatic")),
    "spatial": (SpatialNet, [(1, 4, 16, 16)],
                ("activation", "convolution", "crop", "pooling", "reduceMean")),
    "resample": (ResampleNet, [(1, 3, 5, 6)],
                 ("concat", "padding", "reorganizeData", "upsample")),
    "activations": (ActivationNet, [(1, 3, 4, 5)],
                    ("activation", "add", "clip", "divideBroadcastable", "gelu", "multiply", "unary")),
    "elementwise": (ElementwiseNet, [(2, 3, 4), (3, 4)],
                    ("activation", "add", "ceil", "cos", "divideBroadcastable", "expandDims", "floor",
                     "greaterThan", "maxBroadcastable", "minBroadcastable", "multiply", "powBroadcastable",
                     "sin", "tile", "unary", "whereBroadcastable")),
    "reductions": (ReduceNet, [(2, 3, 4)],
                   ("activation", "argMax", "cumSum", "reduceL2", "reduceLogSumExp", "reduceMax", "reduceMean",
                    "reduceMin", "reduceSum", "softmaxND", "topK", "unary")),
    "shapes": (ShapeNet, [(2, 3, 4)],
               ("expandDims", "gather", "loadConstantND", "matrixBandPart", "reshapeStatic", "reverse",
                "slice", "sliceStatic", "splitND", "squeeze", "stack", "tile", "transpose")),
    "encoder": (Encoder, [(1, 6, 16)],
                ("add", "batchedMatmul", "gelu", "innerProduct", "multiply", "mvn", "reshapeStatic", "scale",
                 "softmaxND", "splitND", "transpose")),
    "lstm": (lambda: Recurrent(torch.nn.LSTM(5, 7)), [(4, 1, 5)],
             ("expandDims", "loadConstantND", "squeeze", "uniDirectionalLSTM")),
    "bilstm": (lambda: Recurrent(torch.nn.LSTM(5, 4, bidirectional=True)), [(4, 1, 5)],
               ("biDirectionalLSTM", "concat", "expandDims", "loadConstantND", "splitND", "squeeze", "stack")),
    "conv3d": (lambda: Conv3dNet(), [(1, 4, 5, 12, 7)],
               ("convolution3d", "pooling3d")),
}


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_torch_model_matches_interpreter(tmp_path, case):
    torch.manual_seed(0)
    make, shapes, _ = TORCH_CASES[case]
    module = make()
    inputs = [torch.randn(*s) for s in shapes]
    path = convert(tmp_path, case, module, *inputs)
    check_against_torch(path, module, *inputs)


DECONV3D_CASES = {
    # name: (in, out channels, kernel, groups, stride, padding mode,
    #        pads (front, back, top, bottom, left, right), outputShape, input [D, H, W])
    "groups_stride2_custom": (4, 6, (2, 3, 3), 2, (2, 2, 1), "custom", (1, 1, 1, 1, 0, 0), None, (3, 4, 5)),
    "asymmetric_custom": (3, 4, (3, 2, 3), 1, (1, 2, 2), "custom", (0, 2, 1, 0, 2, 1), None, (2, 3, 4)),
    "same": (3, 4, (3, 3, 3), 1, (2, 2, 2), "same", (0,) * 6, None, (2, 3, 4)),
    "valid_depthwise": (4, 4, (3, 2, 3), 4, (1, 2, 2), "valid", (0,) * 6, None, (2, 3, 4)),
    "output_shape": (2, 4, (3, 3, 3), 2, (2, 2, 2), "custom", (1,) * 6, (4, 6, 6), (2, 3, 3)),
}


@checks("convolution3d")
@pytest.mark.parametrize("case", list(DECONV3D_CASES))
def test_deconvolution3d_matches_torch(tmp_path, case):
    """Core ML crops the full transposed convolution: CUSTOM pads from each side, SAME to in * stride
    (the odd pixel off the back), an explicit outputShape from the front pad on."""
    cin, cout, kernel, groups, stride, padding, pads, out_shape, dims = DECONV3D_CASES[case]
    rng = np.random.RandomState(4)
    w = rng.randn(cin, cout // groups, *kernel).astype(np.float32)  # torch's [in, out / groups, k...]
    bias = rng.randn(cout).astype(np.float32)
    x = rng.randn(1, cin, *dims).astype(np.float32)
    builder = nd_builder([("x", x.shape)], ["y"])
    edges = dict(zip(("padding_front", "padding_back", "padding_top", "padding_bottom", "padding_left",
                      "padding_right"), pads))
    builder.add_convolution3d("deconv", cin, cout, *kernel, W=w.transpose(1, 0, 2, 3, 4), b=bias, has_bias=True,
                              groups=groups, stride_depth=stride[0], stride_height=stride[1], stride_width=stride[2],
                              is_deconv=True, output_shape=out_shape, padding_mode=padding, input_name="x",
                              output_name="y", **edges)
    module = save_and_read(tmp_path, builder)
    full = F.conv_transpose3d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(bias), stride=stride,
                              groups=groups).numpy()
    if padding == "same":
        sizes = [n * s for n, s in zip(dims, stride)]
        starts = [(f - size) // 2 for f, size in zip(full.shape[2:], sizes)]
    else:
        starts = pads[0::2]
        sizes = out_shape or [f - a - b for f, a, b in zip(full.shape[2:], pads[0::2], pads[1::2])]
    want = full[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(starts, sizes))]
    assert module.functions[0].return_op.operands[0].type.shape == want.shape
    (got,) = run_module(module, {"x": x})
    assert rel_err(got, want) <= 1e-4


def test_convnet_ir_shape(tmp_path):
    torch.manual_seed(0)
    module = ConvNet()
    x = torch.randn(1, 3, 8, 8)
    imported = read(convert(tmp_path, "convnet", module, x))
    fn = imported.functions[0]
    assert [a.name for a in fn.arguments] == ["x0"]
    assert fn.arguments[0].type.shape == (1, 3, 8, 8)  # EXACT_ARRAY_MAPPING: shapes as declared
    conv = [op for op in ops_of(imported) if op.op_name == "nn.convolution"][0]
    assert list(conv.weight_fields) == ["weights", "bias"]
    assert conv.weight("weights").type.shape == (8, 3, 3, 3)
    assert conv.weight("weights").owner().op_name == "core.constant"
    assert fn.return_op.operands[0].type.shape == (1, 5)


@pytest.mark.parametrize("kwargs,element,tol", [
    (dict(nbits=16), "f16", 2e-3),
    (dict(nbits=8), "u8", 2e-2),
    (dict(nbits=8, quantization_mode="linear_symmetric"), "u8", 2e-2),
    (dict(nbits=4, quantization_mode="linear_lut"), "u8", 5e-2),
    (dict(nbits=6, quantization_mode="linear"), "u8", 5e-2),
])
def test_quantized_and_fp16_weights(tmp_path, kwargs, element, tol):
    torch.manual_seed(0)
    module = SpatialNet()
    x = torch.randn(1, 4, 16, 16)
    path = convert(tmp_path, "spatial", module, x)
    quantized = quantization_utils.quantize_weights(ct.models.MLModel(path), **kwargs)
    qpath = str(tmp_path / "quantized.mlmodel")
    quantized.save(qpath)
    imported = read(qpath)
    verify(imported)
    roundtrip(imported)
    consts = [op for op in imported.walk() if op.op_name == "core.constant"]
    assert consts and all(str(op.output.type.element) == element for op in consts)
    if element == "u8":
        assert any(op.op_name == "nn.dequantize" for op in imported.walk())
    (got,) = run_module(imported, {"x0": x.numpy()})
    with torch.no_grad():
        want = module(x).numpy()
    assert rel_err(got, want) <= tol


@checks("activation", "add", "copy", "expandDims", "gather", "innerProduct", "lessThan", "loadConstantND",
        "loop", "multiply", "scatter", "slice", "sliceStatic", "squeeze")
def test_gru_loop_matches_torch(tmp_path):
    """coremltools lowers torch.nn.GRU to a `loop` layer with condition and body networks."""
    torch.manual_seed(0)
    module = Recurrent(torch.nn.GRU(5, 6))
    x = torch.randn(4, 1, 5)
    imported = read(convert(tmp_path, "gru", module, x))
    verify(imported)
    loop = [op for op in imported.walk() if op.op_name == "nn.loop"]
    assert len(loop) == 1 and len(loop[0].regions) == 2
    assert list(loop[0].carried) == [r.name for r in loop[0].results]
    # Compact printing of region ops does not parse back yet (the printer puts the attribute
    # dict after the regions, the grammar before); the generic form round-trips.
    roundtrip(imported, generic=True)
    outs = run_module(imported, {"x0": x.numpy()})
    with torch.no_grad():
        y, h = module(x)
    assert rel_err(outs[0], y.numpy()) <= 1e-4
    assert rel_err(outs[1], h.numpy()) <= 1e-4


def nd_builder(inputs, outputs):
    return NeuralNetworkBuilder([(n, datatypes.Array(*s)) for n, s in inputs], [(n, None) for n in outputs],
                                disable_rank5_shape_mapping=True)


def save_and_read(tmp_path, builder, name="model"):
    path = str(tmp_path / f"{name}.mlmodel")
    ct.utils.save_spec(builder.spec, path)
    module = read(path)
    verify(module)
    roundtrip(module, generic=True)
    return module


@checks("add", "branch", "multiply")
def test_branch_layer(tmp_path):
    builder = nd_builder([("x", (2,)), ("c", (1,))], ["y"])
    layer = builder.add_branch("br", "c")
    then_b = NeuralNetworkBuilder(nn_spec=layer.branch.ifBranch, disable_rank5_shape_mapping=True)
    then_b.add_elementwise("twice", ["x"], "y", "MULTIPLY", alpha=2.0)
    else_b = NeuralNetworkBuilder(nn_spec=layer.branch.elseBranch, disable_rank5_shape_mapping=True)
    else_b.add_elementwise("plus", ["x"], "y", "ADD", alpha=1.0)
    module = save_and_read(tmp_path, builder)
    x = np.array([1.5, -2.0], np.float32)
    np.testing.assert_allclose(run_module(module, {"x": x, "c": np.ones(1, np.float32)})[0], 2 * x)
    np.testing.assert_allclose(run_module(module, {"x": x, "c": np.zeros(1, np.float32)})[0], x + 1)


@checks("branch", "copy", "greaterThan", "loop", "loopBreak", "multiply")
def test_loop_with_break(tmp_path):
    """acc doubles each iteration until it exceeds 10 (a branch in the body breaks), at most 20 times."""
    builder = nd_builder([("x", (1,))], ["acc"])
    builder.add_copy("init", "x", "acc")
    loop = builder.add_loop("lp", max_iterations=20)
    body = NeuralNetworkBuilder(nn_spec=loop.loop.bodyNetwork, disable_rank5_shape_mapping=True)
    body.add_elementwise("dbl", ["acc"], "t", "MULTIPLY", alpha=2.0)
    body.add_copy("upd", "t", "acc")
    body.add_greater_than("big", ["acc"], "stop", alpha=10.0)
    branch = body.add_branch("check", "stop")
    NeuralNetworkBuilder(nn_spec=branch.branch.ifBranch, disable_rank5_shape_mapping=True).add_loop_break("brk")
    module = save_and_read(tmp_path, builder)
    (acc,) = run_module(module, {"x": np.array([0.75], np.float32)})
    np.testing.assert_allclose(acc, [12.0])  # 0.75 -> 1.5 -> 3 -> 6 -> 12
    (acc,) = run_module(module, {"x": np.array([-1.0], np.float32)})
    np.testing.assert_allclose(acc, [-(2.0 ** 20)])  # never breaks: maxLoopIterations


@checks("add", "branch", "copy", "greaterThan", "loop", "loopContinue", "multiply")
def test_loop_with_continue(tmp_path):
    """Five iterations of acc += 1; a continue skips `total += 1` once acc > 2."""
    builder = nd_builder([("x", (1,))], ["acc", "total"])
    builder.add_copy("init_acc", "x", "acc")
    builder.add_elementwise("zero", ["x"], "total", "MULTIPLY", alpha=0.0)
    loop = builder.add_loop("lp", max_iterations=5)
    body = NeuralNetworkBuilder(nn_spec=loop.loop.bodyNetwork, disable_rank5_shape_mapping=True)
    body.add_elementwise("inc", ["acc"], "a1", "ADD", alpha=1.0)
    body.add_copy("upd", "a1", "acc")
    body.add_greater_than("big", ["acc"], "skip", alpha=2.0)
    branch = body.add_branch("check", "skip")
    NeuralNetworkBuilder(nn_spec=branch.branch.ifBranch, disable_rank5_shape_mapping=True).add_loop_continue("cont")
    body.add_elementwise("count", ["total"], "t1", "ADD", alpha=1.0)
    body.add_copy("upd_total", "t1", "total")
    module = save_and_read(tmp_path, builder)
    acc, total = run_module(module, {"x": np.zeros(1, np.float32)})
    np.testing.assert_allclose(acc, [5.0])
    np.testing.assert_allclose(total, [2.0])


# -- spec-4 N-D layers from NeuralNetworkBuilder, one or a few per case ------------------------------

A = RNG_ND = np.random.RandomState(3)
M34 = A.randn(3, 4).astype(np.float32)
V4 = A.randn(4).astype(np.float32)
IDX = np.array([2, 0], np.float32)
EMB = A.randn(3, 5).astype(np.float32)  # embeddingND weights [embeddingSize, vocabSize]


def _floor_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor(a / b)


def _scatter_ref(data, idx, upd):
    out = data.copy()
    out[idx.astype(int)] = upd
    return out


def _nms_reference(boxes, scores, iou_threshold, score_threshold, max_boxes, per_class):
    """NeuralNetwork.proto's NMS layer in plain loops: greedy suppression within each group (all
    boxes, or each box's best class), survivors merged by score; nothing above the threshold keeps
    the best box."""
    def iou(a, b):
        (ax, ay, aw, ah), (bx, by, bw, bh) = a, b
        iw = max(0.0, min(ax + aw / 2, bx + bw / 2) - max(ax - aw / 2, bx - bw / 2))
        ih = max(0.0, min(ay + ah / 2, by + bh / 2) - max(ay - ah / 2, by - bh / 2))
        return iw * ih / (aw * ah + bw * bh - iw * ih)

    n_batch, k = boxes.shape[0], max_boxes
    outs = [np.zeros((n_batch, k, 4)), np.zeros((n_batch, k, scores.shape[-1])), np.full((n_batch, k), -1.0),
            np.zeros(n_batch)]
    for bi in range(n_batch):
        best = [max(row) for row in scores[bi]]
        groups = {}
        for i, row in enumerate(scores[bi]):
            if best[i] >= score_threshold:
                groups.setdefault(list(row).index(best[i]) if per_class else 0, []).append(i)
        survivors = []
        for members in groups.values():
            kept = []
            for i in sorted(members, key=lambda i: -best[i]):
                if all(iou(boxes[bi, i], boxes[bi, j]) <= iou_threshold for j in kept):
                    kept.append(i)
            survivors += kept
        chosen = sorted(survivors, key=lambda i: -best[i])[:k] or [max(range(len(best)), key=best.__getitem__)]
        for slot, i in enumerate(chosen):
            outs[0][bi, slot], outs[1][bi, slot], outs[2][bi, slot] = boxes[bi, i], scores[bi, i], i
        outs[3][bi] = len(chosen)
    return outs


# Four hand-placed boxes (center x, center y, width, height): 1 overlaps 0 with IoU 0.82, 3 overlaps
# 0 with IoU 0.6 (and 1 with 0.51), 2 overlaps nothing; best classes 0, 1, 0, 0.
NMS_BOXES = np.array([[[1, 1, 2, 2], [1.2, 1, 2, 2], [5, 5, 2, 2], [1, 1.5, 2, 2]]], np.float32)
NMS_SCORES = np.array([[[0.9, 0.1], [0.2, 0.8], [0.3, 0.05], [0.7, 0.0]]], np.float32)


def _nms_outputs(boxes, scores, indices, counts):
    """The four NMS outputs for one batch of NMS_BOXES / NMS_SCORES selecting `indices` (maxBoxes 3)."""
    picked = np.array(indices + [-1] * (3 - len(indices)))
    real = picked >= 0
    return [np.where(real[:, None], boxes[0, picked], 0)[None], np.where(real[:, None], scores[0, picked], 0)[None],
            picked[None].astype(np.float32), np.array([counts], np.float32)]


NMS_RNG = np.random.RandomState(8)
NMS_RANDOM = {"b": np.concatenate([NMS_RNG.uniform(0, 4, (2, 12, 2)), NMS_RNG.uniform(0.5, 2, (2, 12, 2))], -1)
              .astype(np.float32), "s": NMS_RNG.uniform(0, 1, (2, 12, 3)).astype(np.float32)}


def _crop_resize_reference(x, rois, out_hw, method, box_mode, normalized=False, scale=1.0):
    """cropResize per NeuralNetwork.proto, pixel by pixel: the box's [start, end] sampled like
    SamplingMode samples [0, X - 1] (X - 1 = end - start), bilinear with clamped neighbours."""
    _, n_batch, channels, h, w = x.shape
    crops = []
    for roi in rois.reshape(rois.shape[0], -1):
        v = [float(c) for c in roi[-4:]]
        if box_mode.endswith("WIDTH_FIRST"):
            v = [v[1], v[0], v[3], v[2]]
        if box_mode.startswith("CENTER_SIZE"):
            v = [v[0] - v[2] / 2, v[1] - v[3] / 2, v[0] + v[2] / 2, v[1] + v[3] / 2]
        if normalized:
            v = [v[0] * (h - 1), v[1] * (w - 1), v[2] * (h - 1), v[3] * (w - 1)]
        h0, w0, h1, w1 = (c * scale for c in v)

        def grid(start, end, count):
            if method == "UPSAMPLE_MODE":
                return [min(end, start + i * (end - start + 1) / count) for i in range(count)]
            if method == "ROI_ALIGN_MODE":
                step = max(1, end - start) / count
                return [min(end, start + (i + 0.5) * step) for i in range(count)]
            return list(np.linspace(start, end, count))  # STRICT_ALIGN_ENDPOINTS / ALIGN_ENDPOINTS, count > 1

        images = [x[0, int(roi[0])]] if len(roi) == 5 else list(x[0])
        out = np.zeros((len(images), channels) + tuple(out_hw))
        for bi, img in enumerate(images):
            for i, r in enumerate(grid(h0, h1, out_hw[0])):
                for j, c in enumerate(grid(w0, w1, out_hw[1])):
                    r, c = min(max(r, 0), h - 1), min(max(c, 0), w - 1)
                    r0, c0 = int(np.floor(r)), int(np.floor(c))
                    r1, c1 = min(r0 + 1, h - 1), min(c0 + 1, w - 1)
                    fr, fc = r - r0, c - c0
                    out[bi, :, i, j] = ((1 - fr) * ((1 - fc) * img[:, r0, c0] + fc * img[:, r0, c1])
                                        + fr * ((1 - fc) * img[:, r1, c0] + fc * img[:, r1, c1]))
        crops.append(out)
    return np.stack(crops)


CROP_X = A.randn(1, 2, 3, 6, 7).astype(np.float32)  # [1, B, C, H, W]
CROP_BOXES = np.array([[0.5, 1, 4.5, 5], [2, 0, 3, 2.5], [0, 0, 5, 5]], np.float32).reshape(3, 1, 4, 1, 1)
CROP_INDEXED = np.array([[1, 0.4, 0.5, 0.6, 0.3], [0, 0.5, 0.5, 0.9, 0.8]], np.float32).reshape(2, 1, 5, 1, 1)

ND_CASES = {
    # name: (inputs {name: array}, add layers(builder), expected outputs, layer kinds checked)
    "gather_nd": ({"x": M34, "i": np.array([[1, 2], [0, 3]], np.float32)},
                  lambda b: b.add_gather_nd("g", ["x", "i"], "y"), lambda x, i: [x[[1, 0], [2, 3]]],
                  ("gatherND",)),
    "scatter": ({"x": M34, "i": IDX, "u": np.ones((2, 4), np.float32)},
                lambda b: b.add_scatter("s", ["x", "i", "u"], "y", axis=0), lambda x, i, u: [_scatter_ref(x, i, u)],
                ("scatter",)),
    "scatter_add_nd": ({"x": M34, "i": np.array([[0, 1], [2, 3]], np.float32), "u": np.array([5, 7], np.float32)},
                       lambda b: b.add_scatter_nd("s", ["x", "i", "u"], "y", mode="ADD"),
                       lambda x, i, u: [x + np.array([[0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 7]], np.float32)],
                       ("scatterND",)),
    "gather_scatter_along_axis": (
        {"x": M34, "i": np.array([[3, 0], [1, 1], [0, 2]], np.float32)},
        lambda b: (b.add_gather_along_axis("g", ["x", "i"], "y", axis=1),
                   b.add_scatter_along_axis("s", ["x", "i", "y"], "z", axis=1, mode="ADD")),
        lambda x, i: [np.take_along_axis(x, i.astype(int), 1),
                      x + sum(np.where(np.arange(4) == i[:, k:k + 1], np.take_along_axis(x, i.astype(int), 1)[:, k:k + 1], 0)
                              for k in range(2))],
                                  ("gatherAlongAxis", "scatterAlongAxis")),
    "reverse_seq": ({"x": M34, "n": np.array([2, 4, 1], np.float32)},
                    lambda b: b.add_reverse_sequence("r", ["x", "n"], "y", batch_axis=0, seq_axis=1),
                    lambda x, n: [np.stack([np.concatenate([row[:k][::-1], row[k:]]) for row, k in zip(x, [2, 4, 1])])],
                    ("reverseSeq",)),
    "windows_and_slices": ({"x": M34, "b": np.array([1], np.float32)},
                           lambda b: (b.add_sliding_windows("w", "x", "y", axis=1, window_size=2, step=2),
                                      b.add_slice_by_size("s", ["x", "b"], "z", axis=1, size=2)),
                           lambda x, b: [np.stack([x[:, 0:2], x[:, 2:4]], axis=1), x[:, 1:3]],
                           ("sliceBySize", "slidingWindows")),
    "ranges_and_fills": ({"x": M34, "e": np.array([5], np.float32)},
                         lambda b: (b.add_range_static("r", "y", end=7, start=1, step=2),
                                    b.add_range_dynamic("d", ["e"], "z", start=1, step=1),
                                    b.add_fill_like("f", "x", "w", value=2.5),
                                    b.add_fill_static("fs", "v", [2, 2], value=-1.0),
                                    b.add_broadcast_to_static("bc", "e", "u", [2, 3])),
                         lambda x, e: [np.arange(1, 7, 2), np.arange(1, 5), np.full((3, 4), 2.5), np.full((2, 2), -1.0),
                                       np.full((2, 3), 5.0)],
                         ("broadcastToStatic", "fillLike", "fillStatic", "rangeDynamic", "rangeStatic")),
    "where_nonzero_one_hot": ({"x": np.array([[0, 1], [2, 0]], np.float32), "i": np.array([1, 0, 2], np.float32)},
                              lambda b: (b.add_where_nonzero("w", "x", "y"),
                                         b.add_one_hot("o", ["i"], "z", one_hot_vector_size=3, axis=-1)),
                              lambda x, i: [np.array([[0, 1], [1, 0]]), np.eye(3)[[1, 0, 2]]],
                              ("oneHot", "whereNonZero")),
    "arg_ops": ({"x": M34}, lambda b: (b.add_argsort("s", "x", "y", axis=1, descending=True),
                                       b.add_argmin("m", "x", "z", axis=0, keepdims=False),
                                       b.add_topk("t", ["x"], ["v", "k"], k=2, axis=1, use_bottom_k=True)),
                lambda x: [np.argsort(-x, 1), x.argmin(0), np.sort(x, 1)[:, :2], np.argsort(x, 1)[:, :2]],
                ("argMin", "argSort", "topK")),
    "unary_math": ({"x": np.array([-1.5, -0.3, 0.5, 0.7], np.float32)},
                   lambda b: (b.add_clamped_relu("c", "x", "y0", alpha=0.1, beta=0.6), b.add_erf("e", "x", "y1"),
                              b.add_exp2("p", "x", "y2"), b.add_round("r", "x", "y3"), b.add_sign("s", "x", "y4"),
                              b.add_tan("t", "x", "y5"), b.add_atanh("a", "x", "y6")),
                   lambda x: [np.minimum(np.where(x >= 0, x, 0.1 * x), 0.6),
                              np.array([__import__("math").erf(v) for v in x]), 2.0 ** x, np.array([-2, 0, 1, 1.0]),
                              np.sign(x), np.tan(x), np.arctanh(x)],
                   ("atanh", "clampedReLU", "erf", "exp2", "round", "sign", "tan")),
    "logic_and_compare": ({"a": np.array([0, 1, 2, -1], np.float32), "b": np.array([0, 0, 2, 1], np.float32)},
                          lambda b: (b.add_logical("and", ["a", "b"], "y0", "AND"), b.add_logical("xor", ["a", "b"], "y1", "XOR"),
                                     b.add_logical("not", ["a"], "y2", "NOT"), b.add_equal("eq", ["a", "b"], "y3"),
                                     b.add_less_than("lt", ["a"], "y4", alpha=1.0),
                                     b.add_floor_div_broadcastable("fd", ["b", "a"], "y5"),
                                     b.add_subtract_broadcastable("sub", ["a", "b"], "y6")),
                          lambda a, b: [(a != 0) & (b != 0), (a != 0) ^ (b != 0), a == 0, a == b, a < 1,
                                        _floor_div(b, a), a - b],
                          ("equal", "floorDivBroadcastable", "lessThan", "logicalAnd", "logicalNot",
                           "logicalXor", "subtractBroadcastable")),
    "reshapes": ({"x": M34, "t": np.zeros((2, 6), np.float32)},
                 lambda b: (b.add_reshape_like("rl", ["x", "t"], "y0"), b.add_flatten_to_2d("f", "x", "y1", axis=1),
                            b.add_rank_preserving_reshape("rp", "x", "y2", [2, -1]),
                            b.add_constant_pad("cp", ["x"], "y3", value=9.0, pad_amounts=[1, 0, 0, 2]),
                            b.add_get_shape("gs", "x", "y4")),
                 lambda x, t: [x.reshape(2, 6), x.reshape(3, 4), x.reshape(2, 6),
                               np.pad(x, ((1, 0), (0, 2)), constant_values=9.0), np.array([3, 4])],
                 ("constantPad", "flattenTo2D", "getShape", "rankPreservingReshape", "reshapeLike")),
    "embedding_layernorm": ({"i": np.array([[2], [0], [4]], np.float32)},
                            lambda b: (b.add_embedding_nd("e", "i", "y0", 5, 3, EMB),
                                       b.add_layer_normalization("ln", "y0", "y1", [3], np.ones(3) * 2, np.ones(3) * 0.5)),
                            lambda i: [EMB.T[[2, 0, 4]],
                                       2 * (EMB.T[[2, 0, 4]] - EMB.T[[2, 0, 4]].mean(-1, keepdims=True))
                                       / np.sqrt(EMB.T[[2, 0, 4]].var(-1, keepdims=True) + 1e-5) + 0.5],
                            ("embeddingND", "layerNormalization")),
    "triangles_reductions": ({"x": M34},
                             lambda b: (b.add_lower_triangular("l", "x", "y0", k=1), b.add_upper_triangular("u", "x", "y1"),
                                        b.add_reduce_sumsquare("ss", "x", "y2", axes=[1]),
                                        b.add_reduce_l1("l1", "x", "y3", axes=[0], keepdims=False),
                                        b.add_reduce_prod("p", "x", "y4", reduce_all=True, keepdims=False)),
                             lambda x: [np.tril(x, 1), np.triu(x), (x * x).sum(1, keepdims=True), np.abs(x).sum(0),
                                        np.array([x.prod()])],
                             ("lowerTriangular", "reduceL1", "reduceProd", "reduceSumSquare", "upperTriangular")),
    "stack_concat_tile_reverse": ({"x": M34},
                                  lambda b: (b.add_stack("st", ["x", "x"], "y0", axis=2),
                                             b.add_concat_nd("c", ["x", "x"], "y1", axis=0, interleave=True),
                                             b.add_tile("t", "x", "y2", reps=[1, 2]),
                                             b.add_reverse("r", "x", "y3", reverse_dim=[True, False])),
                                  lambda x: [np.stack([x, x], 2), np.stack([x, x], 1).reshape(6, 4), np.tile(x, (1, 2)),
                                             x[::-1]],
                                  ("concatND", "reverse", "stack", "tile")),
    "more_unary_math": ({"x": np.array([-0.5, 0.1, 0.6], np.float32), "p": np.array([1.5, 2.0, 3.0], np.float32)},
                        lambda b: (b.add_acos("ac", "x", "y0"), b.add_asin("as", "x", "y1"), b.add_atan("at", "x", "y2"),
                                   b.add_cosh("ch", "x", "y3"), b.add_sinh("sh", "x", "y4"), b.add_tanh("th", "x", "y5"),
                                   b.add_asinh("ash", "x", "y6"), b.add_acosh("ach", "p", "y7")),
                        lambda x, p: [np.arccos(x), np.arcsin(x), np.arctan(x), np.cosh(x), np.sinh(x), np.tanh(x),
                                      np.arcsinh(x), np.arccosh(p)],
                        ("acos", "acosh", "asin", "asinh", "atan", "cosh", "sinh", "tanh")),
    "more_binary": ({"a": M34, "b": V4},
                    lambda b: (b.add_add_broadcastable("ad", ["a", "b"], "y0"),
                               b.add_multiply_broadcastable("mu", ["a", "b"], "y1"),
                               b.add_mod_broadcastable("mo", ["a", "b"], "y2"),
                               b.add_greater_than("ge", ["a", "b"], "y3", use_greater_than_equal=True),
                               b.add_less_than("le", ["a", "b"], "y4", use_less_than_equal=True),
                               b.add_not_equal("ne", ["a"], "y5", alpha=0.0),
                               b.add_logical("or", ["a", "b"], "y6", "OR")),
                    lambda a, b: [a + b, a * b, np.mod(a, b), a >= b, a <= b, a != 0, (a != 0) | (b != 0)],
                    ("addBroadcastable", "greaterEqual", "lessEqual", "logicalOr", "modBroadcastable",
                     "multiplyBroadcastable", "notEqual")),
    "dynamic_shapes": ({"x": V4, "s": np.array([2, 2], np.float32), "t": np.zeros((3, 4), np.float32),
                        "g": np.array([1, 0], np.float32)},
                       lambda b: (b.add_broadcast_to_like("bl", ["x", "t"], "y0"),
                                  b.add_reshape_dynamic("rd", ["x", "s"], "y1"),
                                  b.add_fill_dynamic("fd", "s", "y2", value=3.0),
                                  b.add_slice_dynamic("sd", ["t", "g"], "y3", end_ids=[3, 3], strides=[1, 2]),
                                  b.add_reduce_logsum("ls", "t", "y4", axes=[1], keepdims=False)),
                       lambda x, s, t, g: [np.broadcast_to(x, (3, 4)), x.reshape(2, 2), np.full((2, 2), 3.0),
                                           t[1:3, 0:3:2], np.log(t.sum(1))],
                       ("broadcastToLike", "fillDynamic", "reduceLogSum", "reshapeDynamic", "sliceDynamic")),
    "global_pooling3d": ({"x": A.randn(1, 2, 3, 4, 5).astype(np.float32)},
                         lambda b: (b.add_global_pooling3d("gm", "x", "y0", "MAX"),
                                    b.add_global_pooling3d("ga", "x", "y1", "AVERAGE")),
                         lambda x: [x.max(axis=(2, 3, 4), keepdims=True), x.mean(axis=(2, 3, 4), keepdims=True)],
                         ("globalPooling3d",)),
    "broadcast_to_dynamic": ({"x": V4, "s": np.array([3, 4], np.float32)},
                             lambda b: b.add_broadcast_to_dynamic("bd", ["x", "s"], "y"),
                             lambda x, s: [np.broadcast_to(x, (3, 4))], ("broadcastToDynamic",)),
    "nms_hand_checked": (
        {"b": NMS_BOXES, "s": NMS_SCORES, "iou": np.array([0.7], np.float32), "thr": np.array([0.25], np.float32),
         "k": np.array([2], np.float32)},
        lambda b: (b.add_nms("all", ["b", "s"], ["b0", "s0", "i0", "n0"], iou_threshold=0.5, score_threshold=0.25,
                             max_boxes=3),
                   b.add_nms("per_class", ["b", "s"], ["b1", "s1", "i1", "n1"], iou_threshold=0.5,
                             score_threshold=0.25, max_boxes=3, per_class_suppression=True),
                   b.add_nms("none_pass", ["b", "s"], ["b2", "s2", "i2", "n2"], iou_threshold=0.5,
                             score_threshold=0.95, max_boxes=3),
                   b.add_nms("inputs", ["b", "s", "iou", "thr", "k"], ["b3", "s3", "i3", "n3"], iou_threshold=0.1,
                             score_threshold=0.99, max_boxes=3)),
        # 1 and 3 fall to 0; per class, 1 (class 1) survives; no score passes 0.95: the best box alone;
        # the inputs' IoU 0.7 spares 3, their maxBoxes 2 keeps [0, 3] (outputs then sized 2)
        lambda b, s, iou, thr, k: (_nms_outputs(b, s, [0, 2], 2) + _nms_outputs(b, s, [0, 1, 2], 3)
                                   + _nms_outputs(b, s, [0], 1)
                                   + [o[:, :2] if o.ndim > 1 else o for o in _nms_outputs(b, s, [0, 3], 2)]),
        ("NonMaximumSuppression",)),
    "nms_random": (NMS_RANDOM,
                   lambda b: (b.add_nms("all", ["b", "s"], ["b0", "s0", "i0", "n0"], iou_threshold=0.3,
                                        score_threshold=0.2, max_boxes=5),
                              b.add_nms("per_class", ["b", "s"], ["b1", "s1", "i1", "n1"], iou_threshold=0.3,
                                        score_threshold=0.2, max_boxes=12, per_class_suppression=True)),
                   lambda b, s: (_nms_reference(b, s, 0.3, 0.2, 5, False) + _nms_reference(b, s, 0.3, 0.2, 12, True)),
                   ("NonMaximumSuppression",)),
    "crop_resize": (
        {"x": CROP_X, "r": CROP_BOXES, "ri": CROP_INDEXED},
        lambda b: (b.add_crop_resize("strict", ["x", "r"], "y0", 4, 5, mode="STRICT_ALIGN_ENDPOINTS_MODE"),
                   b.add_crop_resize("align", ["x", "ri"], "y1", 3, 4, mode="ALIGN_ENDPOINTS_MODE", normalized_roi=True,
                                     box_indices_mode="CENTER_SIZE_WIDTH_FIRST"),
                   b.add_crop_resize("upsample", ["x", "r"], "y2", 6, 9, mode="UPSAMPLE_MODE",
                                     box_indices_mode="CORNERS_WIDTH_FIRST", spatial_scale=0.5),
                   b.add_crop_resize("centers", ["x", "ri"], "y3", 5, 2, mode="STRICT_ALIGN_ENDPOINTS_MODE",
                                     normalized_roi=True, box_indices_mode="CENTER_SIZE_HEIGHT_FIRST"),
                   b.add_crop_resize("roi_align", ["x", "r"], "y4", 3, 4, mode="ROI_ALIGN_MODE", spatial_scale=0.8)),
        lambda x, r, ri: [_crop_resize_reference(x, r, (4, 5), "STRICT_ALIGN_ENDPOINTS_MODE", "CORNERS_HEIGHT_FIRST"),
                          _crop_resize_reference(x, ri, (3, 4), "ALIGN_ENDPOINTS_MODE", "CENTER_SIZE_WIDTH_FIRST",
                                                 normalized=True),
                          _crop_resize_reference(x, r, (6, 9), "UPSAMPLE_MODE", "CORNERS_WIDTH_FIRST", scale=0.5),
                          _crop_resize_reference(x, ri, (5, 2), "STRICT_ALIGN_ENDPOINTS_MODE",
                                                 "CENTER_SIZE_HEIGHT_FIRST", normalized=True),
                          _crop_resize_reference(x, r, (3, 4), "ROI_ALIGN_MODE", "CORNERS_HEIGHT_FIRST", scale=0.8)],
        ("cropResize",)),
    # resizeBilinear samples [0, H - 1] x [0, W - 1] as cropResize samples a box
    "resize_bilinear_roi_align": (
        {"x": CROP_X[0, 0]}, lambda b: b.add_resize_bilinear("r", "x", "y", 4, 9, mode="ROI_ALIGN_MODE"),
        lambda x: [_crop_resize_reference(x[None, None], np.array([0, 0, 5, 6], np.float32).reshape(1, 1, 4, 1, 1),
                                          (4, 9), "ROI_ALIGN_MODE", "CORNERS_HEIGHT_FIRST")[0, 0]],
        ("resizeBilinear",)),
}


@pytest.mark.parametrize("case", list(ND_CASES))
def test_nd_layer_semantics(tmp_path, case):
    inputs, add_layers, expected, _ = ND_CASES[case]
    want = [np.asarray(w) for w in expected(*inputs.values())]
    builder = nd_builder([(n, a.shape) for n, a in inputs.items()], ["placeholder"])
    add_layers(builder)
    spec = builder.spec
    del spec.description.output[:]  # every blob is an output
    for name in [o for layer in spec.neuralNetwork.layers for o in layer.output]:
        feature = spec.description.output.add()
        feature.name = name
        feature.type.multiArrayType.dataType = ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    module = save_and_read(tmp_path, builder, case)
    roundtrip(module)
    got = run_module(module, dict(inputs))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64).reshape(g.shape), rtol=1e-5, atol=1e-6)


@checks("randomUniformLike", "randomUniformStatic", "randomUniformDynamic", "randomNormalLike", "randomNormalStatic",
        "randomNormalDynamic", "randomBernoulliLike", "randomBernoulliStatic", "randomBernoulliDynamic",
        "categoricalDistribution")
def test_random_layers_shapes_and_distributions(tmp_path):
    """Random layers cannot reproduce Core ML's generator, so their semantics are checked as
    distributions: shape, support, mean and spread over 20000 draws, and seeding."""
    big = (200, 100)
    builder = nd_builder([("x", big), ("s", (2,)), ("p", (2, 3))], ["placeholder"])
    builder.add_random_uniform_static("us", "y0", [5, 6], minval=2.0, maxval=3.0, seed=7)
    builder.add_random_uniform_like("ul", "x", "y1", minval=1.0, maxval=3.0, seed=4)
    builder.add_random_uniform_dynamic("ud", ["s"], "y2", minval=-1.0, maxval=0.0, seed=5)
    builder.add_random_normal_like("nl", "x", "y3", mean=1.5, stddev=0.5, seed=6)
    builder.add_random_normal_static("ns", "y4", list(big), mean=-1.0, stddev=2.0, seed=8)
    builder.add_random_normal_dynamic("nd", ["s"], "y5", mean=1.0, stddev=0.0, seed=3)
    builder.add_random_bernoulli_like("bl", "x", "y6", prob=0.5, seed=1)
    builder.add_random_bernoulli_static("bs", "y7", list(big), prob=0.3, seed=9)
    builder.add_random_bernoulli_dynamic("bd", ["s"], "y8", prob=1.0, seed=10)
    builder.add_categorical_distribution("c", "p", "y9", num_samples=4, is_logits=False, seed=2)
    del builder.spec.description.output[:]
    for i in range(10):
        feature = builder.spec.description.output.add()
        feature.name = f"y{i}"
        feature.type.multiArrayType.dataType = ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    module = save_and_read(tmp_path, builder, "random")
    roundtrip(module)
    inputs = {"x": np.zeros(big, np.float32), "s": np.array([2, 3], np.float32),
              "p": np.array([[0, 1, 0], [0, 0, 1]], np.float32)}
    us, ul, ud, nl, ns, nd, bl, bs, bd, c = run_module(module, inputs)
    assert us.shape == (5, 6) and (us >= 2).all() and (us <= 3).all()
    assert ul.shape == big and (ul >= 1).all() and (ul <= 3).all() and abs(ul.mean() - 2) < 0.03
    assert abs(ul.std() - 2 / np.sqrt(12)) < 0.02
    assert ud.shape == (2, 3) and (ud >= -1).all() and (ud <= 0).all()
    assert nl.shape == big and abs(nl.mean() - 1.5) < 0.03 and abs(nl.std() - 0.5) < 0.02
    assert ns.shape == big and abs(ns.mean() + 1) < 0.1 and abs(ns.std() - 2) < 0.05
    np.testing.assert_allclose(nd, np.ones((2, 3)))
    assert bl.shape == big and set(np.unique(bl)) == {0.0, 1.0} and abs(bl.mean() - 0.5) < 0.02
    assert bs.shape == big and set(np.unique(bs)) == {0.0, 1.0} and abs(bs.mean() - 0.3) < 0.02
    np.testing.assert_array_equal(bd, np.ones((2, 3)))
    np.testing.assert_array_equal(c, [[1] * 4, [2] * 4])
    np.testing.assert_array_equal(run_module(module, inputs)[0], us)  # seeded: repeatable


# -- classic (rank-5) layers from NeuralNetworkBuilder ---------------------------------------------

def classic_model(tmp_path, shape, add_layers, input_names=("data",), n_outputs=1):
    features = [(name, datatypes.Array(*shape)) for name in input_names]
    outputs = [(f"out{i}", None) for i in range(n_outputs)]
    builder = NeuralNetworkBuilder(features, outputs)
    add_layers(builder)
    path = str(tmp_path / "classic.mlmodel")
    ct.utils.save_spec(builder.spec, path)
    return path


def run_classic(tmp_path, shape, add_layers, *arrays, n_outputs=1, names=("data",)):
    path = classic_model(tmp_path, shape, add_layers, names, n_outputs)
    module = read(path)
    verify(module)
    roundtrip(module)
    # Classic convention: [C] -> [1, 1, C, 1, 1], [C, H, W] -> [1, 1, C, H, W].
    want = (1, 1) + tuple(shape) if len(shape) == 3 else (1, 1, shape[0], 1, 1)
    assert module.functions[0].arguments[0].type.shape == want
    return run_module(module, {n: a for n, a in zip(names, arrays)})


RNG = np.random.RandomState(0)
X5 = RNG.randn(1, 1, 3, 4, 5).astype(np.float32)


@checks("activation", "flatten", "permute", "reshape")
def test_classic_permute_reshape_flatten(tmp_path):
    def layers(b):
        b.add_permute("perm", (0, 2, 3, 1), "data", "p")          # [S, C, H, W] -> [S, H, W, C]
        b.add_reshape("resh", "p", "r", (-1, 3, 1, 1), 0)          # 4-d target: [S', C', H', W']
        b.add_flatten("flat", 0, "data", "out1")
        b.add_activation("id", "LINEAR", "r", "out0", params=[1.0, 0.0])
    out0, out1 = run_classic(tmp_path, (3, 4, 5), layers, X5, n_outputs=2)
    perm = X5.transpose(0, 1, 3, 4, 2)                              # S, B, H, W, C
    want = perm[:, 0].reshape(-1, 3, 1, 1)[:, None]                 # [S'=20, B, 3, 1, 1]
    np.testing.assert_allclose(out0, want, rtol=1e-6)
    np.testing.assert_allclose(out1, X5.reshape(1, 1, 60, 1, 1), rtol=1e-6)


@checks("concat", "reduce", "sequenceRepeat", "slice")
def test_classic_sequence_concat_slice_reduce(tmp_path):
    def layers(b):
        b.add_sequence_repeat("rep", 2, "data", "c")
        b.add_slice("sl", "c", "s", axis="channel", start_index=1, end_index=3, stride=1)
        b.add_reduce("red", "s", "out0", axis="HW", mode="avg")
        b.add_elementwise("cat", ["data", "data"], "out1", "SEQUENCE_CONCAT")
    out0, out1 = run_classic(tmp_path, (3, 4, 5), layers, X5, n_outputs=2)
    rep = np.concatenate([X5, X5], axis=0)
    np.testing.assert_allclose(out0, rep[:, :, 1:3].mean(axis=(3, 4), keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(out1, np.concatenate([X5, X5], axis=0), rtol=1e-6)


@checks("l2normalize", "lrn", "mvn", "softmax", "unary")
def test_classic_normalizations(tmp_path):
    def layers(b):
        b.add_softmax("sm", "data", "out0")
        b.add_l2_normalize("l2", "data", "out1", epsilon=1e-6)
        b.add_mvn("mvn", "data", "out2", across_channels=False, normalize_variance=True, epsilon=1e-5)
        b.add_lrn("lrn", "data", "out3", alpha=1e-2, beta=0.75, local_size=3, k=2.0)
        b.add_unary("un", "data", "out4", mode="abs")
    outs = run_classic(tmp_path, (3, 4, 5), layers, X5, n_outputs=5)
    x = X5.astype(np.float64)
    e = np.exp(x - x.max(axis=2, keepdims=True))
    np.testing.assert_allclose(outs[0], e / e.sum(axis=2, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(outs[1], x / np.sqrt((x * x).sum(axis=(2, 3, 4), keepdims=True) + 1e-6), rtol=1e-5)
    centered = x - x.mean(axis=(3, 4), keepdims=True)
    np.testing.assert_allclose(outs[2], centered / np.sqrt((centered ** 2).mean(axis=(3, 4), keepdims=True) + 1e-5),
                               rtol=1e-4, atol=1e-5)
    sq = np.pad(x * x, ((0, 0), (0, 0), (1, 1), (0, 0), (0, 0)))
    window = sq[:, :, :-2] + sq[:, :, 1:-1] + sq[:, :, 2:]
    np.testing.assert_allclose(outs[3], x / (2.0 + 1e-2 / 3 * window) ** 0.75, rtol=1e-5)
    np.testing.assert_allclose(outs[4], np.abs(x), rtol=1e-6)


@checks("add", "average", "crop", "multiply", "padding", "scale", "upsample")
def test_classic_elementwise_and_params(tmp_path):
    scale = RNG.randn(3).astype(np.float32)
    bias = RNG.randn(3).astype(np.float32)

    def layers(b):
        b.add_elementwise("add", ["data", "data"], "out0", "ADD")
        b.add_elementwise("mulc", ["data"], "out1", "MULTIPLY", alpha=2.5)
        b.add_elementwise("avg", ["data", "data"], "out2", "AVE")
        b.add_scale("sc", scale, bias, True, "data", "out3", shape_scale=[3], shape_bias=[3])
        b.add_upsample("up", 2, 3, "data", "out4", mode="NN")
        b.add_padding("pad", left=1, right=0, top=2, bottom=1, value=0.5, input_name="data", output_name="out5")
        b.add_crop("crop", left=1, right=2, top=0, bottom=1, offset=None, input_names=["data"], output_name="out6")
    outs = run_classic(tmp_path, (3, 4, 5), layers, X5, n_outputs=7)
    x = X5
    np.testing.assert_allclose(outs[0], 2 * x, rtol=1e-6)
    np.testing.assert_allclose(outs[1], 2.5 * x, rtol=1e-6)
    np.testing.assert_allclose(outs[2], x, rtol=1e-6)
    np.testing.assert_allclose(outs[3], x * scale.reshape(3, 1, 1) + bias.reshape(3, 1, 1), rtol=1e-5)
    np.testing.assert_allclose(outs[4], x.repeat(2, axis=3).repeat(3, axis=4), rtol=1e-6)
    np.testing.assert_allclose(outs[5], np.pad(x, ((0, 0),) * 3 + ((2, 1), (1, 0)), constant_values=0.5), rtol=1e-6)
    np.testing.assert_allclose(outs[6], x[..., 0:3, 1:3], rtol=1e-6)


@checks("bias", "concat", "dot", "loadConstant", "max", "min", "resizeBilinear", "split")
def test_classic_more_layers(tmp_path):
    bias = RNG.randn(3).astype(np.float32)
    const = RNG.randn(3, 4, 5).astype(np.float32)

    def layers(b):
        b.add_bias("b", bias, "data", "out0", shape_bias=[3])
        b.add_load_constant("c", "c", const, [3, 4, 5])
        b.add_elementwise("mx", ["data", "c"], "out1", "MAX")
        b.add_elementwise("mn", ["data", "c"], "out2", "MIN")
        b.add_resize_bilinear("rb", "data", "out3", target_height=7, target_width=3, mode="ALIGN_ENDPOINTS_MODE")
        b.add_elementwise("cat3", ["data", "data", "data"], "c3", "CONCAT")
        b.add_split("sp", "c3", ["out4", "out5", "out6"])
        b.add_elementwise("dot", ["data", "c"], "out7", "DOT")
    outs = run_classic(tmp_path, (3, 4, 5), layers, X5, n_outputs=8)
    x, c = X5, const[None, None]
    np.testing.assert_allclose(outs[0], x + bias.reshape(3, 1, 1), rtol=1e-6)
    np.testing.assert_allclose(outs[1], np.maximum(x, c), rtol=1e-6)
    np.testing.assert_allclose(outs[2], np.minimum(x, c), rtol=1e-6)
    rows, cols = np.arange(7) * 3 / 6, np.arange(3) * 4 / 2  # align endpoints: corners map to corners
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, 3), np.minimum(c0 + 1, 4)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    img = x[0, 0]
    top = img[:, r0][:, :, c0] * (1 - fc) + img[:, r0][:, :, c1] * fc
    bottom = img[:, r1][:, :, c0] * (1 - fc) + img[:, r1][:, :, c1] * fc
    np.testing.assert_allclose(outs[3].reshape(3, 7, 3), top * (1 - fr) + bottom * fr, rtol=1e-5, atol=1e-6)
    for part in outs[4:7]:
        np.testing.assert_allclose(part, x, rtol=1e-6)
    np.testing.assert_allclose(outs[7].reshape(-1), [(x * c).sum()], rtol=1e-5)


@checks("innerProduct", "simpleRecurrent")
def test_classic_inner_product_and_simple_rnn(tmp_path):
    w = RNG.randn(4, 3).astype(np.float32)
    b = RNG.randn(4).astype(np.float32)
    wx, wh, bh = RNG.randn(2, 3).astype(np.float32), RNG.randn(2, 2).astype(np.float32), RNG.randn(2).astype(np.float32)

    def layers(bld):
        bld.add_inner_product("fc", w, b, 3, 4, True, "data", "out0")
        bld.add_simple_rnn("rnn", wh, wx, bh, 2, 3, "TANH", ["data"], ["out1", "h"], output_all=False)
    x = RNG.randn(3).astype(np.float32)
    outs = run_classic(tmp_path, (3,), layers, x.reshape(1, 1, 3, 1, 1), n_outputs=2)
    np.testing.assert_allclose(outs[0].reshape(-1), w @ x + b, rtol=1e-5)
    np.testing.assert_allclose(outs[1].reshape(-1), np.tanh(wx @ x + bh), rtol=1e-5)


@checks("embedding")
def test_classic_embedding(tmp_path):
    w = RNG.randn(4, 6).astype(np.float32)  # [outputChannels, inputDim]
    b = RNG.randn(4).astype(np.float32)

    def layers(bld):
        bld.add_embedding("emb", w, b, 6, 4, True, "data", "out0")
    (out,) = run_classic(tmp_path, (1,), layers, np.full((1, 1, 1, 1, 1), 3, np.float32))
    np.testing.assert_allclose(out.reshape(-1), w[:, 3] + b, rtol=1e-6)


@checks("custom")
def test_custom_layer_runs_its_registered_implementation(tmp_path):
    """A custom layer's semantics are the app's: the registered function gets the inputs, the
    `parameters` map and the weights."""
    from mlir_coreml.ir.custom_layers import unregister_custom_layer

    shift = RNG.randn(3).astype(np.float32)
    builder = nd_builder([("x", (2, 3))], ["y"])
    layer = builder.add_custom("scaled", ["x"], ["y"]).custom
    layer.className = "TestScaledShift"
    layer.parameters["alpha"].doubleValue = 2.5
    layer.weights.add().floatValue.extend(shift.tolist())
    module = save_and_read(tmp_path, builder)
    mlir_coreml.register_custom_layer(
        "TestScaledShift", lambda inputs, params, weights: params["alpha"]["doubleValue"] * inputs[0] + weights[0])
    try:
        (y,) = run_module(module, {"x": M34[:2, :3]})
    finally:
        unregister_custom_layer("TestScaledShift")
    np.testing.assert_allclose(y, 2.5 * M34[:2, :3] + shift, rtol=1e-6)


@checks("gru")
def test_classic_gru_layer(tmp_path):
    """Core ML's GRU: z, r = hard_sigmoid(...), o = tanh(W_o x + R_o (r * h) + b_o), h = (1 - z) o + z h.
    The builder writes `sigmoidHard {}` without parameters; this assumes the Keras-standard
    clip(0.2 v + 0.5, 0, 1) (see RECURRENT_ACTIVATION_DEFAULTS), which no Mac has confirmed here."""
    rng = np.random.RandomState(5)
    hsz, xsz, steps = 3, 2, 4
    w_x = [rng.randn(hsz, xsz).astype(np.float32) for _ in range(3)]
    w_h = [rng.randn(hsz, hsz).astype(np.float32) * 0.5 for _ in range(3)]
    bias = [rng.randn(hsz).astype(np.float32) for _ in range(3)]

    def layers(b):
        b.add_gru("gru", w_h, w_x, bias, hsz, xsz, ["data"], ["out0", "out1"], output_all=True)
    x = rng.randn(steps, 1, xsz, 1, 1).astype(np.float32)
    path = classic_model(tmp_path, (xsz,), layers, ("data",), 2)
    module = read(path)
    verify(module)
    seq, last = run_module(module, {"data": x})

    def hard_sigmoid(v):
        return np.clip(0.2 * v + 0.5, 0, 1)
    h = np.zeros(hsz)
    want = []
    for t in range(steps):
        xt = x[t].reshape(-1)
        z = hard_sigmoid(w_x[0] @ xt + w_h[0] @ h + bias[0])
        r = hard_sigmoid(w_x[1] @ xt + w_h[1] @ h + bias[1])
        o = np.tanh(w_x[2] @ xt + w_h[2] @ (r * h) + bias[2])
        h = (1 - z) * o + z * h
        want.append(h)
    np.testing.assert_allclose(seq.reshape(steps, hsz), np.array(want), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(last.reshape(hsz), want[-1], rtol=1e-5, atol=1e-6)


@checks("innerProduct", "softmaxND")
def test_classifier(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(-1)).eval()
    x = torch.randn(1, 4)
    mlmodel = ct.convert(torch.jit.trace(module, x), inputs=[ct.TensorType(name="x", shape=x.shape)],
                         classifier_config=ct.ClassifierConfig(["cat", "dog", "eel"]), convert_to="neuralnetwork")
    path = str(tmp_path / "classifier.mlmodel")
    mlmodel.save(path)
    imported = read(path)
    verify(imported)
    roundtrip(imported)
    fn = imported.functions[0]
    assert imported.attributes["coreml.model_type"].value == "neuralNetworkClassifier"
    assert fn.attributes["coreml.class_labels"].value == ("cat", "dog", "eel")
    assert fn.attributes["coreml.predictedFeatureName"].value == "classLabel"
    (probs,) = run_module(imported, {"x": x.numpy()})
    with torch.no_grad():
        assert rel_err(probs, module(x).numpy()) <= 1e-5


@checks("convolution")
def test_image_input_preprocessing(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Conv2d(3, 2, 1)
    module.eval()
    x = torch.rand(1, 3, 4, 5) * 255
    traced = torch.jit.trace(module, x)
    mlmodel = ct.convert(traced, inputs=[ct.ImageType(name="img", shape=x.shape, scale=1 / 255.0,
                                                      bias=[-0.5, -0.25, 0.0], color_layout="BGR")],
                         convert_to="neuralnetwork")
    path = str(tmp_path / "image.mlmodel")
    mlmodel.save(path)
    imported = read(path)
    verify(imported)
    roundtrip(imported)
    pre = [op for op in imported.walk() if op.op_name == "nn.image_preprocess"]
    assert len(pre) == 1 and pre[0].colorSpace == "BGR"
    (got,) = run_module(imported, {"img": x.numpy()})
    # bias is given per channel in the input's own (BGR) order
    scaled = x / 255.0 + torch.tensor([-0.5, -0.25, 0.0]).reshape(1, 3, 1, 1)
    with torch.no_grad():
        want = module(scaled).numpy()
    assert rel_err(got, want) <= 1e-4


# -- bad input ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    torch.manual_seed(0)
    module = ConvNet()
    x = torch.randn(1, 3, 8, 8)
    return convert(tmp_path_factory.mktemp("bad"), "small", module, x)


def test_truncated_file(small_model, tmp_path):
    data = open(small_model, "rb").read()
    for cut in (len(data) // 2, len(data) - 7, 10):
        path = tmp_path / "truncated.mlmodel"
        path.write_bytes(data[:cut])
        with pytest.raises(MlirCoremlError) as info:
            read(str(path))
        assert str(path) in str(info.value)


def test_random_bytes(tmp_path):
    rng = np.random.RandomState(1)
    for i in range(20):
        path = tmp_path / f"random{i}.mlmodel"
        path.write_bytes(rng.bytes(int(rng.randint(1, 4000))))
        with pytest.raises(MlirCoremlError):
            read(str(path))


def test_not_a_model(tmp_path):
    path = tmp_path / "text.mlmodel"
    path.write_text("this is not a model\n")
    with pytest.raises(MlirCoremlError, match="not"):
        read(str(path))


def edit_spec(path, tmp_path, edit):
    from mlir_coreml.frontend.proto import model_pb2

    spec = model_pb2.Model()
    spec.ParseFromString(open(path, "rb").read())
    edit(spec)
    out = tmp_path / "edited.mlmodel"
    out.write_bytes(spec.SerializeToString())
    return str(out)


def test_unknown_layer_type_names_the_layer(small_model, tmp_path):
    def drop_kind(spec):
        layer = spec.neuralNetwork.layers[1]
        layer.ClearField(layer.WhichOneof("layer"))  # what an unknown (newer) layer kind looks like
    path = edit_spec(small_model, tmp_path, drop_kind)
    with pytest.raises(MlirCoremlError, match=r"layer '.*': unknown layer type"):
        read(path)


def test_absurd_shapes_are_refused(small_model, tmp_path):
    def huge_input(spec):
        del spec.description.input[0].type.multiArrayType.shape[:]
        spec.description.input[0].type.multiArrayType.shape.extend([1 << 20, 1 << 20, 1 << 10])
    with pytest.raises(MlirCoremlError, match="elements"):
        read(edit_spec(small_model, tmp_path, huge_input))

    def huge_reshape(spec):
        for layer in spec.neuralNetwork.layers:
            if layer.WhichOneof("layer") == "reshapeStatic":
                del layer.reshapeStatic.targetShape[:]
                layer.reshapeStatic.targetShape.extend([1 << 40, 1])
    with pytest.raises(MlirCoremlError, match="reshape"):
        read(edit_spec(small_model, tmp_path, huge_reshape))


def test_missing_blob_names_the_layer(small_model, tmp_path):
    def rewire(spec):
        spec.neuralNetwork.layers[2].input[0] = "nowhere"
    with pytest.raises(MlirCoremlError, match=r"'nowhere' is not produced"):
        read(edit_spec(small_model, tmp_path, rewire))


def test_mutated_models_only_raise_project_errors(small_model, tmp_path):
    """Byte-level fuzzing of real files (conv net, loop model): the importer and verifier either
    succeed or raise MlirCoremlError, never anything else."""
    torch.manual_seed(0)
    gru = convert(tmp_path, "gru", Recurrent(torch.nn.GRU(3, 4)), torch.randn(2, 1, 3))
    rng = np.random.RandomState(11)
    sources = [open(p, "rb").read() for p in (small_model, gru)]
    for i in range(300):
        data = bytearray(sources[i % len(sources)])
        for _ in range(int(rng.randint(1, 8))):
            data[int(rng.randint(0, len(data)))] = int(rng.randint(0, 256))
        try:
            verify(read_bytes(bytes(data), f"mutant{i}"))
        except MlirCoremlError:
            pass


def _array_feature(features, name, shape):
    feature = features.add(name=name)
    feature.type.multiArrayType.shape.extend(shape)
    feature.type.multiArrayType.dataType = 65568  # FLOAT32
    return feature


def test_pipeline_classifier_of_two_networks_runs_as_one_function(tmp_path):
    """A pipelineClassifier: an inner-product network feeding a softmax classifier by feature name."""
    from mlir_coreml.frontend.proto import model_pb2

    rng = np.random.default_rng(3)
    w, bias = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    model = model_pb2.Model(specificationVersion=4)
    _array_feature(model.description.input, "x", [4])
    model.description.output.add(name="label").type.stringType.SetInParent()
    model.description.output.add(name="probs").type.dictionaryType.stringKeyType.SetInParent()
    model.description.predictedFeatureName, model.description.predictedProbabilitiesName = "label", "probs"
    first, second = model.pipelineClassifier.pipeline.models.add(), model.pipelineClassifier.pipeline.models.add()
    for stage, ins, outs in ((first, (("x", [4]),), (("h", [3]),)), (second, (("h", [3]),), (("p", [3]),))):
        stage.specificationVersion = 4
        for name, shape in ins:
            _array_feature(stage.description.input, name, shape)
        for name, shape in outs:
            _array_feature(stage.description.output, name, shape)
    fc = first.neuralNetwork.layers.add(name="fc", input=["x"], output=["h"]).innerProduct
    fc.inputChannels, fc.outputChannels, fc.hasBias = 4, 3, True
    fc.weights.floatValue.extend(w.ravel().tolist())
    fc.bias.floatValue.extend(bias.tolist())
    classifier = second.neuralNetworkClassifier
    classifier.layers.add(name="softmax", input=["h"], output=["p"]).softmax.SetInParent()
    classifier.stringClassLabels.vector.extend(["a", "b", "c"])
    classifier.labelProbabilityLayerName = "p"
    second.description.predictedFeatureName, second.description.predictedProbabilitiesName = "label", "probs"
    path = tmp_path / "pipeline.mlmodel"
    path.write_bytes(model.SerializeToString())

    module = mlir_coreml.load(str(path))
    assert [op.location.name for op in module.walk() if op.op_name.startswith("nn.")] == ["fc", "softmax"]
    x = rng.standard_normal(4).astype(np.float32)
    logits = w @ x + bias
    want = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    got = mlir_coreml.compile_model(str(path)).predict({"x": x})
    assert got["label"] == "abc"[int(np.argmax(want))]
    np.testing.assert_allclose([got["probs"][k] for k in "abc"], want, rtol=2e-3)


def test_pipeline_with_a_broken_classical_stage_is_a_clear_error(tmp_path):
    """Classical stages import into the `classical` dialect (tests/classical/); one without its
    input is refused naming the stage."""
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model(specificationVersion=4)
    model.pipeline.models.add().glmRegressor.SetInParent()
    path = tmp_path / "glm.mlmodel"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(MlirCoremlError, match=r'loc\("model0"\).*glmRegressor takes 1 inputs, got 0'):
        mlir_coreml.compile_model(str(path))
