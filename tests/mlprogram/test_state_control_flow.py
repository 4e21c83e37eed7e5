"""iOS 18 state inside control flow: `read_state` / `coreml_update_state` in `cond` branches and in
a `while_loop` body (with a `cond` nested in it), built by coremltools' MIL builder. The source
package and its lowered bundle run like a numpy reference over several predictions sharing one
state; `functionalize-state` leaves no state op and carries the state through the regions."""
from __future__ import annotations

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.functionalize_state import functionalize

ct = pytest.importorskip("coremltools")

from coremltools.converters.mil import Builder as mb  # noqa: E402
from coremltools.converters.mil.mil import types  # noqa: E402

STATE = mb.StateTensorSpec((1, 4), dtype=types.fp16)
HALF = np.float16


def _branch_program():
    """y = acc + x (and acc := y) when c, else y = acc / 2 (acc unchanged)."""
    @mb.program(input_specs=[STATE, mb.TensorSpec((1, 4), dtype=types.fp16), mb.TensorSpec((1,), dtype=types.int32)],
                opset_version=ct.target.iOS18)
    def prog(acc, x, c):
        def update():
            return mb.coreml_update_state(state=acc, value=mb.add(x=mb.read_state(input=acc), y=x))

        def keep():
            return mb.mul(x=mb.read_state(input=acc), y=HALF(0.5))

        return mb.cond(pred=mb.equal(x=mb.squeeze(x=c), y=1), _true_fn=update, _false_fn=keep)
    return prog


def _branch_reference(acc, x, c):
    return (acc + x, acc + x) if c[0] == 1 else (acc * 0.5, acc)


def _loop_program():
    """n iterations: acc := acc + x on even i, acc := acc / 2 on odd i; y = 2 acc and the last value."""
    @mb.program(input_specs=[STATE, mb.TensorSpec((1, 4), dtype=types.fp16), mb.TensorSpec((1,), dtype=types.int32)],
                opset_version=ct.target.iOS18)
    def prog(acc, x, n):
        def more(i, last):
            return mb.less(x=i, y=mb.squeeze(x=n))

        def body(i, last):
            v = mb.read_state(input=acc)

            def add():
                return mb.coreml_update_state(state=acc, value=mb.add(x=v, y=x))

            def halve():
                return mb.coreml_update_state(state=acc, value=mb.mul(x=v, y=HALF(0.5)))

            even = mb.equal(x=mb.mod(x=i, y=2), y=0)
            return mb.add(x=i, y=1), mb.cond(pred=even, _true_fn=add, _false_fn=halve)

        _, last = mb.while_loop(_cond=more, _body=body, loop_vars=(np.int32(0), np.zeros((1, 4), HALF)))
        return mb.mul(x=mb.read_state(input=acc), y=HALF(2.0)), last
    return prog


def _loop_reference(acc, x, n):
    last = np.zeros_like(acc)
    for i in range(int(n[0])):
        acc = acc + x if i % 2 == 0 else acc * 0.5
        last = acc
    return (2 * acc, last), acc


PROGRAMS = {
    "cond": (_branch_program, "c", [1, 1, 0, 1, 0], lambda acc, x, c: _branch_reference(acc, x, c)),
    "while_loop": (_loop_program, "n", [3, 2, 0, 5, 1], _loop_reference),
}


def _save(build, path):
    from tests.models import zoo

    with zoo._quiet():
        model = ct.convert(build(), convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                           compute_precision=ct.precision.FLOAT32)
    model.save(str(path))
    return path


@pytest.mark.parametrize("kind", sorted(PROGRAMS))
def test_state_in_control_flow_runs_like_numpy(tmp_path, kind):
    build, control, values, reference = PROGRAMS[kind]
    path = _save(build, tmp_path / f"{kind}.mlpackage")
    bundle = tmp_path / f"{kind}.mlmodelc"
    lower_model(path, bundle)
    assert "read_state" in (bundle / "model.mil").read_text()
    x = np.array([[1.0, -2.0, 0.5, 3.0]], np.float32)
    for source in (path, bundle):
        model = mlir_coreml.compile_model(source)
        assert list(model.inputs) == ["x", control]
        state, acc = model.make_state(), np.zeros((1, 4), np.float32)
        for value in values:  # the state carries over from one prediction to the next
            got = model.predict({"x": x, control: np.array([value], np.int32)}, state=state)
            want, acc = reference(acc, x, np.array([value]))
            want = want if isinstance(want, tuple) else (want,)
            for name, w in zip(model.output_names, want):
                np.testing.assert_allclose(np.asarray(got[name], np.float32), w, rtol=1e-3, err_msg=f"{source} {name}")
            np.testing.assert_allclose(state.read_state("acc"), acc, rtol=1e-3)


def test_functionalized_regions_carry_the_state(tmp_path):
    module = mlir_coreml.load(_save(_loop_program, tmp_path / "loop.mlpackage"))
    fn = next(op for op in module.body.ops if op.op_name == "func.func")
    functionalize(fn)
    text = print_module(fn)
    assert "_state" not in text.replace("coreml.state_arguments", "") and "state<" not in text
    loop = next(op for op in fn.walk() if op.op_name == "mil.while_loop")
    assert len(loop.operands) == len(loop.results) == 3  # i, last and the state
    assert all(len(r.blocks[0].args) == 3 for r in loop.regions)
    inner = next(op for op in loop.walk() if op.op_name == "mil.cond")
    assert len(inner.results) == 2  # its value and the state after it
    assert fn.return_op.operands[-1] is loop.results[-1]


def test_state_updated_in_a_loop_condition_is_refused():
    module = parse_module("""module attributes {mil.program_version = 1} {
  func.func @main(%acc: state<tensor<1xf32>>, %x: tensor<1xf32>) -> tensor<i32> attributes {opset = "ios18"} {
    %zero = mil.const {val = dense<0> : tensor<i32>} : tensor<i32> loc("zero")
    %n = mil.while_loop %zero ({
    ^bb0(%i: tensor<i32>):
      mil.write_state %acc, %x : (state<tensor<1xf32>>, tensor<1xf32>) -> () loc("w")
      %more = mil.less %i, %zero : (tensor<i32>, tensor<i32>) -> tensor<bool> loc("more")
      mil.yield %more : tensor<bool>
    }, {
    ^bb0(%j: tensor<i32>):
      mil.yield %j : tensor<i32>
    }) : tensor<i32> loc("loop")
    func.return %n : tensor<i32>
  }
}""")
    fn = next(op for op in module.body.ops if op.op_name == "func.func")
    with pytest.raises(MlirCoremlError, match=r"loop.*state updated in a while_loop's cond block"):
        functionalize(fn)
