"""The one flexible-shape mechanism (runtime/flexible.py): `specialize` retypes a function for
concrete input shapes, through control flow; `ShapeSchedules` checks the shape, compiles it on
first use only (counted) and names the input and the allowed shapes when it is refused."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.feature_shapes import ShapeConstraint
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.runtime.flexible import ShapeSchedules, specialize

PROGRAM = """module attributes {mil.program_version = 1} {
  func.func @main(%x: tensor<?x4xf32>, %c: tensor<1xbool>) -> (tensor<?x4xf32>, tensor<2xf32>) attributes {opset = "ios17"} {
    %k = mil.const {val = dense<1.0> : tensor<2xf32>} : tensor<2xf32> loc("k")
    %y = mil.relu %x : tensor<?x4xf32> loc("relu_0")
    %z = mil.cond %c ({
      %n = mil.sigmoid %y : tensor<?x4xf32> loc("sig")
      mil.yield %n : tensor<?x4xf32>
    }, {
      mil.yield %y : tensor<?x4xf32>
    }) : (tensor<1xbool>) -> tensor<?x4xf32> loc("branch")
    func.return %z, %k : tensor<?x4xf32>, tensor<2xf32>
  }
}"""


def test_specialize_retypes_every_dependent_value_through_control_flow():
    text = print_module(specialize(parse_module(PROGRAM), "main", {"x": (3, 4)}))
    assert "func.func @main(%x: tensor<3x4xf32>, %c: tensor<1xbool>) -> (tensor<3x4xf32>, tensor<2xf32>)" in text
    assert "%y = mil.relu %x : tensor<3x4xf32>" in text
    assert "%n = mil.sigmoid %y : tensor<3x4xf32>" in text
    assert "}) : (tensor<1xbool>) -> tensor<3x4xf32> loc(\"branch\")" in text
    assert "?" not in text


def test_specialized_program_runs_at_each_shape():
    model = mlir_coreml.compile_model(parse_module(PROGRAM), threads=1)
    for rows, cond in ((1, True), (5, False), (3, True)):
        x = np.random.default_rng(rows).standard_normal((rows, 4)).astype(np.float32)
        y = np.maximum(x, 0)
        want = 1 / (1 + np.exp(-y)) if cond else y
        np.testing.assert_allclose(model.predict({"x": x, "c": np.array([cond])})["z"], want, rtol=1e-5)
    assert model.schedules.compilations == 3


def test_schedules_compile_each_shape_once_and_name_the_allowed_shapes():
    built = []
    schedules = ShapeSchedules(lambda shapes: built.append(shapes) or len(built),
                               {"x": ShapeConstraint(enumerated=((1, 4), (2, 4)))}, "model.mlpackage")
    assert schedules.get({"x": (1, 4)}) == 1
    assert schedules.get({"x": (2, 4)}) == 2
    assert schedules.get({"x": (1, 4)}) == 1
    assert schedules.compilations == 2 and built == [{"x": (1, 4)}, {"x": (2, 4)}]
    with pytest.raises(MlirCoremlError, match=r"model.mlpackage.*input 'x' has shape 3x4.*one of 1x4, 2x4"):
        schedules.get({"x": (3, 4)})
    assert schedules.compilations == 2


def test_concurrent_first_uses_compile_once():
    gate = threading.Barrier(4)
    schedules = ShapeSchedules(lambda shapes: object(), {"x": ShapeConstraint(ranges=((1, 8),))})

    def use():
        gate.wait()
        schedules.get({"x": (5,)})

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert schedules.compilations == 1
