"""Recurrent layers: simpleRecurrent, gru, uniDirectionalLSTM, biDirectionalLSTM.

Blobs are [S, B, X, 1, 1] (rank 5; a rank-4 blob is one sequence step). Optional extra inputs are
the initial states (h0 [, c0], per direction); outputs are the sequence output ([S, B, H, 1, 1]
with `sequenceOutput`, else the last step [1, B, H, 1, 1]) followed by the final states.
Gate activations come from `activations` (a list of ActivationParams dicts, e.g. `[{sigmoid = {}}, ...]`).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.nn.base import NNLayer, layer_op
from mlir_coreml.ir.shapes import ShapeError
from mlir_coreml.ir.dialects.nn.elementwise import ACTIVATIONS
from mlir_coreml.ir.opdef import attribute


# coremltools writes recurrent activations without parameters (`sigmoidHard {}`); the runtime then
# uses the Keras-style standard ones (hard sigmoid = clip(0.2 x + 0.5, 0, 1)), not proto3 zeros.
RECURRENT_ACTIVATION_DEFAULTS = {"sigmoidHard": {"alpha": 0.2, "beta": 0.5}, "linear": {"alpha": 1.0},
                                 "scaledTanh": {"alpha": 1.0, "beta": 1.0}}


def activation_fn(spec: dict, default: str):
    spec = spec or {default: {}}
    (kind, params), = list(spec.items())[:1]
    params = params or RECURRENT_ACTIVATION_DEFAULTS.get(kind, {})
    fn = ACTIVATIONS.get(kind)
    if fn is None or kind in ("PReLU", "parametricSoftplus"):
        raise ShapeError(f"activation {kind} is not allowed in a recurrent layer")
    return lambda x: fn(None, x, params, {})


def sequence(x: np.ndarray):
    """[S, B, X, 1, 1] (or [B, X, 1, 1]) -> [S, B, X]."""
    if x.ndim == 5:
        return x.reshape(x.shape[0], x.shape[1], -1)
    return x.reshape(1, x.shape[0], -1)


class _Recurrent(NNLayer):
    inputVectorSize = attribute("int", default=0)
    outputVectorSize = attribute("int", default=0)
    n_states = 1
    directions = 1

    def flag(self, name):
        return bool(self.attr(name, False))

    def shapes(self, xs, ws):
        s = xs[0]
        if len(s) not in (4, 5):
            raise ShapeError(f"expects a [S, B, X, 1, 1] blob, got rank {len(s)}")
        seq, batch = (s[0], s[1]) if len(s) == 5 else (1, s[0])
        if s[-3] * s[-2] * s[-1] != self.inputVectorSize:
            raise ShapeError(f"input vector size is {s[-3] * s[-2] * s[-1]}, expected {self.inputVectorSize}")
        h = self.outputVectorSize
        y = (seq if self.flag("sequenceOutput") else 1, batch, h * self.directions, 1, 1)
        state = (1, batch, h, 1, 1)
        return [y] + [state] * (self.n_states * self.directions)

    def initial(self, xs, batch, index):
        h = self.outputVectorSize
        if len(xs) > index:
            return xs[index].reshape(batch, h).astype(np.float64)
        return np.zeros((batch, h))

    def finish(self, x, outputs, states):
        h = self.outputVectorSize
        seq_out = np.concatenate(outputs, axis=-1)  # S, B, D*H
        if not self.flag("sequenceOutput"):
            seq_out = seq_out[-1:]
        y = seq_out.reshape(seq_out.shape + (1, 1))
        return (y,) + tuple(s.reshape(1, -1, h, 1, 1) for s in states)


@layer_op("simpleRecurrent", n_inputs=(1, 2))
class SimpleRecurrentOp(_Recurrent):
    """h_t = f(W x_t + R h_{t-1} + b)."""

    sequenceOutput = attribute("bool", default=False)
    hasBiasVector = attribute("bool", default=False)
    reverseInput = attribute("bool", default=False)

    def compute(self, xs, ws):
        x = sequence(xs[0])
        hsz, xsz = self.outputVectorSize, self.inputVectorSize
        w = ws["weightMatrix"].reshape(hsz, xsz)
        r = ws["recursionMatrix"].reshape(hsz, hsz)
        b = ws["biasVector"].reshape(-1) if "biasVector" in ws else 0.0
        f = activation_fn(self.attr("activation"), "linear")
        h = self.initial(xs, x.shape[1], 1)
        steps = range(x.shape[0] - 1, -1, -1) if self.flag("reverseInput") else range(x.shape[0])
        outs = []
        for t in steps:
            h = f(x[t] @ w.T + h @ r.T + b)
            outs.append(h)
        if self.flag("reverseInput"):
            outs.reverse()
        return self.finish(x, [np.stack(outs)], [h])


@layer_op("gru", n_inputs=(1, 2))
class GruOp(_Recurrent):
    """z = f(W_z x + R_z h + b_z), r = f(W_r x + R_r h + b_r), o = g(W_o x + R_o (r * h) + b_o),
    h = (1 - z) * o + z * h."""

    sequenceOutput = attribute("bool", default=False)
    hasBiasVectors = attribute("bool", default=False)
    reverseInput = attribute("bool", default=False)

    def compute(self, xs, ws):
        x = sequence(xs[0])
        hsz, xsz = self.outputVectorSize, self.inputVectorSize
        acts = list(self.attr("activations", ())) + [None, None]
        f, g = activation_fn(acts[0], "sigmoid"), activation_fn(acts[1], "tanh")

        def mat(name, cols):
            return ws[name].reshape(hsz, cols)

        def bias(name):
            return ws[name].reshape(-1) if name in ws else 0.0

        h = self.initial(xs, x.shape[1], 1)
        steps = range(x.shape[0] - 1, -1, -1) if self.flag("reverseInput") else range(x.shape[0])
        outs = []
        for t in steps:
            xt = x[t]
            z = f(xt @ mat("updateGateWeightMatrix", xsz).T + h @ mat("updateGateRecursionMatrix", hsz).T
                  + bias("updateGateBiasVector"))
            r = f(xt @ mat("resetGateWeightMatrix", xsz).T + h @ mat("resetGateRecursionMatrix", hsz).T
                  + bias("resetGateBiasVector"))
            o = g(xt @ mat("outputGateWeightMatrix", xsz).T + (r * h) @ mat("outputGateRecursionMatrix", hsz).T
                  + bias("outputGateBiasVector"))
            h = (1 - z) * o + z * h
            outs.append(h)
        if self.flag("reverseInput"):
            outs.reverse()
        return self.finish(x, [np.stack(outs)], [h])


def lstm_direction(x, ws, prefix, params, acts, hsz, h, c, reverse):
    """Run one LSTM direction over x [S, B, X]; weights are looked up as `prefix + field`."""
    xsz = x.shape[-1]
    f1, f2, f3 = (activation_fn(a, d) for a, d in zip(acts, ("sigmoid", "tanh", "tanh")))

    def mat(name, cols):
        return ws[prefix + name].reshape(hsz, cols)

    def vec(name):
        return ws[prefix + name].reshape(-1) if prefix + name in ws else np.zeros(hsz)

    gates = ("inputGate", "forgetGate", "blockInput", "outputGate")
    w = {g: mat(g + "WeightMatrix", xsz) for g in gates}
    r = {g: mat(g + "RecursionMatrix", hsz) for g in gates}
    b = {g: vec(g + "BiasVector") for g in gates} if params.get("hasBiasVectors") else {g: 0.0 for g in gates}
    if params.get("forgetBias"):
        b["forgetGate"] = b["forgetGate"] + 1.0
    peep = params.get("hasPeepholeVectors")
    p = {g: vec(g + "PeepholeVector") if peep else 0.0 for g in ("inputGate", "forgetGate", "outputGate")}
    clip = params.get("cellClipThreshold", 0.0)
    outs = []
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        pre = {g: x[t] @ w[g].T + h @ r[g].T + b[g] for g in gates}
        i = f1(pre["inputGate"] + p["inputGate"] * c)
        f = 1 - i if params.get("coupledInputAndForgetGate") else f1(pre["forgetGate"] + p["forgetGate"] * c)
        z = f2(pre["blockInput"])
        c = f * c + i * z
        if clip:
            c = np.clip(c, -clip, clip)
        o = f1(pre["outputGate"] + p["outputGate"] * c)
        h = o * f3(c)
        outs.append(h)
    if reverse:
        outs.reverse()
    return np.stack(outs), h, c


@layer_op("uniDirectionalLSTM", n_inputs=(1, 3))
class UniDirectionalLSTMOp(_Recurrent):
    """LSTM with input, forget, block-input and output gates, optional peepholes and cell clipping;
    the LSTMParams flags live in the `params` dict attribute."""

    reverseInput = attribute("bool", default=False)
    n_states = 2

    def flag(self, name):
        return bool(self.attr("params", {}).get(name, False))

    def compute(self, xs, ws):
        x = sequence(xs[0])
        hsz = self.outputVectorSize
        h0, c0 = self.initial(xs, x.shape[1], 1), self.initial(xs, x.shape[1], 2)
        y, h, c = lstm_direction(x, ws, "weightParams.", self.attr("params", {}), list(self.attr("activations", ()))
                                 + [None] * 3, hsz, h0, c0, bool(self.reverseInput))
        return self.finish(x, [y], [h, c])


@layer_op("biDirectionalLSTM", n_inputs=(1, 5))
class BiDirectionalLSTMOp(_Recurrent):
    """Forward and backward LSTMs (weightParams[0], weightParams[1]); the output concatenates both."""

    n_states = 2
    directions = 2

    def flag(self, name):
        return bool(self.attr("params", {}).get(name, False))

    def compute(self, xs, ws):
        x = sequence(xs[0])
        hsz, batch = self.outputVectorSize, x.shape[1]
        params = self.attr("params", {})
        fw = list(self.attr("activationsForwardLSTM", ())) + [None] * 3
        bw = list(self.attr("activationsBackwardLSTM", ())) + [None] * 3
        yf, hf, cf = lstm_direction(x, ws, "weightParams[0].", params, fw, hsz,
                                    self.initial(xs, batch, 1), self.initial(xs, batch, 2), False)
        yb, hb, cb = lstm_direction(x, ws, "weightParams[1].", params, bw, hsz,
                                    self.initial(xs, batch, 3), self.initial(xs, batch, 4), True)
        if not self.flag("sequenceOutput"):
            yf, yb = hf[None], hb[None]  # the backward direction ends at the first step
        return self.finish(x, [yf, yb], [hf, cf, hb, cb])
