"""`fuse-conv-batchnorm`: fold a batch norm into the convolution that feeds it: `nn.batchnorm`
after `nn.convolution` (the espresso backend's pipeline) and `core.batch_norm` after
`core.conv2d` (the CPU pipeline), with one arithmetic for both.

coremlc's arithmetic: the standard deviation in float32, everything after it in float64, each
result rounded once to float32 [V: bit-identical weights and biases on every conv+batchnorm pair
of S1-S4 (FourRecognize-2019, FindFour-2020-fp16, SSDOcr-2020/2021)]:

    d  = float32(sqrt(float32(variance + epsilon)))
    s  = double(gamma) / double(d)                    (not rounded to float32)
    W' = float32(W * s[c_out])             (fp16 weights: float16(float32(double(W) * s)))
    b' = float32((b - mean) * s + beta)    (in double; b = 0 when the convolution had no bias)

A float32 s, or a float32 bias sum, leaves ~27 % of the SSDOcr biases off by up to a few hundred
ulp where (b - mean) * s and beta nearly cancel, and ~0.004 % of fp16 weights off by one ulp.

The folded convolution keeps its name (location) and takes the batchnorm's output blob name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlir_coreml.ir.attributes import BoolAttr, DenseResourceAttr, to_attr
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import TensorType, element_type_of
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily


def constant_value(value) -> np.ndarray | None:
    """The array behind a `core.constant` result, or None for anything else."""
    producer = getattr(value, "op", None)
    if producer is None or producer.op_name != "core.constant":
        return None
    return np.asarray(producer.attributes["value"].value)


def fold_batchnorm_into_conv(weights: np.ndarray, bias: np.ndarray | None, gamma, beta, mean, variance,
                             epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """(W', b') in coremlc's order (module docstring); W' keeps the stored precision of W, b' is float32."""
    f32, f64 = np.float32, np.float64
    gamma, beta, mean, variance = (np.asarray(a, f32).reshape(-1) for a in (gamma, beta, mean, variance))
    std = np.sqrt(variance + f32(epsilon))                  # float32, as coremlc
    scale = gamma.astype(f64) / std.astype(f64)             # float64, not rounded
    channels = scale.size
    w64 = np.asarray(weights, f32).reshape(channels, -1).astype(f64)
    folded_w = (w64 * scale[:, None]).astype(f32).astype(weights.dtype).reshape(weights.shape)
    b64 = np.zeros(channels, f64) if bias is None else np.asarray(bias, f32).reshape(-1).astype(f64)
    folded_b = ((b64 - mean.astype(f64)) * scale + beta.astype(f64)).astype(f32)
    return folded_w, folded_b


def make_constant(array: np.ndarray, name: str, location) -> ConstantOp:
    tensor = TensorType(array.shape, element_type_of(array.dtype))
    attr = DenseResourceAttr.from_array(name, array, tensor)
    return build(ConstantOp, [], [tensor], {"value": attr}, location=location, result_names=[name])


class FoldBatchnormIntoConvolution(RewritePattern):
    root = "nn.batchnorm"

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
        conv = getattr(op.inputs[0], "op", None)
        if conv is None or conv.op_name != "nn.convolution" or conv.attr("isDeconvolution", False):
            return False
        if len(conv.inputs) != 1 or len(op.inputs[0].uses) != 1 or len(conv.outputs) != 1:
            return False
        if op.attr("computeMeanVar", False) or op.attr("instanceNormalization", False):
            return False
        stats = [constant_value(op.weight(f)) for f in ("gamma", "beta", "mean", "variance")]
        weights = constant_value(conv.weight("weights"))
        bias_value = conv.weight("bias")
        bias = constant_value(bias_value) if bias_value is not None else None
        if any(s is None for s in stats) or weights is None or (bias_value is not None and bias is None):
            return False
        folded_w, folded_b = fold_batchnorm_into_conv(weights, bias, *stats, op.attr("epsilon", 0.0))
        name = conv.location.name if conv.location and conv.location.name else "conv"
        w_const = make_constant(folded_w, f"{name}_weights", conv.location)
        b_const = make_constant(folded_b, f"{name}_bias", conv.location)
        rewriter.insert_before(w_const, conv)
        rewriter.insert_before(b_const, conv)
        attrs = {k: v for k, v in conv.attributes.items() if k != "operand_segments"}
        attrs["hasBias"] = BoolAttr(True)
        attrs["weight_fields"] = to_attr(["weights", "bias"])
        folded = build(type(conv), list(conv.inputs) + [w_const.result, b_const.result],
                       [op.outputs[0].type], attrs, location=conv.location, result_names=[op.outputs[0].name])
        rewriter.insert_before(folded, conv)
        rewriter.replace_op(op, folded.results)
        rewriter.erase_op(conv)
        return True


class FoldBatchNormIntoConv2d(RewritePattern):
    """core.batch_norm(core.conv2d(x, W, b)) -> core.conv2d(x, W', b') (constant parameters, a
    conv whose epilogue is still empty and which nothing else reads)."""

    root = "core.batch_norm"

    def match_and_rewrite(self, op, rewriter: PatternRewriter) -> bool:
        from mlir_coreml.passes._fusion import constant_weights, plain_producer, rebuild

        conv = plain_producer(op.input)
        if conv is None or conv.op_name != "core.conv2d" or op.input.type.rank != 4:
            return False
        stats = [constant_value(v) for v in (op.gamma, op.beta, op.mean, op.variance)]
        weights = constant_weights(conv)
        if any(s is None for s in stats) or weights is None:
            return False
        folded_w, folded_b = fold_batchnorm_into_conv(weights[0], weights[1], *stats, float(op.eps))
        rebuild(conv, rewriter, op, weight=folded_w, bias=folded_b)
        return True


BATCH_NORMS = ("nn.batchnorm", "core.batch_norm")


@dataclass(frozen=True)
class FuseConvBatchnorm(ModulePass):
    name = "fuse-conv-batchnorm"
    description = "fold batch norms into the preceding convolution's weights and bias"

    def run(self, module, ctx: PassContext) -> None:
        count = sum(1 for op in module.walk() if op.op_name in BATCH_NORMS)
        apply_patterns_greedily(module, [FoldBatchnormIntoConvolution(), FoldBatchNormIntoConv2d()], fold=False)
        ctx.stat("fuse-conv-batchnorm: batchnorms folded",
                 count - sum(1 for op in module.walk() if op.op_name in BATCH_NORMS))
