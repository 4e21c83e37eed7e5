"""`select-conv-algorithm{winograd=true tiles=2,4 min-gain=1.1 report=FILE}`: choose how each `core.conv2d`
is computed and write it as its `algorithm` attribute (ir/dialects/core/linalg.py), which the
runtime follows: `gemm` (1x1), `im2col`, `depthwise`, or Winograd `winograd2` / `winograd4`
(F(2x2, 3x3), F(4x4, 3x3); 3x3, stride 1, dilation 1, one group).

The cost rule, in flop-equivalents of the direct kernel (one unit = one multiply or add at the
im2col GEMM's rate), is calibrated on this kernel set (csrc/winograd.c on AVX-512, one thread):
- im2col: its FLOPs plus the im2col copy (9 * C * OH * OW elements);
- Winograd F(m, 3) over T = ceil(OH/m) * ceil(OW/m) tiles: the alpha^2 GEMMs' FLOPs
  (alpha = m + 2) at the rate of their short GEMMs (K = C, N = one tile block), plus the input
  and output transforms (gather, 1-D passes, epilogue, scatter) per alpha^2 * (C + Cout) * T
  element, plus streaming the transformed weights once per tile block, dearer once they
  leave the caches.
Winograd wins when the saved multiplications outweigh the transforms: many channels on a
mid-sized map (ResNet's 56x56..14x14 stages); it loses on few channels (transforms dominate)
and on 7x7 maps with 512 channels (weight streaming dominates). It is chosen only when its
estimate beats im2col's by `min_gain`. An algorithm already chosen (not "auto") is kept.

`report=FILE` writes the decisions (`.json`: JSON, else a table: per conv the geometry, each
candidate's estimate and the choice); the statistics count convolutions per algorithm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.dialects.core import WINOGRAD_TILES, Conv2dOp, conv_algorithms
from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.passes._report import write_report_file
from mlir_coreml.passes.base import ModulePass, PassContext

# Calibrated from interleaved min-of-25 timings of csrc/winograd.c against the im2col kernel
# (AMD EPYC, AVX-512, one thread; 16..512 channels on 64x64..7x7 maps).
IM2COL_COPY = 2.0          # per im2col element written
WINOGRAD_GEMM_RATE = 0.8   # the tile GEMMs' rate relative to the im2col GEMM's
TRANSFORM = 50.0           # per transformed element (input and output sides together)
GEMM_CALL = 5e4            # fixed cost of one of the alpha^2 GEMM calls of a tile block
# per transformed-weight element per tile block (the GEMM repacks them): in L2, in L3, from memory
WEIGHT_STREAM = ((1 << 20, 15.0), (16 << 20, 30.0), (math.inf, 100.0))
REPORT_VERSION = 1


def _weight_stream_cost(weight_bytes: int) -> float:
    return next(cost for limit, cost in WEIGHT_STREAM if weight_bytes <= limit)


def im2col_cost(cin: int, cout: int, kernel: tuple, groups: int, pixels: int) -> float:
    taps = cin // groups * kernel[0] * kernel[1]
    return 2.0 * cout * taps * pixels + IM2COL_COPY * taps * groups * pixels


def winograd_cost(tile: int, cin: int, cout: int, oh: int, ow: int) -> float:
    from mlir_coreml.csrc import _kernels

    a2 = (tile + 2) ** 2
    tiles = math.ceil(oh / tile) * math.ceil(ow / tile)
    blocks = math.ceil(tiles / _kernels.winograd_block_tiles(tile, cin, cout))
    weights = a2 * cin * cout
    return (2.0 * weights * tiles / WINOGRAD_GEMM_RATE + TRANSFORM * a2 * (cin + cout) * tiles
            + (_weight_stream_cost(4 * weights) * weights + GEMM_CALL * a2) * blocks)


def candidate_costs(op: Conv2dOp) -> dict[str, float] | None:
    """Estimated cost of each algorithm that computes `op`; None when its shapes are not static."""
    x, y, w = op.input.type, op.output.type, op.weight.type
    if not (x.is_static and y.is_static and w.is_static and x.rank == 4):
        return None
    batch, cin = x.shape[0], x.shape[1]
    cout, oh, ow = y.shape[1], y.shape[2], y.shape[3]
    kernel = tuple(w.shape[2:])
    costs = {}
    for algorithm in conv_algorithms(w.shape, op.strides, op.dilations, op.pads, op.groups):
        tile = WINOGRAD_TILES.get(algorithm)
        one = winograd_cost(tile, cin, cout, oh, ow) if tile else im2col_cost(cin, cout, kernel, op.groups, oh * ow)
        costs[algorithm] = batch * one
    return costs


def choose(costs: dict[str, float], tiles: tuple[int, ...], min_gain: float) -> str:
    if "im2col" not in costs:
        return next(iter(costs))   # gemm or depthwise: the only kernel for the shape
    allowed = [a for a in costs if a == "im2col" or WINOGRAD_TILES[a] in tiles]
    best = min(allowed, key=costs.get)
    return best if best == "im2col" or costs["im2col"] >= min_gain * costs[best] else "im2col"


def _geometry(op: Conv2dOp) -> str:
    x, y, w = op.input.type, op.output.type, op.weight.type
    shape = lambda t: "x".join(str(d) for d in t.shape) if t.is_static else "?"  # noqa: E731
    kernel = "x".join(str(d) for d in w.shape[2:]) if w.is_static else "?"
    return f"{shape(x)} -> {shape(y)} k{kernel} s{'x'.join(map(str, op.strides))}" + \
        (f" g{op.groups}" if op.groups > 1 else "")


def report_text(report: dict) -> str:
    rows = report["convolutions"]
    lines = [f"select-conv-algorithm tiles={','.join(map(str, report['tiles']))} min-gain={report['min_gain']}: "
             f"{len(rows)} convolutions, estimated {report['estimated'] / 1e6:.1f} M (im2col everywhere: "
             f"{report['im2col_estimated'] / 1e6:.1f} M)",
             f"{'conv':<28} {'geometry':<40} {'choice':<10} estimates (M flop-equivalents)"]
    for r in rows:
        estimates = "  ".join(f"{a}={c / 1e6:.2f}" for a, c in r["estimates"].items())
        lines.append(f"{r['conv'][:28]:<28} {r['geometry']:<40} {r['algorithm']:<10} {estimates}")
    counts = report["counts"]
    lines.append("chosen: " + ", ".join(f"{a} {n}" for a, n in counts.items()))
    return "\n".join(lines) + "\n"


def _name(op, index: int) -> str:
    return op.location.name if op.location is not None and op.location.name else f"conv2d#{index}"


@dataclass(frozen=True)
class SelectConvAlgorithm(ModulePass):
    name = "select-conv-algorithm"
    description = "choose each conv2d's algorithm (gemm/im2col/depthwise/Winograd F(2,3), F(4,3)) by a cost rule"

    winograd: bool = True              # false: never Winograd
    tiles: tuple[int, ...] = (2, 4)    # the Winograd output tiles allowed
    min_gain: float = 1.1              # Winograd's estimate must beat im2col's by this factor
    report: str = ""

    def run(self, module, ctx: PassContext) -> None:
        if any(t not in (2, 4) for t in self.tiles):
            raise MlirCoremlError(f"select-conv-algorithm: tiles must be 2 and/or 4, got {list(self.tiles)}")
        rows = []
        for index, op in enumerate(o for o in module.walk() if isinstance(o, Conv2dOp)):
            costs = candidate_costs(op)
            if op.algorithm == "auto" and costs is not None:
                op.attributes["algorithm"] = to_attr(choose(costs, self.tiles if self.winograd else (), self.min_gain))
            ctx.stat(f"select-conv-algorithm: {op.algorithm}")
            rows.append({"conv": _name(op, index), "geometry": _geometry(op), "algorithm": op.algorithm,
                         "estimates": costs or {}})
        if self.report:
            write_report_file(self.report, self._report(rows), report_text, "conv algorithm report")

    def _report(self, rows) -> dict:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["algorithm"]] = counts.get(r["algorithm"], 0) + 1
        return {"version": REPORT_VERSION, "tiles": list(self.tiles), "min_gain": self.min_gain,
                "estimated": sum(r["estimates"].get(r["algorithm"], 0.0) for r in rows),
                "im2col_estimated": sum(r["estimates"].get("im2col", min(r["estimates"].values(), default=0.0))
                                        for r in rows),
                "counts": counts, "convolutions": rows}
