"""A small residual CNN and a transformer-style block written in `core`, against PyTorch:
fp16 weights within 2e-2, f32 weights kept exact (no precision pass) within 1e-4."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mlir_coreml.runtime.predict import compile_model  # noqa: E402
from mlir_coreml.ir.dialects import core  # noqa: E402
from tests.codegen.helpers import Program, rel_err  # noqa: E402


def _np(t):
    return t.detach().numpy().astype(np.float32)


class TinyResNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 16, 3, 2, 1)
        self.pool = torch.nn.MaxPool2d(3, 2, 1)
        self.c1 = torch.nn.Conv2d(16, 16, 3, 1, 1)
        self.c2 = torch.nn.Conv2d(16, 16, 3, 1, 1)
        self.dw = torch.nn.Conv2d(16, 16, 3, 1, 1, groups=16)
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.stem(x)))
        y = torch.relu(self.c2(torch.relu(self.c1(x))) + x)
        y = torch.nn.functional.relu6(self.dw(y))
        return torch.softmax(self.fc(y.mean((2, 3))), -1)


def tiny_resnet_in_core(net, x):
    p = Program(x=x)

    def conv(value, layer, act, residual=None, groups=1):
        w, b = p.const(_np(layer.weight)), p.const(_np(layer.bias))
        pad = layer.padding[0]
        return p.op(core.Conv2dOp, {"input": value, "weight": w, "bias": b, "residual": residual},
                    {"strides": list(layer.stride), "pads": [pad] * 4, "groups": groups, "activation": act})

    v = conv(p.args["x"], net.stem, "relu")
    v = p.op(core.Pool2dOp, [v], {"kind": "max", "kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
    y = conv(conv(v, net.c1, "relu"), net.c2, "relu", residual=v)
    y = conv(y, net.dw, "relu6", groups=16)
    y = p.op(core.ReshapeOp, [p.op(core.GlobalPoolOp, [y], {"kind": "avg"})], {"shape": [1, 16]})
    y = p.op(core.LinearOp, {"input": y, "weight": p.const(_np(net.fc.weight)), "bias": p.const(_np(net.fc.bias)),
                             "residual": None})
    return p.finish(p.op(core.SoftmaxOp, [y], name="probs"))


@pytest.mark.parametrize("precision,tol", [("fp16", 2e-2), (None, 1e-4)])
def test_tiny_resnet_matches_torch(precision, tol):
    torch.manual_seed(0)
    net = TinyResNet().eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    model = compile_model(tiny_resnet_in_core(net, x), threads=1, precision=precision)
    assert rel_err(model.predict({"x": x})["probs"], ref) <= tol


def test_transformer_block_matches_torch():
    torch.manual_seed(0)
    d, seq, heads = 32, 10, 4
    layer = torch.nn.TransformerEncoderLayer(d, heads, 64, dropout=0.0, batch_first=True, activation="gelu").eval()
    x = np.random.default_rng(1).standard_normal((1, seq, d)).astype(np.float32)
    with torch.no_grad():
        ref = layer(torch.from_numpy(x)).numpy()
    p = Program(x=x)
    attn = layer.self_attn
    w_in, b_in = _np(attn.in_proj_weight), _np(attn.in_proj_bias)

    def linear(v, w, b, act="none", residual=None):
        return p.op(core.LinearOp, {"input": v, "weight": p.const(w), "bias": p.const(b), "residual": residual},
                    {"activation": act})

    def heads_first(v):  # [1, seq, d] -> [1, heads, seq, d/heads]
        v = p.op(core.ReshapeOp, [v], {"shape": [1, seq, heads, d // heads]})
        return p.op(core.TransposeOp, [v], {"perm": [0, 2, 1, 3]})

    xv = p.args["x"]
    q, k, v = (heads_first(linear(xv, w_in[i * d:(i + 1) * d], b_in[i * d:(i + 1) * d])) for i in range(3))
    scores = p.op(core.MatmulOp, [q, k], {"transpose_b": True})
    scores = p.op(core.MulOp, [scores, p.const(np.array([1 / np.sqrt(d // heads)], np.float32))])
    ctx = p.op(core.MatmulOp, [p.op(core.SoftmaxOp, [scores]), v])
    ctx = p.op(core.ReshapeOp, [p.op(core.TransposeOp, [ctx], {"perm": [0, 2, 1, 3]})], {"shape": [1, seq, d]})
    h = linear(ctx, _np(attn.out_proj.weight), _np(attn.out_proj.bias), residual=xv)

    def norm(value, ln):
        return p.op(core.LayerNormOp, {"input": value, "gamma": p.const(_np(ln.weight)), "beta": p.const(_np(ln.bias))},
                    {"axes": [-1], "eps": ln.eps})

    h = norm(h, layer.norm1)
    f = linear(linear(h, _np(layer.linear1.weight), _np(layer.linear1.bias), act="gelu"),
               _np(layer.linear2.weight), _np(layer.linear2.bias), residual=h)
    module = p.finish(norm(f, layer.norm2))
    model = compile_model(module, threads=1, precision="fp16")
    assert model.executor.kernel_ops >= 6
    assert rel_err(list(model.predict({"x": x}).values())[0], ref) <= 2e-2
    exact = compile_model(module)
    assert rel_err(list(exact.predict({"x": x}).values())[0], ref) <= 1e-4
