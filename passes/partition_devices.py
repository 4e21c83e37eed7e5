"""`partition-devices{policy=greedy|cost units=cpu,gpu,ane prefer=ane,gpu,cpu report=FILE}`:
place each op of the main function on a compute unit, in contiguous segments.

Where an op can run comes from the capability table beside the ops
(ir/dialects/core/placement.py); what a placement costs from passes/_cost_model.py.
`greedy` puts each op on the first unit of `prefer` that can run it (ONNX Runtime's
capability-driven grouping); `cost` picks, over the op sequence, the placement of least
total estimated cost, switches and ping-pongs included (a shortest path over states
(unit, unit of the segment before), so it is never worse than greedy under the model).

The placement is IR: every placed op carries `device = "ane"` (prints and parses; constants
follow their readers). The decision report (after TVM's `report_partition_decisions`) is the
partition-report JSON of codegen/view/report.py, extended with the policy, the estimated
cost of both policies, the ops the cost policy moved off their greedy unit and, per rejected
placement, the reason; `report=FILE` writes it (`.json`: JSON, else the readable table).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.ir.dialects.core.placement import DEVICE_ATTR, UNITS, unsupported
from mlir_coreml.ir.opdef import ConstantLike, Terminator
from mlir_coreml.passes._cost_model import HOST, op_ms, placement_ms, switch_ms
from mlir_coreml.passes._report import write_report_file
from mlir_coreml.passes.base import ModulePass, PassContext

REPORT_VERSION = 1  # codegen/view/report.py reads this shape


def placeable_ops(fn) -> list:
    return [op for op in fn.regions[0].blocks[0].ops
            if not op.has_trait(ConstantLike) and not op.has_trait(Terminator)]


def placed_ops(fn) -> list:
    """The ops of `fn` that carry a placement, in order; a call of an outlined segment
    (outline-segments) stands for the placed ops of its callee."""
    module = fn.parent_op
    ops = []
    for op in placeable_ops(fn):
        if op.op_name == "func.call" and module is not None:
            callee = next((f for f in module.body.ops if f.op_name == "func.func"
                           and f.attributes["sym_name"].value == op.attributes["callee"].value), None)
            ops += placed_ops(callee) if callee is not None and DEVICE_ATTR in callee.attributes else []
        elif DEVICE_ATTR in op.attributes:
            ops.append(op)
    return ops


def main_function(module):
    funcs = [op for op in module.walk() if op.op_name == "func.func"]
    named = [f for f in funcs if f.attributes["sym_name"].value == "main"]
    return (named or funcs or [None])[0]


def capable_units(op, units) -> list[str]:
    return [u for u in units if unsupported(op, u) is None]


def greedy_placement(ops, units, prefer) -> list[str]:
    order = [u for u in prefer if u in units] + [u for u in units if u not in prefer]
    return [capable_units(op, order)[0] for op in ops]


def cost_placement(ops, units) -> list[str]:
    """The least-cost placement: dynamic programming over (unit, unit before the last switch)."""
    states = {(u, None): (op_ms(ops[0], u) + switch_ms(ops[0], HOST, u, None), [u])
              for u in capable_units(ops[0], units)}
    for op in ops[1:]:
        nxt: dict = {}
        for unit in capable_units(op, units):
            run = op_ms(op, unit)
            for (current, before), (cost, path) in states.items():
                key = (unit, before) if unit == current else (unit, current)
                total = cost + switch_ms(op, current, unit, before) + run
                if key not in nxt or total < nxt[key][0]:
                    nxt[key] = (total, path)  # path extended once below, shared until then
        states = {k: (c, p + [k[0]]) for k, (c, p) in nxt.items()}
    return min(states.values(), key=lambda s: s[0])[1]


def op_names(ops) -> list[str]:
    """Unique names for the report: the location (Core ML layer name), `#k` for its k-th op."""
    seen: dict[str, int] = {}
    names = []
    for i, op in enumerate(ops):
        base = op.location.name if op.location is not None and op.location.name else f"{op.op_name}@{i}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return names


def partition_report(fn, units, policy: str, prefer=("ane", "gpu", "cpu")) -> dict:
    """The decision report of the placement recorded in `fn`'s `device` attributes."""
    ops = placed_ops(fn)
    if not ops:
        return {"version": REPORT_VERSION, "policy": policy, "units": list(units), "segments": [], "rejected": []}
    placed = [op.attributes[DEVICE_ATTR].value for op in ops]
    names = op_names(ops)
    greedy = greedy_placement(ops, units, prefer)
    segments, start = [], 0
    for i in range(1, len(ops) + 1):
        if i < len(ops) and placed[i] == placed[start]:
            continue
        before = placed[start - 1] if start else HOST
        before_last = _unit_before(placed, start - 1) if start else None
        ms = sum(op_ms(op, placed[start]) for op in ops[start:i])
        ms += switch_ms(ops[start], before, placed[start], before_last)
        segments.append({"id": len(segments), "device": placed[start], "ops": names[start:i],
                         "reason": _segment_reason(ops[start:i], placed[start], units),
                         "estimated_ms": round(ms, 6)})
        start = i
    rejected = [{"op": name, "unit": u, "reason": reason}
                for op, name in zip(ops, names) for u in units if (reason := unsupported(op, u))]
    moved = [{"op": name, "greedy": g, "placed": p}
             for name, g, p in zip(names, greedy, placed) if g != p]
    return {"version": REPORT_VERSION, "policy": policy, "units": list(units),
            "estimated_ms": round(placement_ms(ops, placed), 6),
            "greedy_estimated_ms": round(placement_ms(ops, greedy), 6),
            "segments": segments, "rejected": rejected, "moved": moved}


def _unit_before(placed, index) -> str | None:
    """The unit of the segment before the one that ends at `index`."""
    unit = placed[index]
    for p in reversed(placed[:index]):
        if p != unit:
            return p
    return None


def _segment_reason(ops, unit, units) -> str:
    kinds = sorted({op.op_name.split(".", 1)[-1] for op in ops})
    shown = ", ".join(kinds[:6]) + (", ..." if len(kinds) > 6 else "")
    if unit != "cpu":
        return f"{len(ops)} ops ({shown}) run on the {unit}"
    why = sorted({r for op in ops for u in units if u != "cpu" and (r := unsupported(op, u))})
    movable = sum(1 for op in ops if len(capable_units(op, units)) > 1)
    parts = why[:3] + ([f"{movable} could run elsewhere, but switching units costs more than it saves"]
                       if movable else [])
    return f"{len(ops)} ops ({shown}) on the cpu: " + "; ".join(parts)


def report_text(report: dict) -> str:
    lines = [f"partition-devices policy={report['policy']} units={','.join(report['units'])}: "
             f"estimated {report.get('estimated_ms', 0):.4f} ms (greedy {report.get('greedy_estimated_ms', 0):.4f} ms)",
             f"{'seg':>4} {'unit':5} {'ops':>5} {'est. ms':>10}  first .. last"]
    for s in report["segments"]:
        lines.append(f"{s['id']:>4} {s['device']:5} {len(s['ops']):>5} {s['estimated_ms']:>10.4f}  "
                     f"{s['ops'][0]} .. {s['ops'][-1]}    {s['reason']}")
    if report.get("moved"):
        lines.append(f"moved off their greedy unit by the cost model: {len(report['moved'])} ops, e.g. "
                     + ", ".join(f"{m['op']} {m['greedy']}->{m['placed']}" for m in report["moved"][:4]))
    lines.append(f"rejected placements: {len(report['rejected'])}")
    lines += [f"  {r['op']} not on {r['unit']}: {r['reason']}" for r in report["rejected"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, path: str) -> None:
    """JSON for a `.json` path, else the readable table; written whole or not at all."""
    write_report_file(path, report, report_text, "partition report")


@dataclass(frozen=True)
class PartitionDevices(ModulePass):
    name = "partition-devices"
    description = "place ops on cpu/gpu/ane in contiguous segments (capability table + cost model), with a report"

    policy: str = "greedy"
    units: tuple[str, ...] = UNITS
    prefer: tuple[str, ...] = ("ane", "gpu", "cpu")
    report: str = ""

    def run(self, module, ctx: PassContext) -> None:
        if self.policy not in ("greedy", "cost"):
            raise MlirCoremlError(f"partition-devices: policy must be greedy or cost, got '{self.policy}'")
        unknown = [u for u in (*self.units, *self.prefer) if u not in UNITS]
        if unknown:
            raise MlirCoremlError(f"partition-devices: unknown unit '{unknown[0]}'; units are {', '.join(UNITS)}")
        units = tuple(dict.fromkeys(("cpu", *self.units)))  # the CPU runs what nothing else can
        fn = main_function(module)
        ops = placeable_ops(fn) if fn is not None else []
        if not ops:
            return
        if any(op.op_name.startswith("mil.") for op in ops):
            self.place_ml_program(module, fn, ctx)
            return
        placed = greedy_placement(ops, units, self.prefer) if self.policy == "greedy" else cost_placement(ops, units)
        for op, unit in zip(ops, placed):
            op.attributes[DEVICE_ATTR] = to_attr(unit)
            ctx.stat(f"partition-devices: ops on {unit}")
        if self.report:
            write_report(partition_report(fn, units, self.policy, self.prefer), self.report)

    def place_ml_program(self, module, fn, ctx: PassContext) -> None:
        """An ML Program is placed as its `core` lowering would be (the capability table and the
        cost model speak `core`), and each MIL op gets the format's own per-op hint,
        `IntendedBackend`, naming the unit of the core ops lowered from it (by location; when a
        MIL op became several, the unit of the costliest: an LSTM's, not its reshapes'); the
        report is that of the lowered program."""
        from mlir_coreml.ir.dialects.mil.base import INTENDED_BACKEND, intended_backend
        from mlir_coreml.passes.to_core import lower_to_core

        lowered = module.clone()
        lower_to_core(lowered)
        self.run(lowered, PassContext())
        unit_at: dict = {}  # location -> (cost on the cpu, unit) of its costliest core op
        for op in placed_ops(main_function(lowered)):
            if op.location is not None and op.location.name:
                placed = (op_ms(op, HOST), op.attributes[DEVICE_ATTR].value)
                unit_at[op.location.name] = max(unit_at.get(op.location.name, placed), placed)
        for op in placeable_ops(fn):
            where = op.location.name if op.location is not None else None
            if where in unit_at and op.op_name.startswith("mil."):
                set_attribute_in_reader_order(op, INTENDED_BACKEND, intended_backend(unit_at[where][1]))
                ctx.stat(f"partition-devices: ML Program ops on {unit_at[where][1]}")


def set_attribute_in_reader_order(op, key: str, value) -> None:
    """Set `op.attributes[key]` where the ML Program reader puts it (MIL attributes by name, the
    operand segments last), so that export -> import gives the same IR text."""
    segments = op.attributes.pop("operand_segments", None)
    op.attributes[key] = value
    ordered = sorted(op.attributes.items())
    op.attributes.clear()
    op.attributes.update(ordered)
    if segments is not None:
        op.attributes["operand_segments"] = segments
