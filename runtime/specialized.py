"""An Executor's schedule run by a generated, compiled module (codegen/cython_emitter.py, runtime/build.py).

`SpecializedExecutor(executor)` has the Executor's `run(args)`: same steps, same kernels, so
single-threaded results are the same bits. It owns the arena (64-byte aligned), the env list
template (constants and the fixed arena views), and the Python callbacks for the steps the
module does not call directly. `specialize(executor)` returns None for schedules it cannot
drive (control flow) and, with a warning, when the build fails (no C compiler, say): the
Executor then runs the model as before.
"""
from __future__ import annotations

import threading
import warnings

import numpy as np

from mlir_coreml.codegen import cython_emitter
from mlir_coreml.runtime import build
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.verifier import describe_location
from mlir_coreml.passes.plan_memory import ALIGNMENT
from mlir_coreml.runtime.timing import phase


def specialize(executor, progress: bool | None = None, search: tuple[str, ...] = (), trust: bool = False):
    try:
        with phase("codegen"):
            schedule = cython_emitter.Schedule(executor)
            source = cython_emitter.emit(schedule)
    except cython_emitter.Unsupported:
        return None
    try:
        module = build.build(source, progress=progress, search=search, trust=trust)
    except build.BuildError as e:
        warnings.warn(f"running without generated kernels: {e}", RuntimeWarning, stacklevel=3)
        return None
    with phase("bind"):
        return SpecializedExecutor(executor, schedule, module)


def _aligned_bytes(n: int) -> np.ndarray:
    raw = np.empty(n + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + n]


class SpecializedExecutor:
    def __init__(self, executor, schedule, module):
        from mlir_coreml.csrc import _kernels

        module.bind(_kernels.kernel_table())
        self.executor = executor
        self.schedule = schedule
        self.module = module
        self.lock = threading.Lock()
        self.arena = _aligned_bytes(schedule.arena_size)
        slots = schedule.slots
        self.template: list = [None] * len(slots)
        for value, array in executor.constants.items():
            self.template[slots[value]] = array
        for value, offset in schedule.offset.items():
            t = value.type
            nbytes = t.num_elements * 4
            self.template[slots[value]] = self.arena[offset:offset + nbytes].view(np.float32).reshape(t.shape)
        self.arg_slots = [slots[v] for v in executor.args]
        self.result_slots = [slots[v] for v in executor.returned]
        callbacks = [None if spec is not None or i in schedule.elided else self._callback(step)
                     for i, (step, spec) in enumerate(zip(schedule.steps, schedule.specs))]
        weights = [np.ascontiguousarray(w) for w in schedule.weights]
        biases = [np.ascontiguousarray(b, dtype=np.float32) for b in schedule.biases]
        self.program = module.Program(self.arena, weights, biases, callbacks)

    @property
    def direct_steps(self) -> int:
        """Steps the generated module calls without going back to Python."""
        return sum(spec is not None for spec in self.schedule.specs)

    def _callback(self, step):
        slots = self.schedule.slots
        ins, outs = [slots[v] for v in step.inputs], [slots[v] for v in step.outputs]
        view_like = getattr(step.op, "view_like", False)
        arena, n_out, run = self.arena, len(outs), step.run

        def callback(env: list) -> None:
            results = run([env[k] for k in ins], None)
            results = results if isinstance(results, (tuple, list)) else (results,)
            if len(results) != n_out:
                raise MlirCoremlError(f"'{step.op.op_name}' produced {len(results)} values for {n_out} results",
                                      describe_location(step.op))
            for k, array in zip(outs, results):
                array = np.asarray(array)
                # the plan keeps what a view-like op's result views alive; anything else that
                # aliases the arena would be overwritten by a later step
                if not view_like and arena.size and np.may_share_memory(array, arena):
                    array = array.copy()
                env[k] = array

        return callback

    def run(self, args: list[np.ndarray]) -> list[np.ndarray]:
        with self.lock:
            env = list(self.template)
            for k, array in zip(self.arg_slots, args):
                env[k] = array
            try:
                self.program.run(env)
            except MlirCoremlError:
                raise
            except Exception as e:
                op = self.schedule.steps[self.program.at].op
                raise MlirCoremlError(f"'{op.op_name}' failed: {type(e).__name__}: {e}",
                                      describe_location(op)) from e
            return [self.executor.detach(v, env[k], self.arena) for v, k in zip(self.executor.returned, self.result_slots)]
