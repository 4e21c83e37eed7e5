"""Recurrent MIL ops: lstm, gru, rnn over x [seq, batch, input].

Gate order of the stacked weights (MIL docs): lstm [input, forget, output, cell] (`peephole`
[input, forget, output]); gru [reset, output(new), update]. `bias` is the sum of the input and
hidden biases. Bidirectional layers concatenate forward and backward features on the last axis;
backward outputs are aligned with the input time steps. Outputs: the sequence
[seq or 1, batch, D*H] and the final states [batch, D*H].
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.mil.base import MilOp, mil_op, scalar, shape_of
from mlir_coreml.ir.dialects.mil.elementwise import sigmoid

ACTIVATIONS = {
    "sigmoid": sigmoid, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
    "linear": lambda x: x, "sigmoid_hard": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "scaled_tanh": lambda x: np.tanh(x),
}


def activation(name) -> callable:
    name = str(scalar(name))
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported activation '{name}'")
    return ACTIVATIONS[name]


class Recurrent(MilOp):
    n_states = 1

    def shapes(self):
        s, b, _ = shape_of(self.x)
        h = shape_of(self.weight_hh)[1]
        d = 2 if str(scalar(self.const_param("direction", "forward"))) == "bidirectional" else 1
        seq = s if bool(scalar(self.const_param("output_sequence", False))) else 1
        return [(seq, b, d * h)] + [(b, d * h)] * self.n_states

    def run(self, a, x, states, weights, reverse):
        """One direction: -> (outputs [s, b, H] in input time order, final states)."""
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outs = [None] * x.shape[0]
        for t in steps:
            states = self.step(a, x[t], states, weights)
            outs[t] = states[0]
        return np.stack(outs), states

    def compute(self, a):
        x = a["x"]
        direction = str(scalar(a["direction"]))
        init = [a["initial_h"]] + ([a["initial_c"]] if self.n_states == 2 else [])
        h_size = a["weight_hh"].shape[1]
        if direction == "bidirectional":
            fwd_out, fwd = self.run(a, x, [s[:, :h_size] for s in init], self.weights(a, ""), False)
            bwd_out, bwd = self.run(a, x, [s[:, h_size:] for s in init], self.weights(a, "_back"), True)
            out = np.concatenate([fwd_out, bwd_out], axis=-1)
            states = [np.concatenate([f, b], axis=-1) for f, b in zip(fwd, bwd)]
            last = np.concatenate([fwd_out[-1], bwd_out[0]], axis=-1)
        else:
            if direction not in ("forward", "reverse"):
                raise ValueError(f"unknown direction '{direction}'")
            reverse = direction == "reverse"
            out, states = self.run(a, x, init, self.weights(a, ""), reverse)
            last = out[0] if reverse else out[-1]
        if not bool(scalar(a["output_sequence"])):
            out = last[None]
        return (out, *states)


_RECURRENT_DEFAULTS = {"direction": "forward", "output_sequence": False, "recurrent_activation": "sigmoid",
                       "cell_activation": "tanh", "activation": "tanh"}


class LstmBase(Recurrent):
    n_states = 2

    def weights(self, a, suffix):
        bias = a.get("bias" + suffix)
        peep = a.get("peephole" + suffix)
        return a["weight_ih" + suffix], a["weight_hh" + suffix], bias, peep

    def step(self, a, x, states, weights):
        h, c = states
        w_ih, w_hh, bias, peep = weights
        gates = x @ w_ih.T + h @ w_hh.T
        if bias is not None:
            gates = gates + bias
        i, f, o, g = np.split(gates, 4, axis=-1)
        if peep is not None:
            p_i, p_f, p_o = np.split(peep, 3)
            i, f = i + p_i * c, f + p_f * c
        rec, cell, act = (activation(a[k]) for k in ("recurrent_activation", "cell_activation", "activation"))
        i, f, g = rec(i), rec(f), cell(g)
        c = f * c + i * g
        if a.get("clip") is not None:
            c = np.clip(c, -float(scalar(a["clip"])), float(scalar(a["clip"])))
        if peep is not None:
            o = o + p_o * c
        h = rec(o) * act(c)
        return [h, c]


mil_op("lstm", "x initial_h initial_c weight_ih weight_hh bias? peephole? weight_ih_back? weight_hh_back? "
       "bias_back? peephole_back? direction? output_sequence? recurrent_activation? cell_activation? "
       "activation? clip?", results="output output_h output_c", base=LstmBase, defaults=_RECURRENT_DEFAULTS)


class GruBase(Recurrent):
    def weights(self, a, suffix):
        return a["weight_ih"], a["weight_hh"], a.get("bias"), a.get("input_bias")

    def step(self, a, x, states, weights):
        (h,) = states
        w_ih, w_hh, bias, input_bias = weights
        hs = h.shape[-1]
        xi = x @ w_ih.T
        hh = h @ w_hh.T
        bias = np.zeros(3 * hs, dtype=np.float32) if bias is None else bias
        ib = np.zeros(3 * hs, dtype=np.float32) if input_bias is None else input_bias
        rec, act = activation(a["recurrent_activation"]), activation(a["activation"])
        r = rec(xi[:, :hs] + hh[:, :hs] + bias[:hs] + ib[:hs])
        z = rec(xi[:, 2 * hs:] + hh[:, 2 * hs:] + bias[2 * hs:] + ib[2 * hs:])
        reset_after = a.get("reset_after") is not None and bool(scalar(a["reset_after"]))
        if reset_after:
            o = act(xi[:, hs:2 * hs] + ib[hs:2 * hs] + r * (hh[:, hs:2 * hs] + bias[hs:2 * hs]))
        else:
            o = act(xi[:, hs:2 * hs] + r * hh[:, hs:2 * hs] + bias[hs:2 * hs] + ib[hs:2 * hs])
        return [(1 - z) * o + z * h]


mil_op("gru", "x initial_h weight_ih weight_hh bias? direction? output_sequence? recurrent_activation? "
       "activation? reset_after? input_bias?", results="output output_h", base=GruBase,
       defaults=_RECURRENT_DEFAULTS)


class RnnBase(Recurrent):
    def weights(self, a, suffix):
        return a["weight_ih"], a["weight_hh"], a.get("bias")

    def step(self, a, x, states, weights):
        w_ih, w_hh, bias = weights
        y = x @ w_ih.T + states[0] @ w_hh.T
        if bias is not None:
            y = y + bias
        return [activation(a["activation"])(y)]


mil_op("rnn", "x initial_h weight_ih weight_hh bias? direction? output_sequence? activation?",
       results="output output_h", base=RnnBase, defaults=_RECURRENT_DEFAULTS)
