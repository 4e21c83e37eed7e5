"""Shared machinery of the `mil` dialect: the op base class, the declaration helper, MIL dtypes.

Every MIL op has named parameters; each becomes an operand group under the parameter's name
(optional parameters may be absent, tuple parameters such as `concat.values` are variadic), so
`import -> export` keeps every `const` the converter wrote. Parameter values that must be
compile-time constants are read through `MilOp.const_param`.

Reference semantics: f16 operands are widened to f32, the op is computed, and each result is
rounded to its declared element type. For elementwise ops this is exactly fp16 arithmetic (one
correctly rounded operation); reductions, matmul and conv accumulate in f32 and round once, as
Core ML's fp16 engines do.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import ArrayAttr, DenseAttr, DenseResourceAttr
from mlir_coreml.ir.core import Operation, Value
from mlir_coreml.ir.opdef import AnyType, Pure, VerifyError, op_def, operand, result
from mlir_coreml.ir.types import ELEMENT_TYPES, ElementType, ListType, TensorType

# MIL dtype names (model.mil spelling, `cast.dtype` values) -> IR element types. Sub-byte types
# have no IR element type: their values are unpacked one per byte into i8 / u8.
MIL_DTYPES: dict[str, ElementType] = {
    "bool": ELEMENT_TYPES["bool"], "string": ELEMENT_TYPES["string"],
    "fp16": ELEMENT_TYPES["f16"], "fp32": ELEMENT_TYPES["f32"], "fp64": ELEMENT_TYPES["f64"],
    "bf16": ELEMENT_TYPES["bf16"],
    "int8": ELEMENT_TYPES["i8"], "int16": ELEMENT_TYPES["i16"], "int32": ELEMENT_TYPES["i32"],
    "int64": ELEMENT_TYPES["i64"], "uint8": ELEMENT_TYPES["u8"], "uint16": ELEMENT_TYPES["u16"],
    "uint32": ELEMENT_TYPES["u32"], "uint64": ELEMENT_TYPES["u64"],
    "int4": ELEMENT_TYPES["i8"], "uint1": ELEMENT_TYPES["u8"], "uint2": ELEMENT_TYPES["u8"],
    "uint3": ELEMENT_TYPES["u8"], "uint4": ELEMENT_TYPES["u8"], "uint6": ELEMENT_TYPES["u8"],
}
SUB_BYTE_BITS = {"int4": 4, "uint1": 1, "uint2": 2, "uint3": 3, "uint4": 4, "uint6": 6}

# Function opset spellings: the protobuf writes `CoreML5`..`CoreML8`, model.mil `ios15`..`ios18`.
OPSETS = {"CoreML5": "ios15", "CoreML6": "ios16", "CoreML7": "ios17", "CoreML8": "ios18"}

# Per-op placement in an ML Program: the op attribute `IntendedBackend`, a list of backend names
# (coremltools 9 `models/ml_program/experimental/compute_plan_utils.py`, `set_intended_backends`,
# `_get_backend_names`: "mps_graph" for the GPU, "ane", and for the CPU the three names "set by
# the Core ML framework"). The IR keeps the attribute as read; partition-devices writes it.
INTENDED_BACKEND = "IntendedBackend"
BACKENDS_OF_UNIT: dict[str, tuple[str, ...]] = {"cpu": ("bnns", "classic_cpu", "e5_minimal_cpu"),
                                                "gpu": ("mps_graph",), "ane": ("ane",)}


def intended_backend(unit: str) -> ArrayAttr:
    """The `IntendedBackend` value for a compute unit, as the frontend reads it back (a list
    of string tensors)."""
    string = TensorType((), ELEMENT_TYPES["string"])
    return ArrayAttr(tuple(DenseAttr(np.array(name, dtype=object), string) for name in BACKENDS_OF_UNIT[unit]))

# MIL op type -> op class (filled by `mil_op`).
MIL_OPS: dict[str, type[Operation]] = {}


class NotConstant(Exception):
    """A parameter that must be a compile-time constant is computed at run time."""


def defining_const(value: Value):
    """The array behind `value` when it is produced by `mil.const` (or a constexpr op), else None."""
    op = getattr(value, "op", None)
    if op is None:
        return None
    if op.op_name == "mil.const":
        attr = op.attributes.get("val")
        return None if attr is None else attr.value
    return None


def numpy_dtype(element: ElementType):
    return np.dtype(object) if element.name == "string" else element.numpy_dtype


class MilOp(Operation):
    """Base of all `mil.*` ops (see the module docstring)."""

    traits = frozenset({Pure})
    mil_type = ""                 # the MIL op type, e.g. "conv"
    defaults: dict = {}           # MIL defaults of optional parameters
    # -- parameters -----------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return tuple(d.name for d in cls.operand_defs)

    def param(self, name: str):
        """The operand (list for tuple parameters) bound to parameter `name`, or None."""
        group = self.operand_group(name)
        d = next(d for d in type(self).operand_defs if d.name == name)
        return list(group) if d.variadic else (group[0] if group else None)

    def const_param(self, name: str, default=None):
        """The compile-time value of parameter `name` (default when absent); NotConstant if it is
        computed at run time. Parameters stored as attributes (iOS16 constexpr ops) count too."""
        value = self.param(name)
        if value is None:
            attr = self.attributes.get(name)
            if attr is not None:
                return attr.value
            return self.defaults.get(name, default)
        array = defining_const(value)
        if array is None:
            raise NotConstant(name)
        return array

    # -- semantics ------------------------------------------------------------------------
    def compute(self, a: dict):
        """Numpy semantics: parameter arrays by name (f16 widened to f32, absent ones None or
        their default) -> one array or a tuple of arrays."""
        raise NotImplementedError(f"{self.op_name} has no reference semantics")

    def bind(self, arrays) -> dict:
        a, start = {}, 0
        for d in type(self).operand_defs:
            n = len(self.operand_group(d.name))
            group = [widen(x) for x in arrays[start:start + n]]
            start += n
            if d.variadic:
                a[d.name] = group
            elif group:
                a[d.name] = group[0]
            elif isinstance(self.attributes.get(d.name), (DenseAttr, DenseResourceAttr)):
                a[d.name] = widen(self.attributes[d.name].value)
            elif d.name in self.attributes:
                a[d.name] = np.asarray(self.attributes[d.name].value)
            else:
                default = self.defaults.get(d.name)
                a[d.name] = None if default is None else np.asarray(default)
        return a

    def reference(self, *arrays):
        out = self.compute(self.bind(arrays))
        if len(self.results) == 1 and isinstance(self.results[0].type, ListType):
            return (out,)  # a list value, not a list of results
        if len(self.results) == 1 and not isinstance(out, (list, tuple)):
            return rounded(out, self.results[0].type)
        return tuple(rounded(o, r.type) for o, r in zip(out, self.results))

    # -- types ----------------------------------------------------------------------------
    def shapes(self) -> list | None:
        """Result shapes from operand types and constant parameters (None: not inferable)."""
        return None

    def result_elements(self) -> list[ElementType]:
        """Result element types; by default that of the first tensor operand."""
        for v in self.operands:
            if isinstance(v.type, TensorType):
                return [v.type.element]
        raise NotImplementedError

    def infer_types(self):
        shapes = self.shapes()
        if shapes is None:
            raise NotImplementedError(f"{self.op_name} cannot infer its result types")
        elements = list(self.result_elements())
        elements += elements[-1:] * (len(shapes) - len(elements))  # results share the last element type
        return [TensorType(tuple(s), e) for s, e in zip(shapes, elements)]

    def verify_(self):
        for d in type(self).operand_defs:
            if not d.optional and not d.variadic and not self.operand_group(d.name) \
                    and d.name not in self.attributes:
                raise VerifyError(f"requires parameter '{d.name}'")
        try:
            shapes = self.shapes()
        except (NotConstant, NotImplementedError):
            return
        except Exception as e:  # malformed parameters (untrusted models): report, never crash
            raise VerifyError(f"parameters do not fit together: {e}") from None
        if shapes is None:
            return
        if len(shapes) != len(self.results):
            raise VerifyError(f"has {len(self.results)} results but computes {len(shapes)}")
        for r, shape in zip(self.results, shapes):
            shape = tuple(None if d is None else int(d) for d in shape)
            if any(d is not None and d < 0 for d in shape):
                raise VerifyError(f"computes a negative dimension in {shape}")
            if not isinstance(r.type, TensorType) or r.type.shape is None:
                continue
            if len(shape) != len(r.type.shape) or any(
                    a is not None and b is not None and a != b for a, b in zip(shape, r.type.shape)):
                dims = "x".join("?" if d is None else str(d) for d in shape)
                raise VerifyError(f"result %{r.name} is declared {r.type} but the op computes shape [{dims}]")


def widen(x):
    if isinstance(x, np.ndarray) and x.dtype == np.float16:
        return x.astype(np.float32)
    if isinstance(x, np.generic) and x.dtype == np.float16:
        return np.float32(x)
    return x


def rounded(x, type):
    """`x` in the declared element type of a result (rounding f32 work to f16)."""
    if not isinstance(type, TensorType):
        return x
    dtype = numpy_dtype(type.element)
    x = np.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)


def mil_op(mil_type: str, params: str, results: str = "output", base: type = MilOp,
           defaults: dict | None = None, name: str | None = None, **members):
    """Declare and register `mil.<mil_type>`. `params` lists MIL parameter names in order, `?`
    marking optional ones and `*` tuple (variadic) ones; `results` likewise (`outputs*`)."""
    namespace = {"__module__": base.__module__, "__doc__": members.pop("doc", f"MIL `{mil_type}`.")}
    for p in params.split():
        namespace[p.rstrip("?*")] = operand(AnyType, variadic=p.endswith("*"), optional=p.endswith("?"))
    for r in results.split():
        namespace[r.rstrip("*")] = result(AnyType, variadic=r.endswith("*"))
    namespace["defaults"] = {**base.defaults, **(defaults or {})}
    namespace["mil_type"] = mil_type
    namespace.update(members)
    cls_name = name or "".join(part.capitalize() for part in mil_type.split("_")) + "Op"
    cls = type(cls_name, (base,), namespace)
    op_def("mil." + mil_type)(cls)
    MIL_OPS[mil_type] = cls
    return cls


# -- shape helpers -------------------------------------------------------------------------

def shape_of(value: Value) -> tuple:
    t = value.type
    if not isinstance(t, TensorType) or t.shape is None:
        raise NotImplementedError
    return tuple(t.shape)


def ints(x) -> list[int]:
    return [int(v) for v in np.asarray(x).reshape(-1)]


def scalar(x):
    """A 0-d (or one-element) array as a Python value."""
    x = np.asarray(x)
    v = x.reshape(-1)[0]
    return v.item() if isinstance(v, np.generic) else v
