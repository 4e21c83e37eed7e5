"""The verifier: SSA dominance, operand/result/attribute/region rules from the op definitions,
terminators, and each op's own `verify_`. Diagnostics name the op and its location."""
from __future__ import annotations

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.core import Block, Operation, Value
from mlir_coreml.ir.opdef import ATTR_KINDS, REQUIRED, IsolatedFromAbove, Terminator, VerifyError


def describe_location(op: Operation) -> str | None:
    loc = op.location
    if loc is None:
        return None
    if loc.name is not None:
        return f'loc("{loc.name}")'
    return f"{loc.file}:{loc.line}:{loc.col}"


def op_error(op: Operation, message: str) -> MlirCoremlError:
    return MlirCoremlError(f"'{op.op_name}' op {message}", describe_location(op))


class _Verifier:
    def __init__(self):
        self.scopes: list[tuple[set[Value], bool]] = []

    def visible(self, v: Value) -> bool:
        for values, isolated in reversed(self.scopes):
            if v in values:
                return True
            if isolated:
                return False
        return False

    def block(self, block: Block) -> None:
        self.scopes[-1][0].update(block.args)
        for op in block.ops:
            self.op(op)
            if op.has_trait(Terminator) and op is not block.last_op:
                raise op_error(op, "is a terminator but is not the last op of its block")

    def op(self, op: Operation) -> None:
        for i, v in enumerate(op.operands):
            if not self.visible(v):
                where = "is defined later or in another region" if v.name is None else f"(%{v.name}) does not dominate this use"
                raise op_error(op, f"operand {i} {where}")
        check_definition(op)
        try:
            op.verify_()
        except VerifyError as e:
            raise op_error(op, str(e)) from None
        isolated = op.has_trait(IsolatedFromAbove)
        for region in op.regions:
            self.scopes.append((set(), isolated))
            for block in region.blocks:
                self.block(block)
            self.scopes.pop()
        self.scopes[-1][0].update(op.results)


def _check_group(op, what, defs, values, sizes):
    if len(sizes) != len(defs) or sum(sizes) != len(values):
        raise op_error(op, f"has {len(values)} {what}s, which does not fit its definition")
    start = 0
    for d, n in zip(defs, sizes):
        if n != 1 and not (d.variadic or (getattr(d, "optional", False) and n == 0)):
            raise op_error(op, f"{what} '{d.name}' expects exactly one value, got {n}")
        for v in values[start:start + n]:
            if not d.constraint.check(v.type):
                raise op_error(op, f"{what} '{d.name}' must be {d.constraint.description}, got {v.type}")
        start += n


def check_definition(op: Operation) -> None:
    """Check an op against its declared operands, results, attributes and regions."""
    cls = type(op)
    if cls is Operation:
        return  # unregistered: only structural rules apply
    from mlir_coreml.ir.opdef import group_sizes

    seg = "operand_segments" if cls.uses_segments else None
    _check_group(op, "operand", cls.operand_defs, op.operands, group_sizes(op, cls.operand_defs, len(op.operands), seg))
    _check_group(op, "result", cls.result_defs, op.results, group_sizes(op, cls.result_defs, len(op.results), None))
    for name, d in cls.attribute_defs.items():
        attr = op.attributes.get(name)
        if attr is None:
            if d.default is REQUIRED:
                raise op_error(op, f"requires attribute '{name}'")
            continue
        if not ATTR_KINDS[d.kind](attr):
            raise op_error(op, f"attribute '{name}' must be {d.kind}, got {attr!r}")
    if len(op.regions) != len(cls.region_defs):
        raise op_error(op, f"expects {len(cls.region_defs)} region(s), got {len(op.regions)}")


def verify(op: Operation) -> None:
    """Verify `op` (usually a module) and everything nested in it; raises MlirCoremlError."""
    v = _Verifier()
    v.scopes.append((set(), True))
    v.op(op)
