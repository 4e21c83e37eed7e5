"""fuse-attention: every case of tests/filecheck/core/fuse_attention.mlir computes the same
before and after (reference interpreter), and the pattern family converted by coremltools —
hand-written attention with and without mask and scale, several head counts and sequence
lengths, and nn.MultiheadAttention — becomes one core.scaled_dot_product_attention per block
that runs on the kernel and matches PyTorch."""
import os
from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

from mlir_coreml.runtime.predict import compile_model
from tests.passes.equivalence import assert_equivalent, ir_cases, parse

CASES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "filecheck", "core", "fuse_attention.mlir")


@pytest.mark.parametrize("index", range(len(ir_cases(CASES))))
def test_ir_case_is_equivalent(index):
    assert_equivalent(parse(ir_cases(CASES)[index]), "fuse-attention")


class HandWritten(nn.Module):
    """Self-attention spelled out: q/k/v projections, head split, scores, optional scale and
    causal additive mask, softmax, weighted sum, head merge."""

    def __init__(self, d: int, heads: int, seq: int, masked: bool, scaled: bool):
        super().__init__()
        self.d, self.seq, self.h, self.dh, self.scaled, self.masked = d, seq, heads, d // heads, scaled, masked
        self.qkv = nn.Linear(d, 3 * d)
        self.register_buffer("mask", torch.triu(torch.full((seq, seq), -1e4), 1))

    def forward(self, x):
        b, s, d = 1, self.seq, self.d  # python ints: a traced x.shape is an aten::Int coremltools rejects
        q, k, v = (t.reshape(b, s, self.h, self.dh).transpose(1, 2) for t in self.qkv(x).split(d, dim=-1))
        scores = q @ k.transpose(-2, -1)
        if self.scaled:
            scores = scores / self.dh ** 0.5
        if self.masked:
            scores = scores + self.mask
        return (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, d)


class MultiHead(nn.Module):
    def __init__(self, d: int, heads: int, seq: int, masked: bool):
        super().__init__()
        self.attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.masked = masked
        self.register_buffer("mask", torch.triu(torch.full((seq, seq), -1e4), 1))

    def forward(self, x):
        mask = self.mask if self.masked else None
        return self.attention(x, x, x, attn_mask=mask, need_weights=False)[0]


def convert(module: nn.Module, x: torch.Tensor, path, form: str) -> str:
    """Core ML from `module`: traced for NeuralNetwork, exported for ML Programs (torch's
    multi-head attention traces with an aten::Int coremltools cannot convert)."""
    import coremltools as ct

    if form == "traced":
        source = torch.jit.trace(module, (x,))
        inputs = [ct.TensorType(name="x", shape=tuple(x.shape))]
        model = ct.convert(source, inputs=inputs, outputs=[ct.TensorType(name="y")], convert_to="neuralnetwork")
    else:
        source = torch.export.export(module, (x,)).run_decompositions({})
        model = ct.convert(source, outputs=[ct.TensorType(name="y")], convert_to=form,
                           **({"compute_precision": ct.precision.FLOAT32} if form == "mlprogram" else {}))
    out = str(path / ("model.mlmodel" if form != "mlprogram" else "model.mlpackage"))
    model.save(out)
    return out


def check_fused(path: str, module: nn.Module, x: torch.Tensor) -> None:
    compiled = compile_model(path, codegen=False)
    ops = Counter(op.op_name for op in compiled.module.walk())
    assert ops["core.scaled_dot_product_attention"] == 1, ops
    assert ops["core.softmax"] == 0 and ops["core.matmul"] == 0, ops
    attention = next(s for s in compiled.executor.steps if s.op.op_name == "core.scaled_dot_product_attention")
    assert attention.kind == "kernel"
    y = compiled.predict({next(iter(compiled.inputs)): x.numpy()})["y"]
    with torch.no_grad():
        want = module(x).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("heads,seq,masked,scaled", [(1, 1, False, True), (2, 5, True, False),
                                                     (4, 16, True, True), (4, 12, False, False)])
def test_hand_written_attention_is_fused(tmp_path, heads, seq, masked, scaled):
    torch.manual_seed(heads * 100 + seq)
    module = HandWritten(32, heads, seq, masked, scaled).eval()
    x = torch.randn(1, seq, 32)
    check_fused(convert(module, x, tmp_path, "traced"), module, x)


@pytest.mark.parametrize("masked,form", [(False, "neuralnetwork"), (True, "neuralnetwork"), (True, "mlprogram")])
def test_multihead_attention_is_fused(tmp_path, masked, form):
    torch.manual_seed(7)
    module = MultiHead(16, 2, 8, masked).eval()
    x = torch.randn(1, 8, 16)
    check_fused(convert(module, x, tmp_path, form), module, x)
