"""The predict API: `compile_model(path_or_module) -> CompiledModel` and the CLI's `run`.

Compiling loads the model, lowers its frontend dialect (`nn`, `mil`, `espresso`) to `core`
with the `<dialect>-to-core` pass, runs the optimisation pipeline (default
`canonicalize,cse`), plans activation memory (`plan-memory`) and builds an Executor (kernels
with weights packed once, the numpy reference for the rest).

`predict` follows coremltools' `MLModel.predict`: a dict of input name -> array in, a dict of
output name -> array out (classifiers add the predicted label and a label -> probability
dict); a list of dicts predicts each. Inputs are checked against the model's declared names,
shapes and dtypes; an input given without the leading unit dims the IR adds (Core ML's rank-5
blobs) is accepted, and image inputs also take H x W x C uint8 arrays or PIL images.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from mlir_coreml.codegen.atomic import write_file
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.types import TensorType

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
                  use_kernels: bool = True, weight_precision: str = "stored",
                  codegen: bool | None = None) -> CompiledModel:
    """Lower, optimise and plan a model for CPU execution. `pipeline` replaces the default
    optimisation pipeline; `threads` sets the kernels' thread count (1 is deterministic);
    `weight_precision` "stored" (default) computes with weights in the precision the model
    stores them: f16 weights run on the fp16-panel kernels, f32 weights stay exact (numpy
    sgemm path), as the fp32 acceptance tolerance (1e-4) requires; "fp16" rounds every
    conv/linear/matmul weight to fp16 so every one runs on the kernels (Core ML's accelerator
    precision, faster). `use_kernels=False` runs every op through its numpy reference.
    `codegen` (default: on unless MLIR_COREML_CODEGEN=0) runs the schedule through a module
    generated for this model and compiled once (cached by content hash, see runtime/build.py);
    models with control flow, or a machine without a C compiler, use the executor."""
    from mlir_coreml.passes.manager import PassManager

    module = _load(path_or_module)
    PassManager(cpu_passes(pipeline)).run(module)
    return CompiledModel(module, threads=threads, use_kernels=use_kernels, weight_precision=weight_precision,
                         source=path_or_module if isinstance(path_or_module, (str, os.PathLike)) else None,
                         codegen=codegen)


def _main_function(module):
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
        self.output_names = [v.name or f"output_{i}" for i, v in enumerate(fn.return_op.operands)]
        self.image_inputs = {f.get("name"): (f["type"]["imageType"] or {}).get("colorSpace", "RGB")
                             for f in _attr(fn, "coreml.inputs", ()) or ()
                             if isinstance(f, dict) and "imageType" in (f.get("type") or {})}

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
        if name in self.image_inputs:
            value = _image_array(value, expected, self.image_inputs[name])
        array = np.asarray(value)
        if not isinstance(expected, TensorType):
            return array
        want = expected.element.numpy_dtype
        if not _dtype_accepted(array.dtype, want):
            raise MlirCoremlError(f"input '{name}' has dtype {array.dtype}, but the model expects {expected.element} "
                                  f"({expected}); pass a {_dtype_hint(want)} array")
        if expected.shape is not None:
            array = _fit_shape(name, array, expected)
        return np.ascontiguousarray(array, dtype=want)

    def format_outputs(self, results: list) -> dict:
        out = dict(zip(self.output_names, results))
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
                 weight_precision: str = "stored", source=None, codegen: bool | None = None):
        from mlir_coreml.runtime.executor import Executor
        from mlir_coreml.runtime.specialized import specialize

        self.module = module
        self.threads = threads
        self.source = source
        self.function = _main_function(module)
        self.signature = Signature(self.function)
        self.executor = Executor(module, self.function, use_kernels=use_kernels,
                                 weight_precision=weight_precision)
        if codegen is None:
            codegen = os.environ.get(CODEGEN_ENV, "1") != "0"
        # what predict runs: the generated module when there is one, else the executor
        search = (artefact_dir(source),) if source is not None else ()
        self.runner = (specialize(self.executor, search=search) if codegen and use_kernels else None) \
            or self.executor

    @property
    def inputs(self) -> dict:
        """Input name -> declared tensor type."""
        return dict(self.signature.inputs)

    @property
    def output_names(self) -> list[str]:
        return list(self.signature.output_names)

    def __repr__(self):
        ins = ", ".join(f"{k}: {t}" for k, t in self.inputs.items())
        return f"CompiledModel(inputs=({ins}), outputs={self.output_names})"

    def predict(self, data):
        """dict name -> array  ->  dict name -> array; a list of dicts -> a list of dicts."""
        if isinstance(data, (list, tuple)):
            return [self.predict(item) for item in data]
        args = self.signature.check_inputs(data)
        if self.threads is not None:
            from mlir_coreml.csrc import _kernels

            _kernels.set_num_threads(self.threads)
        return self.signature.format_outputs(self.runner.run(args))

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


def _fit_shape(name: str, array: np.ndarray, expected: TensorType) -> np.ndarray:
    shape = expected.shape
    if len(shape) == array.ndim and all(d is None or d == s for d, s in zip(shape, array.shape)):
        return array
    # Core ML feature shapes leave out the unit dims of the rank-5 blob layout ([C] is [1,1,C,1,1])
    if all(d is not None for d in shape) and \
            [d for d in array.shape if d != 1] == [d for d in shape if d != 1]:
        return array.reshape(shape)
    want = "x".join("?" if d is None else str(d) for d in shape)
    raise MlirCoremlError(f"input '{name}' has shape {tuple(array.shape)}, but the model expects {want} ({expected})")


def _image_array(value, expected: TensorType, color_space: str = "RGB"):
    """An H x W x C uint8 array or a PIL image (RGB order, as Core ML takes them) -> the
    model's [.., C, H, W] float pixels, channels swapped for BGR models; anything else is
    passed on unchanged (then it must have the declared shape)."""
    if hasattr(value, "convert") and hasattr(value, "size"):  # a PIL image
        value = np.asarray(value)
    array = np.asarray(value)
    shape = expected.shape or ()
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or len(shape) < 3 or None in shape:
        return value
    hwc = array[..., None] if array.ndim == 2 else array
    if hwc.shape[2] != shape[-3] or tuple(hwc.shape[:2]) != tuple(shape[-2:]):
        return value
    if color_space == "BGR":
        hwc = hwc[..., ::-1]
    return np.transpose(hwc, (2, 0, 1)).reshape(shape).astype(np.float32)


# -- the CLI's `run` ---------------------------------------------------------------------------

def run_npz(model, inputs_npz, outputs_npz=None, threads: int | None = None, reference: bool = False) -> dict:
    """Predict on the arrays of `inputs_npz` (keys = input names); write the outputs to
    `outputs_npz` (atomically) or print a summary. `reference` runs the imported module
    through the numpy reference interpreter, without lowering."""
    try:
        with np.load(os.fspath(inputs_npz), allow_pickle=False) as f:
            inputs = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
        raise MlirCoremlError(f"cannot read inputs: {e}", os.fspath(inputs_npz)) from None
    if reference:
        outputs = _run_reference(model, inputs)
    else:
        outputs = compile_model(model, threads=threads).predict(inputs)
    if outputs_npz is None:
        sys.stdout.write(summarize(outputs))
    else:
        _save_npz_atomic(os.fspath(outputs_npz), outputs)
    return outputs


def _run_reference(model, inputs: dict) -> dict:
    from mlir_coreml.ir.interpreter import run_module

    module = _load(model)
    signature = Signature(_main_function(module))
    results = run_module(module, signature.check_inputs(inputs))
    return signature.format_outputs([np.asarray(r) for r in results])


def summarize(outputs: dict) -> str:
    lines = []
    for name, value in outputs.items():
        if isinstance(value, dict):
            top = sorted(value.items(), key=lambda kv: -kv[1])[:5]
            lines.append(f"{name}: " + ", ".join(f"{k}={v:.4f}" for k, v in top))
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


