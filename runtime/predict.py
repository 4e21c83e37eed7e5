"""The predict API: `compile_model(path_or_module) -> CompiledModel` and the CLI's `run`.

Compiling loads the model and runs the named pipeline `coreml-cpu` (passes/pipelines.py:
lower the frontend dialect to `core`, canonicalize, fuse, plan activation memory last), then
builds an Executor (kernels with weights packed once, the numpy reference for the rest).

`predict` follows coremltools' `MLModel.predict`: a dict of input name -> array in, a dict of
output name -> array out (classifiers add the predicted label and a label -> probability
dict); a list of dicts predicts each. Inputs are checked against the model's declared names,
shapes and dtypes; an input given without the leading unit dims the IR adds (Core ML's rank-5
blobs) is accepted, and image inputs also take H x W x C uint8 arrays or PIL images.
"""
from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np

from mlir_coreml.codegen.atomic import write_file
from mlir_coreml.runtime.state import make_state, state_names, update_state, with_state
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import StateType, TensorType
from mlir_coreml.passes.to_core import FRONTEND_DIALECTS, dialects_in
from mlir_coreml.runtime import compile_cache, features, pack_memo
from mlir_coreml.runtime.flexible import (FlexibleModel, ShapeSchedules, input_constraints, single_function_module,
                                          specialize)
from mlir_coreml.runtime.timing import finish as finish_timing, phase, record as record_phases, session as timing_session

DEFAULT_PIPELINE = "coreml-cpu"  # passes/pipelines.py
CODEGEN_ENV = "MLIR_COREML_CODEGEN"


def _load(path_or_module):
    from mlir_coreml.ir.core import Operation

    if isinstance(path_or_module, Operation):
        return path_or_module.clone()
    if isinstance(path_or_module, (str, os.PathLike)):
        from mlir_coreml.frontend import load_model

        return load_model(os.fspath(path_or_module))
    raise MlirCoremlError(f"compile_model expects a model path or an IR module, got {type(path_or_module).__name__}")


def cpu_passes(pipeline: str | None = None) -> list:
    """The passes `compile_model` runs: the named CPU pipeline by default; a pipeline of one's
    own gets the lowering to core before it and plan-memory after it when it lacks them
    (the runtime needs both)."""
    from mlir_coreml.passes.pipeline import parse_pipeline
    from mlir_coreml.passes.plan_memory import PlanMemory
    from mlir_coreml.passes.to_core import ToCore

    passes = parse_pipeline(DEFAULT_PIPELINE if pipeline is None else pipeline)
    if not passes or passes[0].name != ToCore.name:
        passes.insert(0, ToCore())
    if passes[-1].name != PlanMemory.name:
        passes.append(PlanMemory())
    return passes


def compile_model(path_or_module, pipeline: str | None = None, threads: int | None = None,
                  use_kernels: bool = True, codegen: bool | None = None, trust_bundled_kernels: bool = False,
                  function_name: str | None = None, precision: str | None = None,
                  compute_units: str | None = None, timing: bool | None = None) -> CompiledModel:
    """Lower, optimise and plan a model for CPU execution. `pipeline` replaces the default
    optimisation pipeline; `threads` sets the kernels' thread count (1 is deterministic);
    `precision` (runtime/precision.py) None computes with weights in the precision the model
    stores them: f16 weights run on the fp16-panel kernels, f32 weights on fp32 panels (within
    the fp32 acceptance tolerance, 1e-4); "int8", "int4" and "lut8".."lut2" add `quantize-weights`
    (runtime/precision.py); "fp16" adds `fp16-weights`
    to the pipeline so every conv/linear/matmul weight is f16 in the IR and runs on the
    kernels (Core ML's accelerator precision, faster); "ane" emulates the Neural Engine's
    numerics. `compute_units` ("cpu" default, "all", "cpu_and_ne", "cpu_and_gpu", as in
    coremltools) partitions the model over those units (`partition-devices{policy=cost}`,
    `outline-segments`) and runs each segment with its own runner (runtime/hybrid.py): the gpu/ane
    segments with the accelerators' fp16 numerics; `model.partition_report` holds the decisions.
    `model.precision_report()` gives the drift of both against fp32 on the CPU.
    `use_kernels=False` runs every op through its numpy reference.
    `codegen` (default: on unless MLIR_COREML_CODEGEN=0) runs the schedule through a module
    generated for this model and compiled once (cached by content hash, see runtime/build.py);
    models with control flow, or a machine without a C compiler, use the executor.
    A build shipped with the model (`lower --kernels`, `save`) is native code: it is loaded only
    if this machine made it (keyed hash, runtime/build.py) or with `trust_bundled_kernels=True`.
    `function_name` picks the function of a multi-function model (default: the model's
    defaultFunctionName, else `main`). Flexible inputs compile one schedule per concrete input
    shape on first use (runtime/flexible.py): an ML Program whose inputs have `?` dims gives a
    FlexibleModel; a NeuralNetwork is built for its default shapes and compiles the others.
    The lowered IR of a model file is cached (runtime/compile_cache.py): compiling the same
    file again skips the frontend and the passes. `timing` (default: MLIR_COREML_TIMING)
    prints where the compile's time went on stderr (runtime/timing.py); the report is kept
    as `model.compile_timing` either way."""
    lowering = dict(pipeline=pipeline, precision=precision, compute_units=compute_units, function_name=function_name)
    running = dict(threads=threads, use_kernels=use_kernels, codegen=codegen,
                   trust_bundled_kernels=trust_bundled_kernels)
    with timing_session() as (clock, owned):
        model = _compile_source(path_or_module, lowering, running)
    model.compile_timing = clock
    finish_timing(clock, owned, timing)
    return model


def _compile_source(path_or_module, lowering: dict, running: dict):
    """compile_model's work, from the cache when the model file was compiled before."""
    source = path_or_module if isinstance(path_or_module, (str, os.PathLike)) else None
    with phase("cache lookup"):
        entry = compile_cache.entry_for(source, lowering)
    with phase("cache load"):
        cached = entry.load() if entry is not None else None
    if cached is not None:
        with pack_memo.active(entry):
            return _runnable(cached, source=source, **running)
    with phase("parse"):
        module = _load(path_or_module)
    if "classical" in dialects_in(module):  # classical models and mixed pipelines
        from mlir_coreml.runtime.classical import ClassicalCompiledModel

        return ClassicalCompiledModel(module, source=path_or_module)
    from mlir_coreml.ir.dialects.func import entry_function

    fn = entry_function(module, lowering["function_name"])
    if sum(op.op_name == "func.func" for op in module.body.ops) > 1:
        module = single_function_module(module, fn)
        fn = entry_function(module)
    if any(isinstance(a.type, StateType) for a in fn.arguments):  # iOS18 state: see runtime/state.py
        from mlir_coreml.passes.functionalize_state import functionalize

        functionalize(fn)
    # flexible inputs compile again per concrete shape, from the module as imported (a lowered
    # module has shapes baked into its ops: it runs the shapes it was compiled for)
    flexible = Signature(fn).shape_rules and dialects_in(module) & set(FRONTEND_DIALECTS)
    imported = module.clone() if flexible else None
    options = dict(pipeline=lowering["pipeline"], precision=lowering["precision"],
                   compute_units=lowering["compute_units"], **running)
    if input_constraints(module, fn):
        return FlexibleModel(module, fn, Signature(fn), lambda static: _compile_module(static, source=source, **options),
                             source)
    lowered = _lower(module, options["pipeline"], options["precision"], options["compute_units"])
    if imported is None and entry is not None:
        with phase("cache store"):
            stored = entry.store(lowered) and entry.load()
        if stored:  # run what a warm compile will run, and leave it the packed panels
            with pack_memo.active(entry):
                return _runnable(stored, source=source, **running)
    model = _runnable(lowered, source=source, **running)
    if imported is not None:
        name = fn.attributes["sym_name"].value
        model.schedules = ShapeSchedules(lambda shapes: _compile_module(specialize(imported, name, shapes), **options))
    return model


def staged_passes(pipeline: str | None = None, precision: str | None = None,
                  compute_units: str | None = None) -> tuple[list, list, list]:
    """What compile_model runs, in three stages: the optimisation passes, the precision and
    placement passes (they act on the fused ops), and the passes that choose the layout and plan
    memory (they see the final ops: quantized or fp16 weights, each segment function of a
    partitioned model)."""
    from mlir_coreml.passes.pipeline import parse_pipeline
    from mlir_coreml.runtime.precision import placement_pipeline, precision_pipeline

    passes = cpu_passes(pipeline)
    suffix = ",".join(filter(None, (precision_pipeline(precision), placement_pipeline(compute_units))))
    split = len(passes)
    while split > 0 and passes[split - 1].name in ("blocked-layout", "concat-in-place", "plan-memory"):
        split -= 1
    return passes[:split], parse_pipeline(suffix) if suffix else [], passes[split:]


@dataclasses.dataclass
class Lowered:
    """What the passes make of a model (the compile cache's entry): the planned module, the
    module before the precision passes (for `precision_report`) and the partition decisions."""
    module: object
    precision: str
    baseline: object = None
    partition_report: object = None


def _compile_module(module, pipeline: str | None, source=None, precision: str | None = None,
                    compute_units: str | None = None, **running) -> CompiledModel:
    return _runnable(_lower(module, pipeline, precision, compute_units), source=source, **running)


def _lower(module, pipeline: str | None, precision: str | None = None, compute_units: str | None = None) -> Lowered:
    """Lower `module` (in place), optimise, apply the precision mode and plan memory; the
    module before the precision passes is kept for `precision_report`."""
    from mlir_coreml.runtime.precision import partition_report_of

    optimise, precise, plan = staged_passes(pipeline, precision, compute_units)
    _run_passes(optimise, module)
    baseline = module.clone() if precise else None
    _run_passes(precise + plan, module)
    label = (precision or "fp32") + (f" compute_units={compute_units}" if compute_units else "")
    return Lowered(module, label, baseline, partition_report_of(module, compute_units))


def _run_passes(passes, module) -> None:
    from mlir_coreml.passes.manager import PassManager

    manager = PassManager.from_pipeline(passes) if isinstance(passes, str) else PassManager(passes)
    with phase("pass pipeline"):
        try:
            manager.run(module)
        finally:
            record_phases(manager.timings)


def _runnable(lowered: Lowered, source=None, **running) -> CompiledModel:
    model = CompiledModel(lowered.module, source=source, **running)
    model.precision = lowered.precision
    model.precision_baseline = lowered.baseline
    model.partition_report = lowered.partition_report
    return model


def main_function(module):
    funcs = [op for op in module.walk() if op.op_name == "func.func"]
    if not funcs:
        raise MlirCoremlError("the model has no function to run")
    for fn in funcs:
        if fn.attributes["sym_name"].value == "main":
            return fn
    return funcs[0]


def _attr(fn, key, default=None):
    a = fn.attributes.get(key)
    return default if a is None else a.value


class Signature:
    """A function's inputs and outputs as predict sees them: checks inputs, names outputs."""

    def __init__(self, fn):
        self.function = fn
        self.inputs = {arg.name or f"input_{i}": arg.type for i, arg in enumerate(fn.arguments)}
        names = _attr(fn, "coreml.result_names")
        operands = fn.return_op.operands
        self.output_names = list(names) if names and len(names) == len(operands) else \
            [v.name or f"output_{i}" for i, v in enumerate(operands)]
        module = fn.parent_op
        module_attributes = module.attributes if module is not None else {}
        described_inputs, described_outputs = _attr(fn, "coreml.inputs"), _attr(fn, "coreml.outputs")
        description = module_attributes.get("coreml.description")  # an ML Program's, for its main function
        if described_inputs is None and description is not None and _attr(fn, "sym_name") == "main":
            described_inputs, described_outputs = description.value.get("input"), description.value.get("output")
        self.input_features = features.features_by_name(described_inputs)
        self.output_features = features.features_by_name(described_outputs)
        self.shape_rules = {name: rule for name in self.inputs
                            if (rule := features.shape_rule(self.input_features.get(name))) is not None}
        self.rank5 = features.uses_rank5_blobs(module_attributes, fn.attributes)
        states = state_names(fn)  # the new state values end the results (passes/functionalize_state.py)
        if states:
            self.output_names[len(self.output_names) - len(states):] = [f"state:{n}" for n in states]

    @property
    def image_inputs(self) -> dict[str, str]:
        """Image input name -> colour space, read off the input descriptions (not kept twice)."""
        return {name: ((f.get("type") or {}).get("imageType") or {}).get("colorSpace", "RGB")
                for name, f in self.input_features.items() if "imageType" in (f.get("type") or {})}

    def check_inputs(self, data) -> list[np.ndarray]:
        if not isinstance(data, dict):
            raise MlirCoremlError(f"predict expects a dict of input name -> array (or a list of them), "
                                  f"got {type(data).__name__}")
        expected = ", ".join(f"'{k}' ({t})" for k, t in self.inputs.items())
        unknown = [k for k in data if k not in self.inputs]
        if unknown:
            raise MlirCoremlError(f"unknown input '{unknown[0]}'; the model's inputs are {expected}")
        missing = [k for k in self.inputs if k not in data]
        if missing:
            raise MlirCoremlError(f"missing input '{missing[0]}' (expected {self.inputs[missing[0]]}); "
                                  f"the model's inputs are {expected}")
        return [self.check_input(name, data[name], t) for name, t in self.inputs.items()]

    def check_input(self, name: str, value, expected: TensorType) -> np.ndarray:
        kind, body = features.kind_of(self.input_features.get(name))
        if kind == "imageType":
            pixels = features.image_pixels(value, body.get("colorSpace", "RGB"))
            value = value if pixels is None else pixels
        if features.is_pil_image(value):
            raise MlirCoremlError(f"input '{name}' is a PIL image, but the model expects a multi-array ({expected})")
        array = np.asarray(value)
        if not isinstance(expected, TensorType):
            return array
        want = expected.element.numpy_dtype
        if not _dtype_accepted(array.dtype, want):
            raise MlirCoremlError(f"input '{name}' has dtype {array.dtype}, but the model expects {expected.element} "
                                  f"({expected}); pass a {_dtype_hint(want)} array")
        if expected.shape is not None:
            array = self.fit_shape(name, array, expected, kind == "imageType")
        return np.ascontiguousarray(array, dtype=want).reshape(array.shape)  # a 0-d input stays 0-d

    def fit_shape(self, name: str, array: np.ndarray, expected: TensorType, image: bool) -> np.ndarray:
        shape = expected.shape
        if len(shape) == array.ndim and all(d is None or d == s for d, s in zip(shape, array.shape)):
            return array
        # Core ML feature shapes leave out the unit dims of the rank-5 blob layout ([C] is [1,1,C,1,1])
        if all(d is not None for d in shape) and \
                [d for d in array.shape if d != 1] == [d for d in shape if d != 1]:
            return array.reshape(shape)
        rule = self.shape_rules.get(name)
        allowed = ""
        if rule is not None:
            given = tuple(array.shape[-2:]) if image else features.description_shape(array.shape, rule)
            target = features.blob_shape(given, shape, image)
            if rule.allows(given) and len(target) == len(shape) and int(np.prod(target)) == array.size and \
                    (not image or array.ndim >= 3 and array.shape[-3] == shape[-3]):
                return array.reshape(target)
            allowed = f"; allowed: {rule.describe()}"
        if image and array.ndim >= 2 and len(shape) >= 2:
            raise MlirCoremlError(f"input '{name}' is an image of {array.shape[-2]}x{array.shape[-1]} (height x "
                                  f"width), but the model takes {shape[-2]}x{shape[-1]}{allowed}")
        want = "x".join("?" if d is None else str(d) for d in shape)
        raise MlirCoremlError(f"input '{name}' has shape {tuple(array.shape)}, but the model expects "
                              f"{want} ({expected}){allowed}")

    def format_outputs(self, results: list) -> dict:
        out = {name: features.output_value(name, value, self.output_features.get(name), self.rank5)
               for name, value in zip(self.output_names, results)}
        labels = _attr(self.function, "coreml.class_labels")
        if not labels:
            return out
        probs_name = _attr(self.function, "coreml.predictedProbabilitiesName")
        label_name = _attr(self.function, "coreml.predictedFeatureName", "classLabel")
        key = probs_name if probs_name in out else self.output_names[-1]
        probs = np.asarray(out.pop(key)).reshape(-1)
        if probs.size != len(labels):
            raise MlirCoremlError(f"classifier output '{key}' has {probs.size} values for {len(labels)} class labels")
        out[probs_name or key] = {label: float(p) for label, p in zip(labels, probs)}
        out[label_name] = labels[int(np.argmax(probs))]
        return out


class CompiledModel:
    """A model ready to predict; see the module docstring for the conventions."""

    def __init__(self, module, threads: int | None = None, use_kernels: bool = True,
                 source=None, codegen: bool | None = None, trust_bundled_kernels: bool = False):
        from mlir_coreml.runtime.executor import Executor
        from mlir_coreml.runtime.hybrid import HybridRunner, segment_calls
        from mlir_coreml.runtime.specialized import specialize

        self.module = module
        self.threads = threads
        self.source = source
        self.function = main_function(module)
        self.signature = Signature(self.function)
        self.states = state_names(self.function)
        with phase("executor (pack weights)"):
            self.executor = Executor(module, self.function, use_kernels=use_kernels)
        if codegen is None:
            codegen = os.environ.get(CODEGEN_ENV, "1") != "0"
        search = (artefact_dir(source),) if source is not None else ()

        def runner_for(executor):
            """The generated module running `executor`'s schedule when there is one, else it."""
            return (specialize(executor, search=search, trust=trust_bundled_kernels)
                    if codegen and use_kernels else None) or executor

        # what predict runs: a partitioned model's segments each with a runner of its own
        with phase("generated module"):
            self.runner = HybridRunner(module, self.function,
                                       lambda fn: runner_for(Executor(module, fn, use_kernels=use_kernels))) \
                if segment_calls(module, self.function) else runner_for(self.executor)
        # what a batched variant is compiled with (runtime/batch.py); batch size -> model or None
        self.options = dict(threads=threads, use_kernels=use_kernels, codegen=codegen,
                            trust_bundled_kernels=trust_bundled_kernels)
        self.batch_variants: dict = {}
        self.schedules: ShapeSchedules | None = None  # the builds for other allowed input shapes

    def precision_report(self, inputs: dict | None = None):
        """What `precision` and `compute_units` changed: per-weight bytes before/after, the output
        drift on `inputs` (default: generated from the input types) by the reference interpreter,
        and measured on the kernels: this model's run (a partitioned model's hybrid run)
        against the all-CPU fp32 run."""
        from mlir_coreml.runtime.precision import (PrecisionReport, calibration_inputs, measured_drift,
                                                   precision_report)

        baseline = getattr(self, "precision_baseline", None)
        if baseline is None:
            return PrecisionReport(getattr(self, "precision", "fp32"))
        args = calibration_inputs(main_function(baseline)) if inputs is None else self.signature.check_inputs(inputs)
        report = precision_report(self.precision, baseline, self.module, args)
        report.partition = getattr(self, "partition_report", None)
        report.measured = measured_drift(self, baseline, args)
        return report

    @property
    def inputs(self) -> dict:
        """Input name -> declared tensor type."""
        return {k: t for k, t in self.signature.inputs.items() if k not in self.states}

    @property
    def output_names(self) -> list[str]:
        return self.signature.output_names[:len(self.signature.output_names) - len(self.states)]

    def __repr__(self):
        ins = ", ".join(f"{k}: {t}" for k, t in self.inputs.items())
        return f"CompiledModel(inputs=({ins}), outputs={self.output_names})"

    def make_state(self):
        """A fresh (zeroed) state for a stateful model, to pass to `predict(..., state=)`."""
        return make_state(self.signature, self.states)

    def predict(self, data, batch_size: int | None = None, state=None):
        """dict name -> array  ->  dict name -> array; a list of dicts (or, with `batch_size`, a
        dict of arrays with a leading batch dim) -> a list of dicts, run as by `predict_batch`.
        A stateful model reads and updates `state` (default: a fresh one per call)."""
        if self.states:
            if isinstance(data, (list, tuple)):
                return [self.predict(item, state=state) for item in data]
            state = state if state is not None else self.make_state()
            outputs = self.signature.format_outputs(self.run_args(self.signature.check_inputs(
                with_state(data, state, self.states))))
            return update_state(outputs, state, self.states, self.signature.output_names)
        if isinstance(data, (list, tuple)) or batch_size is not None:
            return self.predict_batch(data, batch_size)
        return self.signature.format_outputs(self.run_args(self.signature.check_inputs(data)))

    def predict_batch(self, data, batch_size: int | None = None) -> list[dict]:
        """Predict many samples, `batch_size` per run of the kernels: conv and GEMM see the whole
        batch in one call when the model's shapes allow it, else each sample runs alone. The
        default batch keeps the activations in cache (runtime/batch.py). One dict per sample."""
        from mlir_coreml.runtime.batch import predict_batch

        return predict_batch(self, data, batch_size)

    def batched(self, size: int):
        """This model compiled to run `size` samples per call (cached), or None when its shapes
        do not allow it."""
        from mlir_coreml.runtime.batch import compile_batched

        if size not in self.batch_variants:
            self.batch_variants[size] = compile_batched(self, size)
        return self.batch_variants[size]

    def run_args(self, args: list[np.ndarray]) -> list[np.ndarray]:
        """Run checked arguments (in the function's order) through the kernels."""
        from mlir_coreml.csrc import _kernels

        # None: MLIR_COREML_NUM_THREADS or the CPU count, not a previous model's setting
        _kernels.set_num_threads(self.threads or 0)
        return self.runner_for(args).run(args)

    def runner_for(self, args: list[np.ndarray]):
        """The runner compiled for these argument shapes (a flexible model's other allowed shapes)."""
        shapes = [tuple(a.shape) for a in args]
        if all(_matches(s, t) for s, t in zip(shapes, self.signature.inputs.values())):  # states included
            return self.runner
        if self.schedules is None:
            given = ", ".join(f"'{name}' {'x'.join(map(str, s))}" for name, s in zip(self.signature.inputs, shapes))
            raise MlirCoremlError(f"this compiled model runs its default input shapes only ({self}); compile the "
                                  f"source model to predict with other allowed shapes ({given})")
        return self.schedules.get(dict(zip(self.signature.inputs, shapes))).runner

    def save(self, path) -> str:
        """Write the lowered, planned module with its weights as IR text (`.mlir`) and, when a
        generated module runs it, that build beside it (`artefact_dir`): compiling the saved
        file again needs no frontend, no lowering and no C compiler."""
        from mlir_coreml.ir.printer import print_module

        path = os.fspath(path)
        if not path.endswith(".mlir"):
            path += ".mlir"
        text = print_module(self.module, resources=True).encode("utf-8")
        write_file(path, text)
        self.export_kernels(artefact_dir(path))
        return path

    def export_kernels(self, folder: str) -> bool:
        """Copy the generated module's build into `folder` (atomically); False without one."""
        from mlir_coreml.runtime import build
        from mlir_coreml.codegen.atomic import write_directory
        from mlir_coreml.runtime.specialized import SpecializedExecutor

        if not isinstance(self.runner, SpecializedExecutor):
            return False
        write_directory(folder, lambda staging: build.export(self.runner.module, str(staging)))
        return True


def artefact_dir(model_path) -> str:
    """Where a model's generated-kernel build is kept: the `mlir_coreml/` folder inside a bundle or
    package (Core ML ignores folders it does not know), `<file>.kernels/` beside a file."""
    path = os.fspath(model_path)
    return os.path.join(path, "mlir_coreml") if os.path.isdir(path) else path + ".kernels"


def _matches(shape: tuple, t) -> bool:
    return not isinstance(t, TensorType) or t.shape is None or \
        (len(shape) == len(t.shape) and all(d is None or d == s for d, s in zip(t.shape, shape)))


def _dtype_accepted(got: np.dtype, want: np.dtype) -> bool:
    if got.kind not in "biuf":
        return False
    if want.kind == "f":
        return True
    if want.kind in "iu":
        return got.kind in "biu"
    if want.kind == "b":
        return got.kind == "b"
    return False


def _dtype_hint(want: np.dtype) -> str:
    return {"f": "float", "i": "integer", "u": "integer", "b": "bool"}.get(want.kind, str(want))


# -- the CLI's `run` ---------------------------------------------------------------------------

def read_npz(path) -> dict[str, np.ndarray]:
    """The arrays of an `.npz` archive (np.savez), anything else one error: the file must be a
    regular file (not a FIFO or device), an archive (not a bare .npy), of plain arrays (no pickles)."""
    import zipfile

    from mlir_coreml.ir.guard import open_regular

    where = os.fspath(path)
    fd, _ = open_regular(where, "weights")
    with os.fdopen(fd, "rb") as stream:
        try:
            loaded = np.load(stream, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("a single .npy array, not an .npz archive of named inputs (write one with np.savez)")
            with loaded as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
            raise MlirCoremlError(f"cannot read inputs: {e}; expected an .npz archive of named arrays "
                                  "(numpy.savez(path, name=array, ...))", where) from None


def run_npz(model, inputs_npz, outputs_npz=None, threads: int | None = None, reference: bool = False,
            trust_kernels: bool = False, precision: str | None = None, report: str | None = None,
            compute_units: str | None = None) -> dict:
    """Predict on the arrays of `inputs_npz` (keys = input names); write the outputs to
    `outputs_npz` (atomically) or print a summary. `reference` runs the imported module
    through the numpy reference interpreter, without lowering. `report` writes the precision
    report (runtime/precision.py) measured on these inputs."""
    inputs = read_npz(inputs_npz)
    if reference:
        outputs = _run_reference(model, inputs)
    else:
        compiled = compile_model(model, threads=threads, trust_bundled_kernels=trust_kernels, precision=precision,
                                 compute_units=compute_units)
        outputs = compiled.predict(inputs)
        if report is not None:
            compiled.precision_report(inputs).write(report)
    if outputs_npz is None:
        sys.stdout.write(summarize(outputs))
    else:
        _save_npz_atomic(os.fspath(outputs_npz), outputs)
    return outputs


def _run_reference(model, inputs: dict) -> dict:
    from mlir_coreml.ir.interpreter import run_module

    module = _load(model)
    signature = Signature(main_function(module))
    results = run_module(module, signature.check_inputs(inputs))
    return signature.format_outputs([r if isinstance(r, (dict, list, str)) else np.asarray(r) for r in results])


def summarize(outputs: dict) -> str:
    lines = []
    for name, value in outputs.items():
        if isinstance(value, dict):
            top = sorted(value.items(), key=lambda kv: -kv[1])[:5]
            lines.append(f"{name}: " + ", ".join(f"{k}={v:.4f}" for k, v in top))
        elif features.is_pil_image(value):
            lines.append(f"{name}: {value.mode} image {value.size[0]}x{value.size[1]} (width x height)")
        elif isinstance(value, np.ndarray):
            flat = value.reshape(-1)[:6]
            lines.append(f"{name}: {value.dtype} {tuple(value.shape)} [{', '.join(str(x) for x in flat)}"
                         f"{', ...' if value.size > 6 else ''}]")
        else:
            lines.append(f"{name}: {value!r}")
    return "\n".join(lines) + "\n"


def _save_npz_atomic(path: str, outputs: dict) -> None:
    arrays = {}
    for name, value in outputs.items():
        if isinstance(value, dict):  # classifier probabilities: in label order
            arrays[name] = np.asarray(list(value.values()), dtype=np.float64)
        else:
            arrays[name] = np.asarray(value)
    write_file(path, lambda f: np.savez(f, **arrays))


