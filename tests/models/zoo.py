"""The model zoo: every test and benchmark model, built from committed code with fixed seeds.

Each entry of :data:`REGISTRY` is a plain-torch architecture (no torchvision) plus the
names, shapes and dtypes of its inputs and outputs.  :func:`build` traces it, converts it
with coremltools (or exports ONNX) and writes, into one directory:

    model.mlmodel | model.mlpackage | model.onnx   the model in the requested form
    io.npz                                        inputs and PyTorch outputs, keyed by the
                                                  model's input/output names
    inputs.npz                                    the inputs only (for ``run --inputs``)
    meta.json                                     names, shapes, dtypes, form, build time

Forms (:data:`FORMS`):

    nn_fp32         NeuralNetwork .mlmodel, fp32 weights
    nn_fp16         NeuralNetwork .mlmodel, weights stored as fp16 (quantize_weights nbits=16)
    mlprogram       ML Program .mlpackage, coremltools' default fp16 compute precision
    mlprogram_fp32  ML Program .mlpackage, compute_precision=FLOAT32
    onnx            ONNX (TorchScript exporter, opset 17), for benchmarks

:func:`cached_build` builds lazily into ``<cache_root>/<content-hash>/`` (hash of this
file's source, the model name, the form and the tool versions) and is safe when several
processes ask for the same model at once.

CLI::

    python -m tests.models.zoo list [--small|--layers|--networks]
    python -m tests.models.zoo build NAME FORM OUTDIR
    python -m tests.models.zoo cached NAME FORM [--cache DIR]     # prints the model path
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

# Keep coremltools quiet: the missing libcoremlpython proxies on Linux, the untested-torch
# warning, and the tqdm progress bars of every conversion.
logging.getLogger("coremltools").setLevel(logging.ERROR)
os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

FORMS = ("nn_fp32", "nn_fp16", "mlprogram", "mlprogram_fp32", "onnx")
COREML_FORMS = ("nn_fp32", "nn_fp16", "mlprogram", "mlprogram_fp32")
MODEL_FILE = {
    "nn_fp32": "model.mlmodel",
    "nn_fp16": "model.mlmodel",
    "mlprogram": "model.mlpackage",
    "mlprogram_fp32": "model.mlpackage",
    "onnx": "model.onnx",
}
SPEC_TYPE = {  # Model.WhichOneof("Type") expected for each Core ML form
    "nn_fp32": "neuralNetwork",
    "nn_fp16": "neuralNetwork",
    "mlprogram": "mlProgram",
    "mlprogram_fp32": "mlProgram",
}
ONNX_OPSET = 17


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------

def _randomize_norms(module: nn.Module, gen: torch.Generator) -> None:
    """Give every BatchNorm non-trivial statistics and affine params (fresh ones are identity)."""
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm2d)) and getattr(m, "weight", None) is not None:
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvBNAct(nn.Sequential):
    def __init__(self, cin, cout, k=3, stride=1, groups=1, act=nn.ReLU6):
        super().__init__(
            nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            act(inplace=True) if act is not None else nn.Identity(),
        )


# --- MobileNetV2 ----------------------------------------------------------------------

class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = int(round(cin * expand))
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, k=1))
        layers += [
            ConvBNAct(hidden, hidden, k=3, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    FULL_SETTING = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2],
                    [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]

    def __init__(self, num_classes=1000, width=1.0, setting=None, last_channel=1280):
        super().__init__()
        setting = setting or self.FULL_SETTING
        cin = _make_divisible(32 * width)
        self.last_channel = _make_divisible(last_channel * max(1.0, width))
        feats: list[nn.Module] = [ConvBNAct(3, cin, stride=2)]
        for t, c, n, s in setting:
            cout = _make_divisible(c * width)
            for i in range(n):
                feats.append(InvertedResidual(cin, cout, s if i == 0 else 1, t))
                cin = cout
        feats.append(ConvBNAct(cin, self.last_channel, k=1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(self.last_channel, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


# --- ResNet-18 ------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + idt)


class ResNet(nn.Module):
    def __init__(self, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2), num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1))
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# --- SqueezeNet 1.1 -------------------------------------------------------------------

class Fire(nn.Module):
    def __init__(self, cin, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)


class SqueezeNet11(nn.Module):
    def __init__(self, num_classes=1000, div=1):
        super().__init__()
        d = lambda c: max(4, c // div)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(3, d(64), 3, stride=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(d(64), d(16), d(64), d(64)), Fire(d(128), d(16), d(64), d(64)),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(d(128), d(32), d(128), d(128)), Fire(d(256), d(32), d(128), d(128)),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            Fire(d(256), d(48), d(192), d(192)), Fire(d(384), d(48), d(192), d(192)),
            Fire(d(384), d(64), d(256), d(256)), Fire(d(512), d(64), d(256), d(256)),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Conv2d(d(512), num_classes, 1), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


# --- U-Net ----------------------------------------------------------------------------

def _double_conv(cin, cout):
    return nn.Sequential(ConvBNAct(cin, cout, act=nn.ReLU), ConvBNAct(cout, cout, act=nn.ReLU))


class UNet(nn.Module):
    """Four levels; the three up-steps use a transposed conv, bilinear and nearest upsampling."""

    def __init__(self, c=8, num_classes=2):
        super().__init__()
        self.e1 = _double_conv(3, c)
        self.e2 = _double_conv(c, 2 * c)
        self.e3 = _double_conv(2 * c, 4 * c)
        self.bott = _double_conv(4 * c, 8 * c)
        self.up3 = nn.ConvTranspose2d(8 * c, 4 * c, 2, stride=2)
        self.d3 = _double_conv(8 * c, 4 * c)
        self.up2 = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                                 nn.Conv2d(4 * c, 2 * c, 1))
        self.d2 = _double_conv(4 * c, 2 * c)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * c, c, 1))
        self.d1 = _double_conv(2 * c, c)
        self.head = nn.Conv2d(c, num_classes, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        b = self.bott(F.max_pool2d(e3, 2))
        d3 = self.d3(torch.cat([self.up3(b), e3], 1))
        d2 = self.d2(torch.cat([self.up2(d3), e2], 1))
        d1 = self.d1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


# --- Transformer encoder (hand-written) -----------------------------------------------

class EncoderLayer(nn.Module):
    """Post-norm encoder layer like nn.TransformerEncoderLayer(activation='gelu'), but
    written out so the traced graph is batched matmul + softmax + layer norm + gelu + split."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.reshape(b, s, self.h, self.dh).permute(0, 2, 1, 3)
        k = k.reshape(b, s, self.h, self.dh).permute(0, 2, 1, 3)
        v = v.reshape(b, s, self.h, self.dh).permute(0, 2, 1, 3)
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (self.dh ** -0.5), dim=-1)
        o = torch.matmul(att, v).permute(0, 2, 1, 3).reshape(b, s, d)
        x = self.ln1(x + self.proj(o))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class TransformerEncoder(nn.Module):
    def __init__(self, d=128, heads=4, ff=512, layers=2):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(d, heads, ff) for _ in range(layers)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


# --- Recurrent models -----------------------------------------------------------------

class LSTMModel(nn.Module):
    """LSTM followed by a bidirectional LSTM and a linear head; input (T, 1, F)."""

    def __init__(self, fin=32, h1=64, h2=32, out=10):
        super().__init__()
        self.lstm = nn.LSTM(fin, h1)
        self.bilstm = nn.LSTM(h1, h2, bidirectional=True)
        self.fc = nn.Linear(2 * h2, out)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.bilstm(y)
        return self.fc(y)


class GRULoop(nn.Module):
    """A GRU cell applied in a Python loop over the time steps (the trace unrolls it)."""

    def __init__(self, fin=16, hidden=32, out=8):
        super().__init__()
        self.cell = nn.GRUCell(fin, hidden)
        self.fc = nn.Linear(hidden, out)
        # A buffer, not torch.zeros(x.shape[1], ...): with torch 2.13 the traced
        # aten::Int of a size makes coremltools 9.0 fail ("only 0-dimensional arrays ...").
        self.register_buffer("h0", torch.zeros(1, hidden))

    def step(self, x, h):
        # nn.GRUCell's own forward traces to aten::gru_cell -> unsafe_chunk, which coremltools
        # 9.0 cannot convert; the same math written out with the cell's parameters.
        c = self.cell
        gi = F.linear(x, c.weight_ih, c.bias_ih)
        gh = F.linear(h, c.weight_hh, c.bias_hh)
        i_r, i_z, i_n = gi.split(c.hidden_size, dim=1)
        h_r, h_z, h_n = gh.split(c.hidden_size, dim=1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * h

    def forward(self, x):  # x: (T, 1, F)
        h = self.h0
        outs = []
        for xt in x.unbind(0):
            h = self.step(xt, h)
            outs.append(h)
        return self.fc(torch.stack(outs, 0))


class GRULoopScripted(GRULoop):
    """The same cell in a loop whose trip count is the input's length, compiled with
    torch.jit.script: the converters keep the loop (NeuralNetwork `loop` layer with a nested
    network, ML Program `while_loop`), so this is the control-flow model of the zoo."""

    def forward(self, x):  # x: (T, 1, F) -> last step's output (1, out)
        h = self.h0
        for t in range(x.size(0)):
            h = self.step(x[t], h)
        return self.fc(h)


class GRUModel(nn.Module):
    """The fused nn.GRU layer (Core ML's gru layer)."""

    def __init__(self, fin=16, hidden=32, out=8):
        super().__init__()
        self.gru = nn.GRU(fin, hidden)
        self.fc = nn.Linear(hidden, out)

    def forward(self, x):
        y, _ = self.gru(x)
        return self.fc(y)


class MLP(nn.Module):
    def __init__(self, sizes=(256, 512, 256, 10)):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return torch.softmax(self.net(x), dim=-1)


# --- Tiny single-layer models ---------------------------------------------------------

class Fn(nn.Module):
    """Wrap a function of the inputs (and optional parameters) as a module."""

    def __init__(self, fn: Callable, **params: torch.Tensor):
        super().__init__()
        self.fn = fn
        for k, v in params.items():
            self.register_parameter(k, nn.Parameter(v))

    def forward(self, *xs):
        return self.fn(self, *xs)


class _LSTMOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.LSTM(8, 12)

    def forward(self, x):
        return self.l(x)[0]


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Input:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"          # "float32" or "int32" (int inputs: values in [0, high))
    high: int = 0


@dataclass(frozen=True)
class ZooModel:
    name: str
    factory: Callable[[], nn.Module]
    inputs: tuple[Input, ...]
    outputs: tuple[str, ...] = ("y",)
    kind: str = "layer"             # "network" or "layer"
    small: bool = True              # built by the tests; False = benchmark size only
    seed: int = 0
    forms: tuple[str, ...] = FORMS
    doc: str = ""
    script: bool = False            # torch.jit.script instead of torch.jit.trace (keeps loops)


REGISTRY: dict[str, ZooModel] = {}


def register(name, factory, inputs, outputs=("y",), **kw) -> None:
    if name in REGISTRY:
        raise ValueError(f"duplicate zoo model {name!r}")
    ins = tuple(i if isinstance(i, Input) else Input(*i) for i in inputs)
    REGISTRY[name] = ZooModel(name, factory, ins, tuple(outputs), **kw)


def _img(c=3, hw=64, name="x"):
    return [Input(name, (1, c, hw, hw))]


# Networks (the frontend/execution issue list).  *_small are the test variants.
register("mobilenet_v2", lambda: MobileNetV2(), _img(hw=224), kind="network", small=False,
         doc="MobileNetV2 1.0, 224x224, 1000 classes")
register("mobilenet_v2_small",
         lambda: MobileNetV2(num_classes=10, width=0.5, last_channel=128,
                             setting=[[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2], [6, 64, 2, 2], [6, 96, 1, 1]]),
         _img(hw=64), kind="network", doc="MobileNetV2 width 0.5, 8 blocks, 64x64")
register("resnet18", lambda: ResNet(), _img(hw=224), kind="network", small=False,
         doc="ResNet-18, 224x224, 1000 classes")
register("resnet18_small", lambda: ResNet(widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1), num_classes=10),
         _img(hw=64), kind="network", doc="ResNet with 1 basic block per stage, widths /4, 64x64")
register("squeezenet1_1", lambda: SqueezeNet11(), _img(hw=224), kind="network", small=False,
         doc="SqueezeNet 1.1, 224x224, 1000 classes")
register("squeezenet1_1_small", lambda: SqueezeNet11(num_classes=10, div=4), _img(hw=64), kind="network",
         doc="SqueezeNet 1.1 with channels /4, 64x64")
register("unet", lambda: UNet(c=32), _img(hw=128), kind="network", small=False,
         doc="U-Net, base 32 channels, 128x128")
register("unet_small", lambda: UNet(c=8), _img(hw=64), kind="network",
         doc="U-Net, base 8 channels, 64x64 (transposed conv, bilinear + nearest upsample, concat, BN)")
register("transformer", lambda: TransformerEncoder(128, 4, 512, 2), [Input("x", (1, 64, 128))],
         kind="network", small=False, doc="2-layer encoder, d=128, 4 heads, ff 512, seq 64")
register("transformer_small", lambda: TransformerEncoder(64, 2, 128, 2), [Input("x", (1, 16, 64))],
         kind="network", doc="2-layer encoder, d=64, 2 heads, ff 128, seq 16")
register("lstm", lambda: LSTMModel(), [Input("x", (16, 1, 32))], kind="network",
         doc="LSTM(32->64) + bidirectional LSTM(64->2x32) + linear, seq 16")
register("gru_loop", lambda: GRULoop(), [Input("x", (8, 1, 16))], kind="network",
         doc="GRUCell math in a Python loop over 8 steps, traced (unrolled)")
register("gru_loop_scripted", lambda: GRULoopScripted(), [Input("x", (8, 1, 16))], kind="network",
         script=True, doc="GRU cell math in a scripted loop over 8 steps: NN loop layer / MIL while_loop")
register("gru", lambda: GRUModel(), [Input("x", (12, 1, 16))], kind="network",
         doc="nn.GRU layer + linear, seq 12")
register("mlp", lambda: MLP(), [Input("x", (1, 256))], kind="network", doc="256-512-256-10 MLP + softmax")


def _layer(name, factory, inputs=None, outputs=("y",), **kw):
    register("layer_" + name, factory, inputs if inputs is not None else [Input("x", (1, 8, 16, 16))],
             outputs, **kw)


_x4 = [Input("x", (1, 8, 16, 16))]
_layer("conv", lambda: nn.Conv2d(8, 16, 3, padding=1))
_layer("conv_stride_valid", lambda: nn.Conv2d(8, 12, 3, stride=2))
_layer("conv_dilated", lambda: nn.Conv2d(8, 8, 3, padding=2, dilation=2))
_layer("conv_grouped", lambda: nn.Conv2d(8, 16, 3, padding=1, groups=4))
_layer("conv_1x1_nobias", lambda: nn.Conv2d(8, 32, 1, bias=False))
_layer("conv_asym", lambda: nn.Conv2d(8, 8, (1, 5), padding=(0, 2)))
_layer("depthwise_conv", lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8))
_layer("conv_transpose", lambda: nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1))
_layer("maxpool", lambda: nn.MaxPool2d(2))
_layer("maxpool_pad", lambda: nn.MaxPool2d(3, 2, padding=1))
_layer("maxpool_ceil", lambda: nn.MaxPool2d(3, 2, ceil_mode=True), [Input("x", (1, 8, 15, 15))])
_layer("avgpool", lambda: nn.AvgPool2d(2))
_layer("avgpool_pad_include", lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=True))
_layer("avgpool_pad_exclude", lambda: nn.AvgPool2d(3, 2, padding=1, count_include_pad=False))
_layer("global_avgpool", lambda: nn.AdaptiveAvgPool2d(1))
_layer("global_maxpool", lambda: nn.AdaptiveMaxPool2d(1))
_layer("relu", lambda: nn.ReLU())
_layer("relu6", lambda: nn.ReLU6())
_layer("leaky_relu", lambda: nn.LeakyReLU(0.1))
_layer("prelu", lambda: nn.PReLU(8))
_layer("elu", lambda: nn.ELU())
_layer("sigmoid", lambda: nn.Sigmoid())
_layer("tanh", lambda: nn.Tanh())
_layer("gelu", lambda: nn.GELU())
_layer("gelu_tanh", lambda: nn.GELU(approximate="tanh"))
_layer("silu", lambda: nn.SiLU())
_layer("hardswish", lambda: nn.Hardswish())
_layer("hardsigmoid", lambda: nn.Hardsigmoid())
_layer("softplus", lambda: nn.Softplus())
_layer("clamp", lambda: Fn(lambda m, x: torch.clamp(x, -0.5, 0.75)))
_layer("batchnorm", lambda: nn.BatchNorm2d(8))
_layer("instancenorm", lambda: nn.InstanceNorm2d(8, affine=True))
_layer("layernorm", lambda: nn.LayerNorm(32), [Input("x", (1, 10, 32))])
_layer("groupnorm", lambda: nn.GroupNorm(2, 8))
# No LocalResponseNorm: its traced graph (torch 2.13) has an aten::Int that coremltools 9.0
# fails to convert; Core ML's LRN layer is covered by NeuralNetworkBuilder per-layer tests.
_layer("l2_normalize", lambda: Fn(lambda m, x: F.normalize(x, dim=1)), [Input("x", (1, 32))])
_layer("linear", lambda: nn.Linear(32, 16), [Input("x", (1, 32))])
_layer("linear_3d", lambda: nn.Linear(32, 16), [Input("x", (1, 5, 32))])
_layer("matmul", lambda: Fn(lambda m, a, b: torch.matmul(a, b)),
       [Input("a", (2, 6, 8)), Input("b", (2, 8, 5))])
_layer("matmul_weight", lambda: Fn(lambda m, x: torch.matmul(x, m.w), w=torch.randn(8, 5)),
       [Input("x", (2, 6, 8))])
_layer("softmax", lambda: nn.Softmax(dim=-1), [Input("x", (1, 4, 10))])
_layer("softmax_channel", lambda: nn.Softmax(dim=1))
_layer("log_softmax", lambda: nn.LogSoftmax(dim=-1), [Input("x", (1, 10))])
_layer("add_broadcast", lambda: Fn(lambda m, a, b: a + b),
       [Input("a", (1, 8, 16, 16)), Input("b", (1, 8, 1, 1))])
_layer("mul_const", lambda: Fn(lambda m, x: x * m.s + 1.5, s=torch.randn(1, 8, 1, 1)))
_layer("sub_div", lambda: Fn(lambda m, a, b: (a - b) / (b.abs() + 1.0)),
       [Input("a", (1, 8, 4, 4)), Input("b", (1, 8, 4, 4))])
_layer("max_min", lambda: Fn(lambda m, a, b: torch.maximum(a, b) + torch.minimum(a, b) * 0.5),
       [Input("a", (1, 8, 4, 4)), Input("b", (1, 8, 4, 4))])
_layer("unary_math", lambda: Fn(lambda m, x: torch.exp(-x.abs()) + torch.sqrt(x.abs() + 1) + torch.log(x.abs() + 1)))
_layer("concat", lambda: Fn(lambda m, a, b: torch.cat([a, b], 1)),
       [Input("a", (1, 8, 16, 16)), Input("b", (1, 4, 16, 16))])
_layer("split", lambda: Fn(lambda m, x: torch.split(x, [3, 5], dim=1)), outputs=("y0", "y1"))
_layer("reshape_permute", lambda: Fn(lambda m, x: x.reshape(1, 8, 256).permute(0, 2, 1)))
_layer("flatten", lambda: Fn(lambda m, x: torch.flatten(x, 1)))
_layer("slice", lambda: Fn(lambda m, x: x[:, 2:6, 1:15:2, :8]))
_layer("pad_constant", lambda: nn.ConstantPad2d((1, 2, 0, 1), 0.5))
_layer("pad_reflect", lambda: nn.ReflectionPad2d(2))
_layer("pad_replicate", lambda: nn.ReplicationPad2d(1))
_layer("upsample_nearest", lambda: nn.Upsample(scale_factor=2, mode="nearest"))
_layer("upsample_bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
_layer("upsample_bilinear_align", lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True))
_layer("pixel_shuffle", lambda: nn.PixelShuffle(2))
_layer("reduce_mean", lambda: Fn(lambda m, x: x.mean(dim=(2, 3), keepdim=True)))
_layer("reduce_sum_max", lambda: Fn(lambda m, x: x.sum(dim=1) + x.amax(dim=1)))
_layer("embedding", lambda: nn.Embedding(20, 16), [Input("idx", (1, 6), "int32", high=20)])
_layer("lstm", lambda: _LSTMOnly(), [Input("x", (5, 1, 8))])
_layer("conv_bn_relu", lambda: ConvBNAct(8, 16, act=nn.ReLU))
_layer("residual_add_relu", lambda: Fn(lambda m, x: F.relu(F.conv2d(x, m.w, padding=1) + x),
                                       w=torch.randn(8, 8, 3, 3) * 0.1))


def names(small: bool | None = None, kind: str | None = None) -> list[str]:
    """Registered names, optionally only the test-sized (small=True) ones or one kind."""
    return [n for n, m in REGISTRY.items()
            if (small is None or m.small == small) and (kind is None or m.kind == kind)]


# --------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------

def _seed_for(name: str, base: int) -> int:
    return (int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little") + base) % (2 ** 31)


def instantiate(name: str) -> nn.Module:
    """The eval-mode torch module of a zoo entry, with weights fixed by its seed."""
    entry = REGISTRY[name]
    seed = _seed_for(name, entry.seed)
    torch.manual_seed(seed)
    module = entry.factory().eval()
    _randomize_norms(module, torch.Generator().manual_seed(seed + 1))
    return module


def make_inputs(name: str) -> dict[str, np.ndarray]:
    entry = REGISTRY[name]
    rng = np.random.default_rng(_seed_for(name, entry.seed) + 2)
    out = {}
    for i in entry.inputs:
        if i.dtype == "float32":
            out[i.name] = rng.standard_normal(i.shape).astype(np.float32)
        elif i.dtype == "int32":
            out[i.name] = rng.integers(0, i.high, size=i.shape).astype(np.int32)
        else:
            raise ValueError(i.dtype)
    return out


def _torch_args(entry: ZooModel, inputs: dict[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
    args = []
    for i in entry.inputs:
        t = torch.from_numpy(inputs[i.name])
        args.append(t.long() if i.dtype == "int32" else t)
    return tuple(args)


def _flatten_outputs(out) -> list[np.ndarray]:
    if isinstance(out, torch.Tensor):
        return [out.detach().numpy()]
    res: list[np.ndarray] = []
    for o in out:
        res.extend(_flatten_outputs(o))
    return res


@contextlib.contextmanager
def _quiet():
    """Silence warnings and coremltools' logging for the duration of a conversion."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("coremltools").setLevel(logging.ERROR)
        yield


def _import_ct():
    with _quiet():
        import coremltools as ct
    return ct


def _convert_coreml(entry: ZooModel, traced, form: str, path: Path):
    ct = _import_ct()
    ct_inputs = [ct.TensorType(name=i.name, shape=i.shape,
                               dtype=np.float32 if i.dtype == "float32" else np.int32)
                 for i in entry.inputs]
    ct_outputs = [ct.TensorType(name=n) for n in entry.outputs]
    kw: dict = {}
    if form in ("nn_fp32", "nn_fp16"):
        kw["convert_to"] = "neuralnetwork"
    else:
        kw["convert_to"] = "mlprogram"
        kw["minimum_deployment_target"] = ct.target.iOS15
        kw["compute_precision"] = (ct.precision.FLOAT16 if form == "mlprogram" else ct.precision.FLOAT32)
    mlmodel = ct.convert(traced, inputs=ct_inputs, outputs=ct_outputs, **kw)
    if form == "nn_fp16":
        from coremltools.models.neural_network import quantization_utils
        with contextlib.redirect_stdout(io.StringIO()):   # it print()s every layer
            mlmodel = quantization_utils.quantize_weights(mlmodel, nbits=16)
    mlmodel.save(str(path))
    spec = mlmodel.get_spec()
    return ([f.name for f in spec.description.input], [f.name for f in spec.description.output],
            spec.WhichOneof("Type"), spec.specificationVersion)


def _export_onnx(entry: ZooModel, module, args, path: Path):
    # torch>=2.9 defaults to the dynamo exporter, which needs onnxscript; the TorchScript
    # exporter needs nothing beyond onnx.
    torch.onnx.export(module, args, str(path), input_names=[i.name for i in entry.inputs],
                      output_names=list(entry.outputs), opset_version=ONNX_OPSET, dynamo=False)
    import onnx
    m = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    return ([i.name for i in m.graph.input if i.name not in inits], [o.name for o in m.graph.output],
            "onnx", int(m.opset_import[0].version))


def build(name: str, form: str, outdir: str | os.PathLike) -> Path:
    """Build zoo model `name` in `form` into `outdir` (created; existing files overwritten).

    Returns the path of the model file.  Raises KeyError / ValueError for unknown names/forms.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown zoo model {name!r} (python -m tests.models.zoo list shows them)")
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; expected one of {', '.join(FORMS)}")
    entry = REGISTRY[name]
    if form not in entry.forms:
        raise ValueError(f"zoo model {name!r} is not built in form {form!r}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    torch.set_grad_enabled(False)
    module = instantiate(name)
    inputs = make_inputs(name)
    args = _torch_args(entry, inputs)
    with torch.no_grad():
        expected = _flatten_outputs(module(*args))
    if len(expected) != len(entry.outputs):
        raise RuntimeError(f"{name}: module returns {len(expected)} outputs, registry names {len(entry.outputs)}")

    path = outdir / MODEL_FILE[form]
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    with _quiet(), torch.no_grad():
        if form == "onnx":
            if entry.script:
                module = torch.jit.script(module)
            in_names, out_names, model_type, version = _export_onnx(entry, module, args, path)
        else:
            traced = (torch.jit.script(module) if entry.script
                      else torch.jit.trace(module, args, check_trace=False))
            in_names, out_names, model_type, version = _convert_coreml(entry, traced, form, path)
    if in_names != [i.name for i in entry.inputs] or out_names != list(entry.outputs):
        raise RuntimeError(f"{name}/{form}: converted names {in_names}->{out_names} differ from "
                           f"registry {[i.name for i in entry.inputs]}->{list(entry.outputs)}")
    outputs = dict(zip(out_names, expected))
    np.savez(outdir / "io.npz", **inputs, **outputs)
    np.savez(outdir / "inputs.npz", **inputs)
    meta = {
        "name": name, "form": form, "model": path.name, "model_type": model_type,
        "spec_version" if form != "onnx" else "opset": version,
        "inputs": [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in inputs.items()],
        "outputs": [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype)} for k, v in outputs.items()],
        "build_seconds": round(time.perf_counter() - t0, 3),
        "versions": _versions(),
    }
    (outdir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def load_io(outdir: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs, expected_outputs) of a built model directory, keyed by model names."""
    outdir = Path(outdir)
    meta = json.loads((outdir / "meta.json").read_text())
    with np.load(outdir / "io.npz") as z:
        ins = {i["name"]: z[i["name"]] for i in meta["inputs"]}
        outs = {o["name"]: z[o["name"]] for o in meta["outputs"]}
    return ins, outs


# --------------------------------------------------------------------------------------
# Content-addressed cache
# --------------------------------------------------------------------------------------

def _versions() -> dict[str, str]:
    from importlib import metadata
    out = {}
    for pkg in ("coremltools", "torch", "onnx", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "none"
    return out


def content_hash(name: str, form: str) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).read_bytes())
    h.update(f"\0{name}\0{form}\0{json.dumps(_versions(), sort_keys=True)}".encode())
    return h.hexdigest()[:20]


DEFAULT_CACHE = Path(__file__).resolve().parent.parent / ".fixtures"


def cached_build(name: str, form: str, cache_root: str | os.PathLike | None = None) -> Path:
    """Build (once) into `<cache_root>/<hash>/` and return that directory.

    Concurrent callers (threads or processes) serialize on a per-entry lock file; the
    directory is published by an atomic rename only when complete, so a reader never
    sees a half-built model.
    """
    import fcntl

    root = Path(cache_root) if cache_root is not None else DEFAULT_CACHE
    root.mkdir(parents=True, exist_ok=True)
    key = content_hash(name, form)
    final = root / key
    if (final / "meta.json").exists():
        return final
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (final / "meta.json").exists():
                return final
            tmp = root / f"{key}.tmp-{os.getpid()}"
            if tmp.exists():
                shutil.rmtree(tmp)
            try:
                build(name, form, tmp)
                if final.exists():          # stale partial directory from a killed build
                    shutil.rmtree(final)
                os.replace(tmp, final)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return final


def _prebuild_worker(name: str, form: str, cache_root: str) -> tuple[str, str, str | None]:
    torch.set_num_threads(1)
    try:
        cached_build(name, form, cache_root)
        return name, form, None
    except Exception as e:  # reported again, with traceback, by the get() that needs it
        return name, form, f"{type(e).__name__}: {e}"


class ModelZoo:
    """Lazy, cached access to zoo models: ``get(name, form) -> (model_path, inputs, outputs)``.

    ``inputs`` / ``outputs`` are dicts keyed by the model's input / output names (the
    PyTorch fp32 outputs are the expected values).  Builds go to
    ``<cache_root>/<content-hash>/`` via :func:`cached_build`.
    """

    def __init__(self, cache_root: str | os.PathLike | None = None):
        self.cache_root = Path(cache_root) if cache_root is not None else DEFAULT_CACHE
        self._loaded: dict[tuple[str, str], tuple[Path, dict, dict]] = {}

    def directory(self, name: str, form: str) -> Path:
        return cached_build(name, form, self.cache_root)

    def get(self, name: str, form: str) -> tuple[Path, dict[str, np.ndarray], dict[str, np.ndarray]]:
        key = (name, form)
        if key not in self._loaded:
            d = self.directory(name, form)
            ins, outs = load_io(d)
            self._loaded[key] = (d / MODEL_FILE[form], ins, outs)
        path, ins, outs = self._loaded[key]
        return path, {k: v.copy() for k, v in ins.items()}, {k: v.copy() for k, v in outs.items()}

    def meta(self, name: str, form: str) -> dict:
        return json.loads((self.directory(name, form) / "meta.json").read_text())

    def prebuild(self, pairs: Sequence[tuple[str, str]], workers: int | None = None) -> dict:
        """Build the missing (name, form) pairs in `workers` processes (default: CPU count).

        Returns {(name, form): error string} for the ones that failed; never raises for a
        failed build (get() will raise it where it matters).
        """
        todo = [(n, f) for n, f in pairs
                if not (self.cache_root / content_hash(n, f) / "meta.json").exists()]
        if not todo:
            return {}
        workers = workers or os.cpu_count() or 1
        errors = {}
        if workers <= 1 or len(todo) == 1:
            for n, f in todo:
                _, _, err = _prebuild_worker(n, f, str(self.cache_root))
                if err:
                    errors[(n, f)] = err
            return errors
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Big models first so the pool's tail is short.
        todo.sort(key=lambda p: REGISTRY[p[0]].kind != "network")
        ctx = multiprocessing.get_context("spawn")   # torch + fork do not mix
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx) as ex:
            for n, f, err in ex.map(_prebuild_worker, *zip(*todo), [str(self.cache_root)] * len(todo)):
                if err:
                    errors[(n, f)] = err
        return errors


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m tests.models.zoo", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("list", help="list zoo models")
    pl.add_argument("--small", action="store_true", help="only test-sized models")
    pl.add_argument("--layers", action="store_true", help="only single-layer models")
    pl.add_argument("--networks", action="store_true", help="only networks")
    pb = sub.add_parser("build", help="build NAME in FORM into OUTDIR")
    pb.add_argument("name")
    pb.add_argument("form", choices=FORMS + ("all",))
    pb.add_argument("outdir")
    pc = sub.add_parser("cached", help="build NAME in FORM into the content-addressed cache; print the model path")
    pc.add_argument("name")
    pc.add_argument("form", choices=FORMS)
    pc.add_argument("--cache", default=None, help=f"cache root (default {DEFAULT_CACHE})")
    a = p.parse_args(argv)

    try:
        if a.cmd == "list":
            kind = "layer" if a.layers else "network" if a.networks else None
            for n in names(small=True if a.small else None, kind=kind):
                e = REGISTRY[n]
                shapes = ", ".join(f"{i.name}{list(i.shape)}" for i in e.inputs)
                print(f"{n:28s} {e.kind:8s} {'small' if e.small else 'full ':5s} {shapes}  {e.doc}")
        elif a.cmd == "build":
            forms = FORMS if a.form == "all" else (a.form,)
            for f in forms:
                out = Path(a.outdir) / f if a.form == "all" else Path(a.outdir)
                t = time.perf_counter()
                path = build(a.name, f, out)
                print(f"{path}  ({time.perf_counter() - t:.2f} s)")
        elif a.cmd == "cached":
            d = cached_build(a.name, a.form, a.cache)
            print(d / MODEL_FILE[a.form])
    except (KeyError, ValueError) as e:
        print(f"zoo: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
