"""Batched predict: one run of the kernels over N samples instead of N runs over one.

A lowered module has static shapes with a leading batch dimension of 1 (or `?`).
`rebatch(module, n)` rewrites a clone to batch n: the function arguments get leading dim n,
reshapes whose target starts with the old batch dim follow, and every other result type is
re-inferred from the op's own shape rules. The rewrite is accepted only when the batch axis
provably stays axis 0 of everything computed from the inputs and no op reduces, permutes,
concatenates or normalises across it; otherwise `Unbatchable` says why and predict falls back
to one run per sample. Conv and GEMM kernels then see the whole batch in one call.

`predict_batch` splits a list of samples (or arrays with a leading batch dim) into chunks of
`batch_size` (default: `default_batch_size`, cache-bound), pads the last chunk with copies of its first sample (one build per batch size,
not one per remainder), and splits the outputs back into per-sample dicts.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.ir.types import FunctionType, TensorType

# Samples per kernel call when the caller does not choose: as many as keep the batch's planned
# activations within about half a core's L2. Past that every op streams its operands from
# memory, and batching costs more than it saves (measured: the transformer encoder is 3.7x
# slower per sample at batch 32, MobileNetV2 1.1x; a 4 KB-arena MLP is 3-4x faster).
CACHE_BUDGET = 512 * 1024
MAX_DEFAULT_BATCH = 32
# attributes naming the axes an op works across: axis 0 among them mixes the samples
AXIS_ATTRIBUTES = ("axis", "axes", "perm", "dim", "dims")


class Unbatchable(MlirCoremlError):
    """The module's shapes do not allow running several samples in one call."""


def _leading(t) -> int | None | str:
    if not isinstance(t, TensorType) or not t.shape:
        return "scalar"
    return t.shape[0]


def _with_batch(t: TensorType, n: int) -> TensorType:
    return TensorType((n,) + tuple(t.shape[1:]), t.element)


def _axes_of(op) -> list[int]:
    axes = []
    for key in AXIS_ATTRIBUTES:
        attr = op.attributes.get(key)
        if attr is None:
            continue
        value = attr.value
        values = value if isinstance(value, (list, tuple)) else [value]
        axes += [int(getattr(v, "value", v)) for v in values if isinstance(getattr(v, "value", v), (int, np.integer))]
    return axes


def _check_axes(op, rank: int) -> None:
    """An op whose axis attribute touches axis 0 mixes samples (perm must keep 0 first)."""
    axes = _axes_of(op)
    if "perm" in op.attributes:
        perm = [int(getattr(v, "value", v)) for v in op.attributes["perm"].value]
        if perm and perm[0] != 0:
            raise Unbatchable(f"'{op.op_name}' moves the batch axis (perm {perm})")
        return
    if any(a % max(rank, 1) == 0 for a in axes):
        raise Unbatchable(f"'{op.op_name}' works across axis 0, the batch axis")


def _rebatch_reshape(op, n: int) -> None:
    shape = list(op.shape)
    if not shape or shape[0] not in (1, -1):
        raise Unbatchable(f"'{op.op_name}' to {shape} does not keep the batch axis first")
    if shape[0] != -1:
        shape[0] = n
    op.attributes["shape"] = to_attr(shape)


def rebatch(fn, n: int) -> None:
    """Rewrite function `fn` (in place) to run `n` samples at once; raises Unbatchable."""
    batched: set = set()  # values whose axis 0 is the batch axis
    arg_types = []
    for arg in fn.arguments:
        lead = _leading(arg.type)
        if lead not in (1, None) or not arg.type.is_static and None in arg.type.shape[1:]:
            raise Unbatchable(f"input '{arg.name}' has type {arg.type}: batching needs a leading dim of 1 or ?")
        arg.type = _with_batch(arg.type, n)
        batched.add(arg)
        arg_types.append(arg.type)
    for op in fn.body.ops:
        if op.has_trait(Terminator) or op.has_trait(ConstantLike):
            continue
        if op.regions:
            raise Unbatchable(f"'{op.op_name}' has regions (control flow)")
        touched = [v for v in op.operands if v in batched]
        if not touched:
            continue
        _check_axes(op, touched[0].type.rank)
        if op.op_name == "core.reshape":
            _rebatch_reshape(op, n)
        try:
            types = op.infer_types()
        except Exception as e:  # an op's shape rule rejects the batched operands
            raise Unbatchable(f"'{op.op_name}': {e}") from None
        for result, t in zip(op.results, types):
            if _leading(t) != n or not t.is_static:
                raise Unbatchable(f"'{op.op_name}' result {t} does not keep the batch axis first")
            result.type = t
            batched.add(result)
    returned = list(fn.return_op.operands)
    if not all(v in batched for v in returned):
        raise Unbatchable("an output does not depend on the inputs' batch axis")
    fn.attributes["function_type"] = to_attr(FunctionType(tuple(arg_types), tuple(v.type for v in returned)))


def batched_module(module, fn_name: str, n: int):
    """A clone of planned `module` whose function `fn_name` runs `n` samples, re-planned and verified."""
    from mlir_coreml.ir.verifier import verify
    from mlir_coreml.passes.manager import PassManager
    from mlir_coreml.passes.plan_memory import PlanMemory

    clone = module.clone()
    fn = next(op for op in clone.walk() if op.op_name == "func.func" and op.attributes["sym_name"].value == fn_name)
    rebatch(fn, n)
    try:
        verify(clone)
    except MlirCoremlError as e:
        raise Unbatchable(f"the batched module does not verify: {e}") from None
    PassManager([PlanMemory()]).run(clone)
    return clone


# -- splitting and stacking samples ----------------------------------------------------------

def samples_of(data) -> list[dict]:
    """A list of sample dicts from a list of dicts or a dict of arrays with a leading batch dim."""
    if isinstance(data, dict):
        sizes = {len(np.asarray(v)) for v in data.values()}
        if len(sizes) != 1:
            raise MlirCoremlError(f"batched inputs must share their leading (batch) dimension, got sizes {sorted(sizes)}")
        count = sizes.pop()
        return [{k: np.asarray(v)[i] for k, v in data.items()} for i in range(count)]
    if isinstance(data, (list, tuple)):
        return list(data)
    raise MlirCoremlError(f"predict_batch expects a list of input dicts or a dict of batched arrays, "
                          f"got {type(data).__name__}")


def stack_chunk(checked: list[list[np.ndarray]], size: int) -> list[np.ndarray]:
    """Per-sample checked argument lists -> one batched array per argument, padded to `size`."""
    padded = checked + [checked[0]] * (size - len(checked))
    return [np.ascontiguousarray(np.concatenate([sample[k] for sample in padded], axis=0))
            for k in range(len(checked[0]))]


def split_results(results: list[np.ndarray], count: int) -> list[list[np.ndarray]]:
    """Batched results -> `count` per-sample result lists, each keeping a leading dim of 1."""
    return [[np.asarray(r)[i:i + 1] for r in results] for i in range(count)]


def run_checked(model, checked: list[list[np.ndarray]], batch_size: int) -> list[list[np.ndarray]]:
    """Checked per-sample argument lists -> per-sample result lists, `batch_size` per kernel run
    (one run per sample when the model cannot be batched)."""
    runner = model.batched(batch_size) if batch_size > 1 else None
    if runner is None:
        return [model.run_args(args) for args in checked]
    results = []
    for start in range(0, len(checked), batch_size):
        chunk = checked[start:start + batch_size]
        results += split_results(runner.run_args(stack_chunk(chunk, batch_size)), len(chunk))
    return results


def default_batch_size(model, count: int) -> int:
    """Samples per call whose activations (the planned arena, per sample) fit CACHE_BUDGET."""
    per_sample = max(int(model.executor.arena_size), 1)
    return max(1, min(count, MAX_DEFAULT_BATCH, CACHE_BUDGET // per_sample))


def predict_batch(model, data, batch_size: int | None = None) -> list[dict]:
    """Predict every sample of `data` on `model` (a CompiledModel), `batch_size` at a time."""
    samples = samples_of(data)
    if not samples:
        return []
    size = max(1, int(batch_size or default_batch_size(model, len(samples))))
    checked = [model.signature.check_inputs(s) for s in samples]
    return [model.signature.format_outputs(r) for r in run_checked(model, checked, size)]


def compile_batched(model, size: int):
    """`model` (a CompiledModel) recompiled for `size` samples per call, or None (with the
    reason in `model.unbatchable_reason`) when its shapes do not allow it."""
    from mlir_coreml.runtime.predict import CompiledModel

    try:
        module = batched_module(model.module, model.function.attributes["sym_name"].value, size)
    except Unbatchable as e:
        model.unbatchable_reason = str(e)
        return None
    return CompiledModel(module, **model.options)
