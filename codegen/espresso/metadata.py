"""`metadata.json` of a compiled NeuralNetwork bundle, derived from the source `.mlmodel` spec.

Written by coremlc 2021 and later [V S4 (2021, spec 2), S6 (2025, spec 4); stripe UxModel text]:
a one-element JSON array; almost every scalar is a string. The layer histogram counts *source*
layers (BatchNorm layers that were folded away still count).
"""
from __future__ import annotations

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
    out["modelType"] = {"name": "MLModelType_neuralNetwork"}
    out["inputSchema"] = [feature_schema(f) for f in desc.input]
    out["userDefinedMetadata"] = dict(sorted(meta.userDefined.items()))  # protobuf map order varies by process
    out["generatedClassName"] = model_name
    out["neuralNetworkLayerTypeHistogram"] = layer_histogram(model.neuralNetwork.layers)
    out["method"] = "predict"
    if era >= "2025":
        out["storagePrecision"] = _storage_precision(model)
        out["computePrecision"] = "Float16"
    return [out]


def _storage_precision(model) -> str:
    for layer in model.neuralNetwork.layers:
        params = getattr(layer, layer.WhichOneof("layer"))
        weights = getattr(params, "weights", None)
        if weights is not None and hasattr(weights, "float16Value") and len(weights.float16Value):
            return "Float16"
    return "Float32"
