"""The IR's Python API: building ops from definitions, def-use chains, safe erase/replace,
cloning, verification diagnostics and the parser's error positions."""
import numpy as np
import pytest

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import DenseAttr
from mlir_coreml.ir.core import Block, Location, Operation, Region
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.core import ConstantOp, materialize_constant
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.opdef import (AnyTensor, Pure, TensorOf, VerifyError, attribute, build, op_def, operand,
                                  result)
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.types import F16, F32, TensorType, tensor
from mlir_coreml.ir.verifier import verify


@op_def("test.scale")
class ScaleOp(Operation):
    input = operand(TensorOf(F16, F32))
    output = result(AnyTensor)
    factor = attribute("float", default=2.0)
    traits = frozenset({Pure})

    def infer_types(self):
        return [self.input.type]

    def verify_(self):
        if self.factor == 0:
            raise VerifyError("factor must not be zero")

    def reference(self, x):
        return x * np.float32(self.factor)


@op_def("test.pick")
class PickOp(Operation):
    """Two optional operand groups: sizes live in `operand_segments`."""

    first = operand(AnyTensor, optional=True)
    rest = operand(AnyTensor, variadic=True)
    output = result(AnyTensor)


def single_function(arg_type, body):
    module = ModuleOp.create()
    fn = FuncOp.create("main", [arg_type], [], ["x"])
    module.body.append(fn)
    outs = body(fn.body, fn.body.args[0])
    fn.body.append(build(ReturnOp, outs))
    fn.set_result_types([v.type for v in outs])
    return module


def test_build_infers_types_and_accessors_read_attributes():
    t = tensor((2, 3), "f32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x], attributes={"factor": 3.0})).output])
    verify(module)
    op = next(op for op in module.walk() if isinstance(op, ScaleOp))
    assert op.output.type == t and op.factor == 3.0 and op.input is module.functions[0].body.args[0]
    (out,) = run_module(module, {"x": np.ones((2, 3), np.float32)})
    np.testing.assert_array_equal(out, np.full((2, 3), 3.0, np.float32))


def test_defaults_are_not_printed_unless_set():
    t = tensor((2,), "f16")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x])).output])
    assert "factor" not in print_module(module)
    assert next(op for op in module.walk() if isinstance(op, ScaleOp)).factor == 2.0


def test_def_use_chains_and_replace_all_uses():
    t = tensor((4,), "f32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [b.append(build(ScaleOp, [x])).output])).output])
    first, second = [op for op in module.walk() if isinstance(op, ScaleOp)]
    assert first.output.users == [second]
    x = module.functions[0].body.args[0]
    first.output.replace_all_uses_with(x)
    assert not first.output.uses and second.input is x
    first.erase()
    verify(module)


def test_erase_refuses_ops_with_uses():
    t = tensor((4,), "f32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x])).output])
    op = next(op for op in module.walk() if isinstance(op, ScaleOp))
    with pytest.raises(ValueError, match="still has 1 use"):
        op.erase()


def test_clone_remaps_operands():
    t = tensor((4,), "f32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x])).output])
    op = next(op for op in module.walk() if isinstance(op, ScaleOp))
    x = module.functions[0].body.args[0]
    other = module.functions[0].body.add_arg(t, "y")
    copy = op.clone({x: other})
    assert copy.input is other and copy.factor == op.factor and copy.output is not op.output


def test_operand_segments_for_optional_groups():
    t = tensor((1,), "f32")
    block = Block([t, t, t])
    a, b, c = block.args
    op = build(PickOp, {"first": None, "rest": [a, b, c]}, [t])
    assert op.first is None and op.rest == [a, b, c]
    op2 = build(PickOp, {"first": a, "rest": [b]}, [t])
    assert op2.first is a and op2.rest == [b]
    assert op2.attributes["operand_segments"].value == (1, 1)


def test_verifier_reports_op_and_location():
    t = tensor((4,), "f32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x], attributes={"factor": 0.0},
                                                                  location=Location(name="layer7"))).output])
    with pytest.raises(MlirCoremlError, match=r'loc\("layer7"\): .test.scale. op factor must not be zero'):
        verify(module)


def test_verifier_checks_operand_constraints():
    t = tensor((4,), "i32")
    module = single_function(t, lambda b, x: [b.append(build(ScaleOp, [x], [t])).output])
    with pytest.raises(MlirCoremlError, match="operand 'input' must be tensor of f16/f32, got tensor<4xi32>"):
        verify(module)


def test_verifier_checks_dominance():
    text = """module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %a = "t.a"(%x) : (tensor<4xf32>) -> tensor<4xf32>
    func.return %a : tensor<4xf32>
  }
}
"""
    module = parse_module(text)
    fn = module.functions[0]
    a_op = fn.body.first_op
    late = Operation([], [tensor((4,), "f32")], name="t.late")
    fn.body.insert_before(late, fn.body.last_op)
    a_op.set_operand(0, late.result)
    with pytest.raises(MlirCoremlError, match="does not dominate|defined later"):
        verify(module)


@pytest.mark.parametrize("text, where, what", [
    ("module {\n  func.func @main( -> \n}", "t.mlir:2:20", "expected %value, ')'"),
    ("module {\n  %a = \"t.x\"() : () -> tensor<2xf33>\n}", "t.mlir:2:", "unexpected"),
    ("module {\n  %a = \"t.x\"() : () -> tensor<2xf32>\n  %a = \"t.x\"() : () -> tensor<2xf32>\n}", "t.mlir:3:3",
     "redefinition of SSA value %a"),
    ("module {\n  %a = \"t.x\"() {v = dense<[1, 2]> : tensor<3xi32>} : () -> tensor<2xf32>\n}", "t.mlir:2:",
     "dense literal has shape"),
])
def test_parse_errors_name_line_and_column(text, where, what):
    with pytest.raises(MlirCoremlError) as info:
        parse_module(text, "t.mlir")
    assert info.value.where.startswith(where) and what in info.value.message


def test_large_constants_print_as_resource_handles():
    weights = np.zeros((512, 512, 50), np.float32)  # 50 MB
    const = materialize_constant(weights, name="big_weight")
    module = single_function(tensor((1,), "f32"), lambda b, x: [x])
    module.functions[0].body.insert_before(const, module.functions[0].body.first_op)
    text = print_module(module)
    assert len(text) < 2000 and "dense_resource<big_weight>" in text


def test_unregistered_ops_round_trip_generic():
    text = '''module {
  %0 = "vendor.thing"() {k = "v"} : () -> tensor<?x3xf32>
}
'''
    assert print_module(parse_module(text)) == text
