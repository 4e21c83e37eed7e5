"""Models that hold ML Programs outside an `.mlpackage`: a single-file ML Program `.mlmodel` (its
`weights/` folder beside the file, as converters other than coremltools write it) and pipelines
whose stages include ML Programs (alone or mixed with NeuralNetwork stages).

A pipeline runs its stages in order, each stage's outputs feeding later stages by feature name.
It is imported as ONE function: each stage is imported by its own reader (an ML Program by
frontend/mlpackage.py, a NeuralNetwork by frontend/mlmodel.py) and its function body is inlined
into `main`, so passes and the runtime see one graph; `coreml.pipeline_stages` lists the stages'
model types. (Lowering works from the stages' specs instead: codegen/pipeline_bundle.py.)
"""
from __future__ import annotations

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.attributes import ArrayAttr, DictAttr, StringAttr
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp, entry_function
from mlir_coreml.ir.opdef import build

def pipeline_models(spec) -> list:
    """The stage models of a pipeline spec (empty for other model types)."""
    from mlir_coreml.frontend.mlmodel import PIPELINE_TYPES

    kind = spec.WhichOneof("Type")
    if kind not in PIPELINE_TYPES:
        return []
    pipeline = spec.pipeline if kind == "pipeline" else getattr(spec, kind).pipeline
    return list(pipeline.models)


def holds_ml_program(spec) -> bool:
    """Whether `spec` is an ML Program or a pipeline with an ML Program stage (at any depth)."""
    if spec.WhichOneof("Type") == "mlProgram":
        return True
    return any(holds_ml_program(stage) for stage in pipeline_models(spec))


def spec_to_module(spec, model_dir: str, filename: str) -> ModuleOp:
    """The IR module of an ML Program or of a pipeline holding one; `model_dir` is `@model_path`."""
    if spec.WhichOneof("Type") == "mlProgram":
        from mlir_coreml.frontend.mlpackage import model_to_module

        return model_to_module(spec, model_dir, filename)
    stages = pipeline_models(spec)
    if not stages:
        raise MlirCoremlError(f"model type '{spec.WhichOneof('Type')}' is neither an ML Program nor a pipeline",
                              filename)
    return _pipeline_module(spec, stages, model_dir, filename)


def _stage_module(stage, index: int, model_dir: str, filename: str) -> ModuleOp:
    where = f"{filename}: pipeline stage {index}"
    if holds_ml_program(stage):
        return spec_to_module(stage, model_dir, where)
    from mlir_coreml.frontend.mlmodel import NN_TYPES, PIPELINE_TYPES, ModelImporter

    kind = stage.WhichOneof("Type")
    if kind not in NN_TYPES + PIPELINE_TYPES:
        raise MlirCoremlError(f"pipeline stage {index} is a '{kind}' model; stages must be ML Programs, "
                              f"NeuralNetworks or pipelines of them", filename)
    return ModelImporter(stage, where).run()


def _pipeline_module(spec, stages, model_dir: str, filename: str) -> ModuleOp:
    from mlir_coreml.frontend.mlpackage import message_attr

    modules = [_stage_module(stage, i, model_dir, filename) for i, stage in enumerate(stages)]
    kinds = [s.WhichOneof("Type") for s in stages]
    return pipeline_module(message_attr(spec.description), spec.specificationVersion, modules, kinds, filename)


def pipeline_module(description: DictAttr, spec_version: int, modules, kinds, filename: str) -> ModuleOp:
    """One module running the stage `modules` in order: their entry functions inlined into `main`,
    whose inputs and outputs are the pipeline `description`'s (a ModelDescription as a dict)."""
    bodies = [entry_function(m) for m in modules]
    desc = dict(description.data)
    arg_types = {}
    for fn in bodies:
        for arg in fn.arguments:
            arg_types.setdefault(arg.name, arg.type)
    names = [dict(f.data)["name"].value for f in _features(desc, "input")]
    missing = [n for n in names if n not in arg_types]
    if missing:
        raise MlirCoremlError(f"pipeline input '{missing[0]}' is not an input of any stage", filename)
    main = FuncOp.create("main", [arg_types[n] for n in names], [], names, _entry_attributes(bodies))
    features = dict(zip(names, main.arguments))
    for index, fn in enumerate(bodies):
        _inline(fn, index, main, features, filename)
    outputs = []
    for feature in _features(desc, "output"):
        name = dict(feature.data)["name"].value
        if name not in features:
            raise MlirCoremlError(f"pipeline output '{name}' is not produced by any stage", filename)
        outputs.append(features[name])
    main.body.append(build(ReturnOp, outputs, []))
    main.set_result_types([v.type for v in outputs])
    module = ModuleOp.create()
    first = next((m for m in modules if "coreml.specification_version" in m.attributes), modules[0])
    module.attributes.update(first.attributes)
    module.attributes["coreml.specification_version"] = _int_attr(spec_version)
    module.attributes["coreml.description"] = description
    module.attributes["coreml.pipeline_stages"] = ArrayAttr(tuple(StringAttr(k) for k in kinds))
    module.body.append(main)
    return module


def _features(desc: dict, key: str) -> list:
    found = desc.get(key)
    return list(found.data) if isinstance(found, ArrayAttr) else []


def _int_attr(value: int):
    from mlir_coreml.ir.attributes import IntAttr

    return IntAttr(int(value))


def _entry_attributes(bodies) -> dict:
    """`main`'s attributes: the opset of the ML Program stages (the newest one)."""
    opsets = [f.attributes["opset"].value for f in bodies if "opset" in f.attributes]
    return {"opset": max(opsets, key=lambda o: (len(o), o))} if opsets else {}


def _inline(fn, index: int, main, features: dict, filename: str) -> None:
    """Clone `fn`'s body into `main`, its arguments bound to the features of the same name; what
    it returns becomes the features named as its results (stage outputs keep their names)."""
    mapping = {}
    for arg in fn.arguments:
        value = features.get(arg.name)
        if value is None:
            raise MlirCoremlError(f"pipeline stage {index} needs feature '{arg.name}', which neither the "
                                  f"pipeline inputs nor an earlier stage provide", filename)
        if _rank(value.type) is not None and _rank(arg.type) is not None and _rank(value.type) != _rank(arg.type):
            raise MlirCoremlError(f"pipeline stage {index} takes '{arg.name}' as {arg.type}, but it is "
                                  f"{value.type}", filename)
        mapping[arg] = value
    for op in fn.body.ops:
        if op.op_name == "func.return":
            for value in op.operands:
                features[value.name] = mapping.get(value, value)
            continue
        main.body.append(op.clone(mapping))


def _rank(t):
    shape = getattr(t, "shape", None)
    return None if shape is None else len(shape)
