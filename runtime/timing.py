"""Where the time of a `compile_model` goes, reported as mlir-opt's `--mlir-timing` does.

    MLIR_COREML_TIMING=1 python -m mlir_coreml run model.mlmodel --inputs in.npz
    mlir_coreml.compile_model(path, timing=True)        # prints the report on stderr
    mlir_coreml.compile_model(path).compile_timing       # the CompileTiming, printed or not

The compile path opens phases (`with phase("parse"):`) that nest; the passes of the pipeline
are listed under the phase that ran them, from the PassManager's own timings. Outside an
active `CompileTiming` a phase costs one context-variable read, so the phases stay in the
product path rather than in a separate profiling build.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import time

TIMING_ENV = "MLIR_COREML_TIMING"
RULE = "===" + "-" * 73 + "==="

_active: contextvars.ContextVar[CompileTiming | None] = contextvars.ContextVar("mlir_coreml_timing", default=None)


def requested(flag: bool | None) -> bool:
    """`flag` when given, else MLIR_COREML_TIMING (any value but empty or 0)."""
    if flag is not None:
        return flag
    return os.environ.get(TIMING_ENV, "0") not in ("", "0")


class CompileTiming:
    """Phases as (depth, name, seconds) in the order they started; `report()` is the text."""

    def __init__(self, title: str = "Compile time report"):
        self.title = title
        self.rows: list[list] = []  # [depth, name, seconds]
        self.depth = 0
        self.started = time.perf_counter()
        self.total = 0.0

    @contextlib.contextmanager
    def activate(self):
        token = _active.set(self)
        try:
            yield self
        finally:
            self.total = time.perf_counter() - self.started
            _active.reset(token)

    def seconds(self, name: str) -> float:
        """Total time of the phases called `name` (0.0 when none ran)."""
        return sum(row[2] for row in self.rows if row[1] == name)

    def report(self) -> str:
        total = self.total or 1e-12
        lines = [RULE, f"  ... {self.title} ...".center(len(RULE)).rstrip(), RULE,
                 f"  Total Execution Time: {self.total:.4f} seconds", "",
                 "  ----Wall Time----  ----Name----"]
        for depth, name, seconds in self.rows:
            lines.append(f"  {seconds:10.4f} ({100 * seconds / total:5.1f}%)  {'  ' * depth}{name}")
        lines.append(f"  {self.total:10.4f} (100.0%)  Total")
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def session():
    """(timing, owned): the active CompileTiming, or a new one active in this block; the owner
    (the outermost caller: the facade, so its import shows) prints the report."""
    current = _active.get()
    if current is not None:
        yield current, False
        return
    with CompileTiming().activate() as timing:
        yield timing, True


def finish(timing: CompileTiming, owned: bool, flag: bool | None) -> None:
    """Print the report of a finished compile when asked (`flag`, else MLIR_COREML_TIMING)."""
    if owned and requested(flag):
        sys.stderr.write(timing.report())


@contextlib.contextmanager
def phase(name: str):
    """Time the enclosed block as phase `name` of the active CompileTiming, if any."""
    timing = _active.get()
    if timing is None:
        yield
        return
    row = [timing.depth, name, 0.0]
    timing.rows.append(row)
    timing.depth += 1
    start = time.perf_counter()
    try:
        yield
    finally:
        row[2] = time.perf_counter() - start
        timing.depth -= 1


def record(pairs) -> None:
    """Add already-measured (name, seconds) pairs one level below the open phase (a PassManager's
    per-pass timings)."""
    timing = _active.get()
    if timing is None:
        return
    timing.rows.extend([timing.depth, name, seconds] for name, seconds in pairs)
