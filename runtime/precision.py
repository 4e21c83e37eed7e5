"""Precision modes of `compile_model(precision=...)` and the report of what a mode changed.

A mode is a pipeline suffix run after the optimisation pipeline (so the precision passes see
the fused ops that will run): `fp32` adds nothing, `fp16` stores weights in f16
(`fp16-weights`), `ane` emulates the Neural Engine's numerics (`emulate-ane-numerics`: f16
weights and activations, f32 accumulation inside each op).

The report compares the module before and after those passes: bytes of every weight that
changed storage type, and the output drift on a calibration input (given, or generated from
the model's input types with a fixed seed), both run by the reference interpreter, plus the
first op whose result overflowed to inf in f16.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.opdef import ConstantLike
from mlir_coreml.ir.types import TensorType

PRECISION_PIPELINES = {"fp32": "", "fp16": "fp16-weights", "ane": "emulate-ane-numerics",
                       # coremltools' defaults: int8 linear symmetric per channel, int4 per block of 32,
                       # palettization (k-means LUT) per tensor
                       "int8": "quantize-weights{bits=8 mode=linear-symmetric granularity=per-channel}",
                       "int4": "quantize-weights{bits=4 mode=linear-symmetric granularity=per-block block-size=32}",
                       **{f"lut{n}": f"quantize-weights{{bits={n} mode=lut granularity=per-tensor}}"
                          for n in (8, 6, 4, 2)}}


# compute_units as coremltools names them -> the units partition-devices may use; each segment
# is outlined into a function of its own and the gpu and ane ones run with the accelerators'
# numerics (the hybrid run of runtime/hybrid.py, casts at the segment boundaries)
COMPUTE_UNITS = {"cpu": (), "cpu_only": (), "all": ("cpu", "gpu", "ane"), "cpu_and_ne": ("cpu", "ane"),
                 "cpu_and_gpu": ("cpu", "gpu")}


def placement_pipeline(compute_units: str | None, policy: str = "cost") -> str:
    units = COMPUTE_UNITS.get((compute_units or "cpu").lower())
    if units is None:
        raise MlirCoremlError(f"unknown compute_units '{compute_units}'; choose one of {', '.join(COMPUTE_UNITS)}")
    if not units:
        return ""
    return (f"partition-devices{{policy={policy} units={','.join(units)}}},outline-segments,"
            f"emulate-ane-numerics{{devices={','.join(u for u in units if u != 'cpu')}}}")


def precision_pipeline(precision: str | None) -> str:
    """The passes a precision mode adds; None means the model's stored precision (fp32 here)."""
    if precision is None:
        return ""
    if precision not in PRECISION_PIPELINES:
        raise MlirCoremlError(f"unknown precision '{precision}'; choose one of {', '.join(PRECISION_PIPELINES)}")
    return PRECISION_PIPELINES[precision]


def calibration_inputs(fn, seed: int = 0) -> list[np.ndarray]:
    """One input per argument of `fn`, from its declared type: floats uniform in [-1, 1)
    (images' pixel range is [0, 255)), integers in [0, 4); dynamic dims taken as 1."""
    rng = np.random.default_rng(seed)
    arrays = []
    for arg in fn.arguments:
        t = arg.type
        if not isinstance(t, TensorType) or t.shape is None:
            raise MlirCoremlError(f"input '{arg.name}' has no ranked type to generate a calibration input from; "
                                  f"pass calibration inputs")
        shape = tuple(1 if d is None else d for d in t.shape)
        dtype = t.element.numpy_dtype
        if np.issubdtype(dtype, np.floating):
            arrays.append(rng.uniform(-1.0, 1.0, shape).astype(dtype))
        else:
            arrays.append(rng.integers(0, 4, shape).astype(dtype))
    return arrays


@dataclass
class TensorSize:
    name: str
    shape: list
    before: str
    after: str
    bytes_before: int
    bytes_after: int


@dataclass
class OutputDrift:
    name: str
    max_abs: float
    relative: float  # ||after - before|| / ||before||


@dataclass
class PrecisionReport:
    precision: str
    tensors: list[TensorSize] = field(default_factory=list)
    drift: list[OutputDrift] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)  # "op at location: N values became inf"
    partition: dict | None = None  # partition-devices' decision report, when compute_units partitioned
    # the compiled model's own run (kernels; a partitioned model's hybrid run, one runner per
    # segment) against the all-CPU fp32 run on the kernels, same inputs
    measured: list[OutputDrift] = field(default_factory=list)
    # output -> fraction of its rows whose arg-max (top-1 class) is unchanged, for score outputs
    top1_agreement: dict = field(default_factory=dict)

    @property
    def bytes_before(self) -> int:
        return sum(t.bytes_before for t in self.tensors)

    @property
    def bytes_after(self) -> int:
        return sum(t.bytes_after for t in self.tensors)

    def to_json(self) -> dict:
        return dict(asdict(self), bytes_before=self.bytes_before, bytes_after=self.bytes_after)

    def to_text(self) -> str:
        lines = [f"precision {self.precision}: weights {self.bytes_before} -> {self.bytes_after} bytes "
                 f"({len(self.tensors)} tensors changed)"]
        lines += [f"  {t.name:32s} {'x'.join(map(str, t.shape)):>16s} {t.before}->{t.after} "
                  f"{t.bytes_before} -> {t.bytes_after}" for t in self.tensors]
        lines += [f"  output {d.name}: max |diff| {d.max_abs:.3g}, relative {d.relative:.3g}" for d in self.drift]
        lines += [f"  measured run vs all-CPU fp32 run, output {d.name}: max |diff| {d.max_abs:.3g}, "
                  f"relative {d.relative:.3g}" for d in self.measured]
        lines += [f"  output {n}: top-1 agreement {a:.3g}" for n, a in self.top1_agreement.items()]
        lines += [f"  overflow: {o}" for o in self.overflow] or ["  no fp16 overflow"]
        if self.partition is not None:
            from mlir_coreml.passes.partition_devices import report_text

            lines.append(report_text(self.partition).rstrip("\n"))
        return "\n".join(lines)

    def write(self, path: str) -> None:
        """JSON for a .json path, the readable table otherwise."""
        from mlir_coreml.codegen.atomic import write_file

        text = json.dumps(self.to_json(), indent=1) if path.endswith(".json") else self.to_text() + "\n"
        write_file(path, text.encode())


def _constants_by_name(module) -> dict:
    """Constant ops by a name stable across the precision passes (which keep each retyped or
    quantized constant's value name, resource name and location): unnamed ones by location and shape."""
    found, seen = {}, {}
    for op in module.walk():
        value = op.results[0] if op.has_trait(ConstantLike) and op.results else None
        if value is None or not isinstance(value.type, TensorType) or value.type.shape is None:
            continue
        attr = op.attributes.get("value") or op.attributes.get("data") or op.attributes.get("indices")
        name = value.name or getattr(attr, "name", None) or \
            f"{op.location or 'constant'}[{'x'.join(map(str, value.type.shape))}]"
        seen[name] = seen.get(name, 0) + 1
        found[name if seen[name] == 1 else f"{name}#{seen[name]}"] = op
    return found


def _storage(op) -> tuple[str, int]:
    """(storage label, bytes as stored) of a constant: its element type, or its compressed form."""
    from mlir_coreml.ir.dialects.core.quantized import COMPRESSED_CONSTANTS, storage_label, stored_bits

    if op.op_name in COMPRESSED_CONSTANTS:
        return storage_label(op), -(-stored_bits(op) // 8)
    t = op.results[0].type
    return str(t.element), int(np.prod(t.shape, dtype=np.int64)) * np.dtype(t.element.numpy_dtype).itemsize


def size_changes(before, after) -> list[TensorSize]:
    old, new = _constants_by_name(before), _constants_by_name(after)
    changes = []
    for name, op in new.items():
        t = op.results[0].type
        if name not in old or not t.is_static:
            continue
        (was, bytes_before), (now, bytes_after) = _storage(old[name]), _storage(op)
        if was != now:
            changes.append(TensorSize(name, list(t.shape), was, now, bytes_before, bytes_after))
    return changes


def traced_run(module, args: list[np.ndarray]) -> tuple[list, list[str]]:
    """Run main with the reference interpreter; also name each op whose result gained an inf
    that none of its operands had (an f16 overflow, or a genuine inf the op computed), looking
    into the functions main calls (outlined device segments)."""
    from mlir_coreml.ir.interpreter import Interpreter

    interp = Interpreter(module)
    overflow: list[str] = []
    return _traced_call(interp, interp.function(None), args, overflow), overflow


def _traced_call(interp, fn, args: list, overflow: list[str]) -> list:
    from mlir_coreml.ir.opdef import Terminator

    block = fn.regions[0].blocks[0]
    env = dict(zip(block.args, args))
    for op in block.ops:
        if op.has_trait(Terminator):
            return [env[v] for v in op.operands]
        if op.op_name == "func.call":
            callee = interp.function(op.attributes["callee"].value)
            env.update(zip(op.results, _traced_call(interp, callee, [env[v] for v in op.operands], overflow)))
            continue
        interp.run_op(op, env)
        had_inf = any(_count_inf(env.get(v)) for v in op.operands)
        new_inf = sum(_count_inf(env[r]) for r in op.results)
        if new_inf and not had_inf:
            overflow.append(f"'{op.op_name}' at {op.location or '<unknown>'}: {new_inf} values became inf")
    raise MlirCoremlError("the main function has no terminator")


def _count_inf(a) -> int:
    if not isinstance(a, np.ndarray) or not np.issubdtype(a.dtype, np.floating):
        return 0
    return int(np.isinf(a).sum())


def _drift(name: str, ref, got) -> OutputDrift:
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    diff = got - ref
    finite = np.isfinite(diff)
    max_abs = float(np.abs(diff[finite]).max()) if finite.any() else 0.0
    if not finite.all():
        max_abs = float("inf")
    norm = float(np.linalg.norm(ref))
    return OutputDrift(name, max_abs, float(np.linalg.norm(diff)) / norm if norm else max_abs)


def precision_report(precision: str, before, after, inputs: list[np.ndarray] | None = None) -> PrecisionReport:
    """Compare `before` and `after` (the module without and with the precision passes)."""
    from mlir_coreml.ir.interpreter import Interpreter

    fn = Interpreter(before).function(None)
    args = calibration_inputs(fn) if inputs is None else list(inputs)
    ref, _ = traced_run(before, args)
    got, overflow = traced_run(after, args)
    names = [v.name or f"output_{i}" for i, v in enumerate(fn.return_op.operands)]
    drift = [_drift(n, r, g) for n, r, g in zip(names, ref, got)
             if np.issubdtype(np.asarray(r).dtype, np.floating)]
    top1 = {n: top1_agreement(r, g) for n, r, g in zip(names, ref, got) if _is_scores(r)}
    return PrecisionReport(precision, size_changes(before, after), drift, overflow, top1_agreement=top1)


def _is_scores(a) -> bool:
    a = np.asarray(a)
    return np.issubdtype(a.dtype, np.floating) and a.ndim >= 1 and a.shape[-1] >= 2


def top1_agreement(ref, got) -> float:
    """The fraction of rows (every index but the last axis) whose arg-max is the same."""
    ref, got = np.asarray(ref), np.asarray(got)
    return float(np.mean(ref.argmax(axis=-1) == got.argmax(axis=-1)))


def measured_drift(model, baseline, args: list[np.ndarray]) -> list[OutputDrift]:
    """Run `model` (a CompiledModel) and the all-CPU fp32 model compiled from `baseline` (the
    module before the precision and placement passes) on the kernels with `args`; the drift of
    each float output."""
    from mlir_coreml.passes.manager import PassManager
    from mlir_coreml.runtime.predict import CompiledModel

    planned = baseline.clone()
    PassManager.from_pipeline("plan-memory").run(planned)
    cpu = CompiledModel(planned, threads=model.threads, codegen=False)
    ref, got = cpu.run_args(args), model.run_args(args)
    return [_drift(n, r, g) for n, r, g in zip(model.signature.output_names, ref, got)
            if np.issubdtype(np.asarray(r).dtype, np.floating)]


def partition_report_of(module, compute_units: str | None) -> dict | None:
    """The decision report of the placement a compile recorded (None when it did not partition)."""
    units = COMPUTE_UNITS.get((compute_units or "cpu").lower())
    if not units:
        return None
    from mlir_coreml.passes.partition_devices import main_function, partition_report

    return partition_report(main_function(module), units, "cost")
