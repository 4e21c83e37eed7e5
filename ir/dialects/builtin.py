"""`builtin.module`: the top-level container, a symbol table of functions."""
from __future__ import annotations

from mlir_coreml.ir.core import Block, Operation, Region
from mlir_coreml.ir.opdef import IsolatedFromAbove, SymbolTable, attribute, op_def, region


@op_def("builtin.module")
class ModuleOp(Operation):
    sym_name = attribute("str", default=None)
    body_region = region()
    traits = frozenset({IsolatedFromAbove, SymbolTable})

    @classmethod
    def create(cls, name: str | None = None) -> ModuleOp:
        op = object.__new__(cls)
        Operation.__init__(op, attributes={"sym_name": name} if name else None, regions=[Region([Block()])])
        return op

    @property
    def body(self) -> Block:
        return self.regions[0].block

    @property
    def functions(self) -> list[Operation]:
        return [op for op in self.body.ops if op.op_name == "func.func"]

    def lookup(self, symbol: str) -> Operation | None:
        for op in self.body.ops:
            if op.attributes.get("sym_name") is not None and op.attributes["sym_name"].value == symbol:
                return op
        return None

    def verify_(self):
        from mlir_coreml.ir.opdef import VerifyError

        if len(self.regions) != 1 or len(self.regions[0].blocks) != 1:
            raise VerifyError("expects one region with one block")
        seen = set()
        for op in self.body.ops:
            sym = op.attributes.get("sym_name")
            if sym is None:
                continue
            if sym.value in seen:
                raise VerifyError(f"symbol @{sym.value} is defined twice")
            seen.add(sym.value)
