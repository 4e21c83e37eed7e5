"""Write model.espresso.weights: the blob table, then payloads with zero padding blobs between.

Layout and id rule are in frontend/espresso/format.py: data blobs take ids 1, 3, 5, ...;
each even id is a zero blob padding the next data blob to a 64-byte file offset.
"""
from __future__ import annotations

import struct

from mlir_coreml.frontend.espresso import format as fmt

_U64 = struct.Struct("<Q")


def _as_bytes(payload) -> memoryview:
    view = memoryview(payload)
    return view if view.format == "B" and view.contiguous else view.cast("B")


def weights_table(sizes: list[int]) -> list[tuple[int, int]]:
    """(blob id, size) for every table entry, padding included, given the data blob sizes."""
    entries = []
    offset = fmt.WEIGHTS_COUNT_SIZE + 2 * len(sizes) * fmt.WEIGHTS_ENTRY_SIZE
    for index, size in enumerate(sizes):
        pad = fmt.padding_before(offset)
        entries.append((2 * index, pad))
        entries.append((fmt.data_blob_id(index), size))
        offset += pad + size
    return entries


def write_weights(blobs) -> bytes:
    """Serialize data blobs, given as (blob_id, bytes-like) with ids 1, 3, 5, ... in order.

    Any buffer works as payload (bytes, memoryview, C-contiguous numpy array); it is written
    as its raw bytes.
    """
    return b"".join(weights_parts(blobs))


def weights_parts(blobs) -> list:
    """The weights file as the buffers it is made of, the payloads themselves among them: the
    bundle writer writes and hashes them one by one instead of joining a copy of every weight."""
    payloads = []
    for index, (blob_id, payload) in enumerate(blobs):
        if blob_id != fmt.data_blob_id(index):
            raise ValueError(f"data blob #{index} has id {blob_id}; ids must be 1, 3, 5, ... in order")
        payloads.append(_as_bytes(payload))
    table = weights_table([view.nbytes for view in payloads])
    parts = [_U64.pack(len(table)) + b"".join(_U64.pack(blob_id) + _U64.pack(size) for blob_id, size in table)]
    for (_, pad), payload in zip(table[0::2], payloads):
        parts += [bytes(pad), payload]
    return parts
