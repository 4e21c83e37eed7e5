"""Threat: structure nested deeply enough to exhaust the recursion of a reader, printer or pass
(docs/threat-model.md, "bounded time and memory").

Each reader gets text nested to a generated depth: within the shared limit it reads (or fails
with an ordinary MlirCoremlError), past it every reader gives the same one-line nesting error —
never a RecursionError, whatever the depth.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.mil.text import parse_mil
from mlir_coreml.frontend.mil.to_ir import program_to_module
from mlir_coreml.ir import guard
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.manager import PassManager

LIMIT = guard.DEFAULTS["nesting"]


def ir_regions(n: int) -> str:
    return '"t.op"() ({' * n + "}) : () -> ()" * n


def ir_attribute_arrays(n: int) -> str:
    return '"t.op"() {a = ' + "[" * n + "1" + "]" * n + "} : () -> ()"


def ir_types(n: int) -> str:
    return '"t.op"() {a = ' + "list<" * n + "f32" + ">" * n + "} : () -> ()"


def json_arrays(n: int) -> bytes:
    return b'{"layers": ' + b"[" * n + b"]" * n + b"}"


def mil_blocks(n: int) -> str:
    body = 'tensor<fp32, [1]> y = identity(x = x)[name = string("y")];\n'
    for _ in range(n):
        body = f"tensor<fp32, [1]> y = cond(pred = p) {{\n{body}}} -> (y) {{\n}} -> (x);\n"
    return ("program(1.0)\n{\n func main<ios17>(tensor<fp32, [1]> x, tensor<bool, []> p) {\n" + body
            + " } -> (y);\n}\n")


def mil_list_literal(n: int) -> str:
    return ("program(1.0)\n{\n func main<ios17>(tensor<fp32, [1]> x) {\n tensor<fp32, [1]> y = const(val = "
            "tensor<fp32, [1]>(" + "[" * n + "1" + "]" * n + '))[name = string("y")];\n } -> (y);\n}\n')


def _mil(text):
    try:
        return program_to_module(parse_mil(text, "model.mil"), "/nonexistent", "model.mil")
    except MlirCoremlError as e:
        if "nested" in e.message:
            raise
        return None  # a shallow but ill-typed literal: an ordinary error is fine here


def _ir(text):
    module = parse_module(text)
    PassManager.from_pipeline("cse", verify_each=False).run(module)  # hashes attributes
    return print_module(module)                                      # prints them recursively


READERS = {
    "ir_regions": (ir_regions, _ir),
    "ir_attribute_arrays": (ir_attribute_arrays, _ir),
    "ir_types": (ir_types, _ir),
    "json": (json_arrays, lambda data: guard.load_json(data, "net.json")),
    "mil_blocks": (mil_blocks, _mil),
    "mil_list_literal": (mil_list_literal, _mil),
}


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(max_examples=6, deadline=None)
@given(depth=st.one_of(st.integers(LIMIT + 1, 3 * LIMIT), st.integers(3 * LIMIT, 30000)))
def test_too_deep_is_one_error(reader, depth):
    make, read = READERS[reader]
    if reader == "mil_blocks":
        depth = min(depth, 2000)  # text grows quadratically with depth here
    with pytest.raises(MlirCoremlError) as info:
        read(make(depth))
    assert "nested" in info.value.message and "MLIR_COREML_LIMIT_NESTING" in info.value.message


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(max_examples=4, deadline=None)
@given(depth=st.integers(1, LIMIT // 2))
def test_moderate_nesting_reads(reader, depth):
    make, read = READERS[reader]
    read(make(depth))


def test_limit_can_be_raised():
    text = ir_attribute_arrays(LIMIT + 10)
    with pytest.raises(MlirCoremlError):
        parse_module(text)
    with guard.raised_limits(nesting=LIMIT + 20):
        parse_module(text)


@settings(max_examples=10, deadline=None)
@given(digits=st.integers(guard.DEFAULTS["digits"] + 1, 20000))
def test_huge_json_integers_are_refused(digits):
    data = json.dumps({"layers": []}).encode()[:-1] + b', "n": ' + b"7" * digits + b"}"
    with pytest.raises(MlirCoremlError, match="digits"):
        guard.load_json(data, "net.json")
