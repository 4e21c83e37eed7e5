"""Runs passes over a module with MLIR-style instrumentation: verify after each pass,
print IR after all/changed/failed passes, per-pass timing and statistics."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.passes.base import ModulePass, PassContext
from mlir_coreml.passes.pipeline import format_pipeline, parse_pipeline


class PassManager:
    def __init__(self, passes: list[ModulePass] | None = None, verify_each: bool = True,
                 print_ir_after_all: bool = False, print_ir_after_change: bool = False,
                 print_ir_after_failure: bool = False, time_passes: bool = False,
                 stream: TextIO | None = None):
        self.passes = list(passes or [])
        self.verify_each = verify_each
        self.print_ir_after_all = print_ir_after_all
        self.print_ir_after_change = print_ir_after_change
        self.print_ir_after_failure = print_ir_after_failure
        self.time_passes = time_passes
        self.stream = stream or sys.stderr
        self.timings: list[tuple[str, float]] = []
        self.context = PassContext()

    @classmethod
    def from_pipeline(cls, pipeline: str, **options) -> PassManager:
        return cls(parse_pipeline(pipeline), **options)

    @property
    def pipeline(self) -> str:
        return format_pipeline(self.passes)

    def add(self, p: ModulePass) -> PassManager:
        self.passes.append(p)
        return self

    def run(self, module) -> None:
        from mlir_coreml.ir.verifier import verify

        for p in self.passes:
            before = _printed(module) if self.print_ir_after_change else None
            start = time.perf_counter()
            try:
                p.run(module, self.context)
                if self.verify_each:
                    verify(module)
            except MlirCoremlError as e:
                if self.print_ir_after_failure:
                    self.dump(f"IR Dump After {p.name} Failed", module)
                raise MlirCoremlError(f"pass '{p.name}' failed: {e.message}", e.where) from e
            self.timings.append((p.name, time.perf_counter() - start))
            if self.print_ir_after_all:
                self.dump(f"IR Dump After {p.name}", module)
            elif before is not None and _printed(module) != before:
                self.dump(f"IR Dump After {p.name}", module)
        if self.time_passes:
            self.stream.write(self.report())

    def dump(self, title: str, module) -> None:
        self.stream.write(f"// -----// {title} //----- //\n{_printed(module)}\n")

    def report(self) -> str:
        total = sum(t for _, t in self.timings) or 1e-12
        lines = ["===" + "-" * 60 + "===", "  Pass execution timing report", "===" + "-" * 60 + "===",
                 f"  Total Execution Time: {total:.4f} seconds", "",
                 "  ----Wall Time----  ----Name----"]
        for name, t in self.timings:
            lines.append(f"  {t:10.4f} ({100 * t / total:5.1f}%)  {name}")
        lines.append(f"  {total:10.4f} (100.0%)  Total")
        if self.context.statistics:
            lines += ["", "  ----Statistics----"]
            lines += [f"  {n:10d}  {key}" for key, n in sorted(self.context.statistics.items())]
        return "\n".join(lines) + "\n"


def _printed(module) -> str:
    from mlir_coreml.ir.printer import print_module  # imported only when IR is printed

    return print_module(module)
