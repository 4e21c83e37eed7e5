"""Control flow, random distributions, custom layers, NMS, and `nn.dequantize` for quantized weights."""
from __future__ import annotations

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.nn.base import NNLayer, declare_layers, layer_op
from mlir_coreml.ir.shapes import ShapeError, check_size
from mlir_coreml.ir.opdef import AnyTensor, Pure, Terminator, VerifyError, attribute, op_def, operand, region, result
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.types import F32, TensorType


class _Random(NNLayer):
    """Random layers sample with numpy's generator seeded by `seed` (-1 or absent: unseeded). The
    distribution and shape are Core ML's; the values cannot match Core ML's own generator.
    *Like take the shape of their input, *Static `outputShape`, *Dynamic the values of their input."""

    seed = attribute("int", default=0)
    sampler = None
    traits = frozenset()  # two samplers with equal attributes are not interchangeable in Core ML

    def out_shape(self, xs):
        if self.layer_kind.endswith("Static"):
            return tuple(int(d) for d in self.attr("outputShape", ()))
        if self.layer_kind.endswith("Like"):
            return tuple(xs[0].shape)
        return check_size(tuple(int(d) for d in xs[0].reshape(-1)))

    def shapes(self, xs, ws):
        if self.layer_kind.endswith("Static"):
            return [check_size(tuple(int(d) for d in self.attr("outputShape", ())))]
        if self.layer_kind.endswith("Like"):
            return [xs[0]]
        raise NotImplementedError  # shape known only at run time

    def compute(self, xs, ws):
        rng = np.random.default_rng(None if self.seed == -1 else self.seed)
        return type(self).sampler(self, rng, self.out_shape(xs))


def _normal(op, rng, shape):
    return rng.normal(op.attr("mean", 0.0), op.attr("stdDev", 0.0), shape)


def _uniform(op, rng, shape):
    return rng.uniform(op.attr("minVal", 0.0), op.attr("maxVal", 0.0), shape)


def _bernoulli(op, rng, shape):
    return (rng.random(shape) < op.attr("prob", 0.0)).astype(np.float32)


for _dist, _fn in (("Normal", _normal), ("Uniform", _uniform), ("Bernoulli", _bernoulli)):
    for _mode in ("Like", "Static", "Dynamic"):
        declare_layers([f"random{_dist}{_mode}"], _Random, n_inputs=(0, 0) if _mode == "Static" else (1, 1),
                       namespace=globals(), **{f"random{_dist}{_mode}": {"sampler": staticmethod(_fn)}})


@layer_op("categoricalDistribution")
class CategoricalDistributionOp(NNLayer):
    """`numSamples` class indices per row of [..., C] probabilities (or logits / temperature)."""

    seed = attribute("int", default=0)
    traits = frozenset()
    numSamples = attribute("int", default=0)
    isLogits = attribute("bool", default=False)
    eps = attribute("float", default=0.0)
    temperature = attribute("float", default=0.0)

    def shapes(self, xs, ws):
        return [tuple(xs[0][:-1]) + (self.numSamples,)]

    def compute(self, xs, ws):
        rng = np.random.default_rng(None if self.seed == -1 else self.seed)
        x = xs[0].astype(np.float64)
        if self.isLogits:
            z = x / (self.temperature or 1.0)
            p = np.exp(z - z.max(axis=-1, keepdims=True))
        else:
            p = np.maximum(x, 0) + self.eps
        p = (p / p.sum(axis=-1, keepdims=True)).reshape(-1, x.shape[-1])
        samples = [rng.choice(x.shape[-1], size=self.numSamples, p=row) for row in p]
        return np.array(samples, np.float32).reshape(x.shape[:-1] + (self.numSamples,))


def corner_boxes(boxes: np.ndarray) -> np.ndarray:
    """[..., 4] center-size (x, y, width, height) boxes -> [..., 4] corners (x0, y0, x1, y1)."""
    center, half = boxes[..., :2], boxes[..., 2:] / 2
    return np.concatenate([center - half, center + half], axis=-1)


def pairwise_iou(boxes: np.ndarray) -> np.ndarray:
    """[N, 4] center-size boxes -> [N, N] intersection over union."""
    c = corner_boxes(boxes.astype(np.float64))
    lo = np.maximum(c[:, None, :2], c[None, :, :2])
    hi = np.minimum(c[:, None, 2:], c[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area = np.prod(c[:, 2:] - c[:, :2], axis=-1)
    union = area[:, None] + area[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@layer_op("NonMaximumSuppression", n_inputs=(2, 5))
class NonMaximumSuppressionOp(NNLayer):
    """Greedy NMS per batch: boxes [B, N, 4] (center x, center y, width, height), scores [B, N, C];
    optional inputs 3..5 override iouThreshold, scoreThreshold, maxBoxes. A box's score is its best
    class score; boxes below scoreThreshold are dropped, then in decreasing score order a box is kept
    unless its IoU with a kept box (of its own best class, with perClassSuppression) exceeds
    iouThreshold. Results: boxes [B, maxBoxes, 4], scores [B, maxBoxes, C] (0-padded), indices
    [B, maxBoxes] (-1-padded), count [B]. When nothing passes the score threshold Core ML still
    returns the best box (count 1) rather than an empty selection."""

    iouThreshold = attribute("float", default=0.0)
    scoreThreshold = attribute("float", default=0.0)
    maxBoxes = attribute("int", default=0)
    perClassSuppression = attribute("bool", default=False)
    _result_count = 4

    def shapes(self, xs, ws):
        if len(xs) == 5:
            raise NotImplementedError  # maxBoxes is a run-time input
        boxes, scores = xs[0], xs[1]
        if len(boxes) != 3 or boxes[-1] != 4 or len(scores) != 3 or tuple(scores[:2]) != tuple(boxes[:2]):
            raise ShapeError(f"expects boxes [B, N, 4] and scores [B, N, C], got {list(boxes)} and {list(scores)}")
        b, k, c = boxes[0], int(self.maxBoxes), scores[-1]
        return [check_size((b, k, 4)), check_size((b, k, c)), (b, k), (b,)]

    def select(self, boxes, scores, iou_threshold, score_threshold, max_boxes):
        best, label = scores.max(axis=-1), scores.argmax(axis=-1)
        order = np.argsort(-best, kind="stable")
        candidates = [i for i in order if best[i] >= score_threshold]
        if not candidates:
            return [int(order[0])]
        iou = pairwise_iou(boxes)
        kept: list[int] = []
        for i in candidates:
            if len(kept) == max_boxes:
                break
            rivals = [j for j in kept if not self.perClassSuppression or label[j] == label[i]]
            if all(iou[i, j] <= iou_threshold for j in rivals):
                kept.append(int(i))
        return kept

    def compute(self, xs, ws):
        boxes, scores = xs[0], xs[1]
        given = [float(np.asarray(v).reshape(-1)[0]) for v in xs[2:]]
        iou_threshold, score_threshold, max_boxes = given + [self.iouThreshold, self.scoreThreshold,
                                                             self.maxBoxes][len(given):]
        b, k = boxes.shape[0], int(max_boxes)
        out_boxes = np.zeros((b, k, 4), np.float32)
        out_scores = np.zeros((b, k, scores.shape[-1]), np.float32)
        out_index = np.full((b, k), -1.0, np.float32)
        count = np.zeros(b, np.float32)
        for bi in range(b):
            kept = self.select(boxes[bi], scores[bi], iou_threshold, score_threshold, k)[:k]
            out_boxes[bi, :len(kept)] = boxes[bi, kept]
            out_scores[bi, :len(kept)] = scores[bi, kept]
            out_index[bi, :len(kept)] = kept
            count[bi] = len(kept)
        return out_boxes, out_scores, out_index, count


@layer_op("custom", n_inputs=(0, None))
class CustomOp(NNLayer):
    """An app-provided layer (`className`): its semantics come from the implementation the user
    registers for the class (ir/custom_layers.py); a missing one is an error naming the class."""

    className = attribute("str", default="")

    def compute(self, xs: list, ws: dict):
        from mlir_coreml.ir.custom_layers import custom_layer
        from mlir_coreml.ir.verifier import describe_location

        fn = custom_layer(self.className, describe_location(self))
        return fn(xs, self.attr("parameters", {}) or {}, [ws[f] for f in self.weight_fields])


# -- control flow ------------------------------------------------------------------------------
#
# Nested networks communicate through blob names; in SSA form a control-flow op takes the
# values of the outer blobs its networks overwrite ("carried", named by the `carried`
# attribute) as trailing operands and returns their final values, in that order. Regions end in
# `nn.yield`; outer values are visible inside (regions are not isolated).

@op_def("nn.yield")
class YieldOp(Operation):
    """Terminator of `nn.loop` / `nn.branch` regions: the blob values the region hands back."""

    values = operand(AnyTensor, variadic=True)
    traits = frozenset({Terminator})


class LoopExit(MlirCoremlError):
    """Raised by loopBreak / loopContinue and caught by the enclosing loop's `execute`. It is an
    MlirCoremlError so that the interpreter passes it through nested regions unchanged (and, should
    it escape every loop, reports it as a user error)."""

    def __init__(self, kind: str, values):
        super().__init__(f"loop{kind.title()} outside of a loop body")
        self.kind = kind
        self.values = list(values)


class _ControlFlow(NNLayer):
    carried = attribute("strs", default=())
    traits = frozenset()

    def infer_types(self):
        return []  # the importer gives the carried blobs' types

    def verify_(self):
        super().verify_()
        if len(self.outputs) != len(self.carried):
            raise VerifyError(f"carries {len(self.carried)} blobs but has {len(self.outputs)} results")
        for r in self.regions:
            if not r.blocks or r.blocks[0].last_op is None or r.blocks[0].last_op.op_name != "nn.yield":
                raise VerifyError("each region must end with nn.yield")


@layer_op("branch", n_inputs=(1, 1))
class BranchOp(_ControlFlow):
    """Runs the `ifBranch` region when the condition input is non-zero, else `elseBranch`; both
    yield the final values of the `carried` blobs (the op's results). The regions read outer
    blobs directly, so the only operand is the condition."""

    if_region = region()
    else_region = region()

    def verify_(self):
        super().verify_()
        for r in self.regions:
            if len(r.blocks[0].last_op.operands) != len(self.carried):
                raise VerifyError("each branch must yield one value per carried blob")

    def execute(self, interp, env, cond):
        taken = self.regions[0] if np.asarray(cond).reshape(-1)[0] != 0 else self.regions[1]
        return tuple(interp.run_region(taken, [], env))


MAX_LOOP_ITERATIONS = 1 << 24  # an unbounded condition loop is cut off here


@layer_op("loop", n_inputs=(0, 1))
class LoopOp(_ControlFlow):
    """Repeats the body region while the condition region yields non-zero (`conditionVar`), at most
    `maxLoopIterations` times (or the optional input's value). Both regions take the current
    `carried` values as block arguments; the body yields their next values."""

    maxLoopIterations = attribute("int", default=0)
    conditionVar = attribute("str", default="")
    condition_region = region()
    body_region = region()

    @property
    def inputs(self) -> list:
        return self._operands[:len(self._operands) - len(self.carried)]

    @property
    def initial_values(self) -> list:
        n = len(self.carried)
        return self._operands[len(self._operands) - n:] if n else []

    def verify_(self):
        super().verify_()
        cond, body = self.regions
        n = len(self.carried)
        if len(self.initial_values) != n:
            raise VerifyError(f"carries {n} blobs but has {len(self.initial_values)} initial values")
        if any(len(r.blocks[0].args) != n for r in self.regions):
            raise VerifyError(f"regions must take the {n} carried blobs as arguments")
        if len(body.blocks[0].last_op.operands) != n:
            raise VerifyError("the body must yield one value per carried blob")
        if len(cond.blocks[0].last_op.operands) != (1 if self.conditionVar else 0):
            raise VerifyError("the condition region must yield the condition blob")

    def execute(self, interp, env, *operands):
        n_in = len(operands) - len(self.carried)
        limit = int(np.asarray(operands[0]).reshape(-1)[0]) if n_in else int(self.maxLoopIterations)
        if limit <= 0:
            limit = MAX_LOOP_ITERATIONS if self.conditionVar else 0
        values = list(operands[n_in:])
        cond, body = self.regions
        for _ in range(min(limit, MAX_LOOP_ITERATIONS)):
            if self.conditionVar and np.asarray(interp.run_region(cond, values, env)[0]).reshape(-1)[0] == 0:
                break
            try:
                values = interp.run_region(body, values, env)
            except LoopExit as exit_:
                values = exit_.values
                if exit_.kind == "break":
                    break
        return tuple(values)


class _LoopJump(NNLayer):
    """loopBreak / loopContinue: operands are the enclosing loop's carried blobs at this point."""

    traits = frozenset()

    def infer_types(self):
        return []

    def verify_(self):
        if self.inputs and not self.attributes.get("carried"):
            raise VerifyError("takes the enclosing loop's carried blobs (attribute 'carried')")

    def execute(self, interp, env, *values):
        raise LoopExit("break" if self.layer_kind == "loopBreak" else "continue", values)


declare_layers(["loopBreak", "loopContinue"], _LoopJump, n_inputs=(0, None), namespace=globals(),
               loopBreak={"carried": attribute("strs", default=())},
               loopContinue={"carried": attribute("strs", default=())})


# -- quantized weights -----------------------------------------------------------------------

def unpack_bits(raw: np.ndarray, count: int, nbits: int) -> np.ndarray:
    """`count` unsigned codes of `nbits` bits each, packed most-significant bit first."""
    bits = np.unpackbits(raw.astype(np.uint8))[: count * nbits].reshape(count, nbits)
    weights = (1 << np.arange(nbits - 1, -1, -1)).astype(np.int64)
    return bits.astype(np.int64) @ weights


@op_def("nn.dequantize")
class DequantizeOp(Operation):
    """Quantized `WeightParams` kept as stored: `raw` is the `rawValue` bytes (u8) or `int8RawValue`
    (i8); codes of `numberOfBits` bits are mapped to f32 by `linear` (code * scale + bias, per
    tensor or per channel along `axis`) or `lut` (lookup table) quantization."""

    raw = operand(AnyTensor)
    output = result(AnyTensor)
    numberOfBits = attribute("int")
    mode = attribute("str")  # "linear" | "lut"
    scale = attribute("floats", default=())
    bias = attribute("floats", default=())
    lut = attribute("floats", default=())
    axis = attribute("int", default=0)
    traits = frozenset({Pure})

    def verify_(self):
        t = self.output.type
        if not (isinstance(t, TensorType) and t.is_static):
            raise VerifyError("result must be a static tensor")
        n = t.num_elements
        bits = self.numberOfBits
        if not 1 <= bits <= 8:
            raise VerifyError(f"numberOfBits must be 1..8, got {bits}")
        raw = self.raw.type
        if isinstance(raw, TensorType) and raw.is_static and raw.num_elements * 8 < n * bits:
            raise VerifyError(f"{raw.num_elements} bytes cannot hold {n} weights of {bits} bits")
        if self.mode == "lut" and len(self.lut) != 1 << bits:
            raise VerifyError(f"lookup table has {len(self.lut)} entries, expected {1 << bits}")
        if self.mode == "linear" and (len(self.scale) != len(self.bias) and len(self.bias) > 1):
            raise VerifyError("scale and bias lengths differ")
        if self.mode not in ("linear", "lut"):
            raise VerifyError(f"mode must be linear or lut, got '{self.mode}'")

    def reference(self, raw):
        shape = self.output.type.shape
        n = int(np.prod(shape))
        if raw.dtype == np.int8:
            codes = raw.reshape(-1)[:n].astype(np.int64)
        else:
            codes = unpack_bits(raw, n, self.numberOfBits)
        if self.mode == "lut":
            return np.asarray(self.lut, np.float32)[codes].reshape(shape)
        w = codes.reshape(shape).astype(np.float64)
        w = np.moveaxis(w, self.axis, 0) if w.ndim > 1 else w.reshape(1, -1)
        bshape = (-1,) + (1,) * (w.ndim - 1)
        scale = np.asarray(self.scale or (1.0,), np.float64).reshape(bshape)
        bias = np.asarray(self.bias or (0.0,), np.float64).reshape(bshape)
        w = w * scale + bias
        w = np.moveaxis(w, 0, self.axis) if len(shape) > 1 else w
        return w.reshape(shape).astype(np.float32)

    def infer_types(self):
        return [TensorType(None, F32)]


# -- image inputs ----------------------------------------------------------------------------

@op_def("nn.image_preprocess")
class ImagePreprocessOp(Operation):
    """Core ML's image input transform (NeuralNetworkPreprocessing): `scaler` gives
    y = channelScale * x + per-channel bias (red/green/blue in the input's `colorSpace` order, or
    grayBias); `meanImage` subtracts a [C, H, W] mean. The argument holds the raw 0..255 pixels."""

    input = operand(AnyTensor)
    output = result(AnyTensor)
    colorSpace = attribute("str", default="RGB")
    traits = frozenset({Pure})

    def scale_and_bias(self) -> tuple[float, np.ndarray] | None:
        """(channelScale, the per-channel biases in the input's channel order) of the `scaler`;
        None without one."""
        scaler = self.attributes.get("scaler")
        if scaler is None:
            return None
        if self.colorSpace.startswith("GRAYSCALE"):
            keys = ("grayBias",)
        elif self.colorSpace == "BGR":
            keys = ("blueBias", "greenBias", "redBias")
        else:
            keys = ("redBias", "greenBias", "blueBias")
        p = scaler.value
        return p.get("channelScale", 0.0), np.asarray([p.get(k, 0.0) for k in keys], np.float32)

    def mean_image(self) -> np.ndarray | None:
        """The flat float32 mean image of `meanImage`; None without one."""
        mean = self.attributes.get("meanImage")
        return None if mean is None else np.asarray(mean.value.get("meanImage", ()), np.float32)

    def reference(self, x):
        x = np.asarray(x, np.float32)
        scaled = self.scale_and_bias()
        if scaled is not None:
            scale, bias = scaled
            return x * np.float32(scale) + bias.reshape(-1, 1, 1)
        mean = self.mean_image()
        return x if mean is None else x - mean.reshape(x.shape[-3:])

    def infer_types(self):
        return [self.input.type]
