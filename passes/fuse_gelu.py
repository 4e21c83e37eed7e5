"""`fuse-gelu` (coremltools' fuse_gelu_exact / fuse_gelu_tanh_approximation): the decomposed
GELU of exporters becomes one `core.gelu`:

    exact: 0.5 * x * (1 + erf(x / sqrt(2)))
    tanh:  0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))

in any grouping of the products (x / sqrt(2) may be x * (1 / sqrt(2)))."""
from __future__ import annotations

import math
from dataclasses import dataclass

from mlir_coreml.ir.dialects.core import AddOp, ErfOp, GeluOp, MulOp, PowOp, TanhOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily
from mlir_coreml.passes._matching import close, defining, factors, scalar
from mlir_coreml.passes.base import ModulePass, PassContext


def plus_one(value):
    """The other operand of `value = 1 + t`, else None."""
    add = defining(value, AddOp)
    if add is None:
        return None
    for t, one in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
        if scalar(one) == 1.0:
            return t
    return None


def is_cube(value, x) -> bool:
    """x^3 as pow(x, 3) or a product x*x*x."""
    p = defining(value, PowOp)
    if p is not None:
        return p.lhs is x and scalar(p.rhs) == 3.0
    vals, k = factors(value)
    return k == 1.0 and len(vals) == 3 and all(v is x for v in vals)


def gelu_mode(x, inner) -> str | None:
    """"exact" when `inner` = erf(x / sqrt 2), "tanh" for the tanh form, else None."""
    erf = defining(inner, ErfOp)
    if erf is not None:
        vals, k = factors(erf.input)
        return "exact" if vals == [x] and close(k, 1 / math.sqrt(2)) else None
    tanh = defining(inner, TanhOp)
    if tanh is None:
        return None
    vals, k = factors(tanh.input)
    add = defining(vals[0], AddOp) if len(vals) == 1 else None
    if add is None or not close(k, math.sqrt(2 / math.pi)):
        return None
    for lin, cubic in ((add.lhs, add.rhs), (add.rhs, add.lhs)):
        cvals, ck = factors(cubic)
        if lin is x and len(cvals) == 1 and close(ck, 0.044715) and is_cube(cvals[0], x):
            return "tanh"
    return None


class RecognizeGelu(RewritePattern):
    def match_and_rewrite(self, op: MulOp, rewriter: PatternRewriter) -> bool:
        vals, k = factors(op.output)
        if len(vals) != 2 or not close(k, 0.5):
            return False
        for x, other in ((vals[0], vals[1]), (vals[1], vals[0])):
            inner = plus_one(other)
            mode = gelu_mode(x, inner) if inner is not None else None
            if mode is not None and x.type == op.output.type:
                rewriter.replace_op(op, build(GeluOp, [x], [op.output.type], {"mode": mode}, location=op.location))
                return True
        return False


@dataclass(frozen=True)
class FuseGelu(ModulePass):
    name = "fuse-gelu"
    description = "recognise decomposed GELU (erf or tanh form) as gelu"

    def run(self, module, ctx: PassContext) -> None:
        if apply_patterns_greedily(module, [RecognizeGelu()]):
            ctx.stat("fuse-gelu: recognised")
