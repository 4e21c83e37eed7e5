"""Feature-engineering models: vectorizers, encoders, imputer, scaler, normalizer, extractors."""
from __future__ import annotations

import math

import numpy as np

from mlir_coreml.ir.dialects.classical.base import ClassicalModel, model_op, numeric_vector
from mlir_coreml.ir.opdef import VerifyError, op_def
from mlir_coreml.ir.types import DictType

MAX_DENSE = 1 << 28  # a sparse column's declared size is untrusted


def _vector_attr(op, *names):
    """(field name, values) of the first set `{vector: [...]}` oneof member among `names`."""
    for name in names:
        value = op.attr(name)
        if value is not None:
            return name, list(value.get("vector", ()))
    return None, []


@model_op("dictVectorizer")
@op_def("classical.dict_vectorizer")
class DictVectorizerOp(ClassicalModel):
    """{key: value} -> dense vector; key k goes to the position of k in the index vector."""

    def check_params(self):
        if _vector_attr(self, "stringToIndex", "int64ToIndex")[0] is None:
            raise VerifyError("needs stringToIndex or int64ToIndex")

    def compute(self, features):
        kind, keys = _vector_attr(self, "stringToIndex", "int64ToIndex")
        if not isinstance(features, dict):
            raise ValueError(f"input must be a dictionary, got {type(features).__name__}")
        index = {(str(k) if kind == "stringToIndex" else int(k)): i for i, k in enumerate(keys)}
        out = np.zeros(len(keys), dtype=np.float64)
        for key, value in features.items():
            key = str(key) if kind == "stringToIndex" else int(key)
            if key in index:
                out[index[key]] = float(value)
        return (out,)


@model_op("featureVectorizer")
@op_def("classical.feature_vectorizer")
class FeatureVectorizerOp(ClassicalModel):
    """Concatenates its inputs (one per `inputList` column, in that order) into one vector; a
    dictionary column {index: value} is a sparse vector of `inputDimensions` values."""

    n_inputs = (1, None)

    def columns(self) -> list:
        return list(self.attr("inputList", ()))

    def check_params(self):
        if len(self.columns()) != len(self.operands):
            raise VerifyError(f"has {len(self.operands)} inputs for {len(self.columns())} inputList columns")

    def compute(self, *inputs):
        parts = []
        for column, value in zip(self.columns(), inputs):
            if isinstance(value, dict):
                value = _densify(value, int(column.get("inputDimensions", 0)), column.get("inputColumn", ""))
            vector = numeric_vector(value, f"column '{column.get('inputColumn', '')}'")
            want = int(column.get("inputDimensions", vector.size))
            if vector.size != want:
                raise ValueError(f"column '{column.get('inputColumn', '')}' has {vector.size} values, "
                                 f"inputDimensions is {want}")
            parts.append(vector)
        return (np.concatenate(parts) if parts else np.zeros(0),)


def _densify(sparse: dict, size: int, name: str) -> np.ndarray:
    if size > MAX_DENSE:
        raise ValueError(f"column '{name}' declares {size} dimensions, more than {MAX_DENSE}")
    out = np.zeros(size, dtype=np.float64)
    for key, value in sparse.items():
        if not 0 <= int(key) < size:
            raise ValueError(f"column '{name}' has index {key}, outside its {size} dimensions")
        out[int(key)] = float(value)
    return out


@model_op("oneHotEncoder")
@op_def("classical.one_hot_encoder")
class OneHotEncoderOp(ClassicalModel):
    """A category (string or int) -> one-hot vector, or {index: 1.0} when `outputSparse`."""

    def check_params(self):
        if _vector_attr(self, "stringCategories", "int64Categories")[0] is None:
            raise VerifyError("needs stringCategories or int64Categories")

    def compute(self, category):
        kind, categories = _vector_attr(self, "stringCategories", "int64Categories")
        values = category if isinstance(category, (list, tuple, np.ndarray)) else [category]
        out = np.zeros((len(values), len(categories)), dtype=np.float64)
        for row, value in enumerate(np.asarray(values, dtype=object).reshape(-1)):
            key = str(value) if kind == "stringCategories" else _as_int(value)
            if key in categories:
                out[row, categories.index(key)] = 1.0
            elif self.attr("handleUnknown", "ErrorOnUnknown") == "ErrorOnUnknown":
                raise ValueError(f"unknown category {value!r}")
        out = out.reshape(-1)
        if isinstance(self.results[0].type, DictType) or self.attr("outputSparse", False):
            return ({int(i): 1.0 for i in np.flatnonzero(out)},)
        return (out,)


def _as_int(value):
    number = float(value)
    return int(number) if number.is_integer() else number


_IMPUTED = ("imputedDoubleValue", "imputedInt64Value", "imputedStringValue", "imputedDoubleArray",
            "imputedInt64Array", "imputedStringDictionary", "imputedInt64Dictionary")
_REPLACE = ("replaceDoubleValue", "replaceInt64Value", "replaceStringValue")


@model_op("imputer")
@op_def("classical.imputer")
class ImputerOp(ClassicalModel):
    """Replaces a missing input (absent optional, NaN, or the `replace*Value`) by the imputed value."""

    def imputed(self):
        for name in _IMPUTED:
            value = self.attr(name)
            if value is not None:
                return name, value
        return None, None

    def check_params(self):
        if self.imputed()[0] is None:
            raise VerifyError("needs an imputed value")

    def compute(self, value):
        kind, imputed = self.imputed()
        if kind.endswith("Array"):
            imputed = np.asarray(imputed.get("vector", ()), dtype=np.float64)
        elif kind.endswith("Dictionary"):
            imputed = dict(imputed.get("map", {}))
            if kind == "imputedInt64Dictionary":
                imputed = {int(k): v for k, v in imputed.items()}
        if value is None:
            return (imputed,)
        replace = next((self.attr(n) for n in _REPLACE if self.attr(n) is not None), math.nan)
        if isinstance(value, (str, dict)):
            return (imputed if value == replace else value,)
        array = np.asarray(value, dtype=np.float64)
        missing = np.isnan(array) if isinstance(replace, float) and math.isnan(replace) else array == replace
        if array.ndim == 0:
            return (imputed if bool(missing) else value,)
        out = array.copy()
        out[missing] = np.broadcast_to(np.asarray(imputed, dtype=np.float64), array.shape)[missing]
        return (out,)


@model_op("scaler")
@op_def("classical.scaler")
class ScalerOp(ClassicalModel):
    """(x + shiftValue) * scaleValue, elementwise (a single value broadcasts)."""

    def compute(self, x):
        vector = numeric_vector(x)
        shift = np.asarray(self.attr("shiftValue", ()), dtype=np.float64)
        scale = np.asarray(self.attr("scaleValue", ()), dtype=np.float64)
        shift = shift if shift.size else 0.0
        scale = scale if scale.size else 1.0
        return ((vector + shift) * scale,)


@model_op("normalizer")
@op_def("classical.normalizer")
class NormalizerOp(ClassicalModel):
    """x / ||x|| in the LMax, L1 or L2 norm; a zero vector stays zero."""

    def compute(self, x):
        vector = numeric_vector(x)
        norm_type = self.attr("normType", "LMax")
        if norm_type == "L1":
            norm = np.abs(vector).sum()
        elif norm_type == "L2":
            norm = math.sqrt(float(np.dot(vector, vector)))
        else:
            norm = np.abs(vector).max() if vector.size else 0.0
        return (vector / norm if norm else vector,)


@model_op("arrayFeatureExtractor")
@op_def("classical.array_feature_extractor")
class ArrayFeatureExtractorOp(ClassicalModel):
    """The elements at `extractIndex` of a multi-array (one index gives a scalar)."""

    def compute(self, x):
        vector = numeric_vector(x)
        index = np.asarray(self.attr("extractIndex", ()), dtype=np.int64)
        if index.size and (index.max() >= vector.size or index.min() < 0):
            raise ValueError(f"extractIndex {int(index.max())} is out of range for {vector.size} values")
        return (vector[index],)


@model_op("categoricalMapping")
@op_def("classical.categorical_mapping")
class CategoricalMappingOp(ClassicalModel):
    """string -> int64 or int64 -> string through a map, with a default for unknown keys;
    sequences map element by element."""

    def check_params(self):
        if self.attr("stringToInt64Map") is None and self.attr("int64ToStringMap") is None:
            raise VerifyError("needs stringToInt64Map or int64ToStringMap")

    def compute(self, value):
        to_int = self.attr("stringToInt64Map") is not None
        table = (self.attr("stringToInt64Map") or self.attr("int64ToStringMap")).get("map", {})
        default = self.attr("int64Value") if to_int else self.attr("strValue")

        def one(key):
            found = table.get(str(key) if to_int else str(_as_int(key)))
            if found is None:
                if default is None:
                    raise ValueError(f"unknown key {key!r} and no default value")
                return default
            return int(found) if to_int else str(found)

        if isinstance(value, (list, tuple)):
            return ([one(v) for v in value],)
        return (one(value),)


@model_op("identity")
@op_def("classical.identity")
class IdentityOp(ClassicalModel):
    """Each output is the input at the same position."""

    n_inputs = (1, None)
    n_outputs = (1, None)

    def check_params(self):
        if len(self.operands) != len(self.results):
            raise VerifyError(f"has {len(self.operands)} inputs and {len(self.results)} outputs")

    def compute(self, *inputs):
        return tuple(inputs)
