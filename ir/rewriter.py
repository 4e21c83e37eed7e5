"""Greedy pattern rewriting to a fixed point, as MLIR's applyPatternsGreedily.

A pattern names its root op by the annotation of `match_and_rewrite`'s `op` parameter (or a
`root` op name), has a `benefit`, and mutates IR only through the rewriter, which keeps the
worklist up to date. Patterns must decide to match before they mutate anything.
"""
from __future__ import annotations

import typing
from collections import defaultdict
from typing import ClassVar, Iterable, Sequence

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.core import Operation, Value
from mlir_coreml.ir.opdef import Pure


class RewritePattern:
    root: ClassVar[str | None] = None  # op name; derived from the `op` annotation when unset
    benefit: ClassVar[int] = 1

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> bool:
        raise NotImplementedError

    @classmethod
    def root_name(cls) -> str | None:
        if cls.root is not None:
            return cls.root
        hint = typing.get_type_hints(cls.match_and_rewrite).get("op")
        if hint is None or hint is Operation:
            return None  # matches every op
        return hint.name


class PatternRewriter:
    """The only way patterns mutate IR; every change feeds the driver's worklist."""

    def __init__(self, driver: GreedyDriver | None = None):
        self.driver = driver
        self.changed = False

    def _notify(self, ops: Iterable[Operation]) -> None:
        self.changed = True
        if self.driver is not None:
            self.driver.push_all(ops)

    def _notify_users(self, values: Iterable[Value]) -> None:
        self._notify(u.operation for v in values for u in v.uses)

    def insert_before(self, new: Operation, anchor: Operation) -> Operation:
        anchor.parent.insert_before(new, anchor)
        self._notify([new])
        return new

    def insert_after(self, new: Operation, anchor: Operation) -> Operation:
        anchor.parent.insert_after(new, anchor)
        self._notify([new])
        return new

    def replace_all_uses_with(self, old: Value, new: Value) -> None:
        self._notify(u.operation for u in old.uses)
        old.replace_all_uses_with(new)

    def replace_op(self, op: Operation, new: Operation | Sequence[Value]) -> None:
        """Replace `op`'s results by `new`'s (inserting `new` before `op` if detached) and erase `op`."""
        if isinstance(new, Operation):
            if new.parent is None:
                self.insert_before(new, op)
            values = new.results
        else:
            values = new
        if len(values) != len(op.results):
            raise ValueError(f"replacing {op.op_name}: {len(op.results)} results vs {len(values)} values")
        for old, value in zip(op.results, values):
            if value.name is None:
                value.name = old.name  # keep the Core ML blob name visible
            self.replace_all_uses_with(old, value)
        self.erase_op(op)

    def erase_op(self, op: Operation) -> None:
        producers = [v.op for v in op.operands if hasattr(v, "op")]
        if self.driver is not None:
            for nested in op.walk():
                self.driver.forget(nested)
        op.erase()
        self._notify(producers)

    def modified_in_place(self, op: Operation) -> None:
        """Call after changing an op's attributes or operands directly."""
        self._notify([op])
        self._notify_users(op.results)


class GreedyDriver:
    def __init__(self, patterns: Sequence[RewritePattern], fold: bool = True, max_rewrites: int | None = None):
        self.by_root: dict[str | None, list[RewritePattern]] = defaultdict(list)
        for p in sorted(patterns, key=lambda p: -p.benefit):
            self.by_root[p.root_name()].append(p)
        self.worklist: list[Operation] = []
        self.queued: set[int] = set()
        self.fold = fold
        self.max_rewrites = max_rewrites

    def push_all(self, ops: Iterable[Operation]) -> None:
        for op in ops:
            if id(op) not in self.queued:
                self.queued.add(id(op))
                self.worklist.append(op)

    def forget(self, op: Operation) -> None:
        self.queued.discard(id(op))

    def run(self, root: Operation) -> bool:
        ops = [op for op in root.walk() if op is not root]
        self.push_all(reversed(ops))  # pop() then visits in program order
        rewriter = PatternRewriter(self)
        budget = self.max_rewrites or 10 * (len(ops) + 10)
        any_change = False
        while self.worklist:
            op = self.worklist.pop()
            if id(op) not in self.queued:
                continue
            self.queued.discard(id(op))
            if op.parent is None:
                continue  # erased meanwhile
            rewriter.changed = False
            self.visit(op, rewriter)
            if rewriter.changed:
                any_change = True
                budget -= 1
                if budget < 0:
                    raise MlirCoremlError("pattern rewriting did not converge (a pattern keeps firing)",
                                          f"op {op.op_name}")
        return any_change

    def visit(self, op: Operation, rewriter: PatternRewriter) -> None:
        if op.has_trait(Pure) and not op.regions and all(not r.uses for r in op.results):
            rewriter.erase_op(op)
            return
        if self.fold and self.try_fold(op, rewriter):
            return
        for pattern in self.by_root.get(op.op_name, []) + self.by_root.get(None, []):
            if pattern.match_and_rewrite(op, rewriter):
                return

    def try_fold(self, op: Operation, rewriter: PatternRewriter) -> bool:
        fold = getattr(op, "fold", None)
        if fold is None:
            return False
        folded = fold()
        if not folded:
            return False
        from mlir_coreml.ir.dialects.constant import materialize_constant

        values = []
        for r, f in zip(op.results, folded):
            if isinstance(f, Value):
                values.append(f)
            else:
                const = materialize_constant(f, r.type, op.location)
                rewriter.insert_before(const, op)
                values.append(const.result)
        if all(v is r for v, r in zip(values, op.results)):
            return False
        rewriter.replace_op(op, values)
        return True


def apply_patterns_greedily(root: Operation, patterns: Sequence[RewritePattern], fold: bool = True) -> bool:
    """Rewrite until no pattern applies; True if anything changed."""
    return GreedyDriver(patterns, fold=fold).run(root)
