"""`blocked-layout{min-convs=2 winograd=false reorder-cost=200 depthwise=true pools=true
report=FILE}`: run chains of convolutions in the blocked channel layout NCHW16c
(ir/dialects/core/blocked.py), with reorders only at the chains' boundaries, as onnxruntime's
NchwcTransformer does.

A region is a maximal set of top-level ops of a function, connected through the values they
pass each other, that all have a blocked form and, except convolutions, read only values
computed inside the region: dense `core.conv2d` (groups 1), depthwise convs (`depthwise`),
`core.pool2d` / `core.global_pool` (`pools`), and, when every channel count is a multiple of
16 (no tail lanes: their ops then work on blocked operands as they are), activations,
`core.add` of two activations of one shape and `core.concat` on the channel axis. Only static
f32 NCHW tensors qualify, and convs with plain constant weights (quantized ones keep their
codes resident on the NCHW path) whose fused activation the kernels apply.

The cost rule, in select-conv-algorithm's flop-equivalents: a conv select-conv-algorithm sent
to Winograd (the blocked conv is direct) joins only when Winograd saves less than the reorders
it would cost as a NCHW conv between blocked neighbours, `reorder-cost` per element of its
input and result (`winograd=true`: always). 200 is calibrated on the zoo (AMD EPYC, AVX-512,
one thread, CPU time): SqueezeNet's 3x3 expand convs (savings of 33 and 154 per element) run
faster blocked, ResNet-18's (283 and more) faster as Winograd. A region with fewer than
`min-convs` convolutions stays NCHW (its reorders -- each one pass over a tensor -- would
cost more than the blocked kernels save). Each region kept becomes its blocked ops; every
value entering it is reordered once (`core.to_blocked`, shared by all its users in the
region) and every value leaving it once (`core.from_blocked`, shared by all its users
outside).

`report=FILE` writes the decisions (`.json`: JSON, else a table: per region its ops,
convolutions, reorder traffic in elements and whether it was converted; per Winograd conv its
saving against its reorder bound); statistics count the regions converted and the reorders
inserted. Runs after select-conv-algorithm (it reads the algorithms) and before
concat-in-place and plan-memory (they plan the blocked values).
"""
from __future__ import annotations

from dataclasses import dataclass

from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.ir.dialects.core import (KERNEL_ACTIVATIONS, WINOGRAD_TILES, ActivationOp, AddOp, ConcatOp, ConstantOp,
                                          Conv2dBlockedOp, Conv2dOp, FromBlockedOp, GlobalPoolBlockedOp,
                                          GlobalPoolOp, Pool2dBlockedOp, Pool2dOp, ToBlockedOp)
from mlir_coreml.ir.dialects.core.blocked import BLOCK
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import F32, TensorType
from mlir_coreml.passes._report import write_report_file
from mlir_coreml.passes.select_conv_algorithm import candidate_costs
from mlir_coreml.passes.base import ModulePass, PassContext

REPORT_VERSION = 1


def _nchw(value) -> bool:
    t = value.type
    return isinstance(t, TensorType) and t.is_static and t.rank == 4 and t.element == F32


def _constant(value) -> bool:
    """A plain constant: quantized weights keep their codes resident on the NCHW path."""
    return isinstance(getattr(value, "op", None), ConstantOp)


def _whole_blocks(value) -> bool:
    return _nchw(value) and value.type.shape[1] % BLOCK == 0


def is_depthwise(op: Conv2dOp) -> bool:
    cout, cg = op.weight.type.shape[:2]
    return op.groups > 1 and cg == 1 and op.groups == cout == op.input.type.shape[1]


@dataclass(frozen=True)
class BlockedLayout(ModulePass):
    name = "blocked-layout"
    description = "run chains of convolutions in the blocked layout NCHW16c, reordering at their boundaries"

    min_convs: int = 2           # regions with fewer convolutions stay NCHW
    winograd: bool = False       # block every conv select-conv-algorithm sent to Winograd
    reorder_cost: float = 200.0  # flop-equivalents per reordered element (see the module doc)
    depthwise: bool = True       # depthwise convs join regions
    pools: bool = True           # pooling joins regions
    report: str = ""

    # -- which ops have a blocked form ---------------------------------------------------
    def kind(self, op) -> str | None:
        """'conv' (counts towards min-convs), 'op' (joins a region) or None."""
        if isinstance(op, Conv2dOp):
            if not (_nchw(op.input) and _nchw(op.output) and _constant(op.weight)) or \
                    (op.bias is not None and not _constant(op.bias)):
                return None
            if op.activation not in KERNEL_ACTIVATIONS:
                return None   # (an activation the kernels do not apply would run on the tail lanes)
            if op.algorithm in WINOGRAD_TILES and not self.winograd and \
                    self.winograd_saving(op) > self.reorder_bound(op):
                return None
            if op.groups == 1 or (self.depthwise and is_depthwise(op)):
                return "conv"
            return None
        if isinstance(op, (Pool2dOp, GlobalPoolOp)):
            return "op" if self.pools and _nchw(op.input) and _nchw(op.output) else None
        if isinstance(op, ActivationOp) or isinstance(op, AddOp):
            same = all(v.type == op.output.type for v in op.operands)
            return "op" if same and all(_whole_blocks(v) for v in op.operands) else None
        if isinstance(op, ConcatOp):
            return "op" if op.axis in (1, -3) and all(_whole_blocks(v) for v in (*op.inputs, op.output)) else None
        return None

    @staticmethod
    def winograd_saving(op) -> float:
        """What computing `op` by Winograd saves over the direct kernel (select-conv-algorithm's
        estimates, flop-equivalents)."""
        costs = candidate_costs(op)
        return costs["im2col"] - costs[op.algorithm]

    def reorder_bound(self, op) -> float:
        """The reorders a NCHW conv between blocked neighbours costs: its input and result."""
        return self.reorder_cost * (op.input.type.num_elements + op.output.type.num_elements)

    def run(self, module, ctx: PassContext) -> None:
        rows, winograd = [], []
        for fn in module.walk():
            if fn.op_name == "func.func" and fn.regions and fn.regions[0].blocks:
                regions, convs = self.convert_function(fn, ctx)
                rows += regions
                winograd += convs
        if self.report:
            write_report_file(self.report, {"version": REPORT_VERSION, "min_convs": self.min_convs,
                                            "winograd": self.winograd, "reorder_cost": self.reorder_cost,
                                            "regions": rows, "winograd_convs": winograd},
                              report_text, "blocked layout report")

    # -- regions ---------------------------------------------------------------------------
    def regions(self, ops: list) -> list[list]:
        """Maximal connected sets of ops with a blocked form, each in body order. Only a
        convolution may read a value from outside (it is where a region starts): an
        elementwise op or pool reading one would cost a reorder as large as its own work."""
        kinds = {id(op): self.kind(op) for op in ops}
        members = [op for op in ops if kinds[id(op)]]
        pruned = True
        while pruned:
            inside = {id(op) for op in members}
            kept = [op for op in members if kinds[id(op)] == "conv" or
                    all(id(getattr(v, "op", None)) in inside for v in op.operands)]
            pruned = len(kept) < len(members)
            members = kept
        index = {id(op): i for i, op in enumerate(members)}
        parent = list(range(len(members)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, op in enumerate(members):
            for v in op.operands:
                j = index.get(id(getattr(v, "op", None)))
                if j is not None:
                    parent[find(i)] = find(j)
        groups: dict[int, list] = {}
        for i, op in enumerate(members):
            groups.setdefault(find(i), []).append(op)
        return list(groups.values())

    def winograd_rows(self, ops) -> list[dict]:
        return [{"conv": _name(op), "algorithm": op.algorithm, "saving": self.winograd_saving(op),
                 "reorder_bound": self.reorder_bound(op), "blockable": self.kind(op) == "conv"}
                for op in ops if isinstance(op, Conv2dOp) and op.algorithm in WINOGRAD_TILES and _nchw(op.input)
                and _nchw(op.output) and op.groups == 1]

    def convert_function(self, fn, ctx: PassContext) -> tuple[list[dict], list[dict]]:
        winograd = self.winograd_rows(list(fn.body.ops))
        rows = []
        for region in self.regions(list(fn.body.ops)):
            inside = {id(op) for op in region}
            entering = {v for op in region for v in self.activation_operands(op)
                        if id(getattr(v, "op", None)) not in inside}
            leaving = {r for op in region for r in op.results
                       if any(id(u.operation) not in inside for u in r.uses)}
            convs = sum(1 for op in region if self.kind(op) == "conv")
            convert = convs >= self.min_convs
            rows.append({"first": _name(region[0]), "last": _name(region[-1]), "ops": len(region), "convs": convs,
                         "reorder_elements": sum(v.type.num_elements for v in entering | leaving),
                         "to_blocked": len(entering), "from_blocked": len(leaving), "converted": convert})
            if convert:
                self.rewrite(region, fn.body)
                ctx.stat("blocked-layout: regions converted")
                ctx.stat("blocked-layout: ops blocked", len(region))
                ctx.stat("blocked-layout: reorders", len(entering) + len(leaving))
        return rows, winograd

    @staticmethod
    def activation_operands(op) -> list:
        """The operands that are activations (blocked inside a region): not weights or biases."""
        if isinstance(op, Conv2dOp):
            return [v for v in (op.input, op.residual) if v is not None]
        return list(op.operands)

    # -- rewriting -------------------------------------------------------------------------
    def rewrite(self, region: list, block) -> None:
        blocked: dict = {}   # NCHW value -> its blocked twin
        for op in region:
            for v in self.activation_operands(op):
                if v not in blocked:   # a value entering the region: reordered once, before its first user
                    reorder = build(ToBlockedOp, [v], location=op.location)
                    block.insert_before(reorder, op)
                    blocked[v] = reorder.results[0]
            new = self.blocked_op(op, blocked)
            for old, value in zip(op.results, new.results):
                value.name = old.name
            block.insert_before(new, op)
            for old, value in zip(op.results, new.results):
                blocked[old] = value
        members = {id(op) for op in region}
        for op in reversed(region):
            for old in op.results:
                outside = [u for u in old.uses if id(u.operation) not in members]
                if outside:
                    new = blocked[old].op
                    back = build(FromBlockedOp, [blocked[old]], [old.type],
                                 {"channels": old.type.shape[1]}, location=op.location)
                    block.insert_after(back, new)
                    for use in outside:
                        use.operation.set_operand(use.index, back.results[0])
        for op in reversed(region):
            op.erase()

    @staticmethod
    def blocked_op(op, blocked: dict):
        attributes = {k: v for k, v in op.attributes.items() if k != "operand_segments"}
        if isinstance(op, Conv2dOp):
            attributes.pop("algorithm", None)
            operands = {"input": blocked[op.input], "weight": op.weight, "bias": op.bias,
                        "residual": None if op.residual is None else blocked[op.residual]}
            return build(Conv2dBlockedOp, operands, attributes=attributes, location=op.location)
        cls = {Pool2dOp: Pool2dBlockedOp, GlobalPoolOp: GlobalPoolBlockedOp}.get(type(op))
        if cls is not None:
            return build(cls, [blocked[op.input]], attributes=attributes, location=op.location)
        # elementwise and concat: the same op on blocked operands
        operands = [blocked[v] for v in op.operands]
        if isinstance(op, ConcatOp):
            attributes["axis"] = to_attr(1)
        return build(type(op), operands, attributes=attributes, location=op.location)


def _name(op) -> str:
    return op.location.name if op.location is not None and getattr(op.location, "name", None) else op.op_name


def report_text(report: dict) -> str:
    rows = report["regions"]
    kept = [r for r in rows if r["converted"]]
    lines = [f"blocked-layout min-convs={report['min_convs']} winograd={str(report['winograd']).lower()}: "
             f"{len(rows)} regions, {len(kept)} converted ({sum(r['ops'] for r in kept)} ops, "
             f"{sum(r['to_blocked'] + r['from_blocked'] for r in kept)} reorders)",
             f"{'first op':<24} {'last op':<24} {'ops':>4} {'convs':>5} {'in':>3} {'out':>3} "
             f"{'reorder elems':>13}  decision"]
    for r in rows:
        decision = "blocked" if r["converted"] else f"NCHW (fewer than {report['min_convs']} convs)"
        lines.append(f"{r['first'][:24]:<24} {r['last'][:24]:<24} {r['ops']:>4} {r['convs']:>5} {r['to_blocked']:>3} "
                     f"{r['from_blocked']:>3} {r['reorder_elements']:>13}  {decision}")
    for r in report["winograd_convs"]:
        verdict = "may be blocked (direct)" if r["blockable"] else "stays NCHW (Winograd)"
        lines.append(f"winograd conv {r['conv'][:24]:<24} {r['algorithm']}: saves {r['saving'] / 1e6:.1f} M, "
                     f"its reorders would cost {r['reorder_bound'] / 1e6:.1f} M: {verdict}")
    return "\n".join(lines) + "\n"
