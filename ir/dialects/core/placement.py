"""Where each `core` op can run in Core ML: the capability table of the compute units.

Facts from ../shared/docs/device-placement.md §4c (hollance/neural-engine unsupported-layers,
coremltools issue #337 and #1761), kept beside the ops so an op's entry says where it runs
and why not. `unsupported(op, unit)` is None when `unit` can run `op`, else the reason.
The CPU runs everything. Limits not known from public sources (tensor size limits of the
Neural Engine) are not guessed here.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import F16, F32, TensorType

UNITS = ("cpu", "gpu", "ane")
DEVICE_ATTR = "device"  # the op attribute naming the unit an op is placed on (partition-devices writes it)

_RECURRENT = ("recurrent layers (LSTM/GRU/RNN) run on the CPU: the Neural Engine does not support them "
              "(hollance/neural-engine unsupported-layers) and Core ML schedules them on BNNS (coremltools #337)")

# op name -> {unit: reason it cannot run there}; units not named can run the op
NOT_ON: dict[str, dict[str, str]] = {
    "core.lstm": {"gpu": _RECURRENT, "ane": _RECURRENT},
    "core.gru": {"gpu": _RECURRENT, "ane": _RECURRENT},
    "core.rnn": {"gpu": _RECURRENT, "ane": _RECURRENT},
    "core.gather": {"ane": "gather does not run on the Neural Engine (hollance/neural-engine unsupported-layers)"},
    "core.gather_nd": {"ane": "gather does not run on the Neural Engine (hollance/neural-engine unsupported-layers)"},
}

# elementwise ops with two tensor operands: Core ML's broadcastable ("ND") layers when shapes differ
BINARY = frozenset({"core.add", "core.sub", "core.mul", "core.div", "core.max", "core.min", "core.pow"})
ANE_MAX_RANK = 4  # NCHW; rank-5 blobs with unit sequence dims are 4-D for the ANE


def _tensor_types(op) -> list[TensorType]:
    return [v.type for v in (*op.operands, *op.results) if isinstance(v.type, TensorType)]


def _numel(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _is_constant(value) -> bool:
    """A constant operand makes a binary op a scale/bias layer, which the Neural Engine runs;
    the broadcastable layers it refuses combine two activations."""
    producer = getattr(value, "op", None)
    return producer is not None and producer.has_trait(ConstantLike)


def _channel_broadcast(big, small) -> bool:
    """`small` broadcasts onto `big` as a scalar or a per-channel [C, 1, 1] (the plain add/multiply
    layers), not as a general ND broadcast."""
    if small == big or _numel(small) == 1:
        return True
    small = (1,) * (len(big) - len(small)) + tuple(small)
    differing = [i for i, (a, b) in enumerate(zip(big, small)) if a != b]
    kept = [i for i, d in enumerate(small) if d != 1]
    return len(big) >= 3 and kept == [len(big) - 3] and all(small[i] == 1 for i in differing)


def _accelerator_reason(op, unit: str) -> str | None:
    """Rules that hold for the GPU and the Neural Engine alike."""
    if op.regions:
        return "control flow runs on the CPU"
    if not op.op_name.startswith("core."):
        return f"'{op.op_name}' has no core lowering: it runs its reference on the CPU"
    if any(t.element not in (F16, F32) for t in _tensor_types(op)):
        return f"integer or boolean tensors: the {unit} computes in fp16/fp32 only"
    return NOT_ON.get(op.op_name, {}).get(unit)


def _ane_reason(op) -> str | None:
    if tuple(op.attributes["dilations"].value if "dilations" in op.attributes else (1, 1)) != (1, 1):
        return "dilated convolutions do not run on the Neural Engine (hollance/neural-engine unsupported-layers)"
    types = _tensor_types(op)
    if any(t.shape is None for t in types):
        return "dynamic rank: the Neural Engine needs static NCHW tensors"
    if any(len(t.shape) > ANE_MAX_RANK and any(d != 1 for d in t.shape[:-ANE_MAX_RANK]) for t in types):
        return f"tensors of rank above {ANE_MAX_RANK} (ND layers) do not run on the Neural Engine"
    if any(d is None for t in types for d in t.shape):
        return "dynamic shape: the Neural Engine needs static shapes"
    if op.op_name in BINARY and len(op.operands) == 2 and not any(_is_constant(v) for v in op.operands):
        a, b = (tuple(v.type.shape) for v in op.operands)
        big, small = (a, b) if _numel(a) >= _numel(b) else (b, a)
        if not _channel_broadcast(big, small):
            return (f"broadcast {'x'.join(map(str, a))} with {'x'.join(map(str, b))}: broadcastable (ND) "
                    f"layers do not run on the Neural Engine")
    return None


def unsupported(op, unit: str) -> str | None:
    """Why `unit` cannot run `op`, or None if it can."""
    if unit == "cpu":
        return None
    reason = _accelerator_reason(op, unit)
    if reason is None and unit == "ane":
        reason = _ane_reason(op)
    return reason
