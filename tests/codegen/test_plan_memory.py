"""`plan-memory`: no two simultaneously live buffers overlap, the arena beats the naive sum,
and running with the plan gives the same outputs as running without it."""
import numpy as np
import pytest

from mlir_coreml.runtime.predict import CompiledModel, compile_model
from mlir_coreml.ir.dialects import core
from mlir_coreml.ir.opdef import Terminator
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.passes.manager import PassManager
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import F32
from mlir_coreml.passes.plan_memory import (KEPT, KERNELS_WRITE_OUT, LAST_USE_ATTR, OFFSET_ATTR, SIZE_ATTR,
                                            result_last_uses, result_offsets)
from tests.codegen.helpers import Program, rel_err

SHAPE = (1, 8, 6, 6)


def conv_block(p, rng, x, residual=None):
    w = p.const(rng.standard_normal((8, 8, 3, 3)).astype(np.float32) * 0.2)
    b = p.const(rng.standard_normal(8).astype(np.float32) * 0.1)
    return p.op(core.Conv2dOp, {"input": x, "weight": w, "bias": b, "residual": residual},
                {"pads": [1, 1, 1, 1], "activation": "relu"})


def random_program(seed: int):
    """A DAG of convolutions (some with residuals), adds, view chains and activations whose
    values are read again at random later points."""
    rng = np.random.default_rng(seed)
    p = Program(x=rng.standard_normal(SHAPE).astype(np.float32))
    live = [p.args["x"]]
    for _ in range(int(rng.integers(4, 12))):
        kind = rng.integers(0, 5)
        a = live[int(rng.integers(len(live)))]
        if kind == 0:
            value = conv_block(p, rng, a)
        elif kind == 1:
            value = conv_block(p, rng, a, residual=live[int(rng.integers(len(live)))])
        elif kind == 2:
            value = p.op(core.AddOp, [a, live[int(rng.integers(len(live)))]])
        elif kind == 3:  # views of a planned buffer that outlive it
            flat = p.op(core.ReshapeOp, [a], {"shape": [1, 8, 36]})
            value = p.op(core.ReshapeOp, [p.op(core.TransposeOp, [flat], {"perm": [0, 2, 1]})],
                         {"shape": [1, 36, 8]})
            value = p.op(core.ReshapeOp, [p.op(core.TransposeOp, [value], {"perm": [0, 2, 1]})],
                         {"shape": list(SHAPE)})
        else:
            value = p.op(core.SigmoidOp, [a])
        live.append(value)
    outputs = [live[-1]] + ([live[int(rng.integers(1, len(live)))]] if rng.random() < 0.5 else [])
    return p.finish(*outputs), p.inputs


def independent_intervals(fn):
    """(offset, size, first op index, last op index) per planned buffer, with the live range
    of every view (view-like op results) folded into the buffer it views."""
    ops = list(fn.body.ops)
    owner, spans = {}, {}
    for i, op in enumerate(ops):
        for r, off in zip(op.results, result_offsets(op)):
            if off >= 0:
                owner[r] = r
                spans[r] = [off, r.type.num_elements * r.type.element.numpy_dtype.itemsize, i, i]
            elif getattr(op, "view_like", False) and op.operands and op.operands[0] in owner:
                owner[r] = owner[op.operands[0]]
    for i, op in enumerate(ops):
        last = len(ops) if op.has_trait(Terminator) else i
        for v in op.operands:
            if v in owner:
                spans[owner[v]][3] = max(spans[owner[v]][3], last)
    return list(spans.values())


@pytest.mark.parametrize("seed", range(25))
def test_no_overlap_and_same_outputs(seed):
    module, inputs = random_program(seed)
    model = compile_model(module, threads=1, precision="fp16")
    fn = model.function
    arena = fn.attributes[SIZE_ATTR].value
    spans = independent_intervals(fn)
    for i, (o1, s1, a1, b1) in enumerate(spans):
        assert o1 % 64 == 0 and o1 + s1 <= arena
        for o2, s2, a2, b2 in spans[i + 1:]:
            if a1 <= b2 and a2 <= b1:
                assert o1 + s1 <= o2 or o2 + s2 <= o1, f"live buffers overlap: {(o1, s1, a1, b1)} {(o2, s2, a2, b2)}"
    naive = sum(-(-s // 64) * 64 for _, s, _, _ in spans)
    assert arena <= naive

    planned = model.predict(inputs)
    again = model.predict(inputs)  # the arena is reused across calls
    executor = compile_model(module, threads=1, precision="fp16", codegen=False).predict(inputs)
    reference = compile_model(module, use_kernels=False).predict(inputs)
    for name in reference:
        assert np.array_equal(planned[name], executor[name])
        assert np.array_equal(planned[name], again[name])
        assert rel_err(planned[name], reference[name]) <= 2e-2


@pytest.mark.parametrize("dropped", [SIZE_ATTR, LAST_USE_ATTR])
def test_a_module_without_the_plan_is_refused(dropped):
    """The runtimes never plan on their own: without plan-memory's attributes they stop."""
    module, inputs = random_program(0)
    model = compile_model(module, threads=1, precision="fp16")
    unplanned = model.module.clone()
    for op in unplanned.walk():
        op.attributes.pop(dropped, None)
    with pytest.raises(MlirCoremlError, match="memory plan"):
        CompiledModel(unplanned, threads=1)


def test_the_executor_writes_in_place_what_the_plan_names():
    """plan-memory's KERNELS_WRITE_OUT is the executor's table: a kernel step writes its f32
    result at the planned offset exactly when its op is one of those (the convolutions and the
    reorders around them here: blocked-layout is in the default pipeline), every other kernel
    step returns a fresh array."""
    rng = np.random.default_rng(0)
    p = Program(x=rng.standard_normal(SHAPE).astype(np.float32))
    a = conv_block(p, rng, p.args["x"])
    b = p.op(core.SigmoidOp, [a])
    c = conv_block(p, rng, b, residual=a)
    module = p.finish(p.op(core.TransposeOp, [c], {"perm": [0, 2, 3, 1]}))
    steps = [s for s in compile_model(module, threads=1, precision="fp32").executor.steps if s.kind == "kernel"]
    writers = (core.Conv2dOp, core.Conv2dBlockedOp, core.ToBlockedOp, core.FromBlockedOp)
    assert any(isinstance(s.op, (core.Conv2dOp, core.Conv2dBlockedOp)) for s in steps)
    for step in steps:
        in_place = type(step.op) in KERNELS_WRITE_OUT and step.op.results[0].type.element == F32
        assert step.out_offset == (result_offsets(step.op)[0] if in_place else -1)
        assert in_place == isinstance(step.op, writers)


def test_chain_reuses_memory_and_reports_statistics():
    rng = np.random.default_rng(0)
    p = Program(x=rng.standard_normal(SHAPE).astype(np.float32))
    value = p.args["x"]
    for _ in range(6):
        value = conv_block(p, rng, value)
    module = p.finish(value)
    pm = PassManager.from_pipeline("plan-memory")
    pm.run(module)
    stats = pm.context.statistics
    buffer = 8 * 6 * 6 * 4  # 1152 bytes, a multiple of 64
    assert stats["plan-memory: naive bytes"] == 6 * buffer
    assert stats["plan-memory: peak bytes"] == 2 * buffer  # a chain needs two buffers ping-ponging
    assert stats["plan-memory: live-bytes lower bound"] == 2 * buffer
    fn = module.body.first_op
    assert fn.attributes[SIZE_ATTR].value == 2 * buffer
    # the plan survives printing and parsing
    assert print_module(parse_module(print_module(module))) == print_module(module)


def test_multi_result_and_unplanned_values():
    """A split of f32 is a kernel call (one C copy per result in the generated module): a buffer
    per result, and as the executor's numpy views they extend the buffer they view; reference
    results (argmax) are arrays of their own: no buffer, but a release point like every result."""
    p = Program(x=np.ones((4, 6), np.float32))
    a, b = p.op(core.SplitOp, [p.op(core.SigmoidOp, [p.args["x"]])], {"axis": 1, "sizes": [2, 4]})
    idx = p.op(core.ArgmaxOp, [b], {"axis": 1})
    module = p.finish(a, p.op(core.ReluOp, [b]), idx)
    PassManager.from_pipeline("plan-memory").run(module)
    ops = list(module.body.first_op.body.ops)
    sigmoid, split, argmax, relu = ops[0], ops[1], ops[2], ops[3]
    assert result_offsets(sigmoid) == [0]
    pieces = result_offsets(split)
    assert len(set(pieces)) == 2 and min(pieces) >= 4 * 6 * 4
    assert result_offsets(relu)[0] >= 4 * 6 * 4  # the sigmoid's buffer is still live through the split views
    assert OFFSET_ATTR not in argmax.attributes
    assert result_last_uses(split) == [KEPT, 3] and result_last_uses(argmax) == [KEPT]
    assert result_last_uses(sigmoid) == [1]
