"""`.mlmodel` (NeuralNetwork, NeuralNetworkClassifier/Regressor) -> IR in the `nn` dialect.

    module attributes {coreml.spec_version = 4, coreml.model_type = "neuralNetwork", coreml.metadata = {...}} {
      func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x5xf32> attributes {coreml.inputs = [...], ...} {
        %"conv1.weights" = core.constant {value = dense_resource<...>} : tensor<8x3x3x3xf32> loc("conv1")
        %y = nn.convolution %x, %"conv1.weights" {...} : (...) -> tensor<1x8x8x8xf32> loc("conv1")
        ...
        func.return %out : tensor<1x5xf32>
      }
    }

Function arguments are the model inputs (value names = feature names), one op per layer in
order (location = layer name, result names = output blob names), and the function returns the
declared outputs. Blob shapes follow the convention in ir/dialects/nn/__init__.py (rank 5 for
classic models, exact shapes for spec-4 EXACT_ARRAY_MAPPING). Image inputs are raw 0..255
pixels; their preprocessing is an explicit `nn.image_preprocess` op. Feature descriptions,
classifier labels and network settings are kept as `coreml.*` attributes for the backend.

Model files are untrusted: decode errors, missing blobs, unknown layer kinds, absurd shapes and
unsupported features all raise MlirCoremlError naming the file and the layer.
"""
from __future__ import annotations

import os

from google.protobuf.message import DecodeError

from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.frontend.nn_params import convert_params, message_to_dict, stored_weight
from mlir_coreml.ir.attributes import DenseResourceAttr, ResourceBlob, to_attr
from mlir_coreml.ir.core import Block, Location, Region
from mlir_coreml.ir.dialects.builtin import ModuleOp
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.func import FuncOp, ReturnOp
from mlir_coreml.ir.dialects.nn import LAYER_OPS
from mlir_coreml.ir.guard import check_elements
from mlir_coreml.ir.shapes import ShapeError
from mlir_coreml.ir.dialects.nn.misc import DequantizeOp, ImagePreprocessOp, YieldOp
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import F32, TensorType, tensor

MAX_DIM = 1 << 31
NN_TYPES = ("neuralNetwork", "neuralNetworkClassifier", "neuralNetworkRegressor")
PIPELINE_TYPES = ("pipeline", "pipelineClassifier", "pipelineRegressor")
MAX_NESTING = 16              # loop / branch networks nested deeper than this are refused
CONTROL_FLOW = ("loop", "branch", "loopBreak", "loopContinue")


def read(path: str) -> ModuleOp:
    """Import a `.mlmodel` file into a module in the `nn` dialect."""
    path = os.fspath(path)
    from mlir_coreml.ir.guard import read_file

    return read_bytes(read_file(path, "protobuf"), path)


def read_bytes(data: bytes, where: str = "<bytes>") -> ModuleOp:
    from mlir_coreml.frontend.proto import model_pb2

    model = model_pb2.Model()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        raise MlirCoremlError(f"not a valid Core ML model (protobuf decoding failed: {e}); "
                              "the file may be truncated or corrupt", where) from None
    from mlir_coreml.frontend.pipeline import holds_ml_program, spec_to_module

    if holds_ml_program(model):  # its weights/ folder sits beside the file
        return spec_to_module(model, os.path.dirname(os.path.abspath(where)), where)
    return ModelImporter(model, where).run()


def _dims_ok(shape, what: str, where: str) -> tuple:
    total = 1
    for d in shape:
        if d is None:
            continue
        if not 0 < d <= MAX_DIM:
            raise MlirCoremlError(f"{what} has an invalid dimension {d} in shape {list(shape)}", where)
        total *= d
    check_elements(total, where, f"{what} of shape {list(shape)}")
    return tuple(shape)


class ModelImporter:
    def __init__(self, model, where: str):
        self.model = model
        self.where = where
        self.blobs: dict = {}
        self.block = None
        self.loops: list[list[str]] = []  # carried blob names of the enclosing loops
        self.depth = 0                     # nesting depth of loop / branch regions

    def fail(self, message: str, layer: str | None = None):
        where = f"{self.where}: layer '{layer}'" if layer is not None else self.where
        return MlirCoremlError(message, where)

    # -- the model --------------------------------------------------------------------------
    def run(self) -> ModuleOp:
        model = self.model
        kind = model.WhichOneof("Type")
        if kind is None:
            raise self.fail("not a Core ML model: no model type is set (is this a different protobuf, "
                            "or a truncated file?)")
        if not _only_networks(model):  # classical models and mixed or nested pipelines
            from mlir_coreml.frontend.classical import import_model

            return import_model(model, self.where)
        if kind in PIPELINE_TYPES:
            stages = self.pipeline_stages(kind)
        elif kind in NN_TYPES:
            stages = [model]
        else:
            raise self.fail(f"model type '{kind}' is not a NeuralNetwork or a pipeline of them; this reader "
                            f"imports {', '.join(NN_TYPES + PIPELINE_TYPES)}")
        self.use_network(stages[0])
        module = ModuleOp.create()
        module.attributes.update(self.module_attributes(kind))
        fn = self.function(stages)
        module.body.append(fn)
        return module

    def pipeline_stages(self, kind) -> list:
        """A pipeline's models in order; its stages are imported one after the other into one
        function, the features each stage outputs feeding the later stages by name."""
        pipeline = self.model.pipeline if kind == "pipeline" else getattr(self.model, kind).pipeline
        stages = list(pipeline.models)
        if not stages:
            raise self.fail("the pipeline has no models")
        for i, stage in enumerate(stages):
            stage_kind = stage.WhichOneof("Type")
            if stage_kind not in NN_TYPES:
                raise self.fail(f"pipeline stage {i} is a '{stage_kind}' model; only NeuralNetwork stages "
                                f"({', '.join(NN_TYPES)}) are supported")
        return stages

    def use_network(self, stage) -> str:
        kind = stage.WhichOneof("Type")
        self.network = getattr(stage, kind)
        self.exact_arrays = self.network.arrayInputShapeMapping != 0
        self.rank4_images = self.network.imageInputShapeMapping != 0
        return kind

    def module_attributes(self, kind) -> dict:
        attrs = {"coreml.spec_version": int(self.model.specificationVersion), "coreml.model_type": kind}
        meta = message_to_dict(self.model.description.metadata) if self.model.description.HasField("metadata") else {}
        if meta:
            attrs["coreml.metadata"] = meta
        if self.model.isUpdatable:
            attrs["coreml.updatable"] = True
        return {k: to_attr(v) for k, v in attrs.items()}

    def function(self, stages) -> FuncOp:
        desc = self.model.description
        names, types = [], []
        for feature in desc.input:
            names.append(feature.name)
            types.append(self.input_type(feature))
        fn = FuncOp.create("main", types, [], arg_names=names)
        self.block = fn.body
        for arg in fn.arguments:
            self.blobs[arg.name] = arg
        for stage in stages:
            kind = self.use_network(stage)
            self.preprocess(stage.description)
            for layer in self.network.layers:
                self.layer(layer)
        results = self.outputs(kind)
        self.block.append(build(ReturnOp, results))
        fn.set_result_types([v.type for v in results])
        fn.attributes.update(self.function_attributes(kind))
        return fn

    def function_attributes(self, kind) -> dict:
        desc = self.model.description
        attrs = {"coreml.inputs": [message_to_dict(f) for f in desc.input],
                 "coreml.outputs": [message_to_dict(f) for f in desc.output]}
        for key in ("predictedFeatureName", "predictedProbabilitiesName"):
            if getattr(desc, key):
                attrs[f"coreml.{key}"] = getattr(desc, key)
        settings = message_to_dict(self.network, skip=("layers", "preprocessing", "stringClassLabels",
                                                       "int64ClassLabels"))
        if settings:
            attrs["coreml.network"] = settings
        if kind == "neuralNetworkClassifier":
            labels = self.network.WhichOneof("ClassLabels")
            if labels == "stringClassLabels":
                attrs["coreml.class_labels"] = list(self.network.stringClassLabels.vector)
            elif labels == "int64ClassLabels":
                attrs["coreml.class_labels"] = [int(v) for v in self.network.int64ClassLabels.vector]
        return {k: to_attr(v) for k, v in attrs.items()}

    # -- inputs and outputs -------------------------------------------------------------------
    def input_type(self, feature) -> TensorType:
        ftype = feature.type
        which = ftype.WhichOneof("Type")
        what = f"input '{feature.name}'"
        if which == "imageType":
            img = ftype.imageType
            h, w = int(img.height), int(img.width)
            if not (h and w):
                rng = img.imageSizeRange
                h, w = int(rng.heightRange.lowerBound), int(rng.widthRange.lowerBound)
            channels = 1 if img.colorSpace in (10, 40) else 3
            shape = (1, channels, h, w) if self.rank4_images else (1, 1, channels, h, w)
            return TensorType(_dims_ok(shape, what, self.where), F32)
        if which != "multiArrayType":
            raise self.fail(f"{what} has feature type '{which}'; NeuralNetwork inputs must be multi-arrays or images")
        arr = ftype.multiArrayType
        shape = [int(d) for d in arr.shape]
        if not shape and arr.WhichOneof("ShapeFlexibility") == "shapeRange":
            shape = [int(r.lowerBound) for r in arr.shapeRange.sizeRanges]
        if not shape and arr.WhichOneof("ShapeFlexibility") == "enumeratedShapes" and arr.enumeratedShapes.shapes:
            shape = [int(d) for d in arr.enumeratedShapes.shapes[0].shape]
        if not shape:
            raise self.fail(f"{what} declares no shape")
        if not self.exact_arrays:
            if len(shape) == 1:
                shape = [1, 1, shape[0], 1, 1]
            elif len(shape) == 3:
                shape = [1, 1] + shape
            elif len(shape) != 5:
                raise self.fail(f"{what} has rank {len(shape)}; with RANK5_ARRAY_MAPPING inputs must be rank 1, 3 or 5")
        return TensorType(_dims_ok(shape, what, self.where), F32)

    def preprocess(self, desc):
        """Insert an nn.image_preprocess op per preprocessed image input; layers see its result."""
        from mlir_coreml.frontend.proto import feature_types_pb2

        color = {f.name: f.type.imageType.colorSpace for f in desc.input if f.type.WhichOneof("Type") == "imageType"}
        for pre in getattr(self.network, "preprocessing", ()):
            name = pre.featureName or (next(iter(color)) if len(color) == 1 else "")
            if name not in color:
                raise self.fail(f"preprocessing refers to '{pre.featureName}', which is not an image input")
            space = feature_types_pb2.ImageFeatureType.ColorSpace.Name(color[name]) if color[name] else "RGB"
            attrs = {"colorSpace": space, **message_to_dict(pre)}
            attrs.pop("featureName", None)
            source = self.blobs[name]
            op = build(ImagePreprocessOp, [source], [source.type], attrs, location=Location(name=f"{name}.preprocess"),
                       result_names=[name])
            self.block.append(op)
            self.blobs[name] = op.result

    def outputs(self, kind) -> list:
        desc = self.model.description
        results = []
        for feature in desc.output:
            value = self.blobs.get(feature.name)
            if value is not None:
                results.append(value)
                continue
            if kind == "neuralNetworkClassifier" and feature.name in (desc.predictedFeatureName,
                                                                      desc.predictedProbabilitiesName):
                continue  # produced from the probabilities by the classifier wrapper
            raise self.fail(f"output '{feature.name}' is not produced by any layer")
        if kind == "neuralNetworkClassifier":
            probs = self.network.labelProbabilityLayerName or (
                self.network.layers[-1].output[0] if self.network.layers and self.network.layers[-1].output else "")
            value = self.blobs.get(probs)
            if value is None:
                raise self.fail(f"classifier probabilities blob '{probs}' is not produced by any layer")
            if value not in results:
                results.append(value)
        return results

    # -- layers ---------------------------------------------------------------------------------
    def layer(self, layer):
        name = layer.name
        kind = layer.WhichOneof("layer")
        if kind is None:
            raise self.fail("unknown layer type (a layer kind this schema does not know, or a corrupt file)", name)
        cls = LAYER_OPS.get(kind)
        if cls is None:
            raise self.fail(f"layer type '{kind}' has no nn op", name)
        if not layer.output and kind not in CONTROL_FLOW:
            raise self.fail("layer has no outputs", name)
        inputs = []
        for blob in layer.input:
            value = self.blobs.get(blob)
            if value is None:
                raise self.fail(f"input blob '{blob}' is not produced by a model input or an earlier layer", name)
            inputs.append(value)
        loc = Location(name=name)
        if kind in CONTROL_FLOW:
            return self.control_flow(layer, kind, cls, inputs, loc)
        converted = convert_params(getattr(layer, kind))
        fields, weights = [], []
        for w in converted.weights:
            value = self.weight(kind, converted.attributes, w, name, loc)
            if value is not None:
                fields.append(w.path)
                weights.append(value)
        attrs = dict(converted.attributes)
        if fields:
            attrs["weight_fields"] = fields
        n_out = len(layer.output)
        op = build(cls, inputs + weights, [TensorType(None, F32)] * n_out, attrs, location=loc,
                   result_names=list(layer.output))
        self.infer(op, name)
        self.block.append(op)
        for blob, value in zip(layer.output, op.results):
            self.blobs[blob] = value

    # -- control flow: nested networks become regions ---------------------------------------------
    def control_flow(self, layer, kind, cls, inputs, loc):
        name = layer.name
        params = getattr(layer, kind)
        if kind in ("loopBreak", "loopContinue"):
            if not self.loops:
                raise self.fail(f"'{kind}' outside of a loop body", name)
            carried = self.loops[-1]
            values = [self.blobs[n] for n in carried]
            self.block.append(build(cls, values, [], {"carried": carried} if carried else {}, location=loc))
            return
        attrs = message_to_dict(params, skip=("conditionNetwork", "bodyNetwork", "ifBranch", "elseBranch"))
        if self.depth >= MAX_NESTING:
            raise self.fail(f"control flow is nested more than {MAX_NESTING} levels deep", name)
        if kind == "loop":
            cond_net = params.conditionNetwork if params.HasField("conditionNetwork") else None
            carried = [n for n in _unique(self.written(cond_net, name) + self.written(params.bodyNetwork, name))
                       if n in self.blobs]
            initial = [self.blobs[n] for n in carried]
            types = [v.type for v in initial]
            cond_yield = [params.conditionVar] if params.conditionVar else []
            cond = self.region(cond_net, carried, types, cond_yield, name)
            self.loops.append(carried)
            try:
                body = self.region(params.bodyNetwork, carried, types, carried, name)
            finally:
                self.loops.pop()
            regions = [cond, body]
        else:
            then_net = params.ifBranch if params.HasField("ifBranch") else None
            else_net = params.elseBranch if params.HasField("elseBranch") else None
            w_then, w_else = self.written(then_net, name), self.written(else_net, name)
            carried = [n for n in _unique(w_then + w_else) if n in self.blobs or (n in w_then and n in w_else)]
            initial = []  # branch regions read outer blobs directly
            regions = [self.region(net, [], [], carried, name) for net in (then_net, else_net)]
            yielded = [[v.type for v in r.blocks[0].last_op.operands] for r in regions]
            types = [a if a == b else TensorType(None, F32) for a, b in zip(*yielded)]
        attrs["carried"] = carried
        op = build(cls, inputs + initial, types, attrs, regions, location=loc, result_names=carried)
        self.block.append(op)
        for blob, value in zip(carried, op.results):
            self.blobs[blob] = value

    def written(self, network, layer_name, depth=0) -> list:
        """Blob names the layers of `network` (and the networks nested in it) write, in order."""
        if network is None:
            return []
        if depth > MAX_NESTING:
            raise self.fail(f"control flow is nested more than {MAX_NESTING} levels deep", layer_name)
        names = []
        for layer in network.layers:
            names += list(layer.output)
            kind = layer.WhichOneof("layer")
            if kind == "loop":
                names += self.written(layer.loop.conditionNetwork, layer_name, depth + 1)
                names += self.written(layer.loop.bodyNetwork, layer_name, depth + 1)
            elif kind == "branch":
                names += self.written(layer.branch.ifBranch, layer_name, depth + 1)
                names += self.written(layer.branch.elseBranch, layer_name, depth + 1)
        return names

    def region(self, network, carried, types, yield_names, layer_name) -> Region:
        """A nested network as a one-block region taking `carried` as arguments, yielding `yield_names`."""
        block = Block(types, carried)
        saved = self.block, self.blobs
        self.block, self.blobs = block, dict(self.blobs)
        self.depth += 1
        try:
            self.blobs.update(zip(carried, block.args))
            for layer in (network.layers if network is not None else ()):
                self.layer(layer)
            missing = [n for n in yield_names if n not in self.blobs]
            if missing:
                raise self.fail(f"nested network does not produce blob '{missing[0]}'", layer_name)
            block.append(build(YieldOp, [self.blobs[n] for n in yield_names]))
        finally:
            self.block, self.blobs = saved
            self.depth -= 1
        return Region([block])

    def infer(self, op, layer_name):
        try:
            types = op._infer()
        except ShapeError as e:
            raise self.fail(str(e), layer_name) from None
        except (NotImplementedError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError):
            return  # no shape function: results stay unranked
        if len(types) != len(op.results):
            return
        for r, t in zip(op.results, types):
            _dims_ok(t.shape, f"layer '{layer_name}' result", self.where)
            r.type = t

    def weight(self, kind, params, w, layer_name, loc):
        """A core.constant (or nn.dequantize of one) for WeightParams `w`; the data loads lazily."""
        stored = stored_weight(w.message, kind, params, w.path, f"{self.where}: layer '{layer_name}'")
        if stored is None:
            return None
        value_name = f"{layer_name}.{w.path}"
        shape = _dims_ok(stored.shape, f"layer '{layer_name}' weight '{w.path}'", self.where)
        if stored.quantization is None:
            attr = DenseResourceAttr(value_name, tensor(shape, stored.dtype),
                                     ResourceBlob(loader=_reshaped(stored.load, shape)))
            return self.constant(attr, loc, value_name)
        raw_attr = DenseResourceAttr(value_name + ".raw", tensor((stored.count,), stored.dtype),
                                     ResourceBlob(loader=stored.load))
        raw = self.constant(raw_attr, loc, value_name + ".raw")
        qparams = dict(stored.quantization)
        if kind == "convolution" and params.get("isDeconvolution"):
            qparams["axis"] = 1  # per output channel of [C_in, C_out/groups, kh, kw]
        op = build(DequantizeOp, [raw], [tensor(shape, "f32")], qparams, location=loc, result_names=[value_name])
        self.block.append(op)
        return op.result

    def constant(self, attr, loc, name):
        op = build(ConstantOp, [], [attr.type], {"value": attr}, location=loc, result_names=[name])
        self.block.append(op)
        return op.result


def _only_networks(model) -> bool:
    """A NeuralNetwork, or a flat pipeline of NeuralNetworks: what this reader imports itself."""
    kind = model.WhichOneof("Type")
    if kind in PIPELINE_TYPES:
        pipeline = model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline
        return all(stage.WhichOneof("Type") in NN_TYPES for stage in pipeline.models)
    return kind in NN_TYPES or kind is None


def _unique(names) -> list:
    return list(dict.fromkeys(names))


def _reshaped(loader, shape):
    return lambda: loader().reshape(shape)
