"""A model's feature descriptions (`coreml.inputs` / `coreml.outputs`, the protobuf
FeatureDescriptions as dicts) applied the way coremltools' `MLModel.predict` applies them.

Outputs: a multi-array comes back in the declared shape when the description gives one (Core ML
reshapes the blob to it) and in the declared data type (DOUBLE -> float64, ...); an image
output comes back as a PIL image. Inputs: image inputs take PIL images or H x W x C uint8
arrays; flexible inputs (enumerated shapes, shape ranges, image sizes) accept any allowed
shape (`ShapeConstraint`, codegen/feature_shapes.py).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.codegen.feature_shapes import ShapeConstraint, constraint_of
from mlir_coreml.errors import MlirCoremlError

# ArrayFeatureType.ArrayDataType, as message_to_dict names them
ARRAY_DTYPES = {"FLOAT32": np.float32, "DOUBLE": np.float64, "INT32": np.int32, "FLOAT16": np.float16}
GRAYSCALE = ("GRAYSCALE", "GRAYSCALE_FLOAT16")
PILLOW_HINT = "install Pillow (pip install 'mlir_coreml[image]')"


def features_by_name(features) -> dict[str, dict]:
    return {f.get("name"): f for f in features or () if isinstance(f, dict)}


def kind_of(feature: dict | None) -> tuple[str | None, dict]:
    """('multiArrayType' | 'imageType' | ..., its fields) of a feature description."""
    ftype = (feature or {}).get("type") or {}
    for kind, body in ftype.items():
        return kind, body or {}
    return None, {}


def color_space(feature: dict | None) -> str:
    return kind_of(feature)[1].get("colorSpace", "RGB")


# -- flexible shapes ----------------------------------------------------------------------------

def shape_rule(feature: dict | None) -> ShapeConstraint | None:
    """The flexibility a multi-array or image input declares, or None for a fixed shape."""
    kind, body = kind_of(feature)
    if kind == "multiArrayType":
        return constraint_of(feature)
    if kind == "imageType":
        sizes = (body.get("enumeratedSizes") or {}).get("sizes") or ()
        if sizes:
            return ShapeConstraint(enumerated=tuple((int(s.get("height", 0)), int(s.get("width", 0))) for s in sizes))
        size_range = body.get("imageSizeRange")
        if size_range:
            h, w = size_range.get("heightRange") or {}, size_range.get("widthRange") or {}
            return ShapeConstraint(ranges=tuple((int(r.get("lowerBound", 0)), int(r.get("upperBound", -1)))
                                                for r in (h, w)))
    return None


def blob_shape(given: tuple, declared: tuple, image: bool) -> tuple:
    """The function argument's shape for an input of description-level shape `given`: images
    replace the declared blob's trailing H, W; arrays drop extra leading unit dims and take the
    rank-5 blob layout ([C] -> [1,1,C,1,1], [C,H,W] -> [1,1,C,H,W]) when the blob has it, else
    pad to the blob's rank with leading unit dims (a spec-3 bundle's [C,H,W] -> [1,C,H,W])."""
    if image:
        return tuple(declared[:-2]) + tuple(given[-2:])
    given = tuple(given)
    while len(given) > len(declared) and given[0] == 1:
        given = given[1:]
    if len(given) == len(declared):
        return given
    if len(declared) == 5 and len(given) == 1:
        return (1, 1, given[0], 1, 1)
    if len(given) < len(declared):  # a bundle's N x K x H x W blob for a [C, H, W] feature, ...
        return (1,) * (len(declared) - len(given)) + given
    return given


def description_shape(array_shape: tuple, rule: ShapeConstraint) -> tuple:
    """`array_shape` at the rule's rank (rank-5 blobs given for a [C, H, W] feature, ...)."""
    rank = len(rule.enumerated[0]) if rule.enumerated else len(rule.ranges or ())
    shape = tuple(array_shape)
    while len(shape) > rank and shape[0] == 1:
        shape = shape[1:]
    if rank == 1 and len(shape) == 3 and shape[1:] == (1, 1):  # [C, 1, 1] for a [C] feature
        shape = shape[:1]
    return shape


# -- images -------------------------------------------------------------------------------------

def is_pil_image(value) -> bool:
    return hasattr(value, "convert") and hasattr(value, "size") and hasattr(value, "mode")


def image_pixels(value, space: str) -> np.ndarray | None:
    """A PIL image or an H x W (x C) uint8 array as C x H x W float32 pixels in the model's
    channel order (BGR models swap), or None when `value` is neither."""
    if is_pil_image(value):
        value = np.asarray(value.convert("L" if space in GRAYSCALE else "RGB"))
    array = np.asarray(value)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        return None
    hwc = array[..., None] if array.ndim == 2 else array
    if space == "BGR":
        hwc = hwc[..., ::-1]
    return np.ascontiguousarray(np.transpose(hwc, (2, 0, 1)), dtype=np.float32)


def to_pil_image(name: str, array: np.ndarray, space: str):
    """A [.., C, H, W] pixel blob as the PIL image Core ML returns for an image output."""
    try:
        from PIL import Image
    except ImportError:
        raise MlirCoremlError(f"output '{name}' is an image, returned as a PIL image; {PILLOW_HINT}") from None
    pixels = np.asarray(array)
    chw = pixels.reshape(pixels.shape[-3:]) if pixels.ndim >= 3 else pixels[None]
    hwc = np.clip(np.rint(np.transpose(chw, (1, 2, 0))), 0, 255).astype(np.uint8)
    if space in GRAYSCALE or hwc.shape[2] == 1:
        return Image.fromarray(hwc[..., 0], mode="L")
    if space == "BGR":
        hwc = hwc[..., ::-1]
    return Image.fromarray(np.ascontiguousarray(hwc[..., :3]), mode="RGB")


# -- outputs ------------------------------------------------------------------------------------

RANK5 = 5


def uses_rank5_blobs(module_attributes: dict, fn_attributes: dict) -> bool:
    """NeuralNetworks with the legacy RANK5_ARRAY_MAPPING (every spec-3 model) pass rank-5
    [S, B, C, H, W] blobs; an output declared without a shape comes back with that rank. A
    compiled bundle says so by its blob shapes not being N-D."""
    def plain(attrs, key):
        a = attrs.get(key)
        return None if a is None else a.value

    nd_shapes = plain(module_attributes, "espresso.nd_shapes")
    if nd_shapes is not None:
        return str(nd_shapes).lower() in ("false", "0")
    if not str(plain(module_attributes, "coreml.model_type") or "").startswith("neuralNetwork"):
        return False
    network = plain(fn_attributes, "coreml.network") or {}
    return network.get("arrayInputShapeMapping", "RANK5_ARRAY_MAPPING") in ("RANK5_ARRAY_MAPPING", 0)


def output_value(name: str, array, feature: dict | None, rank5: bool = False):
    """A computed output as Core ML returns it under `feature`'s description (`rank5`: the
    model passes rank-5 blobs, see `uses_rank5_blobs`)."""
    kind, body = kind_of(feature)
    if kind == "imageType":
        return to_pil_image(name, array, body.get("colorSpace", "RGB"))
    array = np.asarray(array)
    if kind != "multiArrayType":
        return array
    shape = tuple(int(d) for d in body.get("shape", ()))
    fixed = not (body.get("enumeratedShapes") or body.get("shapeRange"))
    if shape and fixed and int(np.prod(shape)) == array.size and shape != array.shape:
        array = array.reshape(shape)
    elif not shape and rank5 and array.ndim < RANK5:
        array = array.reshape((1,) * (RANK5 - array.ndim) + array.shape)
    dtype = ARRAY_DTYPES.get(body.get("dataType"))
    return array if dtype is None or array.dtype == dtype else array.astype(dtype)
