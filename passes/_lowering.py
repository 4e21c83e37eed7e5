"""What the `<dialect>-to-core` lowerings share: the builder that emits `core` ops in place of a
frontend op, the pattern that applies a table of lowering functions, and `run_lowering`, which
checks coverage before rewriting and keeps reference-path ops (control flow, ...) as they are."""
from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr
from mlir_coreml.ir.core import Operation, Value
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.opdef import build, lookup_op
from mlir_coreml.ir.types import F32, TensorType, element_type_of
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.base import PassContext
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily


class LoweringError(MlirCoremlError):
    """A frontend op (or one of its options) that has no core mapping."""


def unsupported(op: Operation, what: str) -> LoweringError:
    layer = op.location.name if op.location and op.location.name else None
    where = describe_location(op)
    subject = f"'{op.op_name}'" + (f" (layer '{layer}')" if layer else "")
    return LoweringError(f"{subject}: {what} has no lowering to core; use the reference interpreter "
                         f"(`run --reference`) for this model", where)


class CoreBuilder:
    """Creates core ops before `anchor` through the rewriter, with the anchor's location."""

    def __init__(self, rewriter: PatternRewriter, anchor: Operation, resource_names: Counter | None = None):
        self.rewriter = rewriter
        self.anchor = anchor
        self.location = anchor.location
        # per-layer counters shared over one pass run, so new weight resources get unique names
        self.resource_names = Counter() if resource_names is None else resource_names
        self.created: list[Operation] = []  # erased again when the op falls back to its reference

    # -- generic construction ----------------------------------------------------------------
    def create(self, cls: type[Operation] | str, operands, attrs: dict | None = None,
               result_types: Sequence | None = None) -> Operation:
        if isinstance(cls, str):
            cls = lookup_op(cls)
        new = build(cls, operands, list(result_types or ()), {k: v for k, v in (attrs or {}).items()},
                    location=self.location)
        self.rewriter.insert_before(new, self.anchor)
        self.created.append(new)
        return new

    def discard(self) -> None:
        """Erase what this builder created (a lowering that gave up half way)."""
        for op in reversed(self.created):
            if op.parent is not None and not any(r.uses for r in op.results):
                self.rewriter.erase_op(op)
        self.created.clear()

    def op(self, name: str, *operands: Value, **attrs) -> Value:
        """A single-result core op `core.<name>` on positional operands."""
        return self.create(f"core.{name}", list(operands), attrs).result

    # -- constants -----------------------------------------------------------------------------
    def const(self, array, dtype=np.float32, name: str | None = None) -> Value:
        array = np.asarray(array, dtype=dtype) if dtype is not None else np.asarray(array)
        tensor = TensorType(array.shape, element_type_of(array.dtype))
        if array.size <= 16:
            attr = DenseAttr(array, tensor)
        else:
            base = name or (self.location.name if self.location and self.location.name else "lowered")
            self.resource_names[base] += 1
            attr = DenseResourceAttr.from_array(f"{base}.c{self.resource_names[base]}", array, tensor)
        return self.create(core.ConstantOp, [], {"value": attr}, [tensor]).result

    def scalar(self, value: float) -> Value:
        return self.const(np.float32(value))

    # -- conversions ---------------------------------------------------------------------------
    def f32(self, value: Value) -> Value:
        """`value` as f32 (f16 weights stay stored as f16; the cast is the compute boundary)."""
        if value.type.element == F32:
            return value
        return self.op("cast", value, to="f32")

    def cast(self, value: Value, to: str) -> Value:
        if str(value.type.element) == to:
            return value
        return self.op("cast", value, to=to)

    def reshape(self, value: Value, shape) -> Value:
        shape = tuple(int(d) for d in shape)
        if value.type.shape is not None and tuple(value.type.shape) == shape:
            return value
        array = constant_array(value)
        if array is not None and -1 not in shape:
            return self.const(array.reshape(shape), dtype=None)
        return self.op("reshape", value, shape=list(shape))

    def transpose(self, value: Value, perm) -> Value:
        perm = [int(p) for p in perm]
        if perm == list(range(len(perm))):
            return value
        return self.op("transpose", value, perm=perm)

    def to_type(self, value: Value, want: TensorType, op: Operation) -> Value:
        """`value` reshaped/cast to the declared result type `want` (the frontend op's)."""
        if not isinstance(want, TensorType) or want.shape is None:
            raise unsupported(op, "a result of unknown shape")
        have = value.type
        if have.shape is None or tuple(have.shape) != tuple(want.shape):
            if not want.is_static or have.num_elements not in (None, want.num_elements):
                raise MlirCoremlError(f"'{op.op_name}' lowered to shape {have} but the layer declares {want}",
                                      describe_location(op))
            value = self.op("reshape", value, shape=list(want.shape))
        if value.type.element != want.element:
            value = self.op("cast", value, to=str(want.element))
        return value


def constant_array(value: Value) -> np.ndarray | None:
    return core.constant_array(value)


def evaluate_constant(value: Value, depth: int = 8) -> np.ndarray | None:
    """The array of `value` when it is computed by core ops from constants only, else None."""
    array = constant_array(value)
    producer = getattr(value, "op", None)
    if array is not None or producer is None or depth == 0 or not producer.op_name.startswith("core."):
        return array
    inputs = [evaluate_constant(v, depth - 1) for v in producer.operands]
    if any(a is None for a in inputs) or not hasattr(producer, "reference"):
        return None
    outputs = producer.reference(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return np.asarray(outputs[value.index])


def static_shape(value: Value, op: Operation) -> tuple:
    t = value.type
    if not isinstance(t, TensorType) or not t.is_static:
        raise unsupported(op, f"an operand of dynamic shape ({t})")
    return tuple(t.shape)


def slice_bounds(slices: Sequence[slice], shape) -> dict:
    """core.slice's begin/end/strides for `x[slices]` on a static `shape`: each slice as
    `slice.indices` normalizes it, but a negative step that runs past index 0 ends at -d - 1
    (Python has no non-negative stop for "before index 0"), and an empty one is 0:0:1 (the
    normalized start of an empty backward slice can be -1, which core.slice reads as the last
    element)."""
    begin, end, strides = [], [], []
    for s, d in zip(slices, shape):
        start, stop, step = s.indices(d)
        if not range(start, stop, step):
            start, stop, step = 0, 0, 1
        begin.append(start)
        end.append(-d - 1 if step < 0 and stop < 0 else stop)
        strides.append(step)
    return {"begin": begin, "end": end, "strides": strides}


def require_constant(value: Value, op: Operation, what: str) -> np.ndarray:
    array = constant_array(value)
    if array is None:
        raise unsupported(op, f"a non-constant {what}")
    return array


class LowerOp(RewritePattern):
    """Replaces one frontend op by the values its `lower(op, builder)` returns."""

    lower: Callable = None

    def __init__(self, resource_names: Counter, kept: set[int], fallback: set[int] | None = None):
        self.resource_names = resource_names
        self.kept = kept
        self.fallback = fallback  # None: a lowering failure is an error; else the ops that fell back

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> bool:
        if id(op) in self.kept:
            return False
        builder = CoreBuilder(rewriter, op, self.resource_names)
        try:
            final = self.lowered(op, builder)
        except Exception:
            if self.fallback is None:
                raise
            builder.discard()
            self.kept.update(id(inner) for inner in op.walk())
            self.fallback.add(id(op))
            return False
        rewriter.replace_op(op, final)
        return True

    def lowered(self, op: Operation, builder: CoreBuilder) -> list[Value]:
        try:
            values = type(self).lower(op, builder)
        except MlirCoremlError:
            raise
        except Exception as e:  # a parameter the lowering did not foresee: name the op, not a traceback
            raise MlirCoremlError(f"'{op.op_name}' could not be lowered to core: {type(e).__name__}: {e}",
                                  describe_location(op)) from e
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(values) != len(op.results):
            raise MlirCoremlError(f"'{op.op_name}' lowered to {len(values)} values for {len(op.results)} results",
                                  describe_location(op))
        return [builder.to_type(v, r.type, op) for v, r in zip(values, op.results)]


def lowering_patterns(table: dict[str, Callable], kept: set[int],
                      fallback: set[int] | None = None) -> list[RewritePattern]:
    resource_names = Counter()
    classes = [type(f"Lower_{name.replace('.', '_')}", (LowerOp,), {"root": name, "lower": staticmethod(fn)})
               for name, fn in table.items()]
    return [cls(resource_names, kept, fallback) for cls in classes]


def kept_ops(module, reference_path: frozenset) -> set[int]:
    """Ops routed to the reference path: the named ops and everything nested in them."""
    return {id(inner) for op in module.walk() if op.op_name in reference_path for inner in op.walk()}


def run_lowering(module, table: dict[str, Callable], dialect: str, ctx: PassContext, name: str,
                 skip: frozenset | set = frozenset(), finish: Callable | None = None,
                 reference_path: frozenset = frozenset(), fallback: bool = False) -> None:
    """Check that every `dialect` op has a lowering (error before any rewrite), rewrite them all,
    then let `finish` handle the `skip`ped ops (constants other lowerings read). Ops named in
    `reference_path` (and their regions) stay as they are: the runtime runs them on the numpy
    reference path, explicitly, because `core` cannot express them. With `fallback`, an op
    without a lowering, or one its lowering cannot map (an option, a dynamic shape), stays too,
    instead of failing the pass: the runtime then never refuses a model it can interpret."""
    kept = kept_ops(module, reference_path)
    ops = [op for op in module.walk() if op.op_name.startswith(dialect + ".") and id(op) not in kept]
    fell_back: set[int] | None = set() if fallback else None
    for op in ops:
        if op.op_name in table or op.op_name in skip:
            continue
        if not fallback:
            raise unsupported(op, "this op")
        kept.update(id(inner) for inner in op.walk())
        fell_back.add(id(op))
    apply_patterns_greedily(module, lowering_patterns(table, kept, fell_back), fold=False)
    if finish is not None:
        finish(module)
    left = [op for op in module.walk() if op.op_name.startswith(dialect + ".") and id(op) not in kept]
    if left:
        raise unsupported(left[0], "this op (still present after lowering)")
    ctx.stat(f"{name}: ops lowered", len(ops))
    if kept:
        ctx.stat(f"{name}: ops kept on the reference path", len(kept))
    if fell_back:
        ctx.stat(f"{name}: ops without a core lowering (reference fallback)", len(fell_back))
