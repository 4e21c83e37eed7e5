"""IR attributes: compile-time constant data attached to operations.

Scalars, strings, arrays, dicts, types, and dense tensors. Dense tensors either print inline
(`dense<[1.0, 2.0]> : tensor<2xf32>`) or, for weights, as a named resource handle
(`dense_resource<conv1_weight> : tensor<...>`) whose bytes live in the module's optional
trailing resources section; their numpy arrays are held without copying and may load lazily.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from mlir_coreml.ir.types import NoneType, TensorType, Type, element_type_of


class Attribute:
    """Base of all attributes; `value` is the plain Python view ops hand to user code."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class IntAttr(Attribute):
    data: int

    @property
    def value(self) -> int:
        return self.data


@dataclass(frozen=True, slots=True)
class FloatAttr(Attribute):
    data: float

    @property
    def value(self) -> float:
        return self.data

    def __eq__(self, other):  # bitwise, so that nan == nan and -0.0 != 0.0 for CSE
        return isinstance(other, FloatAttr) and float_key(self.data) == float_key(other.data)

    def __hash__(self):
        return hash(float_key(self.data))


@dataclass(frozen=True, slots=True)
class BoolAttr(Attribute):
    data: bool

    @property
    def value(self) -> bool:
        return self.data


@dataclass(frozen=True, slots=True)
class StringAttr(Attribute):
    data: str

    @property
    def value(self) -> str:
        return self.data


@dataclass(frozen=True, slots=True)
class ArrayAttr(Attribute):
    data: tuple[Attribute, ...]

    @property
    def value(self) -> tuple:
        return tuple(a.value for a in self.data)


@dataclass(frozen=True, slots=True)
class DictAttr(Attribute):
    """Ordered string-keyed dictionary (order is kept so printing is exact)."""

    data: tuple[tuple[str, Attribute], ...]

    @property
    def value(self) -> dict:
        return {k: v.value for k, v in self.data}

    def get(self, key: str, default=None):
        for k, v in self.data:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class TypeAttr(Attribute):
    data: Type

    @property
    def value(self) -> Type:
        return self.data


@dataclass(frozen=True, slots=True)
class SymbolRefAttr(Attribute):
    """`@name`: a reference to a symbol (function) in the module."""

    data: str

    @property
    def value(self) -> str:
        return self.data


class DenseAttr(Attribute):
    """A small constant tensor printed inline; holds its numpy array without copying."""

    __slots__ = ("array", "type")

    def __init__(self, array: np.ndarray, type: TensorType | None = None):
        self.array = np.asarray(array)
        self.type = type or TensorType(self.array.shape, element_type_of(self.array.dtype))

    @property
    def value(self) -> np.ndarray:
        return self.array

    def __eq__(self, other):
        return isinstance(other, DenseAttr) and self.type == other.type and arrays_identical(self.array, other.array)

    def __hash__(self):
        return hash((self.type, self.array.tobytes()[:64]))

    def __repr__(self):
        return f"DenseAttr({self.type})"


class ResourceBlob:
    """The bytes behind a `dense_resource` handle: an array, or a loader called on first use."""

    __slots__ = ("_array", "_loader", "origin")

    def __init__(self, array: np.ndarray | None = None, loader: Callable[[], np.ndarray] | None = None,
                 origin=None):
        self._array = array
        self._loader = loader
        self.origin = origin  # where a reader found the bytes (e.g. frontend.mlpackage.BlobOrigin), or None

    @property
    def loaded(self) -> bool:
        return self._array is not None

    @property
    def available(self) -> bool:
        return self._array is not None or self._loader is not None

    def array(self) -> np.ndarray | None:
        if self._array is None and self._loader is not None:
            self._array = self._loader()
            self._loader = None
        return self._array


class DenseResourceAttr(Attribute):
    """A large constant printed as `dense_resource<name>`; equality is by identity of the blob."""

    __slots__ = ("name", "type", "blob")

    def __init__(self, name: str, type: TensorType, blob: ResourceBlob | None = None):
        self.name = name
        self.type = type
        self.blob = blob or ResourceBlob()

    @classmethod
    def from_array(cls, name: str, array: np.ndarray, type: TensorType | None = None) -> DenseResourceAttr:
        type = type or TensorType(array.shape, element_type_of(array.dtype))
        return cls(name, type, ResourceBlob(array))

    @property
    def value(self) -> np.ndarray:
        array = self.blob.array()
        if array is None:
            from mlir_coreml.errors import MlirCoremlError

            raise MlirCoremlError(f"resource '{self.name}' has no data (print the module with its resources section)")
        return array

    def __eq__(self, other):
        return isinstance(other, DenseResourceAttr) and self.blob is other.blob and self.type == other.type

    def __hash__(self):
        return id(self.blob)

    def __repr__(self):
        return f"DenseResourceAttr({self.name}, {self.type})"


def float_key(x: float) -> bytes:
    return np.float64(x).tobytes()


def arrays_identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# A JSON null (espresso nets may carry one) as an attribute: the `none` type prints and parses.
JSON_NULL = TypeAttr(NoneType())


def to_attr(value: Any) -> Attribute:
    """Wrap a plain Python/numpy value as an attribute (attributes pass through unchanged)."""
    if isinstance(value, Attribute):
        return value
    if value is None:
        return JSON_NULL
    if isinstance(value, (bool, np.bool_)):
        return BoolAttr(bool(value))
    if isinstance(value, (int, np.integer)):
        return IntAttr(int(value))
    if isinstance(value, (float, np.floating)):
        return FloatAttr(float(value))
    if isinstance(value, str):
        return StringAttr(value)
    if isinstance(value, Type):
        return TypeAttr(value)
    if isinstance(value, np.ndarray):
        return DenseAttr(value)
    if isinstance(value, dict):
        return DictAttr(tuple((str(k), to_attr(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ArrayAttr(tuple(to_attr(v) for v in value))
    raise TypeError(f"cannot make an attribute from {type(value).__name__}")


def format_float(x: float) -> str:
    """Shortest text that parses back to the same double, always marked as a float."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(float(x))
    return text if ("." in text or "e" in text) else text + ".0"
