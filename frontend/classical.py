"""`.mlmodel` classical models and mixed pipelines -> IR in the `classical` dialect.

    module attributes {coreml.spec_version = 1, coreml.model_type = "pipelineClassifier"} {
      func.func @main(%x: dict<string, f64>) -> (tensor<string>, dict<string, f64>) attributes {coreml.inputs = [...]} {
        %v = classical.dict_vectorizer %x {stringToIndex = {vector = [...]}} : ... loc("model0")
        %label, %probs = classical.glm_classifier %v {...} : ... loc("model1")
        func.return %label, %probs : tensor<string>, dict<string, f64>
      }
    }

A single model is one op; a top-level pipeline's stages are the function body, a nested
pipeline a `classical.pipeline` op, a NeuralNetwork stage a `classical.neural_network` op whose
region holds the `nn` ops frontend/mlmodel.py imports. Values are named after the features,
locations after the pipeline's stage names. The op layout is in ir/dialects/classical/base.py.
"""
from __future__ import annotations

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.nn_params import message_to_dict
from mlir_coreml.frontend.proto import is_repeated
from mlir_coreml.ir.attributes import DenseAttr, DenseResourceAttr, to_attr
from mlir_coreml.ir.core import Block, Location, Region
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.classical import MODEL_ATTR, MODEL_OPS, NETWORK_KINDS, PIPELINE_KINDS
from mlir_coreml.ir.dialects.classical.pipeline import YieldOp
from mlir_coreml.ir.dialects.classical.trees import NODE_COLUMNS
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import ELEMENT_TYPES, F32, F64, I64, STRING, DictType, ListType, TensorType

# Apple's closed model types: their params name a model shipped with the OS, not its weights.
CLOSED_TYPES = {"visionFeaturePrint": "VisionFeaturePrint", "textClassifier": "TextClassifier (Create ML)",
                "wordTagger": "WordTagger (Create ML)", "gazetteer": "Gazetteer (Create ML)",
                "wordEmbedding": "WordEmbedding (Create ML)", "audioFeaturePrint": "AudioFeaturePrint",
                "soundAnalysisPreprocessing": "SoundAnalysisPreprocessing",
                "itemSimilarityRecommender": "ItemSimilarityRecommender"}
ARRAY_TYPES = {"FLOAT32": F32, "DOUBLE": F64, "INT32": ELEMENT_TYPES["i32"], "FLOAT16": ELEMENT_TYPES["f16"]}
_DENSE = {FieldDescriptor.TYPE_DOUBLE: np.float64, FieldDescriptor.TYPE_FLOAT: np.float32}
INLINE_LIMIT = 16  # longer number arrays print as resource handles
MAX_NESTING = 16


def needs_classical(model) -> bool:
    """Whether the model (or a pipeline stage, at any depth) is not a NeuralNetwork."""
    kind = model.WhichOneof("Type")
    if kind in PIPELINE_KINDS:
        return any(needs_classical(stage) for stage in _pipeline(model, kind).models)
    return kind not in NETWORK_KINDS


def _pipeline(model, kind):
    return model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline


def import_model(model, where: str) -> ModuleOp:
    return ClassicalImporter(where).module(model)


# -- feature types ------------------------------------------------------------------------------

def feature_type(feature, where: str):
    """The IR type of a FeatureDescription (conventions in ir/dialects/classical/base.py)."""
    ftype = feature.type
    which = ftype.WhichOneof("Type")
    if which == "int64Type":
        return TensorType((), I64)
    if which == "doubleType":
        return TensorType((), F64)
    if which == "stringType":
        return TensorType((), STRING)
    if which == "dictionaryType":
        key = STRING if ftype.dictionaryType.WhichOneof("KeyType") == "stringKeyType" else I64
        return DictType(key, F64)
    if which == "sequenceType":
        element = STRING if ftype.sequenceType.WhichOneof("Type") == "stringType" else I64
        return ListType(element)
    if which == "multiArrayType":
        arr = ftype.multiArrayType
        element = ARRAY_TYPES.get(_array_dtype_name(arr))
        if element is None:
            raise MlirCoremlError(f"feature '{feature.name}' has an unknown multi-array data type {arr.dataType}", where)
        shape = tuple(int(d) for d in arr.shape)
        return TensorType(shape if shape else None, element)
    if which == "imageType":
        img = ftype.imageType
        channels = 1 if img.colorSpace in (10, 40) else 3
        return TensorType((1, channels, int(img.height), int(img.width)), F32)
    raise MlirCoremlError(f"feature '{feature.name}' has type '{which}', which classical models do not take", where)


def _array_dtype_name(arr) -> str:
    value = arr.DESCRIPTOR.fields_by_name["dataType"].enum_type.values_by_number.get(arr.dataType)
    return value.name if value is not None else ""


# -- params -> attributes -------------------------------------------------------------------------

def params_to_attrs(msg, name: str) -> dict:
    """The set fields of a params message as attributes (conventions in base.py); repeated
    numbers become dense arrays, named `name.field` when they print as resources."""
    out = {}
    for fd, value in msg.ListFields():
        path = f"{name}.{fd.name}"
        if fd.type != FieldDescriptor.TYPE_MESSAGE:
            out[fd.name] = _repeated_scalars(fd, value, path) if is_repeated(fd) else _scalar(fd, value)
        elif fd.message_type.GetOptions().map_entry:
            vfd = fd.message_type.fields_by_name["value"]
            out[fd.name] = {str(k): _scalar(vfd, v) for k, v in sorted(value.items())}
        elif fd.message_type.name == "TreeNode":
            out[fd.name] = node_columns(value, path)
        elif is_repeated(fd):
            out[fd.name] = [params_to_attrs(v, f"{path}.{i}") for i, v in enumerate(value)]
        else:
            out[fd.name] = params_to_attrs(value, path)
    return out


def _scalar(fd, value):
    if fd.type == FieldDescriptor.TYPE_ENUM:
        ev = fd.enum_type.values_by_number.get(value)
        return ev.name if ev is not None else int(value)
    if fd.type == FieldDescriptor.TYPE_BYTES:
        return "0x" + bytes(value).hex()
    return value


def _repeated_scalars(fd, value, path):
    if fd.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_ENUM, FieldDescriptor.TYPE_BOOL,
                   FieldDescriptor.TYPE_BYTES):
        return [_scalar(fd, v) for v in value]
    return dense(np.asarray(value, dtype=_DENSE.get(fd.type, np.int64)), path)


def dense(array: np.ndarray, name: str):
    if array.size <= INLINE_LIMIT:
        return DenseAttr(array)
    return DenseResourceAttr.from_array(name, array)


def node_columns(nodes, path: str) -> dict:
    """TreeNodes column-wise (see ir/dialects/classical/trees.py)."""
    rows = {k: [] for k in NODE_COLUMNS}
    for node in nodes:
        for key in ("treeId", "nodeId", "nodeBehavior", "branchFeatureIndex", "branchFeatureValue",
                    "trueChildNodeId", "falseChildNodeId", "missingValueTracksTrueChild", "relativeHitRate"):
            rows[key].append(getattr(node, key))
        rows["evaluationCount"].append(len(node.evaluationInfo))
        for info in node.evaluationInfo:
            rows["evaluationIndex"].append(info.evaluationIndex)
            rows["evaluationValue"].append(info.evaluationValue)
    return {k: dense(_node_column(v, NODE_COLUMNS[k], f"{path}.{k}"), f"{path}.{k}") for k, v in rows.items()}


def _node_column(values: list, dtype, path: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=dtype)
    except OverflowError:  # a uint64 field beyond int64: no tree, feature or output is that large
        raise MlirCoremlError(f"'{path}' holds {max(values)}, beyond the int64 range of tree arrays") from None


# -- the importer ----------------------------------------------------------------------------------

class ClassicalImporter:
    def __init__(self, where: str):
        self.where = where
        self.depth = 0

    def fail(self, message: str, stage: str | None = None):
        return MlirCoremlError(message, f"{self.where}: {stage}" if stage else self.where)

    def module(self, model) -> ModuleOp:
        kind = model.WhichOneof("Type")
        self.check_kind(kind, None)
        desc = model.description
        names = [f.name for f in desc.input]
        fn = FuncOp.create("main", [feature_type(f, self.where) for f in desc.input], [], arg_names=names)
        blobs = dict(zip(names, fn.arguments))
        if kind in PIPELINE_KINDS:
            self.stages(_pipeline(model, kind), fn.body, blobs, "")
        else:
            self.stage(model, fn.body, blobs, "model", envelope=False)
        results = self.outputs(desc.output, blobs, "the model")
        fn.body.append(build(ReturnOp, results))
        fn.set_result_types([v.type for v in results])
        fn.attributes.update({k: to_attr(v) for k, v in self.function_attributes(model, kind).items()})
        module = ModuleOp.create()
        attrs = {"coreml.spec_version": int(model.specificationVersion), "coreml.model_type": kind}
        if desc.HasField("metadata"):
            attrs["coreml.metadata"] = message_to_dict(desc.metadata)
        if model.isUpdatable:
            attrs["coreml.updatable"] = True
        module.attributes.update({k: to_attr(v) for k, v in attrs.items()})
        module.body.append(fn)
        return module

    def function_attributes(self, model, kind) -> dict:
        desc = model.description
        attrs = {"coreml.inputs": [message_to_dict(f) for f in desc.input],
                 "coreml.outputs": [message_to_dict(f) for f in desc.output]}
        for key in ("predictedFeatureName", "predictedProbabilitiesName"):
            if getattr(desc, key):
                attrs[f"coreml.{key}"] = getattr(desc, key)
        if desc.trainingInput:
            attrs["coreml.training_inputs"] = [message_to_dict(f) for f in desc.trainingInput]
        if kind in PIPELINE_KINDS and _pipeline(model, kind).names:
            attrs["coreml.stage_names"] = list(_pipeline(model, kind).names)
        return attrs

    def check_kind(self, kind, stage):
        if kind is None:
            raise self.fail("no model type is set (a truncated file, or a model type newer than this reader)", stage)
        if kind in CLOSED_TYPES:
            raise self.fail(f"model type '{kind}' is Apple's closed {CLOSED_TYPES[kind]} model: its parameters "
                            "name a model that ships inside Apple's OS, so it cannot be imported or run here", stage)
        if kind not in MODEL_OPS:
            raise self.fail(f"model type '{kind}' is not supported by the classical reader", stage)

    def outputs(self, features, blobs, what) -> list:
        values = []
        for feature in features:
            value = blobs.get(feature.name)
            if value is None:
                raise self.fail(f"output '{feature.name}' of {what} is not produced by any stage")
            values.append(value)
        return values

    def stages(self, pipeline, block, blobs, prefix):
        if not pipeline.models:
            raise self.fail("the pipeline has no models", prefix or None)
        for i, stage in enumerate(pipeline.models):
            name = pipeline.names[i] if i < len(pipeline.names) else f"model{i}"
            self.stage(stage, block, blobs, prefix + name, envelope=True)

    def stage(self, model, block, blobs, name, envelope):
        """Append the op of one model (a pipeline stage, or the whole model) to `block`."""
        kind = model.WhichOneof("Type")
        self.check_kind(kind, f"stage '{name}'")
        cls = MODEL_OPS[kind]
        desc = model.description
        attrs = {}
        if envelope:
            attrs[MODEL_ATTR] = message_to_dict(model, skip=(kind,))
        in_names = self.operand_names(model, kind)
        operands = []
        for n in in_names:
            if n not in blobs:
                raise self.fail(f"input '{n}' is not a model input or an output of an earlier stage", f"stage '{name}'")
            operands.append(blobs[n])
        out_names = [f.name for f in desc.output]
        out_types = [feature_type(f, self.where) for f in desc.output]
        regions = []
        if kind in PIPELINE_KINDS or kind in NETWORK_KINDS:
            attrs["kind"] = kind
            region = self.nested(model, kind, name, desc)
            regions.append(region)
            if kind in NETWORK_KINDS:
                attrs["network"] = message_to_dict(getattr(model, kind), skip=("layers", "preprocessing"))
            elif _pipeline(model, kind).names:
                attrs["names"] = list(_pipeline(model, kind).names)
        else:
            attrs.update(self.params(model, kind, name))
        op = build(cls, operands, out_types, attrs, regions, location=Location(name=name), result_names=out_names)
        block.append(op)
        blobs.update(zip(out_names, op.results))

    def params(self, model, kind, name) -> dict:
        try:
            return params_to_attrs(getattr(model, kind), name)
        except MlirCoremlError as e:  # raised where the file is not known
            raise self.fail(e.message, name) from None

    def operand_names(self, model, kind) -> list:
        if kind == "featureVectorizer":
            return [c.inputColumn for c in model.featureVectorizer.inputList]
        return [f.name for f in model.description.input]

    def nested(self, model, kind, name, desc) -> Region:
        if self.depth >= MAX_NESTING:
            raise self.fail(f"pipelines are nested more than {MAX_NESTING} levels deep", f"stage '{name}'")
        self.depth += 1
        try:
            if kind in PIPELINE_KINDS:
                block = Block([feature_type(f, self.where) for f in desc.input], [f.name for f in desc.input])
                blobs = dict(zip((f.name for f in desc.input), block.args))
                self.stages(_pipeline(model, kind), block, blobs, name + "/")
                block.append(build(YieldOp, self.outputs(desc.output, blobs, f"stage '{name}'")))
                return Region([block])
            return self.network(model, kind, name)
        finally:
            self.depth -= 1

    def network(self, model, kind, name) -> Region:
        """The `nn` ops of a NeuralNetwork stage, imported by the NeuralNetwork reader."""
        from mlir_coreml.frontend.mlmodel import ModelImporter

        importer = ModelImporter(model, f"{self.where}: stage '{name}'")
        importer.use_network(model)
        desc = model.description
        block = Block([importer.input_type(f) for f in desc.input], [f.name for f in desc.input])
        importer.block = block
        importer.blobs = dict(zip((f.name for f in desc.input), block.args))
        importer.preprocess(desc)
        for layer in importer.network.layers:
            importer.layer(layer)
        probabilities = None
        if kind == "neuralNetworkClassifier":
            layers = importer.network.layers
            blob = importer.network.labelProbabilityLayerName or (layers[-1].output[0] if layers else "")
            probabilities = importer.blobs.get(blob)
            if probabilities is None:
                raise self.fail(f"classifier probabilities blob '{blob}' is not produced by any layer", f"stage '{name}'")
        values = []
        for feature in desc.output:
            value = importer.blobs.get(feature.name)
            if value is None and feature.name in (desc.predictedFeatureName, desc.predictedProbabilitiesName):
                value = probabilities
            if value is None:
                raise self.fail(f"output '{feature.name}' is not produced by any layer", f"stage '{name}'")
            values.append(value)
        block.append(build(YieldOp, values))
        return Region([block])
