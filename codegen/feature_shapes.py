"""The shapes a model's features accept, read from its feature descriptions: Core ML keeps shape
flexibility there (`ArrayFeatureType.shapeRange` / `.enumeratedShapes`, per function for
multi-function models), not in the program, whose flexible dims are just unknown (`?`).
Used by the runtime (runtime/flexible.py, runtime/features.py) and by the bundle writer (FlexibleShapeInformation).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import ArrayAttr, DictAttr


@dataclass(frozen=True)
class ShapeConstraint:
    """The shapes one input accepts: `ranges` ((lo, hi) per dim, hi -1 = unbounded) or
    `enumerated` shapes; `default` is the shape the description lists first."""
    ranges: tuple | None = None
    enumerated: tuple | None = None
    default: tuple | None = None

    def allows(self, shape: tuple) -> bool:
        if self.enumerated is not None:
            return tuple(shape) in self.enumerated
        if self.ranges is None:
            return True
        return len(shape) == len(self.ranges) and all(
            lo <= d and (hi < 0 or d <= hi) for d, (lo, hi) in zip(shape, self.ranges))

    def describe(self) -> str:
        if self.enumerated is not None:
            return "one of " + ", ".join("x".join(map(str, s)) for s in self.enumerated)
        dims = [str(lo) if lo == hi else f"{lo}..{'inf' if hi < 0 else hi}" for lo, hi in self.ranges or ()]
        return "x".join(dims)


def _plain(attr):
    if isinstance(attr, DictAttr):
        return {k: _plain(v) for k, v in attr.data}
    if isinstance(attr, ArrayAttr):
        return [_plain(v) for v in attr.data]
    return getattr(attr, "value", attr)


def feature_descriptions(module, function_name: str) -> tuple[list, list]:
    """(inputs, outputs) feature descriptions (plain dicts) of one function: the description's
    `functions` entry for it when the model has several functions, else the model's own; for a
    NeuralNetwork import, the function's `coreml.inputs` / `coreml.outputs`."""
    description = module.attributes.get("coreml.description")
    if not isinstance(description, DictAttr):
        fn = next((op for op in module.body.ops if op.op_name == "func.func"
                   and op.attributes["sym_name"].value == function_name), None)
        if fn is None:
            return [], []
        return (list(_plain(fn.attributes.get("coreml.inputs", ArrayAttr(()))) or ()),
                list(_plain(fn.attributes.get("coreml.outputs", ArrayAttr(()))) or ()))
    desc = _plain(description)
    for fn in desc.get("functions") or ():
        if fn.get("name") == function_name:
            return list(fn.get("input") or ()), list(fn.get("output") or ())
    return list(desc.get("input") or ()), list(desc.get("output") or ())


def constraint_of(feature: dict) -> ShapeConstraint | None:
    array = (feature.get("type") or {}).get("multiArrayType")
    if not isinstance(array, dict):
        return None
    default = tuple(int(d) for d in array.get("shape") or ()) or None
    if array.get("shapeRange"):
        ranges = tuple((int(r.get("lowerBound", 0)), int(r.get("upperBound", 0)))
                       for r in array["shapeRange"].get("sizeRanges") or ())
        return ShapeConstraint(ranges=ranges, default=default)
    if array.get("enumeratedShapes"):
        shapes = tuple(tuple(int(d) for d in s.get("shape") or ()) for s in array["enumeratedShapes"].get("shapes") or ())
        return ShapeConstraint(enumerated=shapes, default=default or (shapes[0] if shapes else None))
    return None


def check_shape(name: str, shape: tuple, constraint: ShapeConstraint, where: str | None = None) -> None:
    if not constraint.allows(tuple(shape)):
        raise MlirCoremlError(f"input '{name}' has shape {'x'.join(map(str, shape))}, which the model does not "
                              f"accept; allowed shapes: {constraint.describe()}", where)
