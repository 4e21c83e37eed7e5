"""Threat: huge tokens and weight sections that cost memory per byte of input (docs/threat-model.md,
"bounded time and memory").

Memory is measured with tracemalloc (allocations, deterministic), never time: a long quoted
string must cost a small multiple of its length, and the resources section of our own
`import --resources` output must read back exactly, from str or bytes, whatever the weights.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.mil.text import parse_mil
from mlir_coreml.ir.attributes import DenseResourceAttr, ResourceBlob
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.types import TensorType, element_type_of

SIZE = 1 << 20
BYTES_PER_CHAR = 12  # the text itself, its token and a decoded copy, with room to spare


def _peak(fn, text) -> int:
    tracemalloc.start()
    try:
        fn(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def ir_string(body: str) -> str:
    return '"t.op"() {a = "' + body + '"} : () -> ()'


def mil_string(body: str) -> str:
    return ('program(1.0)\n{\n func main<ios17>(tensor<fp32, [1]> x) {\n'
            f' string s = const(val = string("{body}"))[name = string("s")];\n' + " } -> (x);\n}\n")


CASES = {"ir": (ir_string, parse_module), "mil": (mil_string, parse_mil)}


@pytest.mark.parametrize("form", sorted(CASES))
@pytest.mark.parametrize("body", ["a", "ab\\\\", "\\\"x"])
def test_long_string_costs_a_small_multiple_of_its_length(form, body):
    make, parse = CASES[form]
    text = make(body * (SIZE // len(body)))
    _peak(parse, make("warm"))  # grammar tables built outside the measurement
    assert _peak(parse, text) < BYTES_PER_CHAR * len(text)


def _module_with(arrays) -> ModuleOp:
    module = ModuleOp.create()
    for i, array in enumerate(arrays):
        ty = TensorType(array.shape, element_type_of(array.dtype))
        attr = DenseResourceAttr(f"w{i}", ty, ResourceBlob(array=array))
        module.body.append(build(ConstantOp, [], [ty], {"value": attr}))
    return module


ARRAYS = st.lists(hnp.arrays(st.sampled_from([np.float32, np.float16, np.int32, np.uint8]),
                             hnp.array_shapes(min_dims=1, max_dims=3, max_side=6)), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(arrays=ARRAYS, as_bytes=st.booleans())
def test_resources_read_back_exactly(arrays, as_bytes):
    text = print_module(_module_with(arrays), resources=True)
    again = parse_module(text.encode() if as_bytes else text)
    values = [op.attributes["value"].value for op in again.body.ops]
    for got, want in zip(values, arrays):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    assert print_module(again, resources=True) == text


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_damaged_resources_are_one_error(data):
    text = print_module(_module_with([np.arange(6, dtype=np.float32)]), resources=True)
    start = text.index("{-#")
    cut = data.draw(st.integers(start, len(text) - 2))
    junk = data.draw(st.sampled_from(["", "g", '"', "}", ",", "\n"]))
    damaged = text[:cut] + junk + text[cut + 1:]
    if damaged == text:
        return
    try:
        parse_module(damaged)
    except MlirCoremlError as e:
        assert "\n" not in str(e)
