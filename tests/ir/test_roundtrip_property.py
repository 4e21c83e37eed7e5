"""Property: print -> parse -> print is the identity, on randomly generated valid modules."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlir_coreml.ir.attributes import (ArrayAttr, BoolAttr, DenseAttr, DenseResourceAttr, DictAttr, FloatAttr,
                                       IntAttr, StringAttr, SymbolRefAttr, TypeAttr)
from mlir_coreml.ir.core import Block, Location, Operation, Region
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.opdef import AnyType, build, op_def, operand, region, result
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.types import ELEMENT_TYPES, DictType, ListType, NoneType, TensorType, TupleType
from mlir_coreml.ir.verifier import verify

@op_def("prop.region")
class PropRegionOp(Operation):
    """A registered op with a region: printed in the compact form, regions before attributes."""

    args = operand(AnyType, variadic=True)
    outs = result(AnyType, variadic=True)
    body = region()


NUMERIC = ["f16", "f32", "f64", "i8", "u8", "i16", "i32", "i64", "bool"]
names = st.one_of(st.none(), st.text(min_size=1, max_size=8),
                  st.from_regex(r"[a-z_][a-z0-9_./]{0,8}", fullmatch=True))
dims = st.one_of(st.none(), st.integers(0, 5))
tensor_types = st.builds(lambda shape, e: TensorType(tuple(shape), ELEMENT_TYPES[e]),
                         st.lists(dims, max_size=4), st.sampled_from(NUMERIC + ["string", "bf16"]))
scalar_types = st.sampled_from(NUMERIC + ["string"]).map(ELEMENT_TYPES.__getitem__)
types = st.recursive(st.one_of(tensor_types, scalar_types, st.just(NoneType())),
                     lambda inner: st.one_of(st.builds(ListType, inner),
                                             st.builds(lambda xs: TupleType(tuple(xs)), st.lists(inner, max_size=3)),
                                             st.builds(DictType, inner, inner)), max_leaves=4)
floats = st.floats(allow_nan=True, allow_infinity=True)


def dense_attrs():
    def make(shape, element, seed):
        rng = np.random.default_rng(seed)
        dtype = ELEMENT_TYPES[element].numpy_dtype
        if element == "bool":
            data = rng.integers(0, 2, size=shape).astype(bool)
        elif dtype.kind == "f":
            data = rng.standard_normal(shape).astype(dtype)
        else:
            info = np.iinfo(dtype)
            data = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
        return DenseAttr(data)

    return st.builds(make, st.lists(st.integers(0, 3), max_size=3), st.sampled_from(NUMERIC), st.integers(0, 99))


scalar_attrs = st.one_of(st.builds(IntAttr, st.integers(-2**63, 2**63 - 1)), st.builds(FloatAttr, floats),
                         st.builds(BoolAttr, st.booleans()), st.builds(StringAttr, st.text(max_size=10)),
                         st.builds(TypeAttr, types), st.builds(SymbolRefAttr, st.text(min_size=1, max_size=6)),
                         dense_attrs())
attrs = st.recursive(scalar_attrs, lambda inner: st.one_of(
    st.builds(lambda xs: ArrayAttr(tuple(xs)), st.lists(inner, max_size=3)),
    st.builds(lambda d: DictAttr(tuple(d.items())), st.dictionaries(st.text(max_size=5), inner, max_size=3))),
    max_leaves=6)
attr_dicts = st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True) | st.text(max_size=4),
                             attrs, max_size=3)


@st.composite
def modules(draw):
    module = ModuleOp.create()
    for f in range(draw(st.integers(1, 2))):
        arg_types = draw(st.lists(types, max_size=3))
        fn = FuncOp.create(f"f{f}", arg_types, [], [draw(names) for _ in arg_types])
        module.body.append(fn)
        fill_block(draw, fn.body, list(fn.body.args), depth=0)
        results = draw(st.lists(st.sampled_from(list(available(fn.body))), max_size=2)) if available(fn.body) else []
        fn.body.append(build(ReturnOp, results))
        fn.set_result_types([v.type for v in results])
    return module


def available(block):
    values = list(block.args)
    for op in block.ops:
        values += op.results
    return values


def fill_block(draw, block, visible, depth):
    for _ in range(draw(st.integers(0, 4))):
        operands = draw(st.lists(st.sampled_from(visible), max_size=3)) if visible else []
        result_types = draw(st.lists(types, max_size=2))
        regions = []
        if depth < 2 and draw(st.booleans()):
            for _ in range(draw(st.integers(1, 2))):
                inner = Block(draw(st.lists(types, max_size=2)), None)
                fill_block(draw, inner, visible + inner.args, depth + 1)
                regions.append(Region([inner]))
        loc = draw(st.one_of(st.none(), st.builds(lambda n: Location(name=n), st.text(max_size=6))))
        registered = len(regions) == 1 and draw(st.booleans())
        if registered:
            op = object.__new__(PropRegionOp)
            Operation.__init__(op, operands, result_types, draw(attr_dicts), regions, loc,
                               result_names=[draw(names) for _ in result_types])
        else:
            op = Operation(operands, result_types, draw(attr_dicts), regions, loc,
                           name=draw(st.from_regex(r"t[a-z]{0,3}\.[a-z_]{1,6}", fullmatch=True)),
                           result_names=[draw(names) for _ in result_types])
        block.append(op)
        visible = visible + list(op.results)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(), st.booleans())
def test_print_parse_print_is_identity(module, generic):
    verify(module)
    text = print_module(module, generic=generic)
    reparsed = parse_module(text)
    verify(reparsed)
    assert print_module(reparsed, generic=generic) == text


def test_resources_round_trip_with_section():
    module = ModuleOp.create()
    fn = FuncOp.create("main", [], [])
    module.body.append(fn)
    weights = np.random.default_rng(0).standard_normal((64, 3, 3, 3)).astype(np.float16)
    attr = DenseResourceAttr.from_array("conv/weight", weights)
    fn.body.append(Operation([], [attr.type], {"value": attr}, name="t.const"))
    fn.body.append(build(ReturnOp, []))
    short = print_module(module)
    assert len(short) < 400 and "dense_resource<\"conv/weight\">" in short
    full = print_module(module, resources=True)
    again = parse_module(full)
    assert print_module(again, resources=True) == full
    const = next(op for op in again.walk() if op.op_name == "t.const")
    np.testing.assert_array_equal(const.attributes["value"].value, weights)
