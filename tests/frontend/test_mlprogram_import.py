"""ML Program import: `.mlpackage` (protobuf + weight.bin) and `model.mil` text into the `mil` dialect.

Zoo models converted by coremltools (fp16 compute precision, the default, and FLOAT32) import,
verify, print -> parse -> print identically, and the reference interpreter matches PyTorch.
The model.mil path must give the same IR as the protobuf path. Broken packages fail with one
MlirCoremlError naming the file.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend import load_model
from mlir_coreml.frontend.mil import text as T
from mlir_coreml.frontend.mil.to_ir import read_mil
from mlir_coreml.frontend.mlpackage import PROTO_DTYPES, read
from mlir_coreml.frontend.proto import model_pb2
from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.dialects.mil import MIL_OPS
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.verifier import verify

SPEC = os.path.join("Data", "com.apple.CoreML", "model.mlmodel")
WEIGHTS = os.path.join("Data", "com.apple.CoreML", "weights", "weight.bin")
TOLERANCE = {"mlprogram_fp32": 1e-4, "mlprogram": 5e-2}

# The brief's three networks, plus loops (while_loop), a U-Net and per-op models.
NETWORKS = ["resnet18_small", "transformer_small", "lstm", "gru", "gru_loop_scripted", "unet_small",
            "mobilenet_v2_small", "mlp"]
LAYERS = ["layer_conv_bn_relu", "layer_conv_transpose", "layer_conv_grouped", "layer_conv_dilated",
          "layer_maxpool_ceil", "layer_avgpool_pad_exclude", "layer_avgpool_pad_include", "layer_global_avgpool",
          "layer_upsample_bilinear", "layer_upsample_bilinear_align", "layer_upsample_nearest",
          "layer_pad_reflect", "layer_pad_constant", "layer_slice", "layer_split", "layer_groupnorm",
          "layer_instancenorm", "layer_layernorm", "layer_l2_normalize", "layer_gelu_tanh", "layer_embedding",
          "layer_prelu", "layer_hardswish", "layer_pixel_shuffle", "layer_reduce_sum_max", "layer_log_softmax",
          "layer_unary_math", "layer_sub_div", "layer_matmul", "layer_softmax_channel"]


def rel_max_err(expected, got) -> float:
    expected, got = np.asarray(expected, np.float64), np.asarray(got, np.float64)
    assert expected.shape == got.shape
    return float(np.abs(expected - got).max() / max(np.abs(expected).max(), 1e-12))


def check_model(model_zoo, name, form):
    path, inputs, expected = model_zoo.get(name, form)
    module = read(str(path))
    verify(module)
    text = print_module(module)
    assert print_module(parse_module(text)) == text
    outputs = run_module(module, inputs)
    assert len(outputs) == len(expected)
    for (key, want), got in zip(expected.items(), outputs):
        err = rel_max_err(want, got)
        assert err <= TOLERANCE[form], f"{name} {form} output {key}: rel max err {err:.3g}"
    return module


@pytest.mark.parametrize("form", ["mlprogram", "mlprogram_fp32"])
@pytest.mark.parametrize("name", NETWORKS)
def test_network_imports_and_matches_torch(model_zoo, name, form):
    check_model(model_zoo, name, form)


@pytest.mark.parametrize("form", ["mlprogram", "mlprogram_fp32"])
@pytest.mark.parametrize("name", LAYERS)
def test_layer_imports_and_matches_torch(model_zoo, name, form):
    check_model(model_zoo, name, form)


def test_structure_names_locations_and_opset(model_zoo):
    path, _, _ = model_zoo.get("layer_conv_bn_relu", "mlprogram")
    module = load_model(str(path))
    (fn,) = module.functions
    assert fn.attributes["opset"].value == "ios15"
    assert [a.name for a in fn.arguments] == ["x"]
    convs = [op for op in fn.walk() if op.op_name == "mil.conv"]
    assert len(convs) == 1
    conv = convs[0]
    assert conv.location.name == "input_cast_fp16" and conv.result.name == "input_cast_fp16"
    assert str(conv.result.type) == "tensor<1x16x16x16xf16>"
    # parameters keep their MIL names; the converter's const ops stay
    assert conv.param("pad_type").op.op_name == "mil.const"
    assert str(conv.const_param("pad_type")) == "custom"
    description = module.attributes["coreml.description"].value
    assert description["input"][0]["name"] == "x"
    assert module.attributes["coreml.specification_version"].value >= 6


def test_weights_are_lazy_memory_mapped_views(model_zoo):
    path, _, _ = model_zoo.get("layer_conv_bn_relu", "mlprogram_fp32")
    module = read(str(path))
    consts = [op for op in module.walk() if op.op_name == "mil.const"
              and isinstance(op.attributes["val"], DenseResourceAttr)]
    assert consts
    attr = consts[0].attributes["val"]
    assert not attr.blob.loaded
    assert attr.name == consts[0].result.name  # resources are named after the variable
    array = attr.value
    assert array.shape == attr.type.shape and array.dtype == np.float32
    assert not array.flags.writeable and not array.flags.owndata  # a view of the map, no copy


def test_interpreter_computes_fp16_in_fp16(model_zoo):
    path, inputs, _ = model_zoo.get("transformer_small", "mlprogram")
    module = read(str(path))
    f16 = [op for op in module.walk() if op.op_name == "mil.layer_norm"]
    assert f16 and all(str(op.result.type).endswith("xf16>") for op in f16)
    from mlir_coreml.ir.interpreter import Interpreter

    interp = Interpreter(module)
    fn = interp.function()
    env = {}
    interp_args = [inputs[a.name] for a in fn.arguments]
    env.update(zip(fn.arguments, interp_args))
    for op in fn.body.ops:
        if op.op_name == "func.return":
            break
        interp.run_op(op, env)
        for r in op.results:
            if str(r.type).endswith("xf16>"):
                assert env[r].dtype == np.float16, op


# -- several functions -------------------------------------------------------------------------

def test_multiple_functions(model_zoo, tmp_path):
    path, inputs, expected = model_zoo.get("layer_relu", "mlprogram_fp32")
    package = tmp_path / "two.mlpackage"
    shutil.copytree(path, package)
    spec = load_spec(package)
    spec.mlProgram.functions["second"].CopyFrom(spec.mlProgram.functions["main"])
    save_spec(package, spec)
    module = read(str(package))
    verify(module)
    assert [f.attributes["sym_name"].value for f in module.functions] == ["main", "second"]
    (want,) = expected.values()
    (got,) = run_module(module, inputs, function="second")
    assert rel_max_err(want, got) <= 1e-6


# -- model.mil text gives the same IR ----------------------------------------------------------

def mil_type(vt):
    kind = vt.WhichOneof("type")
    if kind == "tensorType":
        tt = vt.tensorType
        dims = tuple(d.constant.size if d.WhichOneof("dimension") == "constant" else None for d in tt.dimensions)
        return T.MilTensorType(PROTO_DTYPES[tt.dataType], dims)
    if kind == "listType":
        return T.MilListType(mil_type(vt.listType.type), None)
    raise NotImplementedError(kind)


def mil_literal(x):
    if isinstance(x, (bool, np.bool_)):
        return T.MilBool(bool(x))
    if isinstance(x, (str, bytes)):
        return T.MilString(x if isinstance(x, str) else x.decode())
    if isinstance(x, (float, np.floating)):
        return T.MilNumber(repr(float(x)))
    return T.MilNumber(str(int(x)))


def mil_nested(array):
    if array.ndim == 0:
        return mil_literal(array.item())
    return T.MilList(tuple(mil_nested(a) for a in array))


def mil_value(v):
    ty = mil_type(v.type)
    if v.WhichOneof("value") == "blobFileValue":
        return T.MilValue(ty, (T.MilBlobFile(v.blobFileValue.fileName, v.blobFileValue.offset),))
    tv = v.immediateValue.tensor
    which = tv.WhichOneof("value")
    if which == "bytes":
        array = np.frombuffer(tv.bytes.values, dtype={"fp16": np.float16, "int8": np.int8, "uint8": np.uint8}[ty.dtype])
    else:
        array = np.array(list(getattr(tv, which).values), dtype=object if which == "strings" else None)
    array = array.reshape(ty.shape)
    return T.MilValue(ty, (mil_nested(array),) if array.ndim else (mil_literal(array.item()),))


def mil_block(block, inputs=()):
    ops = []
    for op in block.operations:
        cls = MIL_OPS[op.type]
        variadic = {d.name for d in cls.operand_defs if d.variadic}
        args = []
        for param in sorted(op.inputs):
            names = [T.MilVar(b.name) for b in op.inputs[param].arguments]
            args.append(T.MilArg(param, T.MilArgTuple(tuple(names)) if param in variadic else names[0]))
        attributes = [T.MilAttribute(k, mil_value(v)) for k, v in sorted(op.attributes.items())]
        results = tuple(T.MilNamedType(mil_type(o.type), o.name) for o in op.outputs)
        blocks = tuple(mil_block(b, b.inputs) for b in op.blocks)
        ops.append(T.MilOp(results, op.type, tuple(args), tuple(attributes), blocks))
    named = tuple(T.MilNamedType(mil_type(i.type), i.name) for i in inputs)
    return T.MilBlock(named, tuple(ops), tuple(block.outputs))


def write_model_mil(spec, bundle):
    """The program of `spec` as a model.mil (our own writer: the backend's is not there yet)."""
    from mlir_coreml.codegen.mil_text import print_mil

    functions = []
    for name, fn in spec.mlProgram.functions.items():
        inputs = tuple(T.MilNamedType(mil_type(i.type), i.name) for i in fn.inputs)
        opset = {"CoreML5": "ios15", "CoreML6": "ios16", "CoreML7": "ios17", "CoreML8": "ios18"}[fn.opset]
        functions.append(T.MilFunction(name, opset, inputs, (), mil_block(fn.block_specializations[fn.opset])))
    program = T.MilProgram("1.0", (), tuple(functions))
    (bundle / "model.mil").write_text(print_mil(program), encoding="utf-8")


def functions_text(module) -> str:
    return print_module(module).split("\n", 1)[1]  # drop the module header (format-specific metadata)


@pytest.mark.parametrize("name,form", [("transformer_small", "mlprogram"), ("gru", "mlprogram_fp32"),
                                       ("layer_conv_bn_relu", "mlprogram_fp32")])
def test_model_mil_text_gives_the_same_ir(model_zoo, tmp_path, name, form):
    path, inputs, expected = model_zoo.get(name, form)
    bundle = tmp_path / "model.mlmodelc"
    (bundle / "weights").mkdir(parents=True)
    shutil.copy(os.path.join(path, WEIGHTS), bundle / "weights" / "weight.bin")
    write_model_mil(load_spec(path), bundle)
    from_text = read_mil(str(bundle / "model.mil"))
    verify(from_text)
    from_proto = read(str(path))
    assert functions_text(from_text) == functions_text(from_proto)
    for (key, want), got in zip(expected.items(), run_module(from_text, inputs)):
        assert rel_max_err(want, got) <= TOLERANCE[form]


CONTROL_FLOW = '''\
program(1.0)
[buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-version", "3402.4.1"}})]
{
    func main<ios17>(tensor<fp32, [1, 8]> x, tensor<int32, []> n, tensor<bool, []> flag) {
            tensor<int32, []> zero = const()[name = tensor<string, []>("zero"), val = tensor<int32, []>(0)];
            tensor<fp32, [1, 8]> branch = cond(pred = flag)[name = tensor<string, []>("branch")] {
                    tensor<fp32, [1, 8]> pos = relu(x = x)[name = tensor<string, []>("pos")];
                } -> (pos) {
                    tensor<int32, []> i_0, tensor<fp32, [1, 8]> acc_0 = while_loop(loop_vars = (zero, x))[name = tensor<string, []>("loop")] (tensor<int32, []> i_x, tensor<fp32, [1, 8]> acc_x) {
                            tensor<bool, []> more = less(x = i_x, y = n)[name = tensor<string, []>("more")];
                        } -> (more) (tensor<int32, []> i_y, tensor<fp32, [1, 8]> acc_y) {
                            tensor<int32, []> i_next = add(x = i_y, y = tensor<int32, []>(1))[name = tensor<string, []>("i_next")];
                            tensor<fp32, [1, 8]> acc_next = mul(x = acc_y, y = tensor<fp32, []>(0x1p+1))[name = tensor<string, []>("acc_next")];
                        } -> (i_next, acc_next);
                } -> (acc_0);
            list<tensor<fp32, [1, 8]>, ?> empty = make_list(dtype = tensor<string, []>("fp32"), elem_shape = (tensor<int32, []>(1), tensor<int32, []>(8)), init_length = tensor<int32, []>(1))[name = tensor<string, []>("empty")];
            list<tensor<fp32, [1, 8]>, ?> filled = list_write(index = zero, ls = empty, value = branch)[name = tensor<string, []>("filled")];
            tensor<fp32, [1, 8]> first = list_read(index = zero, ls = filled)[name = tensor<string, []>("first")];
        } -> (first, branch);
}
'''


def test_model_mil_control_flow(tmp_path):
    path = tmp_path / "model.mil"
    path.write_text(CONTROL_FLOW, encoding="utf-8")
    module = read_mil(str(path))
    verify(module)
    text = print_module(module)
    assert print_module(parse_module(text)) == text
    assert module.functions[0].attributes["opset"].value == "ios17"
    x = (np.arange(8, dtype=np.float32) - 3).reshape(1, 8)
    first, branch = run_module(module, {"x": x, "n": np.int32(3), "flag": np.bool_(False)})
    np.testing.assert_array_equal(branch, x * 8)
    np.testing.assert_array_equal(first, x * 8)
    first, branch = run_module(module, {"x": x, "n": np.int32(3), "flag": np.bool_(True)})
    np.testing.assert_array_equal(branch, np.maximum(x, 0))


def test_model_mil_blob_path_cannot_escape(tmp_path):
    (tmp_path / "bundle").mkdir()
    path = tmp_path / "bundle" / "model.mil"
    path.write_text('''program(1.0)
{
    func main<ios16>(tensor<fp16, [2]> x) {
            tensor<fp16, [2]> w = const()[name = string("w"), val = tensor<fp16, [2]>(BLOBFILE(path = string("@model_path/../secret.bin"), offset = uint64(64)))];
            tensor<fp16, [2]> y = add(x = x, y = w)[name = string("y")];
        } -> (y);
}
''', encoding="utf-8")
    with pytest.raises(MlirCoremlError, match="escapes"):
        read_mil(str(path))


# -- broken packages ---------------------------------------------------------------------------

def load_spec(package):
    spec = model_pb2.Model()
    with open(os.path.join(package, SPEC), "rb") as f:
        spec.ParseFromString(f.read())
    return spec


def save_spec(package, spec):
    with open(os.path.join(package, SPEC), "wb") as f:
        f.write(spec.SerializeToString())


@pytest.fixture
def package(model_zoo, tmp_path):
    """A private copy of a small converted package to break."""
    path, _, _ = model_zoo.get("layer_conv_bn_relu", "mlprogram")
    copy = tmp_path / "model.mlpackage"
    shutil.copytree(path, copy)
    return copy


def import_error(package) -> MlirCoremlError:
    with pytest.raises(MlirCoremlError) as info:
        read(str(package))
    return info.value


def edit_manifest(package, edit):
    manifest = package / "Manifest.json"
    data = json.loads(manifest.read_text())
    edit(data)
    manifest.write_text(json.dumps(data))


def root_item(data):
    return data["itemInfoEntries"][data["rootModelIdentifier"]]


def test_corrupt_manifest(package):
    (package / "Manifest.json").write_text("{not json")
    e = import_error(package)
    assert "malformed Manifest.json" in e.message and e.where.endswith("Manifest.json")


def test_manifest_without_root_model(package):
    edit_manifest(package, lambda d: d.pop("rootModelIdentifier"))
    assert "malformed Manifest.json" in import_error(package).message


def test_missing_manifest(package):
    (package / "Manifest.json").unlink()
    assert "missing Manifest.json" in import_error(package).message


@pytest.mark.parametrize("bad", ["../../model.mlmodel", "/etc/passwd", "com.apple.CoreML/../../../x"])
def test_manifest_path_cannot_escape(package, bad):
    edit_manifest(package, lambda d: root_item(d).update(path=bad))
    assert "escapes the package" in import_error(package).message


def test_manifest_symlink_cannot_escape(package, tmp_path):
    outside = tmp_path / "outside.mlmodel"
    shutil.copy(package / SPEC, outside)
    link = package / "Data" / "link.mlmodel"
    os.symlink(outside, link)
    edit_manifest(package, lambda d: root_item(d).update(path="link.mlmodel"))
    assert "escapes the package" in import_error(package).message


def test_blob_path_cannot_escape(package):
    spec = load_spec(package)
    for op in spec.mlProgram.functions["main"].block_specializations["CoreML5"].operations:
        if op.type == "const" and op.attributes["val"].WhichOneof("value") == "blobFileValue":
            op.attributes["val"].blobFileValue.fileName = "@model_path/../../../../etc/passwd"
            break
    save_spec(package, spec)
    assert "escapes the package" in import_error(package).message


def test_missing_weight_bin(package):
    (package / WEIGHTS).unlink()
    e = import_error(package)
    assert "missing weight file weight.bin" in e.message and "model.mlmodel" in e.where


def test_truncated_weight_bin(package):
    path = package / WEIGHTS
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 100])
    e = import_error(package)
    assert "outside the weight file" in e.message and "weight.bin" in e.where


def test_weight_bin_shorter_than_header(package):
    (package / WEIGHTS).write_bytes(b"\x02\x00\x00\x00")
    assert "truncated" in import_error(package).message


def test_weight_bin_bad_sentinel(package):
    path = package / WEIGHTS
    data = bytearray(path.read_bytes())
    data[64:68] = b"\0\0\0\0"
    path.write_bytes(bytes(data))
    assert "bad sentinel" in import_error(package).message


def test_weight_bin_wrong_dtype(package):
    path = package / WEIGHTS
    data = bytearray(path.read_bytes())
    data[68:72] = (2).to_bytes(4, "little")  # fp32, but the program declares fp16
    path.write_bytes(bytes(data))
    assert "declares fp16" in import_error(package).message


def test_unknown_op(package):
    spec = load_spec(package)
    for op in spec.mlProgram.functions["main"].block_specializations["CoreML5"].operations:
        if op.type == "relu":
            op.type = "frobnicate"
    save_spec(package, spec)
    e = import_error(package)
    assert "unknown MIL op 'frobnicate'" in e.message
    assert e.where.endswith("model.mlmodel:main/op_24_cast_fp16")


def test_not_a_protobuf(package):
    (package / SPEC).write_bytes(b"\xff\xff\xff\xff garbage")
    assert "not a Core ML model protobuf" in import_error(package).message


def test_cli_reports_one_line(package, capsys):
    from mlir_coreml.cli import main

    (package / WEIGHTS).unlink()
    assert main(["import", str(package)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "weight" in err[0]


# -- compressed weights: constexpr_* ops -------------------------------------------------------

@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """A small conv+linear model compressed three ways, for iOS16 (constexpr ops with attribute
    data) and iOS18 (constexpr ops with operands, sub-byte blobs); plus the torch weights."""
    torch = pytest.importorskip("torch")
    ct = pytest.importorskip("coremltools")
    import coremltools.optimize.coreml as cto

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(16 * 8 * 8, 32)).eval()
    x = torch.randn(1, 8, 8, 8)
    traced = torch.jit.trace(net, x)
    configs = {
        "linear": (cto.linear_quantize_weights, cto.OpLinearQuantizerConfig(mode="linear_symmetric", weight_threshold=0)),
        "palette": (cto.palettize_weights, cto.OpPalettizerConfig(nbits=4, mode="uniform", weight_threshold=0)),
        "prune": (cto.prune_weights, cto.OpMagnitudePrunerConfig(target_sparsity=0.5, weight_threshold=0)),
    }
    root = tmp_path_factory.mktemp("compressed")
    paths = {}
    for target in ("iOS16", "iOS18"):
        model = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=x.shape)], convert_to="mlprogram",
                           minimum_deployment_target=getattr(ct.target, target),
                           compute_precision=ct.precision.FLOAT32)
        for kind, (compress, config) in configs.items():
            path = root / f"{kind}_{target}.mlpackage"
            compress(model, cto.OptimizationConfig(global_config=config)).save(str(path))
            paths[kind, target] = str(path)
    weights = {"conv": net[0].weight.detach().numpy(), "linear": net[3].weight.detach().numpy()}
    return paths, x.numpy(), net(x).detach().numpy(), weights


def dequantized_weights(module) -> list[np.ndarray]:
    """Values of the constexpr ops of main, in program order."""
    from mlir_coreml.ir.interpreter import Interpreter

    interp, env, out = Interpreter(module), {}, []
    for op in interp.function().body.ops:
        if op.op_name == "mil.const" or op.op_name.startswith("mil.constexpr_"):
            interp.run_op(op, env)
            if op.op_name.startswith("mil.constexpr_"):
                out.append(env[op.result])
    return out


@pytest.mark.parametrize("kind,op", [("linear", None), ("palette", "mil.constexpr_lut_to_dense"),
                                     ("prune", "mil.constexpr_sparse_to_dense")])
def test_constexpr_weights_ios16_and_ios18_agree(compressed, kind, op):
    paths, x, expected, weights = compressed
    results = {}
    for target in ("iOS16", "iOS18"):
        module = read(paths[kind, target])
        verify(module)
        text = print_module(module)
        assert print_module(parse_module(text)) == text
        names = {o.op_name for o in module.walk() if o.op_name.startswith("mil.constexpr_")}
        want = op or {"iOS16": "mil.constexpr_affine_dequantize", "iOS18": "mil.constexpr_blockwise_shift_scale"}[target]
        assert names == {want}
        results[target] = (dequantized_weights(module), run_module(module, {"x": x})[0])
    (w16, y16), (w18, y18) = results["iOS16"], results["iOS18"]
    for a, b in zip(w16, w18):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y16, y18, rtol=1e-5, atol=1e-5)
    conv, linear = w16
    for got, want in ((conv, weights["conv"]), (linear, weights["linear"])):
        assert got.shape == want.shape
        span = float(want.max() - want.min())
        if kind == "linear":
            assert np.abs(got - want).max() <= np.abs(want).max() / 127 * 0.51
        elif kind == "palette":
            assert np.abs(got - want).max() <= span / 15 * 0.51
        else:
            kept = got != 0
            np.testing.assert_array_equal(got[kept], want[kept])
            assert 0.4 <= 1 - kept.mean() <= 0.6
    if kind == "linear":
        assert rel_max_err(expected, y16) <= 2e-2


# -- per-op coverage: small torch functions converted here ------------------------------------

def _torch_cases():
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class Fn(nn.Module):
        def __init__(self, fn, **buffers):
            super().__init__()
            self.fn = fn
            for k, v in buffers.items():
                self.register_buffer(k, v)

        def forward(self, *xs):
            return self.fn(self, *xs)

    class Recurrent(nn.Module):  # explicit zero initial state (traces without aten::Int)
        def __init__(self, rnn, states, lstm=False):
            super().__init__()
            self.rnn, self.lstm = rnn, lstm
            self.register_buffer("h0", torch.zeros(states, 1, rnn.hidden_size))

        def forward(self, x):
            return self.rnn(x, (self.h0, self.h0) if self.lstm else self.h0)[0]

    g = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    return {
        "topk": (Fn(lambda m, x: torch.topk(x, 3, dim=-1)), [r(2, 10)]),
        "cumsum": (Fn(lambda m, x: torch.cumsum(x, 1)), [r(2, 6, 3)]),
        "gather_along_axis": (Fn(lambda m, x: torch.gather(x, 1, m.idx), idx=torch.tensor([[0, 2, 1], [3, 3, 0]])), [r(2, 4)]),
        "select": (Fn(lambda m, x, y: torch.where(x > 0, x, y * 2)), [r(3, 4), r(3, 4)]),
        "reduce_argmax": (Fn(lambda m, x: torch.argmax(x, 1)), [r(3, 7)]),
        "tile": (Fn(lambda m, x: x.repeat(1, 2, 3)), [r(1, 2, 3)]),
        "stack": (Fn(lambda m, a, b: torch.stack([a, b], 1)), [r(2, 3), r(2, 3)]),
        "conv1d": (nn.Conv1d(4, 6, 3, padding=1, stride=2), [r(1, 4, 11)]),
        "conv3d": (nn.Conv3d(2, 3, 3, padding=1), [r(1, 2, 4, 5, 6)]),
        "conv_transpose_grouped": (nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2), [r(1, 4, 5, 5)]),
        "conv_transpose_1d": (nn.ConvTranspose1d(4, 3, 4, stride=2), [r(1, 4, 7)]),
        "max_pool_1d": (nn.MaxPool1d(3, 2, padding=1), [r(1, 3, 10)]),
        "avg_pool_1d": (nn.AvgPool1d(2), [r(1, 3, 10)]),
        "adaptive_avg_pool": (nn.AdaptiveAvgPool2d((2, 3)), [r(1, 2, 8, 9)]),
        "max_pool_rect": (nn.MaxPool2d((2, 3), stride=(2, 1)), [r(1, 2, 6, 7)]),
        "bilinear_size": (Fn(lambda m, x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=False)), [r(1, 2, 5, 4)]),
        "bilinear_size_align": (Fn(lambda m, x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)), [r(1, 2, 5, 4)]),
        "nearest_size": (Fn(lambda m, x: F.interpolate(x, size=(10, 8), mode="nearest")), [r(1, 2, 5, 4)]),
        "nearest_fractional": (Fn(lambda m, x: F.interpolate(x, scale_factor=1.5, mode="nearest")), [r(1, 2, 4, 4)]),
        "layer_norm_no_affine": (Fn(lambda m, x: F.layer_norm(x, (4, 5))), [r(2, 3, 4, 5)]),
        "floor_div_mod_pow": (Fn(lambda m, x, y: torch.floor_divide(x, y.abs() + 0.5) + torch.remainder(x, y.abs() + 0.5)
                                 + torch.pow(x.abs(), 1.5)), [r(3, 4), r(3, 4)]),
        "rounding": (Fn(lambda m, x: torch.ceil(x) + torch.floor(x) * 2 + torch.round(x * 3) + torch.sign(x)), [r(4, 5)]),
        "trig": (Fn(lambda m, x: torch.sin(x) + torch.cos(x) + torch.erf(x) + torch.atan(x) + torch.sinh(x) + torch.cosh(x)
                    + torch.rsqrt(x.abs() + 1)), [r(4, 5)]),
        "reductions": (Fn(lambda m, x: torch.cat([x.amin(1), torch.logsumexp(x, 1), x.norm(p=1, dim=1)], 0)), [r(3, 4)]),
        "matmul_transpose": (Fn(lambda m, a, b: torch.matmul(a, b.transpose(-1, -2))), [r(2, 3, 4), r(2, 5, 4)]),
        "reverse": (Fn(lambda m, x: torch.flip(x, [1, 2])), [r(2, 3, 4)]),
        "gather": (Fn(lambda m, x: torch.index_select(x, 1, m.idx), idx=torch.tensor([2, 0, 2])), [r(2, 4, 3)]),
        "scatter_along_axis": (Fn(lambda m, x, u: x.scatter(1, m.idx, u), idx=torch.tensor([[0, 2], [1, 3]])), [r(2, 4), r(2, 2)]),
        "cast": (Fn(lambda m, x: (x * 10).int().float()), [r(3, 4)]),
        "clip": (nn.Hardtanh(-0.5, 0.5), [r(3, 4)]),
        "rnn": (Recurrent(nn.RNN(4, 5, nonlinearity="relu"), 1), [r(6, 1, 4)]),
        "gru_bidirectional": (Recurrent(nn.GRU(4, 5, bidirectional=True), 2), [r(6, 1, 4)]),
        "lstm_2_layers_bidirectional": (Recurrent(nn.LSTM(4, 5, num_layers=2, bidirectional=True), 4, lstm=True), [r(6, 1, 4)]),
        "slice_squeeze": (Fn(lambda m, x: x[:, 1:3].unsqueeze(0).squeeze(0)[..., 2]), [r(2, 5, 4)]),
        "comparisons": (Fn(lambda m, x, y: torch.logical_or(torch.logical_and(x > 0, y < 0), x == y).float()
                           + (x != y).float() + (x >= y).float() + (x <= y).float()), [r(3, 4), r(3, 4)]),
        "softmax_axis_0": (nn.Softmax(dim=0), [r(3, 4)]),
        "einsum": (Fn(lambda m, a, b: torch.einsum("bij,bkj->bik", a, b)), [r(2, 3, 4), r(2, 5, 4)]),
        "one_hot": (Fn(lambda m, x: F.one_hot(x, 5).float()), [torch.tensor([[0, 3, 4], [1, 1, 2]])]),
        "maximum_exp2": (Fn(lambda m, x: torch.clamp_min(x, 0.2) + torch.exp2(x)), [r(3, 4)]),
        "activations": (Fn(lambda m, x: F.softsign(x) + F.selu(x) + F.softplus(x, beta=2.0)), [r(3, 4)]),
    }


TORCH_CASES = ["topk", "cumsum", "gather_along_axis", "select", "reduce_argmax", "tile", "stack", "conv1d", "conv3d",
               "conv_transpose_grouped", "conv_transpose_1d", "max_pool_1d", "avg_pool_1d", "adaptive_avg_pool",
               "max_pool_rect", "bilinear_size", "bilinear_size_align", "nearest_size", "nearest_fractional",
               "layer_norm_no_affine", "floor_div_mod_pow", "rounding", "trig", "reductions", "matmul_transpose",
               "reverse", "gather", "scatter_along_axis", "cast", "clip", "rnn", "gru_bidirectional",
               "lstm_2_layers_bidirectional", "slice_squeeze", "comparisons", "softmax_axis_0", "einsum", "one_hot",
               "maximum_exp2", "activations"]


@pytest.fixture(scope="module")
def torch_cases():
    return _torch_cases()


@pytest.mark.parametrize("name", TORCH_CASES)
def test_op_semantics_against_torch(torch_cases, tmp_path, name):
    torch = pytest.importorskip("torch")
    ct = pytest.importorskip("coremltools")
    module, inputs = torch_cases[name]
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    expected = [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]
    feeds = {f"in{i}": t.numpy().astype(np.int32 if t.dtype == torch.int64 else np.float32) for i, t in enumerate(inputs)}
    spec_inputs = [ct.TensorType(name=k, shape=v.shape, dtype=v.dtype.type) for k, v in feeds.items()]
    converted = ct.convert(torch.jit.trace(module, tuple(inputs)), inputs=spec_inputs, convert_to="mlprogram",
                           compute_precision=ct.precision.FLOAT32)
    path = str(tmp_path / f"{name}.mlpackage")
    converted.save(path)
    imported = read(path)
    verify(imported)
    text = print_module(imported)
    assert print_module(parse_module(text)) == text
    got = run_module(imported, feeds)
    assert len(got) == len(expected)
    for want, have in zip(expected, got):
        assert rel_max_err(want, have) <= 1e-5, name


# -- model.mil errors name the line ------------------------------------------------------------

def mil_program(body: str) -> str:
    return ("program(1.0)\n{\n    func main<ios16>(tensor<fp32, [2]> x) {\n" + body
            + "        } -> (y);\n}\n")


@pytest.mark.parametrize("body,message", [
    ('            tensor<fp32, [2]> y = frobnicate(x = x)[name = string("f")];\n', "unknown MIL op 'frobnicate'"),
    ('            tensor<fp32, [2]> y = relu(x = z)[name = string("r")];\n', "undefined variable 'z'"),
    ('            tensor<fp32, [2]> y = relu(x = x, alpha = x)[name = string("r")];\n', "has no parameter 'alpha'"),
    ('            tensor<fp32, [2]> y = add(x = x)[name = string("a")];\n', "missing required parameter 'y'"),
    ('            tensor<fp32, [2]> y = const()[name = string("w"), val = tensor<fp32, [2]>(BLOBFILE('
     'path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];\n', "missing weight file"),
])
def test_model_mil_errors_name_the_line(tmp_path, body, message):
    path = tmp_path / "model.mil"
    path.write_text(mil_program(body), encoding="utf-8")
    with pytest.raises(MlirCoremlError) as info:
        read_mil(str(path))
    assert message in info.value.message
    assert info.value.where == f"{path}:4"


def test_ops_infer_their_result_types():
    from mlir_coreml.ir.attributes import DenseAttr
    from mlir_coreml.ir.core import Block
    from mlir_coreml.ir.opdef import build
    from mlir_coreml.ir.types import TensorType, tensor

    block = Block([tensor((1, 2, 7, 8), "f16")])
    x = block.args[0]

    def const(value, dtype=None):
        array = np.array(value, dtype=dtype or (object if isinstance(value, str) else None))
        attr = DenseAttr(array, TensorType(array.shape, tensor((), "string").element) if isinstance(value, str) else None)
        op = build(MIL_OPS["const"], [], [], {"val": attr})
        block.append(op)
        return op.result

    w = const(np.zeros((3, 2, 3, 3), np.float16))
    conv = build(MIL_OPS["conv"], {"x": x, "weight": w, "strides": const([2, 2], np.int32),
                                   "pad_type": const("same")})
    assert str(conv.result.type) == "tensor<1x3x4x4xf16>"
    cast = build(MIL_OPS["cast"], {"x": conv.result, "dtype": const("fp32")})
    assert str(cast.result.type) == "tensor<1x3x4x4xf32>"
    reduced = build(MIL_OPS["reduce_mean"], {"x": cast.result, "axes": const([2, 3], np.int32),
                                            "keep_dims": const(True)})
    assert str(reduced.result.type) == "tensor<1x3x1x1xf32>"
    split = build(MIL_OPS["split"], {"x": x, "split_sizes": const([3, 5], np.int32), "axis": const(-1, np.int32)})
    assert [str(r.type) for r in split.results] == ["tensor<1x2x7x3xf16>", "tensor<1x2x7x5xf16>"]
    less = build(MIL_OPS["less"], [x, build(MIL_OPS["const"], [], [], {"val": DenseAttr(np.float16(0))}).result])
    assert str(less.result.type) == "tensor<1x2x7x8xbool>"


# -- untrusted input: mutated packages only ever raise MlirCoremlError ----------------------

def test_mutated_packages_raise_only_our_error(model_zoo, tmp_path):
    from hypothesis import HealthCheck, given, settings, strategies as st

    source, _, _ = model_zoo.get("gru", "mlprogram")  # while_loop, consts, blobs
    spec_bytes = (source / SPEC).read_bytes()
    weight_bytes = (source / WEIGHTS).read_bytes()
    package = tmp_path / "fuzz.mlpackage"
    shutil.copytree(source, package)

    edits = st.lists(st.tuples(st.sampled_from(["set", "delete", "insert"]), st.floats(0, 1, exclude_max=True),
                               st.binary(min_size=1, max_size=8)), min_size=1, max_size=4)

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(target=st.sampled_from(["spec", "spec", "weights"]), edits=edits)
    def check(target, edits):
        data = bytearray(spec_bytes if target == "spec" else weight_bytes)
        for kind, where, payload in edits:
            pos = int(where * len(data))
            if kind == "set":
                data[pos:pos + len(payload)] = payload
            elif kind == "delete":
                del data[pos:pos + len(payload)]
            else:
                data[pos:pos] = payload
        (package / (SPEC if target == "spec" else WEIGHTS)).write_bytes(bytes(data))
        try:
            module = read(str(package))
            verify(module)
            print_module(module)
        except MlirCoremlError:
            pass
        finally:
            (package / SPEC).write_bytes(spec_bytes)
            (package / WEIGHTS).write_bytes(weight_bytes)

    check()


def test_classifier_and_attention(tmp_path):
    torch = pytest.importorskip("torch")
    ct = pytest.importorskip("coremltools")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(-1)).eval()
    x = torch.randn(1, 4)
    converted = ct.convert(torch.jit.trace(net, x), inputs=[ct.TensorType(name="x", shape=x.shape)],
                           convert_to="mlprogram", compute_precision=ct.precision.FLOAT32,
                           classifier_config=ct.ClassifierConfig(["cat", "dog", "bird"]))
    converted.save(str(tmp_path / "cls.mlpackage"))
    module = read(str(tmp_path / "cls.mlpackage"))
    verify(module)
    text = print_module(module)
    assert print_module(parse_module(text)) == text and "list<tensor<string>>" in text
    label, probabilities = run_module(module, {"x": x.numpy()})
    want = net(x).detach().numpy()[0]
    assert str(label) == ["cat", "dog", "bird"][int(want.argmax())]
    assert probabilities.keys() == {"cat", "dog", "bird"}
    np.testing.assert_allclose([probabilities[k] for k in ("cat", "dog", "bird")], want, rtol=1e-5)

    class Attention(torch.nn.Module):
        def forward(self, q, k, v):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    q, k, v = torch.randn(1, 2, 5, 8), torch.randn(1, 2, 6, 8), torch.randn(1, 2, 6, 8)
    converted = ct.convert(torch.jit.trace(Attention().eval(), (q, k, v)),
                           inputs=[ct.TensorType(name=n, shape=t.shape) for n, t in zip("qkv", (q, k, v))],
                           convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                           compute_precision=ct.precision.FLOAT32)
    converted.save(str(tmp_path / "sdpa.mlpackage"))
    module = read(str(tmp_path / "sdpa.mlpackage"))
    verify(module)
    assert module.functions[0].attributes["opset"].value == "ios18"
    assert any(op.op_name == "mil.scaled_dot_product_attention" for op in module.walk())
    (got,) = run_module(module, {"q": q.numpy(), "k": k.numpy(), "v": v.numpy()})
    assert rel_max_err(Attention()(q, k, v).numpy(), got) <= 1e-5


MISC_OPS = '''\
program(1.3)
{
    func main<ios18>(tensor<fp32, [2, 3, 4, 4]> x) {
            tensor<int32, [2]> block = const()[name = string("block"), val = tensor<int32, [2]>([2, 2])];
            tensor<int32, [2, 2]> zeros = const()[name = string("zeros"), val = tensor<int32, [2, 2]>([[0, 0], [0, 0]])];
            tensor<fp32, [8, 3, 2, 2]> s2b = space_to_batch(x = x, block_shape = block, paddings = zeros)[name = string("s2b")];
            tensor<fp32, [2, 3, 4, 4]> back = batch_to_space(x = s2b, block_shape = block, crops = zeros)[name = string("b2s")];
            tensor<int32, [4]> begin = const()[name = string("begin"), val = tensor<int32, [4]>([0, 1, 0, 0])];
            tensor<int32, [4]> end = const()[name = string("end"), val = tensor<int32, [4]>([1, 2, 4, 4])];
            tensor<fp32, [1, 1, 4, 4]> patch = const()[name = string("patch"), val = tensor<fp32, [1, 1, 4, 4]>([[[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]]])];
            tensor<fp32, [2, 3, 4, 4]> updated = slice_update(x = x, update = patch, begin = begin, end = end)[name = string("upd")];
            int32 axis = const()[name = string("axis"), val = int32(3)];
            int32 size = const()[name = string("size"), val = int32(2)];
            tensor<fp32, [2, 3, 4, 3, 2]> windows = sliding_windows(x = x, axis = axis, size = size)[name = string("win")];
            fp32 scale = const()[name = string("scale"), val = fp32(0.05)];
            string int8 = const()[name = string("int8"), val = string("int8")];
            tensor<int8, [2, 3, 4, 4]> q = quantize(input = x, scale = scale, output_dtype = int8)[name = string("q")];
            tensor<fp32, [2, 3, 4, 4]> dq = dequantize(input = q, scale = scale)[name = string("dq")];
        } -> (back, updated, windows, dq);
}
'''


def test_misc_ops_semantics(tmp_path):
    path = tmp_path / "model.mil"
    path.write_text(MISC_OPS, encoding="utf-8")
    module = read_mil(str(path))
    verify(module)
    x = np.random.default_rng(0).uniform(-3, 3, (2, 3, 4, 4)).astype(np.float32)
    back, updated, windows, dq = run_module(module, {"x": x})
    np.testing.assert_array_equal(back, x)
    want = x.copy()
    want[0:1, 1:2] = 1
    np.testing.assert_array_equal(updated, want)
    np.testing.assert_array_equal(windows, np.stack([x[..., 0:2], x[..., 1:3], x[..., 2:4]], axis=3))
    assert np.abs(dq - x).max() <= 0.025 + 1e-6
