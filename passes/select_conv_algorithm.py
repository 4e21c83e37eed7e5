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
  element, plus streaming the transformed weights once per tile block once they leave the
  caches; the GEMMs compute whole vectors of 16 tiles and a half vector of 8 at a block's end,
  so a block of 4 tiles (F(4,3) on 7x7) costs as much as one of 8.
Winograd wins when the saved multiplications outweigh the transforms: F(4,3) from 13x13 maps
up, F(2,3) on 7x7 maps (whose 4 F(4,3) tiles fill a quarter of a vector); with the vectorised
transforms even 16 input channels gain on 28x28 and larger maps. It is chosen only when its
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

# Winograd constants fitted by `python benchmarks/conv_algorithms.py --calibrate` (interleaved
# medians of thread CPU time of csrc/winograd.c against the im2col kernel, fp32 panels, bias + relu;
# AMD EPYC, AVX-512, one thread; 16..512 channels on 7x7..56x56 maps; least squares on the
# relative error, worst 37 %).  IM2COL_COPY is the im2col kernel's own overhead and is not refitted.
IM2COL_COPY = 2.0           # per im2col element written
WINOGRAD_GEMM_RATE = 1.04   # the tile GEMMs' rate relative to the im2col GEMM's
TRANSFORM = 24.5            # per transformed element (input and output sides together)
# per transformed-weight element per tile block, by the size of the fp32 transformed weights:
# in L2, in L3, from memory
WEIGHT_STREAM = ((1 << 20, 5.3), (16 << 20, 6.5), (math.inf, 15.4))
LANES = 8                  # the tile GEMM computes whole 16-tile vectors, or 8-tile halves at a block's end
REPORT_VERSION = 1


def im2col_cost(cin: int, cout: int, kernel: tuple, groups: int, pixels: int) -> float:
    taps = cin // groups * kernel[0] * kernel[1]
    return 2.0 * cout * taps * pixels + IM2COL_COPY * taps * groups * pixels


def weight_stream_tier(weight_elements: int) -> int:
    """Index into WEIGHT_STREAM of transformed weights of this many fp32 elements."""
    return next(i for i, (limit, _) in enumerate(WEIGHT_STREAM) if 4 * weight_elements <= limit)


def winograd_blocks(tile: int, cin: int, cout: int, oh: int, ow: int) -> tuple[int, int, int]:
    """(tiles, tiles the GEMMs compute, tile blocks) of csrc/winograd.c's blocking: equal blocks
    of at most `winograd_block_tiles` (rounded to 16 tiles), each computed in runs of LANES tiles."""
    from mlir_coreml.csrc import _kernels

    tiles = math.ceil(oh / tile) * math.ceil(ow / tile)
    blocks = math.ceil(tiles / _kernels.winograd_block_tiles(tile, cin, cout))
    per_block = math.ceil(math.ceil(tiles / blocks) / 16) * 16
    blocks = math.ceil(tiles / per_block)
    last = tiles - (blocks - 1) * per_block
    return tiles, (blocks - 1) * per_block + math.ceil(last / LANES) * LANES, blocks


def winograd_cost(tile: int, cin: int, cout: int, oh: int, ow: int) -> float:
    tiles, computed, blocks = winograd_blocks(tile, cin, cout, oh, ow)
    a2 = (tile + 2) ** 2
    weights = a2 * cin * cout
    return (2.0 * weights * computed / WINOGRAD_GEMM_RATE + TRANSFORM * a2 * (cin + cout) * tiles
            + WEIGHT_STREAM[weight_stream_tier(weights)][1] * weights * blocks)


def geometry_costs(cin: int, cout: int, kernel: tuple, strides: tuple, groups: int, oh: int, ow: int,
                   dilations: tuple = (1, 1), pads: tuple = (1, 1, 1, 1)) -> dict[str, float]:
    """Estimated cost of each algorithm that computes one image of this convolution."""
    costs = {}
    for algorithm in conv_algorithms((cout, cin // groups) + tuple(kernel), strides, dilations, pads, groups):
        tile = WINOGRAD_TILES.get(algorithm)
        costs[algorithm] = winograd_cost(tile, cin, cout, oh, ow) if tile else \
            im2col_cost(cin, cout, kernel, groups, oh * ow)
    return costs


def candidate_costs(op: Conv2dOp) -> dict[str, float] | None:
    """Estimated cost of each algorithm that computes `op`; None when its shapes are not static."""
    x, y, w = op.input.type, op.output.type, op.weight.type
    if not (x.is_static and y.is_static and w.is_static and x.rank == 4):
        return None
    batch, cin = x.shape[0], x.shape[1]
    costs = geometry_costs(cin, y.shape[1], tuple(w.shape[2:]), tuple(op.strides), op.groups, y.shape[2],
                           y.shape[3], tuple(op.dilations), tuple(op.pads))
    return {algorithm: batch * cost for algorithm, cost in costs.items()}


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
