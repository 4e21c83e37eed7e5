"""Weight quantizers in numpy: linear (affine or symmetric) and palettization by 1-D k-means.

Parameters come out blockwise, in the shape `core.dequantize` / `core.lut_to_dense` take them
(ir/dialects/core/quantized.py): `blocks` gives the number of blocks on every axis (1: the whole
axis). Everything is deterministic: k-means starts from quantiles and runs a fixed number of
Lloyd steps on the sorted values of each block.
"""
from __future__ import annotations

import numpy as np

KMEANS_STEPS = 16


def _block_view(w: np.ndarray, blocks: tuple) -> np.ndarray:
    """w reshaped to [*blocks, elements per block] (the block index major)."""
    split = []
    for dim, b in zip(w.shape, blocks):
        split += [b, dim // b]
    v = w.reshape(split)
    rank = w.ndim
    order = [2 * i for i in range(rank)] + [2 * i + 1 for i in range(rank)]
    return v.transpose(order).reshape(tuple(blocks) + (-1,))


def _unblock(v: np.ndarray, shape: tuple, blocks: tuple) -> np.ndarray:
    """The inverse of `_block_view` for an array of codes [*blocks, elements per block]."""
    rank = len(shape)
    inner = tuple(d // b for d, b in zip(shape, blocks))
    v = v.reshape(tuple(blocks) + inner)
    order = [j for i in range(rank) for j in (i, rank + i)]
    return v.transpose(order).reshape(shape)


def quantize_linear(w: np.ndarray, bits: int, symmetric: bool, blocks: tuple) -> dict:
    """Codes and blockwise parameters with w ~= (codes - zero_point) * scale.

    Symmetric: i8 codes in [-(2^(b-1) - 1), 2^(b-1) - 1], no zero point. Affine: u8 codes in
    [0, 2^b - 1] over [min(w, 0), max(w, 0)] (zero stays exactly representable), u8 zero point."""
    w = np.asarray(w, np.float32)
    v = _block_view(w, blocks).astype(np.float64)
    if symmetric:
        qmax = (1 << (bits - 1)) - 1
        scale = np.abs(v).max(axis=-1) / qmax
        scale = np.where(scale > 0, scale, 1.0)
        codes = np.clip(np.rint(v / scale[..., None]), -qmax, qmax).astype(np.int8)
        return {"data": _unblock(codes, w.shape, blocks), "scale": scale.astype(np.float32)}
    qmax = (1 << bits) - 1
    lo, hi = np.minimum(v.min(axis=-1), 0.0), np.maximum(v.max(axis=-1), 0.0)
    scale = (hi - lo) / qmax
    scale = np.where(scale > 0, scale, 1.0)
    zero = np.clip(np.rint(-lo / scale), 0, qmax)
    codes = np.clip(np.rint(v / scale[..., None]) + zero[..., None], 0, qmax).astype(np.uint8)
    return {"data": _unblock(codes, w.shape, blocks), "scale": scale.astype(np.float32),
            "zero_point": zero.astype(np.uint8)}


def kmeans_1d(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(centroids [k] ascending, index of each value's centroid) by Lloyd's algorithm on sorted
    values: assignment is a search among the midpoints, the update a difference of prefix sums."""
    order = np.argsort(values, kind="stable")
    x = values[order].astype(np.float64)
    prefix = np.concatenate([[0.0], np.cumsum(x)])
    centroids = np.quantile(x, (np.arange(k) + 0.5) / k)
    for _ in range(KMEANS_STEPS):
        bounds = np.searchsorted(x, (centroids[1:] + centroids[:-1]) / 2)
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(x)]])
        counts = ends - starts
        sums = prefix[ends] - prefix[starts]
        centroids = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        centroids = np.sort(centroids)
    bounds = np.searchsorted(x, (centroids[1:] + centroids[:-1]) / 2)
    sorted_codes = np.repeat(np.arange(k), np.diff(np.concatenate([[0], bounds, [len(x)]])))
    codes = np.empty(len(x), np.uint8)
    codes[order] = sorted_codes
    return centroids, codes


def palettize(w: np.ndarray, bits: int, blocks: tuple) -> dict:
    """u8 indices and blockwise lookup tables [*blocks, 2^bits] with w ~= lut[block][indices]."""
    w = np.asarray(w)
    v = _block_view(w, blocks)
    k = 1 << bits
    flat = v.reshape(-1, v.shape[-1])
    luts = np.empty((flat.shape[0], k), np.float64)
    codes = np.empty(flat.shape, np.uint8)
    for i, row in enumerate(flat):
        luts[i], codes[i] = kmeans_1d(row, k)
    return {"indices": _unblock(codes.reshape(v.shape), w.shape, blocks),
            "lut": luts.reshape(tuple(blocks) + (k,)).astype(w.dtype)}
