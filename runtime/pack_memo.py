"""The kernels' packed weight panels of a cached compile, kept beside its entry so a warm
`compile_model` maps them instead of packing again (for fp32 ResNet-18, packing 46 MB of
weights is most of a warm compile).

The executor packs through `pack_conv_weights`, `pack_conv_transpose_weights` and
`pack_weights` here, which call the kernels' packers unless a memo is active. While a compile
cache entry is turned into a runnable model (`with active(entry):`), a weight that lies in the
entry's mapped `weights.bin` is known by its offset there, shape, dtype and the packing
arguments: the same weight bytes and arguments always pack alike (the entry's key covers the
code and the ISA). Panels found in the entry's `packed/` folder are used as they are (mapped
copy-on-write); otherwise the panels are packed and, at the end, written to `packed/`
(a temporary folder renamed into place, so a reader sees all of them or none).
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import tempfile

import numpy as np

_active: contextvars.ContextVar[PackMemo | None] = contextvars.ContextVar("mlir_coreml_pack_memo", default=None)
PACKED_FILE, PANELS_FILE = "packed.pickle", "panels.bin"


def _kernels():
    from mlir_coreml.csrc import _kernels

    return _kernels


def pack_weights(w, precision: str = "fp16"):
    return _pack("gemm", _kernels().pack_weights, w, precision)


def pack_conv_weights(w, groups: int = 1, precision: str = "fp16"):
    return _pack("conv", _kernels().pack_conv_weights, w, groups, precision)


def pack_conv_transpose_weights(w, groups: int = 1, precision: str = "fp16"):
    return _pack("conv_transpose", _kernels().pack_conv_transpose_weights, w, groups, precision)


def _pack(kind: str, packer, w, *args):
    memo = _active.get()
    return packer(w, *args) if memo is None else memo.pack(kind, packer, w, args)


@contextlib.contextmanager
def active(entry):
    """Pack through the memo of compile-cache `entry` (runtime/compile_cache.py) in this block."""
    memo = PackMemo(entry)
    token = _active.set(memo)
    try:
        yield memo
    finally:
        _active.reset(token)
    memo.save()


class PackMemo:
    def __init__(self, entry):
        from mlir_coreml.runtime import compile_cache

        self.folder = os.path.join(entry.folder, compile_cache.PACKED_DIR)
        self.base, self.size = _address_range(entry.mapping)
        self.known: dict = {}
        self.new: dict = {}
        if os.path.isfile(os.path.join(self.folder, PACKED_FILE)):
            try:
                self.known, _ = compile_cache.read_pickle(self.folder, PACKED_FILE, PANELS_FILE)
            except compile_cache.UNREADABLE:
                shutil.rmtree(self.folder, ignore_errors=True)

    def key(self, kind: str, w, args: tuple):
        """What identifies the packing of `w`: its place in the entry's weights, or None when it
        is not there (a weight the passes computed)."""
        if not isinstance(w, np.ndarray) or not w.flags.c_contiguous or self.size == 0:
            return None
        offset = w.__array_interface__["data"][0] - self.base
        if not 0 <= offset < self.size:
            return None
        return kind, offset, w.shape, w.dtype.str, args

    def pack(self, kind: str, packer, w, args: tuple):
        key = self.key(kind, w, args)
        if key is None:
            return packer(w, *args)
        packed = self.known.get(key)
        if packed is None:
            packed = self.new[key] = packer(w, *args)
        return packed

    def save(self) -> None:
        """Write the panels packed in this block, with those already known, if any are new."""
        from mlir_coreml.runtime import compile_cache

        if not self.new or not os.path.isdir(os.path.dirname(self.folder)):
            return
        work = tempfile.mkdtemp(prefix=".packed-", dir=os.path.dirname(self.folder))
        try:
            if compile_cache.write_pickle(work, PACKED_FILE, PANELS_FILE, {**self.known, **self.new}):
                shutil.rmtree(self.folder, ignore_errors=True)
                with contextlib.suppress(OSError):  # another process wrote them first
                    os.rename(work, self.folder)
        except OSError:  # a full or read-only cache: the next compile packs again
            pass
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _address_range(mapping) -> tuple[int, int]:
    if mapping is None or len(mapping) == 0:
        return 0, 0
    view = np.frombuffer(mapping, dtype=np.uint8)
    return view.__array_interface__["data"][0], view.size
