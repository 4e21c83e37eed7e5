"""The device-partition report the graph view colours by, defined here once.

The partition pass (`partition-devices`) writes, and `view --report` reads, this JSON:

    {
      "version": 1,
      "segments": [
        {"id": 0, "device": "ane", "ops": ["conv_1", "relu_1"], "reason": "conv and relu run on the ANE",
         "estimated_ms": 0.42},
        {"id": 1, "device": "cpu", "ops": ["argmax_0"], "reason": "argmax is CPU-only"}
      ]
    }

`device` is one of DEVICES; `ops` name ops by their source location (the Core ML layer name,
which survives lowering); `reason` and `estimated_ms` are optional. Each op belongs to at most
one segment; segments are in execution order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from mlir_coreml.errors import MlirCoremlError

REPORT_VERSION = 1
DEVICES = ("cpu", "gpu", "ane")


@dataclass(frozen=True)
class Segment:
    id: int
    device: str
    ops: tuple[str, ...]
    reason: str = ""
    estimated_ms: float | None = None


def parse_report(data, where: str = "<report>") -> list[Segment]:
    """Validate a decoded report (the dict above); errors name the segment and the field."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise MlirCoremlError('a partition report is an object with a "segments" list', where)
    if data.get("version", REPORT_VERSION) != REPORT_VERSION:
        raise MlirCoremlError(f"partition report version {data.get('version')} (this build reads {REPORT_VERSION})",
                              where)
    segments, seen = [], {}
    for i, entry in enumerate(data["segments"]):
        place = f"{where}: segments[{i}]"
        if not isinstance(entry, dict):
            raise MlirCoremlError("a segment is an object", place)
        device = entry.get("device")
        if device not in DEVICES:
            raise MlirCoremlError(f'"device" must be one of {", ".join(DEVICES)}, got {device!r}', place)
        ops = entry.get("ops")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise MlirCoremlError('"ops" must be a list of op names (source locations)', place)
        for name in ops:
            if name in seen:
                raise MlirCoremlError(f"op '{name}' is in segments {seen[name]} and {i}", place)
            seen[name] = i
        estimate = entry.get("estimated_ms")
        segments.append(Segment(int(entry.get("id", i)), device, tuple(ops), str(entry.get("reason", "")),
                                None if estimate is None else float(estimate)))
    return segments


def load_report(path: str) -> list[Segment]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise MlirCoremlError(f"cannot read: {e.strerror or e}", path) from None
    except json.JSONDecodeError as e:
        raise MlirCoremlError(f"not JSON: {e.msg} at line {e.lineno}:{e.colno}", path) from None
    return parse_report(data, path)


def report_json(segments: list[Segment]) -> str:
    """The JSON text of `segments` (what a partition pass writes)."""
    entries = []
    for s in segments:
        entry = {"id": s.id, "device": s.device, "ops": list(s.ops), "reason": s.reason}
        if s.estimated_ms is not None:
            entry["estimated_ms"] = s.estimated_ms
        entries.append(entry)
    return json.dumps({"version": REPORT_VERSION, "segments": entries}, indent=2) + "\n"
