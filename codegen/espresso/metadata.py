"""`metadata.json` of a compiled NeuralNetwork bundle, derived from the source `.mlmodel` spec.

Written by coremlc 2021 and later [V S4 (2021, spec 2), S6 (2025, spec 4); stripe UxModel text]:
a one-element JSON array; almost every scalar is a string. The layer histogram counts *source*
layers (BatchNorm layers that were folded away still count).
"""
from __future__ import annotations

from mlir_coreml.frontend.espresso import format as fmt

# `availability` by specificationVersion [V spec 2 (S4), spec 4 (S6)]; other versions are not known.
AVAILABILITY = {
    2: {"macOS": "10.13.2", "tvOS": "11.2", "watchOS": "4.2", "iOS": "11.2", "macCatalyst": "11.2"},
    4: {"macOS": "10.15", "tvOS": "13.0", "visionOS": "1.0", "watchOS": "6.0", "iOS": "13.0",
        "macCatalyst": "13.0"},
}
ARRAY_DATA_TYPES = {"FLOAT32": "Float32", "DOUBLE": "Double", "INT32": "Int32", "FLOAT16": "Float16"}
COLOR_SPACES = {"RGB": "RGB", "BGR": "BGR", "GRAYSCALE": "Grayscale"}
# Source layer -> histogram name, where it is not the capitalized oneof name [V S4, S6].
HISTOGRAM_NAMES = {"batchnorm": "BatchNorm", "innerProduct": "InnerProduct", "softmaxND": "SoftmaxND",
                   "reshapeStatic": "ReshapeStatic"}


def layer_histogram(layers) -> dict[str, int]:
    counts: dict[str, int] = {}
    for layer in layers:
        name = histogram_name(layer)
        counts[name] = counts.get(name, 0) + 1
    return counts


def histogram_name(layer) -> str:
    from mlir_coreml.frontend.proto import neural_network_pb2 as nn

    kind = layer.WhichOneof("layer")
    params = getattr(layer, kind)
    if kind == "activation":
        return "Activation" + _title(params.WhichOneof("NonlinearityType"))
    if kind == "unary":
        return "Unary" + _title(nn.UnaryFunctionLayerParams.Operation.Name(params.type))
    if kind == "reduce":
        return "Reduce" + _title(nn.ReduceLayerParams.ReduceOperation.Name(params.mode))
    if kind == "pooling":
        return "Pooling" + _title(nn.PoolingLayerParams.PoolingType.Name(params.type))
    return HISTOGRAM_NAMES.get(kind, kind[0].upper() + kind[1:])


def _title(text: str) -> str:
    """`EXP` -> `Exp`, `sigmoidHard` -> `SigmoidHard`, `ReLU` stays."""
    if text.isupper() and len(text) > 4 or text in ("EXP", "SUM", "MAX", "MIN", "LOG", "ABS"):
        return text[0] + text[1:].lower()
    return text[0].upper() + text[1:]


def feature_schema(feature) -> dict:
    kind = feature.type.WhichOneof("Type")
    entry = {"isOptional": str(int(feature.type.isOptional)), "shortDescription": feature.shortDescription,
             "name": feature.name}
    if kind == "imageType":
        image = feature.type.imageType
        from mlir_coreml.frontend.proto import feature_types_pb2 as ft

        space = ft.ImageFeatureType.ColorSpace.Name(image.colorSpace)
        color = space != "GRAYSCALE"
        entry.update({"height": str(image.height), "width": str(image.width),
                      "colorspace": COLOR_SPACES.get(space, space), "isColor": str(int(color)),
                      "formattedType": f"Image ({'Color' if color else 'Grayscale'} {image.width} × {image.height})",
                      "hasSizeFlexibility": str(int(image.WhichOneof("SizeFlexibility") is not None)),
                      "type": "Image"})
        return entry
    if kind == "multiArrayType":
        array = feature.type.multiArrayType
        from mlir_coreml.frontend.proto import feature_types_pb2 as ft

        dtype = ARRAY_DATA_TYPES.get(ft.ArrayFeatureType.ArrayDataType.Name(array.dataType), "Float32")
        shape = list(array.shape)
        dims = " × ".join(str(d) for d in shape)
        entry.update({"dataType": dtype, "formattedType": f"MultiArray ({dtype}{' ' + dims if dims else ''})",
                      "shape": "[" + ", ".join(str(d) for d in shape) + "]",
                      "hasShapeFlexibility": str(int(array.WhichOneof("ShapeFlexibility") is not None)),
                      "type": "MultiArray"})
        ranges = array.shapeRange.sizeRanges if array.WhichOneof("ShapeFlexibility") == "shapeRange" else ()
        if ranges:
            entry["shapeFlexibility"] = " × ".join(
                f"{r.lowerBound}..." if r.upperBound < 0 else
                (str(r.lowerBound) if r.lowerBound == r.upperBound else f"{r.lowerBound}...{r.upperBound}")
                for r in ranges)
            entry["shapeRange"] = "[" + ", ".join(f"[{r.lowerBound}, {r.upperBound}]" for r in ranges) + "]"
        return entry
    entry["type"] = kind[:-len("Type")].capitalize() if kind else ""
    if kind == "dictionaryType":  # [O MNISTClassifier: "Dictionary (Int64 → Double)", keyType "Int64"]
        key = feature.type.dictionaryType.WhichOneof("KeyType") or "stringKeyType"
        entry["keyType"] = key[:-len("KeyType")].capitalize()
        entry["formattedType"] = f"Dictionary ({entry['keyType']} → Double)"
    elif kind:  # Int64, String, Double [O MNISTClassifier, UpdatableDrawingClassifier]
        entry["formattedType"] = entry["type"]
    return entry


def metadata_for(model, model_name: str, era: str = "2021") -> list:
    """The metadata.json content for a NeuralNetwork `Model` protobuf message."""
    desc = model.description
    meta = desc.metadata
    out = {}
    if era < "2025" or meta.shortDescription:
        out["shortDescription"] = meta.shortDescription
    out["metadataOutputVersion"] = "3.0"
    out["outputSchema"] = [feature_schema(f) for f in desc.output]
    if era < "2025" or meta.versionString:
        out["version"] = meta.versionString
    out["modelParameters"] = []
    if era < "2025" or meta.author:
        out["author"] = meta.author
    out["specificationVersion"] = model.specificationVersion
    if era < "2025" or meta.license:
        out["license"] = meta.license
    out["isUpdatable"] = str(int(model.isUpdatable))
    if model.specificationVersion in AVAILABILITY:
        out["availability"] = dict(AVAILABILITY[model.specificationVersion])
    kind = model.WhichOneof("Type")
    out["modelType"] = {"name": f"MLModelType_{kind}"}   # [O: MNISTClassifier, UpdatableDrawingClassifier]
    if kind in fmt.PIPELINE_MODEL_KINDS:
        out["modelType"]["structure"] = [{"name": f"MLModelType_{stage.WhichOneof('Type')}"}
                                         for stage in _stages(model)]
    labels = _class_labels(model)
    if labels is not None:
        out["classLabels"] = labels
    out["inputSchema"] = [feature_schema(f) for f in desc.input]
    out["userDefinedMetadata"] = dict(sorted(meta.userDefined.items()))  # protobuf map order varies by process
    out["generatedClassName"] = model_name
    layers = [layer for network in _networks(model) for layer in network.layers]
    if layers:  # a pipeline's counts its network stages' layers [O UpdatableDrawingClassifier]
        out["neuralNetworkLayerTypeHistogram"] = layer_histogram(layers)
    out["method"] = "predict"
    if era >= "2025":
        out["storagePrecision"] = _storage_precision(model)
        out["computePrecision"] = "Float16"
    return [out]


def _stages(model) -> list:
    kind = model.WhichOneof("Type")
    if kind not in fmt.PIPELINE_MODEL_KINDS:
        return [model]
    pipeline = model.pipeline if kind == "pipeline" else getattr(model, kind).pipeline
    return [stage for inner in pipeline.models for stage in _stages(inner)]


def _networks(model) -> list:
    """The network messages of a model: itself, or its network stages."""
    return [getattr(stage, stage.WhichOneof("Type")) for stage in _stages(model)
            if stage.WhichOneof("Type") in fmt.NETWORK_MODEL_KINDS]


def _class_labels(model) -> list | None:
    """`classLabels` of a classifier: its labels, or for a pipeline classifier those of its last
    stage ([] when that stage has none, as UpdatableDrawingClassifier's nearest-neighbour stage) [O]."""
    kind = model.WhichOneof("Type")
    if kind not in ("neuralNetworkClassifier", "pipelineClassifier"):
        return None
    last = _stages(model)[-1]
    if last.WhichOneof("Type") != "neuralNetworkClassifier":
        return []
    network = last.neuralNetworkClassifier
    which = network.WhichOneof("ClassLabels")
    return list(getattr(network, which).vector) if which else []


def _storage_precision(model) -> str:
    for layer in (layer for network in _networks(model) for layer in network.layers):
        params = getattr(layer, layer.WhichOneof("layer"))
        weights = getattr(params, "weights", None)
        if weights is not None and hasattr(weights, "float16Value") and len(weights.float16Value):
            return "Float16"
    return "Float32"
