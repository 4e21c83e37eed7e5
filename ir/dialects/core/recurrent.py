"""`core` recurrent layers (rnn, gru, lstm) in PyTorch's gate order."""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.opdef import AnyTensor, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import TensorType
from mlir_coreml.ir.dialects.core.base import CoreOp, shape_of
from mlir_coreml.ir.shapes import format_shape
from mlir_coreml.ir.dialects.core.elementwise import (sigmoid)


RNN_DIRECTIONS = ("forward", "reverse", "bidirectional")


class RecurrentOp(CoreOp):
    """Whole-sequence recurrence over x [T, B, I]; weights w_ih [D, G*H, I], w_hh [D, G*H, H],
    biases [D, G*H], initial states [D, B, H] (zeros when absent). y is [T, B, D*H] (directions
    concatenated), the final states [D, B, H]."""

    input = operand(AnyTensor)
    w_ih = operand(AnyTensor)
    w_hh = operand(AnyTensor)
    b_ih = operand(AnyTensor, optional=True)
    b_hh = operand(AnyTensor, optional=True)
    h0 = operand(AnyTensor, optional=True)
    direction = attribute("str", default="forward")
    gates = 1
    has_cell = False

    def _dims(self):
        if self.direction not in RNN_DIRECTIONS:
            raise VerifyError(f"direction must be one of {', '.join(RNN_DIRECTIONS)}")
        x, wih, whh = shape_of(self.input), shape_of(self.w_ih), shape_of(self.w_hh)
        d = 2 if self.direction == "bidirectional" else 1
        if wih is None or whh is None or len(wih) != 3 or len(whh) != 3:
            raise VerifyError("w_ih and w_hh must be rank 3 [directions, gates*hidden, ...]")
        hidden = whh[2]
        if wih[0] != d or whh[0] != d or wih[1] != self.gates * hidden or whh[1] != self.gates * hidden:
            raise VerifyError(f"weights {format_shape(wih)} / {format_shape(whh)} do not fit {d} direction(s) of "
                              f"{self.gates} gate(s) x hidden {hidden}")
        if x is not None and (len(x) != 3 or (x[2] is not None and x[2] != wih[2])):
            raise VerifyError(f"input must be [T, B, {wih[2]}], got {format_shape(x)}")
        return x, d, hidden

    def infer_types(self):
        x, d, hidden = self._dims()
        element = self.input.type.element
        if x is None:
            y, state = TensorType(None, element), TensorType(None, element)
        else:
            y, state = TensorType((x[0], x[1], d * hidden), element), TensorType((d, x[1], hidden), element)
        return [y, state] + ([state] if self.has_cell else [])

    def cell(self, x_proj, h, c, w_hh, b_hh):
        raise NotImplementedError

    def reference(self, *arrays):
        a = self.arrays_by_name(arrays)
        x = np.asarray(a["input"], dtype=np.float64)
        t, b, _ = x.shape
        d = 2 if self.direction == "bidirectional" else 1
        hidden = np.shape(a["w_hh"])[2]
        g = self.gates * hidden
        ys, hs, cs = [], [], []
        for k in range(d):
            w_ih = np.asarray(a["w_ih"], dtype=np.float64)[k]
            w_hh = np.asarray(a["w_hh"], dtype=np.float64)[k]
            b_ih = np.zeros(g) if a["b_ih"] is None else np.asarray(a["b_ih"], dtype=np.float64)[k]
            b_hh = np.zeros(g) if a["b_hh"] is None else np.asarray(a["b_hh"], dtype=np.float64)[k]
            h = np.zeros((b, hidden)) if a["h0"] is None else np.asarray(a["h0"], dtype=np.float64)[k]
            c = np.zeros((b, hidden)) if a.get("c0") is None else np.asarray(a["c0"], dtype=np.float64)[k]
            reverse = self.direction == "reverse" or k == 1
            steps = range(t - 1, -1, -1) if reverse else range(t)
            y = np.zeros((t, b, hidden))
            projected = x @ w_ih.T + b_ih
            for s in steps:
                h, c = self.cell(projected[s], h, c, w_hh, b_hh)
                y[s] = h
            ys.append(y)
            hs.append(h)
            cs.append(c)
        outs = [self.out(np.concatenate(ys, axis=2), 0), self.out(np.stack(hs), 1)]
        if self.has_cell:
            outs.append(self.out(np.stack(cs), 2))
        return tuple(outs)

    def flops(self):
        x = shape_of(self.input)
        wih, whh = shape_of(self.w_ih), shape_of(self.w_hh)
        return 2 * x[0] * x[1] * wih[0] * wih[1] * (wih[2] + whh[2]) + 10 * self.out_numel()


@op_def("core.rnn")
class RnnOp(RecurrentOp):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh | relu."""

    output = result(AnyTensor)
    h_n = result(AnyTensor)
    activation = attribute("str", default="tanh")

    def infer_types(self):
        if self.activation not in ("tanh", "relu"):
            raise VerifyError("activation must be tanh or relu")
        return super().infer_types()

    def cell(self, xp, h, c, w_hh, b_hh):
        z = xp + h @ w_hh.T + b_hh
        return (np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0)), c


@op_def("core.gru")
class GruOp(RecurrentOp):
    """PyTorch GRU: gates (r, z, n); n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""

    output = result(AnyTensor)
    h_n = result(AnyTensor)
    gates = 3

    def cell(self, xp, h, c, w_hh, b_hh):
        hp = h @ w_hh.T + b_hh
        hidden = h.shape[1]
        r = sigmoid(xp[:, :hidden] + hp[:, :hidden])
        z = sigmoid(xp[:, hidden:2 * hidden] + hp[:, hidden:2 * hidden])
        n = np.tanh(xp[:, 2 * hidden:] + r * hp[:, 2 * hidden:])
        return (1 - z) * n + z * h, c


@op_def("core.lstm")
class LstmOp(RecurrentOp):
    """PyTorch LSTM: gates (i, f, g, o); c' = f*c + i*g, h' = o*tanh(c'); optional c0."""

    c0 = operand(AnyTensor, optional=True)
    output = result(AnyTensor)
    h_n = result(AnyTensor)
    c_n = result(AnyTensor)
    gates = 4
    has_cell = True

    def cell(self, xp, h, c, w_hh, b_hh):
        z = xp + h @ w_hh.T + b_hh
        hidden = h.shape[1]
        i, f = sigmoid(z[:, :hidden]), sigmoid(z[:, hidden:2 * hidden])
        g, o = np.tanh(z[:, 2 * hidden:3 * hidden]), sigmoid(z[:, 3 * hidden:])
        c = f * c + i * g
        return o * np.tanh(c), c


# =========================================================================== canonicalization
