"""The greedy rewriter: dispatch on the annotated root op, benefit order, fixed point,
worklist updates through the rewriter, folding, and the non-convergence guard."""
import numpy as np
import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.core import Operation
from mlir_coreml.ir.opdef import AnyTensor, Pure, attribute, build, op_def, operand, result
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.rewriter import PatternRewriter, RewritePattern, apply_patterns_greedily


@op_def("rw.neg")
class NegOp(Operation):
    input = operand(AnyTensor)
    output = result(AnyTensor)
    traits = frozenset({Pure})

    def reference(self, x):
        return -x


@op_def("rw.add")
class AddOp(Operation):
    lhs = operand(AnyTensor)
    rhs = operand(AnyTensor)
    output = result(AnyTensor)
    traits = frozenset({Pure})

    def reference(self, a, b):
        return a + b


@op_def("rw.sink")
class SinkOp(Operation):
    input = operand(AnyTensor)
    tag = attribute("int", default=0)


class DoubleNegation(RewritePattern):
    def match_and_rewrite(self, op: NegOp, rewriter: PatternRewriter) -> bool:
        inner = getattr(op.input, "op", None)
        if not isinstance(inner, NegOp):
            return False
        rewriter.replace_op(op, [inner.input])
        return True


class TagSink(RewritePattern):
    benefit = 2

    def match_and_rewrite(self, op: SinkOp, rewriter: PatternRewriter) -> bool:
        if op.tag != 0:
            return False
        op.attributes["tag"] = op.attributes["tag"].__class__(1)
        rewriter.modified_in_place(op)
        return True


class Forever(RewritePattern):
    def match_and_rewrite(self, op: SinkOp, rewriter: PatternRewriter) -> bool:
        op.attributes["tag"] = op.attributes["tag"].__class__(op.tag + 1)
        rewriter.modified_in_place(op)
        return True


CHAIN = """module {
  func.func @main(%x: tensor<4xf32>) {
    %a = rw.neg %x : tensor<4xf32>
    %b = rw.neg %a : tensor<4xf32>
    %c = rw.neg %b : tensor<4xf32>
    %d = rw.neg %c : tensor<4xf32>
    %e = rw.neg %d : tensor<4xf32>
    %f = rw.neg %e : tensor<4xf32>
    rw.sink %f {tag = 0} : tensor<4xf32>
    func.return
  }
}
"""


def test_patterns_run_to_fixed_point_and_dead_ops_vanish():
    module = parse_module(CHAIN)
    assert apply_patterns_greedily(module, [DoubleNegation(), TagSink()])
    text = print_module(module)
    assert "rw.neg" not in text and "rw.sink %x {tag = 1}" in text


def test_root_is_taken_from_the_annotation():
    assert DoubleNegation.root_name() == "rw.neg" and TagSink.root_name() == "rw.sink"


def test_non_converging_patterns_are_reported():
    module = parse_module(CHAIN)
    with pytest.raises(MlirCoremlError, match="did not converge"):
        apply_patterns_greedily(module, [Forever()])


def test_nothing_to_do_reports_no_change():
    module = parse_module(CHAIN.replace("rw.neg %x", "rw.add %x, %x"))
    before = print_module(module)
    apply_patterns_greedily(module, [])
    assert print_module(module) == before
