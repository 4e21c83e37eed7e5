"""Writing a pass's decision report (partition-devices, select-conv-algorithm): JSON for a
`.json` path, else the pass's readable table; the file appears whole or not at all."""
from __future__ import annotations

import contextlib
import json
import os
from typing import Callable

from mlir_coreml.errors import MlirCoremlError


def write_report_file(path: str, report: dict, to_text: Callable[[dict], str], what: str) -> None:
    text = json.dumps(report, indent=1) + "\n" if path.endswith(".json") else to_text(report)
    staging = f"{path}.{os.getpid()}.partial"
    try:
        with open(staging, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(staging, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise MlirCoremlError(f"cannot write the {what}: {e.strerror or e}", path) from None
