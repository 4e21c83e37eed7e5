"""What a pass is: a small frozen dataclass with a `name`; its typed fields are its options.

    @dataclass(frozen=True)
    class FuseConvBatchnorm(ModulePass):
        name = "fuse-conv-batchnorm"
        def run(self, module, ctx): ...
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass
class PassContext:
    """Per-run state handed to passes: statistics counters (printed with --time-passes)."""

    statistics: Counter = field(default_factory=Counter)

    def stat(self, key: str, n: int = 1) -> None:
        self.statistics[key] += n


@dataclass(frozen=True)
class ModulePass:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def run(self, module, ctx: PassContext) -> None:
        raise NotImplementedError(f"pass {self.name} does not implement run()")
