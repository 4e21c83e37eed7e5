"""The cost model of `partition-devices`: estimated milliseconds per op on a unit and per switch
between units. Every constant is here, to be calibrated (a measured MLComputePlan dump from a
Mac, device-placement.md §1b/§4c); the defaults are orders of magnitude for an M-series chip,
not measurements, so the report's milliseconds rank placements rather than predict latency.

    op on unit      launch + max(FLOPs / throughput, bytes / bandwidth)
                    (activations in fp16 on the gpu/ane: half the bytes)
    switch v -> u   switch + bytes crossing / transfer bandwidth (the inputs start on the cpu)
                    + fp32<->fp16 casts of those elements when one side is the CPU
                    + ping-pong penalty when u is the unit of the segment before v
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import TensorType


@dataclass(frozen=True)
class CostConstants:
    gflops: dict = field(default_factory=lambda: {"cpu": 100.0, "gpu": 1000.0, "ane": 4000.0})
    gbytes_per_s: dict = field(default_factory=lambda: {"cpu": 40.0, "gpu": 60.0, "ane": 40.0})
    launch_ms: dict = field(default_factory=lambda: {"cpu": 0.001, "gpu": 0.005, "ane": 0.002})
    activation_bytes: dict = field(default_factory=lambda: {"cpu": 4, "gpu": 2, "ane": 2})
    switch_ms: float = 0.1             # synchronising two units (and dispatching a program) at a boundary
    transfer_gbytes_per_s: float = 20.0
    cast_gelements_per_s: float = 10.0  # fp32 <-> fp16 at a CPU / accelerator boundary
    ping_pong_ms: float = 0.2          # going back to the unit before last (Core ML avoids it)


DEFAULT = CostConstants()
HOST = "cpu"  # where the inputs are: entering an accelerator first is a switch too


def _elements(value) -> int:
    t = value.type
    if not isinstance(t, TensorType) or t.shape is None or any(d is None for d in t.shape):
        return 0
    return int(np.prod(t.shape, dtype=np.int64))


def _is_constant(value) -> bool:
    producer = getattr(value, "op", None)
    return producer is not None and producer.has_trait(ConstantLike)


def activation_elements(op) -> int:
    """Elements of the non-constant operands: what crosses a boundary into `op`."""
    return sum(_elements(v) for v in op.operands if not _is_constant(v))


def op_ms(op, unit: str, c: CostConstants = DEFAULT) -> float:
    flops_of = getattr(op, "flops", None)
    try:
        flops = float(flops_of()) if flops_of is not None else 0.0
    except Exception:  # noqa: BLE001 - an op whose shapes are unknown: count its bytes only
        flops = 0.0
    weights = sum(_elements(v) * 2 for v in op.operands if _is_constant(v))
    moved = (activation_elements(op) + sum(_elements(r) for r in op.results)) * c.activation_bytes[unit] + weights
    compute = flops / (c.gflops[unit] * 1e6)
    memory = moved / (c.gbytes_per_s[unit] * 1e6)
    return c.launch_ms[unit] + max(compute, memory)


def switch_ms(op, before: str, after: str, unit_before_last: str | None, c: CostConstants = DEFAULT) -> float:
    """Cost of entering `op`'s segment on `after` from a segment on `before`."""
    if before == after:
        return 0.0
    elements = activation_elements(op)
    cost = c.switch_ms + elements * 4 / (c.transfer_gbytes_per_s * 1e6)
    if "cpu" in (before, after):
        cost += elements / (c.cast_gelements_per_s * 1e6)
    if after == unit_before_last:
        cost += c.ping_pong_ms
    return cost


def placement_ms(ops, units: list[str], c: CostConstants = DEFAULT) -> float:
    """Total estimated cost of running `ops` (in order) on `units` (one per op)."""
    total, current, before_last = 0.0, HOST, None
    for i, (op, unit) in enumerate(zip(ops, units)):
        if unit != current:
            total += switch_ms(op, current, unit, before_last, c)
            before_last = current if i else None  # the host is no segment to ping-pong with
        current = unit
        total += op_ms(op, unit, c)
    return total
