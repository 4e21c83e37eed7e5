"""`func.func`, `func.return`, `func.call`: functions of a model (ML Programs may have several)."""
from __future__ import annotations

from mlir_coreml.ir.core import Block, Operation, Region, Value
from mlir_coreml.ir.opdef import (AnyType, IsolatedFromAbove, Terminator, VerifyError, attribute, op_def,
                                  operand, region, result)
from mlir_coreml.ir.types import FunctionType


@op_def("func.func")
class FuncOp(Operation):
    sym_name = attribute("str")
    function_type = attribute("type")
    body_region = region()
    traits = frozenset({IsolatedFromAbove})

    @classmethod
    def create(cls, name: str, input_types, result_types, arg_names=None, attributes=None) -> FuncOp:
        fn_type = FunctionType(tuple(input_types), tuple(result_types))
        attrs = {"sym_name": name, "function_type": fn_type, **(attributes or {})}
        op = object.__new__(cls)
        Operation.__init__(op, attributes=attrs, regions=[Region([Block(input_types, arg_names)])])
        return op

    @property
    def body(self) -> Block:
        return self.regions[0].blocks[0]

    @property
    def arguments(self) -> list[Value]:
        return self.body.args

    @property
    def return_op(self) -> Operation:
        return self.body.last_op

    def set_result_types(self, types) -> None:
        self.attributes["function_type"] = type(self.attributes["function_type"])(
            FunctionType(self.function_type.inputs, tuple(types)))

    def verify_(self):
        fn_type = self.function_type
        if not isinstance(fn_type, FunctionType):
            raise VerifyError("function_type must be a function type")
        if not self.regions or not self.regions[0].blocks:
            return  # a declaration
        arg_types = tuple(a.type for a in self.body.args)
        if arg_types != fn_type.inputs:
            raise VerifyError(f"entry block arguments {arg_types} do not match the signature {fn_type}")
        last = self.body.last_op
        if last is None or last.op_name != "func.return":
            raise VerifyError("body must end with func.return")
        returned = tuple(v.type for v in last.operands)
        if returned != fn_type.results:
            raise VerifyError(f"returns ({', '.join(map(str, returned))}) but the signature says {fn_type}")


@op_def("func.return")
class ReturnOp(Operation):
    values = operand(AnyType, variadic=True)
    traits = frozenset({Terminator})


@op_def("func.call")
class CallOp(Operation):
    args = operand(AnyType, variadic=True)
    outputs = result(AnyType, variadic=True)
    callee = attribute("symbol")

    def execute(self, interp, env, *args):
        """Run the callee through the interpreter (the runtime runs outlined segments with
        executors of their own: runtime/hybrid.py)."""
        return interp.call(self.callee, list(args))


def entry_function(module, function_name: str | None = None):
    """The function a prediction runs: `function_name`, else the description's
    `defaultFunctionName`, else `main`, else the first function."""
    from mlir_coreml.errors import MlirCoremlError
    from mlir_coreml.ir.attributes import DictAttr

    functions = [op for op in module.body.ops if op.op_name == "func.func"]
    if not functions:
        raise MlirCoremlError("the model has no function to run")
    by_name = {f.attributes["sym_name"].value: f for f in functions}
    if function_name is not None:
        if function_name not in by_name:
            raise MlirCoremlError(f"the model has no function '{function_name}' (its functions: "
                                  f"{', '.join(by_name)})")
        return by_name[function_name]
    description = module.attributes.get("coreml.description")
    default = dict(description.data).get("defaultFunctionName") if isinstance(description, DictAttr) else None
    if default is not None and default.value in by_name:
        return by_name[default.value]
    return by_name.get("main", functions[0])
