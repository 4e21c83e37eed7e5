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
    histogram, params, nbytes, flops, unknown_flops = Counter(), Counter(), Counter(), 0, 0
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
        estimate = getattr(op, "flops", None)
        if estimate is None:
            unknown_flops += 1
        else:
            flops += int(estimate())
    lines.append("ops:")
    lines += [f"  {n:6d}  {name}" for name, n in sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines.append("parameters:")
    lines += [f"  {params[k]:12,d}  {k}  ({nbytes[k] / 1e6:.2f} MB)" for k in sorted(params)] or ["  none"]
    note = f" ({unknown_flops} ops without an estimate)" if unknown_flops else ""
    lines.append(f"FLOPs: {flops / 1e9:.3f} G (multiply-add = 2){note}")
    return "\n".join(lines) + "\n"


def inspect_model(path: str) -> str:
    import mlir_coreml

    return summarize(mlir_coreml.load(path), path)
