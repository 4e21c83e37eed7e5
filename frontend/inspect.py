"""`inspect MODEL`: a summary of what a model contains — inputs and outputs with their types,
the op histogram, parameters and bytes by precision, and a FLOP estimate."""
from __future__ import annotations

from collections import Counter

from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import TensorType

STRUCTURAL = {"builtin.module", "func.func", "func.return"}


def summarize(module, title: str) -> str:
    lines = [f"model: {title}"]
    for fn in module.functions:
        name = fn.attributes["sym_name"].value
        lines.append(f"function @{name}")
        lines += [f"  input  {a.name or '?'}: {a.type}" for a in fn.body.args]
        lines += [f"  output {v.name or '?'}: {v.type}" for v in fn.return_op.operands]
    histogram, params, nbytes = Counter(), Counter(), Counter()
    for op in module.walk():
        if op.op_name in STRUCTURAL:
            continue
        if op.has_trait(ConstantLike):
            t = op.results[0].type
            if isinstance(t, TensorType) and t.is_static:
                key = str(t.element)
                params[key] += t.num_elements
                nbytes[key] += t.num_elements * (2 if key in ("f16", "bf16") else t.element.numpy_dtype.itemsize)
            continue
        histogram[op.op_name] += 1
    lines.append("ops:")
    lines += [f"  {n:6d}  {name}" for name, n in sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines.append("parameters:")
    lines += [f"  {params[k]:12,d}  {k}  ({nbytes[k] / 1e6:.2f} MB)" for k in sorted(params)] or ["  none"]
    lines.append(flops_line(module))
    return "\n".join(lines) + "\n"


def flops_line(module) -> str:
    """FLOPs from the core ops' estimates, on a copy lowered to `core` when needed."""
    from mlir_coreml.passes.to_core import lower_to_core
    from mlir_coreml.errors import MlirCoremlError

    lowered = module.clone()
    try:
        lower_to_core(lowered)
    except MlirCoremlError as e:
        return f"FLOPs: unknown ({e.message})"
    flops, unknown = 0, 0
    for op in lowered.walk():
        if op.op_name in STRUCTURAL or op.has_trait(ConstantLike):
            continue
        estimate = getattr(op, "flops", None)
        if estimate is None:
            unknown += 1
        else:
            flops += int(estimate())
    note = f" ({unknown} ops without an estimate)" if unknown else ""
    return f"FLOPs: {flops / 1e9:.4f} G (multiply-add = 2){note}"


def inspect_model(path: str) -> str:
    from mlir_coreml.frontend import load_model

    return summarize(load_model(path), path)
