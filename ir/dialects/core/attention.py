"""`core.scaled_dot_product_attention`: softmax(scale * q @ k^T + mask) @ v, the op that
`fuse-attention` recognises in converted transformers and the runtime runs as one kernel
(csrc/attention.c)."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.core.base import CoreOp, shape_of, unranked_like
from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.shapes import broadcast_shapes, format_shape
from mlir_coreml.ir.types import TensorType

ATTENTION_LAYOUTS = ("bhsd", "bshd", "bsc")


def bsc_heads(x, offset: int, heads: int, dim: int):
    """The [B, H, S, dim] view of `heads` heads of `dim` channels interleaved in the last axis
    of x [B, S, C] from channel `offset` on (layout "bsc"; no copy of a numpy array)."""
    b, s = x.shape[:2]
    return np.swapaxes(x[:, :, offset:offset + heads * dim].reshape(b, s, heads, dim), 1, 2)


@op_def("core.scaled_dot_product_attention")
class ScaledDotProductAttentionOp(CoreOp):
    """Attention over the last two axes of each operand.

    layout "bhsd": q [..., Sq, E], k [..., Sk, E], v [..., Sk, Ev] with equal leading dims,
    result [..., Sq, Ev] (Core ML's scaled_dot_product_attention, with an explicit scale).
    layout "bshd": rank 4, q [B, Sq, H, E], k [B, Sk, H, E], v [B, Sk, H, Ev], result
    [B, Sq, H, Ev]: heads as the rows of a projection hold them, so no transposes are needed.
    layout "bsc": rank 3, q [B, Sq, Cq], k [B, Sk, Ck], v [B, Sk, Cv], result [B, Sq, heads * Ev]:
    head h of q is channels offsets[0] + h * E .. + E (of k: offsets[1], E; of v: offsets[2],
    Ev), with (E, Ev) = head_dims. The split of a fused q/k/v projection and the head
    reshapes around the attention are views of the projection: this layout reads them in place.
    `mask` is added to the scores, broadcasting to [..., Sq, Sk] (in "bshd" and "bsc":
    [B, H, Sq, Sk])."""

    q = operand(AnyTensor)
    k = operand(AnyTensor)
    v = operand(AnyTensor)
    mask = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    scale = attribute("float", default=1.0)
    layout = attribute("str", default="bhsd")
    heads = attribute("int", default=0)                 # layout "bsc" only
    head_dims = attribute("ints", default=(0, 0))       # (E, Ev), layout "bsc" only
    offsets = attribute("ints", default=(0, 0, 0))      # first channel of q, k, v, layout "bsc" only

    def _heads_first(self, shape):
        """`shape` in the "bhsd" order."""
        return shape if self.layout == "bhsd" else (shape[0], shape[2], shape[1], shape[3])

    def _bsc_shapes(self, q, k, v):
        """q, k, v of layout "bsc" as "bshd" shapes, checking the channels fit."""
        if len(q) != 3 or len(k) != 3 or len(v) != 3:
            raise VerifyError(f"q, k, v must have rank 3 in layout bsc, got {format_shape(q)}, {format_shape(k)}, "
                              f"{format_shape(v)}")
        H, (E, Ev), offsets = self.heads, tuple(self.head_dims), tuple(self.offsets)
        if H < 1 or len(offsets) != 3 or min(offsets) < 0 or min(E, Ev) < 1:
            raise VerifyError(f"layout bsc needs heads >= 1, head_dims (E, Ev) >= 1 and 3 offsets >= 0, got "
                              f"heads {H}, head_dims {list(self.head_dims)}, offsets {list(self.offsets)}")
        out = []
        for name, shape, offset, dim in (("q", q, offsets[0], E), ("k", k, offsets[1], E), ("v", v, offsets[2], Ev)):
            if shape[2] is not None and offset + H * dim > shape[2]:
                raise VerifyError(f"{name} has {shape[2]} channels, {H} heads of {dim} from channel {offset} "
                                  f"do not fit")
            out.append((shape[0], shape[1], H, dim))
        return out

    def infer_types(self):
        if self.layout not in ATTENTION_LAYOUTS:
            raise VerifyError(f"layout must be one of {', '.join(ATTENTION_LAYOUTS)}, got '{self.layout}'")
        q, k, v = shape_of(self.q), shape_of(self.k), shape_of(self.v)
        if q is None or k is None or v is None:
            return unranked_like(self.q)
        if self.layout == "bsc":
            q, k, v = self._bsc_shapes(q, k, v)
        if len(q) < 2 or len(k) != len(q) or len(v) != len(q) or (self.layout == "bshd" and len(q) != 4):
            raise VerifyError(f"q, k, v must have one rank >= 2 (4 in layout bshd), got "
                              f"{format_shape(q)}, {format_shape(k)}, {format_shape(v)}")
        q, k, v = self._heads_first(q), self._heads_first(k), self._heads_first(v)
        if q[:-2] != k[:-2] or q[:-2] != v[:-2] or q[-1] != k[-1] or k[-2] != v[-2]:
            raise VerifyError(f"attention shapes do not fit: q {format_shape(q)}, k {format_shape(k)}, "
                              f"v {format_shape(v)} (heads first)")
        scores = q[:-1] + (k[-2],)
        m = shape_of(self.mask) if self.mask is not None else None
        if m is not None and broadcast_shapes(m, scores) != scores:
            raise VerifyError(f"mask {format_shape(m)} does not broadcast to the scores {format_shape(scores)}")
        out = self._heads_first(q[:-1] + (v[-1],))
        if self.layout == "bsc":
            out = (out[0], out[1], out[2] * out[3])
        return [TensorType(out, self.q.type.element)]

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        q, k, v = (np.asarray(a[n], dtype=np.float64) for n in ("q", "k", "v"))
        if self.layout == "bshd":
            q, k, v = (np.swapaxes(x, 1, 2) for x in (q, k, v))
        elif self.layout == "bsc":
            (E, Ev), (oq, ok, ov) = self.head_dims, self.offsets
            q, k, v = (bsc_heads(x, o, self.heads, d) for x, o, d in ((q, oq, E), (k, ok, E), (v, ov, Ev)))
        scores = self.scale * (q @ np.swapaxes(k, -1, -2))
        if a["mask"] is not None:
            scores = scores + np.asarray(a["mask"], dtype=np.float64)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        y = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        if self.layout == "bsc":
            y = np.swapaxes(y, 1, 2).reshape(y.shape[0], y.shape[2], -1)
        return self.out(np.swapaxes(y, 1, 2) if self.layout == "bshd" else y)

    def flops(self):
        shapes = [shape_of(x) for x in (self.q, self.k, self.v)]
        if self.layout == "bsc":
            shapes = self._bsc_shapes(*shapes)
        q, k, v = (self._heads_first(x) for x in shapes)
        rows = int(np.prod(q[:-1], dtype=np.int64))
        return rows * k[-2] * (2 * q[-1] + 2 * v[-1] + 5)
