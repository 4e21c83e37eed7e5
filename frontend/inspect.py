"""`inspect MODEL`: a summary of what a model contains — inputs and outputs with their types,
the op histogram, parameters and bytes by precision, and a FLOP estimate."""
from __future__ import annotations

from collections import Counter

from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import TensorType

STRUCTURAL = {"builtin.module", "func.func", "func.return"}


def model_summary(module, title: str) -> dict:
    """What `inspect` reports, as data (`inspect --json` prints it)."""
    functions = []
    for fn in module.functions:
        functions.append({"name": fn.attributes["sym_name"].value,
                          "inputs": [{"name": a.name, "type": str(a.type)} for a in fn.body.args],
                          "outputs": [{"name": v.name, "type": str(v.type)} for v in fn.return_op.operands]})
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
    flops, unknown, error = model_flops(module)
    return {"model": title, "functions": functions,
            "ops": dict(sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))),
            "parameters": {k: {"count": params[k], "bytes": nbytes[k]} for k in sorted(params)},
            "flops": flops, "ops_without_flops_estimate": unknown, "flops_error": error}


def summarize(module, title: str) -> str:
    summary = model_summary(module, title)
    lines = [f"model: {title}"]
    for fn in summary["functions"]:
        lines.append(f"function @{fn['name']}")
        lines += [f"  input  {a['name'] or '?'}: {a['type']}" for a in fn["inputs"]]
        lines += [f"  output {v['name'] or '?'}: {v['type']}" for v in fn["outputs"]]
    lines.append("ops:")
    lines += [f"  {n:6d}  {name}" for name, n in summary["ops"].items()]
    lines.append("parameters:")
    lines += [f"  {p['count']:12,d}  {k}  ({p['bytes'] / 1e6:.2f} MB)" for k, p in summary["parameters"].items()] \
        or ["  none"]
    lines.append(flops_text(summary))
    return "\n".join(lines) + "\n"


def flops_text(summary: dict) -> str:
    if summary["flops"] is None:
        return f"FLOPs: unknown ({summary['flops_error']})"
    unknown = summary["ops_without_flops_estimate"]
    note = f" ({unknown} ops without an estimate)" if unknown else ""
    return f"FLOPs: {summary['flops'] / 1e9:.4f} G (multiply-add = 2){note}"


def model_flops(module) -> tuple[int | None, int, str | None]:
    """(FLOPs or None, ops without an estimate, why unknown) from the core ops' estimates, on a
    copy lowered to `core` when needed."""
    from mlir_coreml.passes.to_core import lower_to_core
    from mlir_coreml.errors import MlirCoremlError

    lowered = module.clone()
    try:
        lower_to_core(lowered)
    except MlirCoremlError as e:
        return None, 0, e.message
    flops, unknown = 0, 0
    for op in lowered.walk():
        if op.op_name in STRUCTURAL or op.has_trait(ConstantLike):
            continue
        estimate = getattr(op, "flops", None)
        if estimate is None:
            unknown += 1
        else:
            flops += int(estimate())
    return flops, unknown, None


def inspect_model(path: str, as_json: bool = False) -> str:
    import json

    from mlir_coreml.frontend import load_model

    module = load_model(path)
    if as_json:
        return json.dumps(model_summary(module, path), indent=2) + "\n"
    return summarize(module, path)
