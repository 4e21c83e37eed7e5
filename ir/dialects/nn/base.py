"""Shared machinery of the `nn` dialect: the layer base class, declaration helpers, shape utilities.

Every NeuralNetwork layer op has the same operand/result layout, so that one importer handles
all 158 layer kinds:

    %y = nn.convolution %x, %w, %b {weight_fields = ["weights", "bias"], outputChannels = 8, ...}
             : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x6x6xf32> loc("conv1")

All operands form one variadic group; the last len(weight_fields) of them are the weights:

* `inputs`  — the layer's input blobs, in order, then
* `weights` — one SSA value per `WeightParams` of the layer's params message (a `core.constant`,
  or an `nn.dequantize` of one for quantized weights); `weight_fields` names each one by its
  proto path inside the params message (`weights`, `bias`, `weightParams[1].inputGateBiasVector`);
* `outputs` — the layer's output blobs;
* every other params field is an attribute under its proto field name; absent attributes take
  the proto3 default (0, false, "", first enum value); enums are strings; nested messages
  (including oneof choices such as `valid`/`same` padding or the activation kind) are dicts.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import DictAttr
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.guard import max_elements
from mlir_coreml.ir.opdef import AnyTensor, Pure, VerifyError, attribute, op_def, operand, result
from mlir_coreml.ir.types import F32, TensorType
from mlir_coreml.ir.shapes import ShapeError


# Proto oneof field name of NeuralNetworkLayer.layer -> op class (filled by `layer_op`).
LAYER_OPS: dict[str, type[Operation]] = {}


SNAKE_CASE_EXCEPTIONS = {"clampedReLU": "clamped_relu", "flattenTo2D": "flatten_to_2d"}


def snake_case(name: str) -> str:
    """`innerProduct` -> `inner_product`, `gatherND` -> `gather_nd`, `reduceL2` -> `reduce_l2`."""
    if name in SNAKE_CASE_EXCEPTIONS:
        return SNAKE_CASE_EXCEPTIONS[name]
    out = []
    for i, ch in enumerate(name):
        prev = name[i - 1] if i else ""
        nxt = name[i + 1] if i + 1 < len(name) else ""
        if ch.isupper() and i and (prev.islower() or prev.isdigit() or (nxt.islower() and prev.isupper())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class NNLayer(Operation):
    """Base of all `nn.*` layer ops (see the module docstring for the operand layout)."""

    args = operand(AnyTensor, variadic=True)
    outputs = result(AnyTensor, variadic=True)
    weight_fields = attribute("strs", default=())
    traits = frozenset({Pure})
    layer_kind = ""          # the proto oneof name, e.g. "innerProduct"
    n_inputs: tuple = (1, 1)  # allowed (min, max) number of layer inputs; max None = unbounded

    @property
    def inputs(self) -> list:
        """The layer's input blobs (the operands before the weights)."""
        return self._operands[:len(self._operands) - len(self.weight_fields)]

    @property
    def weights(self) -> list:
        """One value per entry of `weight_fields`."""
        n = len(self.weight_fields)
        return self._operands[len(self._operands) - n:] if n else []

    # -- accessors ------------------------------------------------------------------------
    def attr(self, name: str, default=None):
        a = self.attributes.get(name)
        return default if a is None else a.value

    def weight(self, field: str):
        """The SSA value of the weight at proto path `field`, or None."""
        fields = list(self.weight_fields)
        return self.weights[fields.index(field)] if field in fields else None

    def oneof(self, *names: str) -> str | None:
        """Which of the oneof members `names` is set (as a dict attribute)."""
        for n in names:
            if isinstance(self.attributes.get(n), DictAttr):
                return n
        return None

    # -- semantics ------------------------------------------------------------------------
    def shapes(self, xs: list, ws: dict) -> list:
        """Result shapes from input shapes `xs` and weight shapes `ws`; raise NotImplementedError
        when the op has no shape function (results are then unranked)."""
        raise NotImplementedError

    def compute(self, xs: list, ws: dict):
        """Numpy semantics: input arrays and weight arrays (f32) -> array or tuple of arrays."""
        raise NotImplementedError(f"{self.op_name} has no reference semantics yet")

    def reference(self, *arrays):
        n = len(self.inputs)
        xs = [np.asarray(a, dtype=np.float32) for a in arrays[:n]]
        ws = dict(zip(self.weight_fields, (np.asarray(a, dtype=np.float32) for a in arrays[n:])))
        out = self.compute(xs, ws)
        if isinstance(out, (list, tuple)):
            return tuple(np.asarray(o, dtype=np.float32) for o in out)
        return np.asarray(out, dtype=np.float32)

    def _infer(self):
        ins = [v.type for v in self.inputs]
        if any(not isinstance(t, TensorType) or t.shape is None for t in ins):
            raise NotImplementedError
        ws = {f: v.type.shape for f, v in zip(self.weight_fields, self.weights)}
        shapes = self.shapes([tuple(t.shape) for t in ins], ws)
        return [TensorType(tuple(None if d is None else int(d) for d in s), F32) for s in shapes]

    def infer_types(self):
        """Result types (all NeuralNetwork blobs are f32); unranked when not inferable."""
        count = getattr(self, "_result_count", 1)
        try:
            return self._infer()
        except (NotImplementedError, ShapeError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            return [TensorType(None, F32)] * count

    def verify_(self):
        lo, hi = self.n_inputs
        n = len(self.inputs)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise VerifyError(f"expects {want} input(s), got {n}")
        if len(self.weight_fields) > len(self._operands):
            raise VerifyError(f"weight_fields names {len(self.weight_fields)} weights but the op has "
                              f"{len(self._operands)} operands")
        try:
            inferred = self._infer()
        except ShapeError as e:
            raise VerifyError(str(e)) from None
        except (NotImplementedError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            return
        if len(inferred) != len(self.outputs):
            raise VerifyError(f"has {len(self.outputs)} results but the layer produces {len(inferred)}")
        for r, t in zip(self.outputs, inferred):
            if isinstance(r.type, TensorType) and r.type.shape is not None and r.type != t:
                raise VerifyError(f"result '{r.name}' has type {r.type} but the layer computes {t}")
        for t in inferred:
            if t.is_static and t.num_elements > max_elements():
                raise VerifyError(f"result shape {t.shape} is too large")


def layer_op(kind: str, n_inputs=(1, 1), name: str | None = None):
    """Declare and register the op for NeuralNetworkLayer oneof `kind` (`nn.<snake_case(kind)>`)."""

    def wrap(cls):
        cls.layer_kind = kind
        cls.n_inputs = n_inputs
        op_def(name or "nn." + snake_case(kind))(cls)
        LAYER_OPS[kind] = cls
        return cls

    return wrap


def declare_layers(kinds, base, n_inputs=(1, 1), namespace=None, **extra):
    """Declare one op class per kind in `kinds` deriving from `base` (families sharing semantics)."""
    made = {}
    for kind in kinds:
        cls_name = kind[0].upper() + kind[1:] + "Op"
        cls = type(cls_name, (base,), {"__doc__": f"NeuralNetwork `{kind}` layer.",
                                       "__module__": base.__module__, **extra.get(kind, {})})
        layer_op(kind, n_inputs)(cls)
        made[cls_name] = cls
    if namespace is not None:
        namespace.update(made)
    return made


# -- shape helpers -----------------------------------------------------------------------

def f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)
