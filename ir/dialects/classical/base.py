"""Shared machinery of the `classical` dialect: the model-op base class and the value conventions.

Every classical model op has the same layout, so one importer and one writer handle them all:

    %label, %probs = classical.glm_classifier %x {weights = [...], offset = dense<...>, ...}
        : (tensor<4xf64>) -> (tensor<string>, dict<string, f64>) loc("model0")

* operands — the model's input features, in the order of its ModelDescription inputs;
* results — its output features (classifiers: the predicted label, then the probabilities);
* attributes — the model's params message under its proto field names (proto3 defaults omitted):
  scalars as they are, enums by name, sub-messages as dicts, repeated numbers as dense arrays in
  the proto's own precision (double -> f64, float -> f32, int64/uint64 -> i64), repeated strings
  as string arrays; tree ensemble nodes are stored column-wise (see trees.py);
* `coreml.model` (stage ops of a pipeline only) — the stage's own Model envelope
  (specificationVersion, description, isUpdatable) so that export is exact.

Run-time values follow the feature types: multi-arrays are numpy arrays, `tensor<f64>` /
`tensor<i64>` scalars are Python floats / ints, `tensor<string>` a str, `dict<K, f64>` a dict and
`list<K>` a list; an absent optional input is None.
"""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.opdef import AnyType, Pure, VerifyError, operand, result
from mlir_coreml.ir.types import STRING, TensorType

# Model.Type oneof name -> op class (filled by `model_op`).
MODEL_OPS: dict[str, type[Operation]] = {}
MODEL_ATTR = "coreml.model"


def model_op(kind: str):
    """Register an op class as the IR form of Model.Type `kind`."""

    def wrap(cls):
        cls.model_kind = kind
        MODEL_OPS[kind] = cls
        return cls

    return wrap


class ClassicalModel(Operation):
    """Base of all `classical.*` model ops (layout in the module docstring)."""

    inputs = operand(AnyType, variadic=True)
    outputs = result(AnyType, variadic=True)
    traits = frozenset({Pure})
    model_kind = ""
    n_inputs: tuple = (1, 1)     # allowed (min, max) inputs; max None = unbounded
    n_outputs: tuple = (1, 1)

    def attr(self, name: str, default=None):
        a = self.attributes.get(name)
        return default if a is None else a.value

    def verify_(self):
        for what, count, (low, high) in (("inputs", len(self.operands), self.n_inputs),
                                         ("outputs", len(self.results), self.n_outputs)):
            if count < low or (high is not None and count > high):
                bound = f"{low}" if low == high else f"{low}..{'' if high is None else high}"
                raise VerifyError(f"{self.model_kind} takes {bound} {what}, got {count}")
        self.check_params()

    def check_params(self) -> None:
        """Model-specific consistency checks of the params (raise VerifyError)."""

    def compute(self, *inputs) -> tuple:
        raise NotImplementedError

    def reference(self, *inputs):
        outs = self.compute(*inputs)
        return tuple(as_feature(v, r.type) for v, r in zip(outs, self.results))


# -- values ----------------------------------------------------------------------------------

def numeric_vector(x, what: str = "input") -> np.ndarray:
    """A numeric feature (number, multi-array) as a flat f64 vector."""
    if x is None:
        raise ValueError(f"{what} is missing")
    if isinstance(x, (dict, str, list)):
        raise ValueError(f"{what} must be numeric, got {type(x).__name__}")
    return np.asarray(x, dtype=np.float64).reshape(-1)


def as_feature(value, t):
    """`value` in the Python form of feature type `t` (see the module docstring)."""
    if value is None or not isinstance(t, TensorType):
        return value
    if t.element == STRING:
        return value if isinstance(value, str) else str(value)
    if t.shape == ():
        array = np.asarray(value).reshape(-1)
        if array.size != 1:
            raise ValueError(f"a scalar {t} feature got {array.size} values")
        return int(array[0]) if t.element.name.startswith(("i", "u")) else float(array[0])
    array = np.asarray(value, dtype=t.element.numpy_dtype)
    if t.is_static and array.size == t.num_elements:
        array = array.reshape(t.shape)
    return array


def class_labels(op) -> list:
    """The classifier's labels (strings or ints), from its ClassLabels oneof."""
    for key in ("stringClassLabels", "int64ClassLabels"):
        labels = op.attr(key)
        if labels is not None:
            vector = labels.get("vector", ())
            return [str(v) for v in vector] if key == "stringClassLabels" else [int(v) for v in vector]
    return []


def classifier_outputs(op, probabilities) -> tuple:
    """(label, probability dict) from one probability per class label; ties take the first."""
    labels = class_labels(op)
    probs = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if probs.size != len(labels):
        raise ValueError(f"{probs.size} class scores for {len(labels)} class labels")
    label = labels[int(np.argmax(probs))]
    return label, {k: float(p) for k, p in zip(labels, probs)}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def probit(z):
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0))) if z.size else z


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()
