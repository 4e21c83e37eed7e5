"""`outline-segments`: each contiguous run of ops that partition-devices placed on one unit
becomes a function of its own, and main becomes the calls between them.

    func.func @main_seg1_ane(%a: tensor<..xf32>) -> tensor<..xf32> attributes {device = "ane"} {...}
    func.func @main(...) { %r = func.call @main_seg0_cpu(%x) ...; %y = func.call @main_seg1_ane(%r) ... }

A segment is what one compute unit runs between two switches, so it is the unit of the hybrid
run (runtime/hybrid.py gives each its own executor) and of what later passes may treat
per unit: `emulate-ane-numerics{devices=gpu,ane}` then narrows the gpu/ane functions, whose
fp32 <-> fp16 casts sit at their entry and before their return, i.e. at the segment
boundaries. Constants are copied into each segment that reads them (the kernels pack
constant weights only); the values crossing a boundary are the functions' arguments and
results, named as before. A main without placed ops is left as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.attributes import SymbolRefAttr, to_attr
from mlir_coreml.ir.dialects.core.placement import DEVICE_ATTR
from mlir_coreml.ir.dialects.func import CallOp, FuncOp, ReturnOp
from mlir_coreml.ir.opdef import ConstantLike, build
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.partition_devices import main_function, placeable_ops


def segments_of(ops) -> list[tuple[str, list]]:
    """Maximal runs of consecutive ops on one unit: [(unit, ops)]."""
    runs: list[tuple[str, list]] = []
    for op in ops:
        unit = op.attributes[DEVICE_ATTR].value
        if runs and runs[-1][0] == unit:
            runs[-1][1].append(op)
        else:
            runs.append((unit, [op]))
    return runs


def _read_values(ops) -> list:
    """The values `ops` (and the ops nested in their regions) read, in first-use order."""
    seen: dict = {}
    for op in ops:
        for inner in op.walk():
            for v in inner.operands:
                seen.setdefault(v, None)
    return list(seen)


def outline(main, unit: str, ops: list, name: str) -> FuncOp:
    """Move `ops` (consecutive in `main`) into a new function `name` called from their place."""
    inside = {op for top in ops for op in top.walk()}
    defined = {r for op in inside for r in op.results} | \
        {a for op in inside for region in op.regions for block in region.blocks for a in block.args}
    outer = [v for v in _read_values(ops) if v not in defined]
    constants = [v for v in outer if getattr(v, "op", None) is not None and v.op.has_trait(ConstantLike)]
    arguments = [v for v in outer if v not in constants]
    results = [r for op in ops for r in op.results
               if any(u.operation not in inside for u in r.uses)]
    fn = FuncOp.create(name, [v.type for v in arguments], [r.type for r in results],
                       [v.name for v in arguments], {DEVICE_ATTR: to_attr(unit)})
    call = build(CallOp, list(arguments), [r.type for r in results], {"callee": SymbolRefAttr(name)},
                 location=ops[0].location, result_names=[r.name for r in results])
    main.body.insert_before(call, ops[0])
    for old, new in zip(results, call.results):
        for use in [u for u in old.uses if u.operation not in inside]:
            use.operation.set_operand(use.index, new)
    body = fn.body
    mapping = dict(zip(arguments, body.args))
    for value in constants:
        mapping[value] = body.append(value.op.clone()).results[0]
    for op in ops:
        op.detach()
        body.append(op)
    for op in inside:
        for i, v in enumerate(op.operands):
            if v in mapping:
                op.set_operand(i, mapping[v])
    body.append(build(ReturnOp, list(results)))
    return fn


def drop_unused_constants(block) -> None:
    for op in list(block.ops):
        if op.has_trait(ConstantLike) and not any(r.uses for r in op.results):
            op.erase()


@dataclass(frozen=True)
class OutlineSegments(ModulePass):
    name = "outline-segments"
    description = "outline each contiguous device segment of main (partition-devices) into a function of its own"

    def run(self, module, ctx: PassContext) -> None:
        main = main_function(module)
        if main is None or not main.regions or not main.regions[0].blocks:
            return
        ops = placeable_ops(main)
        if not ops or any(DEVICE_ATTR not in op.attributes for op in ops):
            return
        stem = main.attributes["sym_name"].value
        anchor = main
        for k, (unit, run) in enumerate(segments_of(ops)):
            fn = outline(main, unit, run, f"{stem}_seg{k}_{unit}")
            module.body.insert_after(fn, anchor)
            anchor = fn
            ctx.stat(f"outline-segments: segments on {unit}")
        drop_unused_constants(main.body)
