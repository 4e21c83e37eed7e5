"""IR types: element types, tensors with static or dynamic (`?`) dims, lists, tuples, dicts.

Types are immutable and hashable; `str(t)` is the textual form the parser reads back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Type:
    """Base of all IR types."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ElementType(Type):
    """A scalar element type: f16, bf16, f32, f64, i8, u8, i16, u16, i32, u32, i64, bool, string."""

    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def is_float(self) -> bool:
        return self.name in ("f16", "bf16", "f32", "f64")

    @property
    def numpy_dtype(self) -> np.dtype:
        if self.name not in _NUMPY:
            raise TypeError(f"{self.name} has no numpy dtype")
        return np.dtype(_NUMPY[self.name])


_NUMPY = {"f16": "float16", "f32": "float32", "f64": "float64", "i8": "int8", "u8": "uint8",
          "i16": "int16", "u16": "uint16", "i32": "int32", "u32": "uint32", "i64": "int64",
          "u64": "uint64", "bool": "bool", "string": "object"}
ELEMENT_TYPES = {n: ElementType(n) for n in ("f16", "bf16", "f32", "f64", "i8", "u8", "i16", "u16",
                                              "i32", "u32", "i64", "u64", "bool", "string")}
F16, BF16, F32, F64 = (ELEMENT_TYPES[n] for n in ("f16", "bf16", "f32", "f64"))
I8, U8, I16, I32, I64 = (ELEMENT_TYPES[n] for n in ("i8", "u8", "i16", "i32", "i64"))
BOOL, STRING = ELEMENT_TYPES["bool"], ELEMENT_TYPES["string"]
FLOAT_TYPES = frozenset({F16, BF16, F32, F64})

_FROM_NUMPY = {np.dtype(v): ELEMENT_TYPES[k] for k, v in _NUMPY.items() if k != "string"}


def element_type_of(dtype) -> ElementType:
    """The element type for a numpy dtype (raises TypeError for unsupported dtypes)."""
    try:
        return _FROM_NUMPY[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"no IR element type for numpy dtype {dtype}") from None


Dim = int | None  # None is a dynamic dimension, printed `?`


@dataclass(frozen=True, slots=True)
class TensorType(Type):
    """`tensor<1x3x?xf32>`; rank 0 prints as `tensor<f32>`. `shape=None` is unranked `tensor<*xf32>`."""

    shape: tuple[Dim, ...] | None
    element: ElementType

    def __str__(self) -> str:
        if self.shape is None:
            return f"tensor<*x{self.element}>"
        dims = "".join(("?" if d is None else str(d)) + "x" for d in self.shape)
        return f"tensor<{dims}{self.element}>"

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(d is not None for d in self.shape)

    @property
    def num_elements(self) -> int | None:
        if not self.is_static:
            return None
        return int(np.prod(self.shape, dtype=np.int64))

    def with_shape(self, shape) -> TensorType:
        return TensorType(tuple(shape), self.element)

    def with_element(self, element: ElementType) -> TensorType:
        return TensorType(self.shape, element)


@dataclass(frozen=True, slots=True)
class ListType(Type):
    """`list<tensor<?xf32>>`: ML Program lists (length unknown at compile time)."""

    element: Type

    def __str__(self) -> str:
        return f"list<{self.element}>"


@dataclass(frozen=True, slots=True)
class TupleType(Type):
    """`tuple<f32, tensor<2xi32>>`."""

    elements: tuple[Type, ...]

    def __str__(self) -> str:
        return f"tuple<{', '.join(map(str, self.elements))}>"


@dataclass(frozen=True, slots=True)
class StateType(Type):
    """`state<tensor<1x4xf16>>`: a model state (iOS18 ML Programs), read with `read_state`,
    written with `coreml_update_state`; it lives across predictions (`CompiledModel.make_state`)."""

    wrapped: Type

    def __str__(self) -> str:
        return f"state<{self.wrapped}>"


@dataclass(frozen=True, slots=True)
class DictType(Type):
    """`dict<string, f64>`: classifier probability outputs."""

    key: Type
    value: Type

    def __str__(self) -> str:
        return f"dict<{self.key}, {self.value}>"


@dataclass(frozen=True, slots=True)
class FunctionType(Type):
    """`(tensor<2xf32>) -> tensor<2xf32>`."""

    inputs: tuple[Type, ...]
    results: tuple[Type, ...]

    def __str__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        return f"({ins}) -> {format_result_types(self.results)}"


@dataclass(frozen=True, slots=True)
class NoneType(Type):
    """`none`: the type of an absent optional value."""

    def __str__(self) -> str:
        return "none"


def format_result_types(types) -> str:
    """`t` for one non-function result, `(a, b)` otherwise (MLIR's convention)."""
    types = tuple(types)
    if len(types) == 1 and not isinstance(types[0], FunctionType):
        return str(types[0])
    return f"({', '.join(map(str, types))})"


def tensor(shape, element: ElementType | str) -> TensorType:
    """Shorthand: tensor((1, 3), "f32")."""
    if isinstance(element, str):
        element = ELEMENT_TYPES[element]
    return TensorType(tuple(shape), element)
