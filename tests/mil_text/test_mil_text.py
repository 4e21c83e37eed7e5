"""`model.mil` text: parse → print is byte-identical, the AST holds exact values, errors point
at line:col, and random programs survive print → parse → print."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlir_coreml.codegen.mil_text import print_mil
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.mil import parse_mil
from mlir_coreml.frontend.mil.text import (SCALAR_TYPES, MilArg, MilArgTuple, MilAttribute, MilBlobFile,
                                           MilBlock, MilBool, MilDict, MilDictType, MilFunction, MilList,
                                           MilListType, MilNamedType, MilNumber, MilOp, MilProgram,
                                           MilScalarType, MilStateType, MilString, MilTensorType, MilTuple,
                                           MilTupleType, MilValue, MilVar, quote, unquote)

from . import examples


@pytest.mark.parametrize("name", sorted(examples.ALL))
def test_round_trip_is_byte_identical(name):
    text = examples.ALL[name]
    assert print_mil(parse_mil(text, f"{name}.mil")) == text


def test_docs_example_ast():
    program = parse_mil(examples.ADD_MODEL, "model.mil")
    assert program.version == "1.0"
    build_info = program.attribute("buildInfo")
    assert build_info.type == MilDictType(MilTensorType("string", ()), MilTensorType("string", ()))
    entries = dict((k.value, v.value) for k, v in build_info.items[0].entries)
    assert entries["coremlc-version"] == "3402.4.1"
    main = program.function("main")
    assert main.opset == "ios16"
    assert main.inputs == (MilNamedType(MilTensorType("fp16", (1, 10)), "x"),
                           MilNamedType(MilTensorType("fp16", (1, 10)), "y"))
    (op,) = main.body.ops
    assert op.op_type == "mul" and op.line == 5
    assert op.results == (MilNamedType(MilTensorType("fp16", (1, 10)), "var_3"),)
    assert op.args == (MilArg("x", MilVar("x")), MilArg("y", MilVar("y")))
    assert op.attribute("name") == MilValue(MilTensorType("string", ()), (MilString("op_3_cast_fp16"),))
    assert main.body.outputs == ("var_3",)


def test_blobfile_references_both_spellings():
    ios16 = parse_mil(examples.CONVNET_IOS16).function("main").body.ops
    weight = next(op for op in ios16 if op.results[0].name == "conv1_bias_to_fp16").attribute("val")
    (blob,) = weight.items
    assert (blob.path, blob.offset) == ("@model_path/weights/weight.bin", 1856)
    assert blob.offset_type == MilTensorType("uint64", ())

    ios18 = parse_mil(examples.STATEFUL_IOS18).function("main").body.ops
    lut = next(op for op in ios18 if op.op_type == "constexpr_lut_to_dense")
    indices = lut.arg("indices")
    assert indices.type == MilTensorType("uint4", (64, 64))
    assert indices.items == (MilBlobFile("@model_path/weights/weight.bin", 64),)


def test_literals_keep_exact_values():
    ops = parse_mil(examples.CONVNET_IOS16).function("main").body.ops
    by_name = {op.results[0].name: op for op in ops}
    (eps,) = by_name["var_12_to_fp16"].attribute("val").items
    assert eps == MilNumber("0x1.5p-17") and eps.value == float.fromhex("0x1.5p-17")
    assert by_name["var_13_to_fp16"].attribute("val").items[0].value == -10000.0
    assert by_name["pad_table"].attribute("val").items[0] == MilList(
        (MilList((MilNumber("0"), MilNumber("1"))), MilList((MilNumber("-2"), MilNumber("3")))))
    assert by_name["mean"].attribute("val").items[0].items[2].text == "1e-05"
    assert by_name["keep_dims"].attribute("val").items[0] == MilList((MilBool(True), MilBool(False)))
    concat = by_name["concat_0_cast_fp16"]
    assert concat.arg("values") == MilArgTuple((MilVar("split_0_cast_fp16_1"), MilVar("split_0_cast_fp16_0")))
    split = by_name["split_0_cast_fp16_0"]
    assert [r.name for r in split.results] == ["split_0_cast_fp16_0", "split_0_cast_fp16_1"]


def test_ios18_constructs():
    program = parse_mil(examples.STATEFUL_IOS18)
    main, prefill = program.functions
    assert main.inputs[1].type == MilStateType(MilTensorType("fp16", (1, 1, 4, 64)))
    write = next(op for op in main.body.ops if op.op_type == "write_state")
    assert write.results == ()
    offset = next(op for op in main.body.ops if op.results and op.results[0].name == "offset")
    assert offset.attribute("val").items[0].value == 2**64 - 1
    assert prefill.inputs[0].type == MilTensorType("fp16", (1, None, 64))
    flexible = prefill.attributes[0]
    assert flexible.name == "FlexibleShapeInformation"
    assert isinstance(flexible.value.type, MilTupleType)


def test_nested_blocks():
    main = parse_mil(examples.CONTROL_FLOW).function("main")
    branch = main.body.ops[1]
    assert branch.op_type == "cond" and len(branch.blocks) == 2
    then_block, else_block = branch.blocks
    assert then_block.inputs == () and then_block.outputs == ("pos",)
    loop = else_block.ops[0]
    assert [r.name for r in loop.results] == ["i_0", "acc_0"]
    cond_block, body_block = loop.blocks
    assert [i.name for i in cond_block.inputs] == ["i_x", "acc_x"]
    assert body_block.outputs == ("i_next", "acc_next")
    increment = body_block.ops[0]
    assert increment.arg("y") == MilValue(MilTensorType("int32", ()), (MilNumber("1"),))
    empty = main.body.ops[2]
    assert empty.results[0].type == MilListType(MilTensorType("fp32", (1, 8)), None)


def test_names_that_look_like_keywords_and_escaped_strings():
    main = parse_mil(examples.TRICKY).function("main")
    assert [i.name for i in main.inputs] == ["int32", "offset"]
    assert main.inputs[0].type == MilTensorType("fp32", ("batch", None, 3))
    first, inf, true = main.body.ops[:3]
    assert first.results[0].name == "BLOBFILE"
    assert first.attribute("name").items[0].value == 'quote " backslash \\ newline \n tab \t bell \x07 ünï ✓'
    assert inf.results[0].name == "inf" and inf.attribute("val").items[0].value == float("-inf")
    assert true.results[0].name == "true" and true.attribute("name").items[0].value == "nan"
    assert main.body.outputs == ("BLOBFILE", "inf")


def _respaced(text: str) -> str:
    """The same program without coremlc's spacing: one-token fast paths no longer apply."""
    text = re.sub(r" = ", "=", text)
    text = re.sub(r", ", " ,\n\t", text)
    return text.replace("(", "( ").replace("<", " < ")


@pytest.mark.parametrize("name", ["add_model", "convnet_ios16", "stateful_ios18", "control_flow"])
def test_any_spacing_parses_to_the_same_ast(name):
    text = examples.ALL[name]
    assert parse_mil(_respaced(text)) == parse_mil(text)
    assert print_mil(parse_mil(_respaced(text))) == text


def test_large_program_parses():
    lines = ["program(1.3)", "{", "    func main<ios18>(tensor<fp16, [1, 8]> x) {"]
    prev = "x"
    for i in range(2000):
        lines.append(f'            tensor<fp16, [1, 8]> r_{i} = relu(x = {prev})[name = string("r_{i}")];')
        prev = f"r_{i}"
    lines += [f"        }} -> ({prev});", "}", ""]
    text = "\n".join(lines)
    program = parse_mil(text)
    assert len(program.functions[0].body.ops) == 2000
    assert print_mil(program) == text


# -- errors ----------------------------------------------------------------------------------

HEADER = "program(1.0)\n{\n    func main<ios16>(tensor<fp16, [1]> x) {\n"
FOOTER = "        } -> (x);\n}\n"


@pytest.mark.parametrize("text, where, message", [
    (HEADER + '            tensor<fp16, [1]> y = relu(x = x)[name = string("y")]\n' + FOOTER,
     "m.mil:5:9", "unexpected '}'; expected '(', ';' or '{'"),
    ("program(1.0)\n{\n    func main<ios16>(tensr<fp16, [1]> x) {\n" + FOOTER, "m.mil:3:22", "unknown type 'tensr<…>'"),
    ("program(1.0)\n{\n    func main<ios16>(float x) {\n" + FOOTER, "m.mil:3:22", "unknown type 'float'"),
    ("program(1.0)\n{\n    func main<ios16>(tensor<half, [1]> x) {\n" + FOOTER, "m.mil:3:22",
     "unknown element type 'half'"),
    ("program(1.0)\n{\n    func main<ios16>(tensor<fp16> x) {\n" + FOOTER, "m.mil:3:22", "malformed 'tensor<…>'"),
    (HEADER + "      $\n" + FOOTER, "m.mil:4:7", "unexpected character '$'"),
    (HEADER, "m.mil:4:1", "unexpected end of input; expected '}', a name or a type"),
    (HEADER + '            string s = const()[val = string("a\\qb")];\n' + FOOTER, "m.mil:4:38", "unknown escape"),
    (HEADER + "            fp16 s = const()[val = fp16(BLOBFILE(path = string(\"w\"), offset = uint64(1.5)))];\n"
     + FOOTER, "m.mil:4:41", "BLOBFILE needs"),
    (HEADER + "            fp16 s = const()[val = foo(1)];\n" + FOOTER, "m.mil:4:36", "unknown type 'foo'"),
    ('program(1.0)\n[a = string("abc)]\n{\n}\n', "m.mil:2:13", "unexpected character '\"'"),
    ("", "m.mil:1:1", "expected 'program'"),
])
def test_errors_name_line_and_column(text, where, message):
    with pytest.raises(MlirCoremlError) as info:
        parse_mil(text, "m.mil")
    assert info.value.where == where
    assert message in info.value.message


# -- property: print → parse → print ---------------------------------------------------------

KEYWORDISH = ["true", "false", "func", "program", "BLOBFILE", "path", "offset", "inf", "nan", "int32",
              "tensor", "string", "list", "state"]
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True) | st.sampled_from(KEYWORDISH)
dtypes = st.sampled_from(sorted(SCALAR_TYPES))
dims = st.integers(0, 4096) | st.none() | st.from_regex(r"[a-z_][a-z0-9_]{0,4}", fullmatch=True)

scalar_types = dtypes.map(MilScalarType)
tensor_types = st.builds(MilTensorType, dtypes, st.lists(dims, max_size=4).map(tuple))
types = st.recursive(
    scalar_types | tensor_types,
    lambda inner: (st.builds(MilListType, inner, st.integers(0, 9) | st.none())
                   | st.builds(MilTupleType, st.lists(inner, min_size=1, max_size=3).map(tuple))
                   | st.builds(MilDictType, inner, inner)
                   | st.builds(MilStateType, inner)),
    max_leaves=4)

floats = st.floats(allow_nan=True, allow_infinity=True)
numbers = (st.integers(-2**70, 2**70).map(str) | floats.map(repr) | floats.map(float.hex)).map(MilNumber)
strings = st.text(max_size=12).map(MilString)
blobs = st.builds(MilBlobFile, st.text(max_size=12), st.integers(0, 2**64 - 1),
                  st.sampled_from([MilScalarType("string"), MilTensorType("string", ())]),
                  st.sampled_from([MilScalarType("uint64"), MilTensorType("uint64", ())]))


def _typed(literal):
    return st.builds(MilValue, types, st.lists(literal, max_size=3).map(tuple))


literals = st.recursive(
    numbers | strings | st.booleans().map(MilBool) | blobs,
    lambda inner: (st.lists(inner, max_size=3).map(lambda xs: MilList(tuple(xs)))
                   | st.lists(inner, max_size=3).map(lambda xs: MilTuple(tuple(xs)))
                   | st.lists(st.tuples(inner, inner), max_size=2).map(lambda xs: MilDict(tuple(xs)))
                   | _typed(inner)),
    max_leaves=6)
values = _typed(literals)
arg_values = (names.map(MilVar) | values
              | st.lists(names.map(MilVar) | values, max_size=3).map(lambda xs: MilArgTuple(tuple(xs))))
attributes = st.lists(st.builds(MilAttribute, names, values), max_size=2).map(tuple)
named_types = st.lists(st.builds(MilNamedType, types, names), max_size=3).map(tuple)


def _ops(blocks):
    nested = st.lists(blocks, max_size=2).map(tuple) if blocks is not None else st.just(())
    return st.builds(MilOp, named_types, names, st.lists(st.builds(MilArg, names, arg_values), max_size=3).map(tuple),
                     attributes, nested)


def _blocks(depth):
    inner = _blocks(depth - 1) if depth else None
    return st.builds(MilBlock, named_types, st.lists(_ops(inner), max_size=3).map(tuple),
                     st.lists(names, max_size=3).map(tuple))


functions = st.builds(MilFunction, names, names, named_types, attributes,
                      _blocks(2).map(lambda b: MilBlock((), b.ops, b.outputs)))
programs = st.builds(MilProgram, st.sampled_from(["1.0", "1.3", "1"]), attributes,
                     st.lists(functions, max_size=2).map(tuple))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_print_parse_print_is_identity(program):
    text = print_mil(program)
    parsed = parse_mil(text, "generated.mil")
    assert parsed == program
    assert print_mil(parsed) == text


@given(st.text())
def test_string_quoting_round_trips(value):
    assert unquote(quote(value)) == value
