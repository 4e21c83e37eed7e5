"""Read every compiled pipeline bundle (`model0/`, `model1/`, ... under a root coremldata.bin: the one
layout of frontend/espresso/format.py and docs/pipeline-bundles.md, whatever the stages hold) into one
function: every stage is read as the bundle it is (frontend/mlmodelc.py: a network, an ML Program, a
pipeline), then inlined in order. A stage that is one of Apple's built-in models, which bundles do
not ship, or another model kind is refused naming it.
"""
from __future__ import annotations

import contextvars

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend import RESULT_NAMES_ATTR
from mlir_coreml.frontend.espresso import format as fmt
from mlir_coreml.frontend.espresso.format import COREMLDATA_ATTR, ND_SHAPES_ATTR, PIPELINE_ATTR
from mlir_coreml.frontend.mlmodelc import classifier_attributes, description_message, read
from mlir_coreml.frontend.nn_params import message_to_dict
from mlir_coreml.ir.attributes import to_attr
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.opdef import build

# Model.Type field numbers from 2000 on are Apple's built-in models (textClassifier, wordTagger,
# visionFeaturePrint, soundAnalysisPreprocessing, gazetteer, wordEmbedding, audioFeaturePrint).
BUILT_IN_MODEL_TYPES = 2000
# Pipelines nested deeper than this are refused (untrusted bundles: each level is a stack of reads).
MAX_NESTING = 16
_NESTING = contextvars.ContextVar("pipeline_nesting", default=0)


def model_type(path) -> int | None:
    """The model type word of a bundle's coremldata.bin (None when there is none to read)."""
    import os
    import struct
    from pathlib import Path

    from mlir_coreml.ir import guard

    file = Path(path) / fmt.COREMLDATA_FILE
    if not os.path.lexists(file):
        return None
    head = guard.read_file(file, "protobuf", root=path)[:4]  # a FIFO or a link out of the bundle: one error
    return struct.unpack("<I", head)[0] if len(head) == 4 else None


def _model_kind(type_number: int | None) -> str:
    from mlir_coreml.frontend.proto import model_pb2

    field = model_pb2.Model.DESCRIPTOR.fields_by_number.get(type_number)
    return field.name if field is not None else f"model type {type_number}"


def read_pipeline_bundle(path) -> ModuleOp:
    """A pipeline bundle: its stages `model0/`, `model1/`, ... read as bundles of their own, then
    inlined, in order, into one `main` whose inputs and outputs are the pipeline description's; a
    stage reads the features of the same name that the pipeline inputs or earlier stages give."""
    from pathlib import Path

    from mlir_coreml.frontend.espresso.bundle import parse_coremldata

    root = Path(path)
    where = str(root / fmt.COREMLDATA_FILE)
    from mlir_coreml.ir import guard

    data = parse_coremldata(guard.read_file(root / fmt.COREMLDATA_FILE, "protobuf", root=root), where)
    try:
        desc = description_message(data.description)
    except MlirCoremlError as err:
        raise MlirCoremlError(err.message, where) from None
    folders = []
    while (root / fmt.pipeline_stage_folder(len(folders))).is_dir():
        folders.append(root / fmt.pipeline_stage_folder(len(folders)))
    if not folders:
        raise MlirCoremlError(f"a pipeline bundle without stage folders ({fmt.pipeline_stage_folder(0)}/, ...)", str(root))
    types = [_stage_type(folder) for folder in folders]
    depth = _NESTING.get()
    if depth >= MAX_NESTING:
        raise MlirCoremlError(f"pipelines nested more than {MAX_NESTING} levels deep", str(root))
    token = _NESTING.set(depth + 1)
    try:
        stages = [read(folder) for folder in folders]
    finally:
        _NESTING.reset(token)
    if all(t in fmt.NETWORK_MODEL_TYPES for t in types):
        return _inline_stages(desc, data, stages, where)
    return _inline_mixed(desc, data, stages, types, str(root))


def _inline_mixed(desc, data, stages: list, types: list, where: str) -> ModuleOp:
    """Stages holding ML Programs or pipelines: inlined as the source reader inlines them (frontend/pipeline.py),
    so the module matches the one read from the source model."""
    from mlir_coreml.frontend.mlpackage import message_attr
    from mlir_coreml.frontend.pipeline import pipeline_module

    if desc.HasField("metadata") and not desc.metadata.ListFields():
        desc.ClearField("metadata")  # the empty one the compiler appends (format.EMPTY_METADATA)
    kinds = [_model_kind(t) for t in types]
    return pipeline_module(message_attr(desc), data.spec_version, stages, kinds, where)


def _stage_type(folder) -> int | None:
    stage_type = model_type(folder)
    kind = _model_kind(stage_type)
    if stage_type is not None and stage_type >= BUILT_IN_MODEL_TYPES:
        raise MlirCoremlError(f"pipeline stage {folder.name} is Apple's built-in '{kind}' model, which Core ML "
                              "provides on Apple platforms and the bundle does not ship; it cannot run here", str(folder))
    if stage_type not in fmt.NETWORK_MODEL_TYPES + fmt.PIPELINE_MODEL_TYPES + (fmt.MODEL_TYPE_ML_PROGRAM,):
        raise MlirCoremlError(f"pipeline stage {folder.name} is a '{kind}' model; only network and ML Program "
                              "stages (and pipelines of them) can be read", str(folder))
    return stage_type


def _inline_stages(desc, data, stages: list, where: str) -> ModuleOp:
    functions = [_main(stage) for stage in stages]
    inputs = [f.name for f in desc.input]
    consumers = {arg.name: arg.type for fn in reversed(functions) for arg in fn.arguments}
    missing = [name for name in inputs if name not in consumers]
    if missing:
        raise MlirCoremlError(f"no pipeline stage reads the input(s) {', '.join(missing)}", where)
    attrs = {"coreml.inputs": [message_to_dict(f) for f in desc.input],
             "coreml.outputs": [message_to_dict(f) for f in desc.output]}
    last = functions[-1].attributes.get("coreml.class_labels")
    if last is not None:  # a classifier's last stage classifies for the pipeline
        attrs.update(classifier_attributes(desc, data, last.value))
    module = ModuleOp.create()
    fn = FuncOp.create("main", [consumers[name] for name in inputs], [], arg_names=inputs, attributes=attrs)
    module.body.append(fn)
    values = {arg.name: arg for arg in fn.arguments}
    for folder, stage in enumerate(functions):
        for arg in stage.arguments:
            if arg.name not in values:
                raise MlirCoremlError(f"stage {fmt.pipeline_stage_folder(folder)} reads '{arg.name}', which neither "
                                      "the pipeline inputs nor an earlier stage give", where)
            arg.replace_all_uses_with(values[arg.name])
        ret = stage.return_op
        for op in list(stage.body.ops):
            if op is not ret:
                op.detach()
                fn.body.append(op)
        values.update(zip(stage.attributes[RESULT_NAMES_ATTR].value, ret.operands))
    derived = (desc.predictedFeatureName, desc.predictedProbabilitiesName) if last is not None else ()
    unknown = [f.name for f in desc.output if f.name not in values and f.name not in derived]
    if unknown:
        raise MlirCoremlError(f"no pipeline stage gives the output(s) {', '.join(unknown)}", where)
    names = [f.name for f in desc.output if f.name in values]
    if last is not None and desc.predictedProbabilitiesName not in values:
        stage_names = list(functions[-1].attributes[RESULT_NAMES_ATTR].value)
        names.append(stage_names[-1])  # the last stage's probabilities
    results = [values[name] for name in names]
    fn.body.append(build(ReturnOp, results))
    fn.set_result_types([v.type for v in results])
    fn.attributes[RESULT_NAMES_ATTR] = to_attr(names)
    nd = any(bool(stage.attributes[ND_SHAPES_ATTR].value) for stage in stages if ND_SHAPES_ATTR in stage.attributes)
    module.attributes.update({ND_SHAPES_ATTR: to_attr(nd), PIPELINE_ATTR: to_attr(len(stages)),
                              COREMLDATA_ATTR: to_attr({"model_type": data.model_type,
                                                        "description": data.description.hex()})})
    return module


def _main(module) -> FuncOp:
    return next(op for op in module.body.ops if op.op_name == "func.func")
