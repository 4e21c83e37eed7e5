"""`metadata.json` of an ML Program bundle, as coremlc 3520 / 3600 write it.

Evidence (tags as in docs/espresso-format.md): [V] matched against Apple's output for the
bundles in tests/data/coremlc_mlprogram (coremlc 3520.5.1 and 3600.25.1, see SOURCES.md);
[O] seen in third-party metadata.json files; [G] our guess, where no sample shows the case.

- Keys, and their nesting for multi-function models (`functions`, `defaultFunctionName`;
  the top-level histogram, schemas and precision are the default function's) [V].
- Histogram names `<Opset>.<camelCase op type>` [V]. The opset is not simply the function's:
  an iOS17 function counts `Ios17.add`, `Ios17.cast` but `Ios16.relu` and
  `Ios16.constexprAffineDequantize` [V], `Ios17.conv`, `Ios17.instanceNorm`, `Ios16.constexprLutToDense`
  and a bare `Tile` [O]. Rule used: an iOS17 function names ops that iOS17 redefined (coremltools'
  iOS17 op set, plus the elementwise binary ops after `add` [V add, G the others]) `Ios17`, `tile`
  `Tile` [O], every other op `Ios16`; iOS16 and iOS18 functions name every op by their own opset
  ([V] Ios16.mul, Ios18.relu); iOS15 functions `Ios15` [G].
- `computePrecision`: the element types of the tensors the non-const ops read and write
  ("Mixed (A, B)" sorted, when several) [V: an fp16 const cast to fp32 gives "Mixed (Float16,
  Float32)"; an fp32 add "Float32"; int32 index arithmetic "Int32" but its bool masks nothing].
  Strings do not count [G].
- `storagePrecision`: present only when weights live in a weight file [V]; the element types of
  those blobs ("Int8" for constexpr_affine_dequantize data [V]), "Palettized (N bits)" for a
  LUT's indices [O "Mixed (Float16, Palettized (8 bits))"], "Mixed (...)" when several [O]. Of a
  decompression op only the stored weight counts (not its scales, LUT or mask) [G].
- State schema entries: a multi-array's fields, `type` "State", formattedType "State (Float16 1 × 4)" [G].
- Schema entries: flexible inputs add `shapeFlexibility` ("0...4" for a range, "1 | 2 | 4" for
  enumerated shapes, dims joined by " × ") and `shapeRange` / `enumeratedShapes` [V rank 1;
  G the " × " joint for higher ranks, as for the NN writer].
"""
from __future__ import annotations

import re

from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.types import TensorType

PRECISION_NAMES = {"f16": "Float16", "f32": "Float32", "f64": "Float64", "bf16": "BFloat16", "i8": "Int8",
                   "i16": "Int16", "i32": "Int32", "i64": "Int64", "u8": "UInt8", "u16": "UInt16",
                   "u32": "UInt32", "bool": "Bool"}
# `availability` by specificationVersion: 7 [V docs §6: macOS 13.0, iOS 16.0; the others G by
# Apple's release pairing], 8 [O], 9 [V], 10 [G]. Key order as coremlc writes it [V].
AVAILABILITY = {
    6: {"macOS": "12.0", "tvOS": "15.0", "visionOS": "1.0", "watchOS": "8.0", "iOS": "15.0",
        "macCatalyst": "15.0"},
    7: {"macOS": "13.0", "tvOS": "16.0", "visionOS": "1.0", "watchOS": "9.0", "iOS": "16.0",
        "macCatalyst": "16.0"},
    8: {"macOS": "14.0", "tvOS": "17.0", "visionOS": "1.0", "watchOS": "10.0", "iOS": "17.0",
        "macCatalyst": "17.0"},
    9: {"macOS": "15.0", "tvOS": "18.0", "visionOS": "2.0", "watchOS": "11.0", "iOS": "18.0",
        "macCatalyst": "18.0"},
    10: {"macOS": "16.0", "tvOS": "19.0", "visionOS": "3.0", "watchOS": "12.0", "iOS": "19.0",
         "macCatalyst": "19.0"},
}
# Ops an iOS17 function names `Ios17.*` (see the module docstring).
IOS17_OPS = frozenset(
    "batch_norm cast clamped_relu clip conv conv_transpose crop_resize dequantize elu expand_dims gather "
    "gather_along_axis gather_nd gru instance_norm inverse l2_norm layer_norm leaky_relu linear "
    "linear_activation local_response_norm log lstm matmul non_maximum_suppression prelu quantize "
    "reduce_argmax reduce_argmin resample reshape reshape_like resize reverse reverse_sequence rnn rsqrt "
    "scaled_tanh scatter scatter_along_axis scatter_nd sigmoid_hard slice_by_index slice_by_size "
    "sliding_windows softplus_parametric squeeze thresholded_relu topk transpose "
    "add sub mul real_div floor_div mod pow maximum minimum equal not_equal less less_equal greater "
    "greater_equal logical_and logical_or logical_xor".split())
UNPREFIXED = {"tile": "Tile"}
# The parameter of each decompression op that holds the stored weight.
STORED_WEIGHT = {"constexpr_affine_dequantize": "quantized_data", "constexpr_lut_to_dense": "indices",
                 "constexpr_sparse_to_dense": "nonzero_data", "constexpr_blockwise_shift_scale": "data",
                 "constexpr_cast": "source_val", "constexpr_lut_to_sparse": "indices_nonzero_data",
                 "constexpr_sparse_blockwise_shift_scale": "nonzero_data"}  # the iOS18 joint ones [G]
PALETTIZED = ("constexpr_lut_to_dense", "constexpr_lut_to_sparse")
SKIPPED = ("func.return", "mil.yield", "core.constant")


def histogram_name(op_type: str, opset: str) -> str:
    if opset == "ios17":
        if op_type in UNPREFIXED:
            return UNPREFIXED[op_type]
        opset = "ios17" if op_type in IOS17_OPS else "ios16"
    return f"{opset[:1].upper()}{opset[1:]}.{camel(op_type)}"


def camel(kind: str) -> str:
    head, *rest = kind.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def op_type(op) -> str:
    return getattr(op, "mil_type", None) or op.op_name.split(".", 1)[-1]


def walk_ops(block):
    for op in block.ops:
        yield op
        for region in op.regions:
            for inner in region.blocks:
                yield from walk_ops(inner)


def function_histogram(fn) -> dict[str, int]:
    opset = str(getattr(fn.attributes.get("opset"), "value", "ios15"))
    counts: dict[str, int] = {}
    for op in walk_ops(fn.body):
        kind = op_type(op)
        if kind == "const" or op.op_name in SKIPPED:
            continue
        key = histogram_name(kind, opset)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def mixed_precision(names: set[str]) -> str | None:
    ordered = sorted(names)
    if not ordered:
        return None
    return ordered[0] if len(ordered) == 1 else f"Mixed ({', '.join(ordered)})"


def compute_precision(fn) -> str:
    names = set()
    for op in walk_ops(fn.body):
        if op_type(op) == "const" or op.op_name in SKIPPED or op_type(op).startswith("constexpr_"):
            continue  # constexpr ops run when the model loads [G: iOS18 int8 data is not computed with]
        for v in list(op.operands) + list(op.results):
            t = v.type
            if isinstance(t, TensorType) and t.element.name in PRECISION_NAMES and t.element.name != "bool":
                names.add(PRECISION_NAMES[t.element.name])  # bools do not count [V flexible-gather]
    return mixed_precision(names) or "Float32"


def storage_precision(functions, stored_dtype) -> str | None:
    """`stored_dtype(attr)`: the MIL dtype a weight-file resource is stored as."""
    names = set()
    for fn in functions:
        for op in walk_ops(fn.body):
            for key, attr in op.attributes.items():
                if not isinstance(attr, DenseResourceAttr):
                    continue
                user, param = _consumer(op, key)
                kind = op_type(user)
                if kind in STORED_WEIGHT and param != STORED_WEIGHT[kind]:
                    continue  # scales, LUTs, masks describe the weight; they are not it [G]
                if kind in PALETTIZED:
                    names.add(f"Palettized ({_lut_bits(user)} bits)")
                    continue
                names.add(_storage_name(stored_dtype(attr)))
    return mixed_precision(names)


def _consumer(op, key: str):
    """(op, parameter) a stored value feeds: a const's single user, else the op itself."""
    if op_type(op) != "const" or len(op.results) != 1 or len(op.results[0].uses) != 1:
        return op, key
    user = op.results[0].uses[0].operation
    for d in getattr(type(user), "operand_defs", ()):
        if op.results[0] in user.operand_group(d.name):
            return user, d.name
    return op, key


def _lut_bits(op) -> int:
    """log2 of the LUT's entry count: iOS16 LUTs are [2^n], iOS18 ones [..., 2^n, vector size]."""
    lut = op.attributes.get("lut")
    if lut is None and op.operand_group("lut"):
        lut = op.operand_group("lut")[0]
    shape = lut.type.shape if lut is not None else (256,)
    entries = shape[0] if len(shape) == 1 else shape[-2]
    return max(1, int(entries - 1).bit_length())


def _storage_name(dtype: str) -> str:
    """MIL dtype -> metadata spelling: fp16 "Float16", int8 "Int8", uint4 "UInt4"."""
    match = re.fullmatch(r"(u?)(int|fp|bf)(\d+)", dtype)
    if match is None:
        return dtype.capitalize()
    unsigned, kind, bits = match.groups()
    base = {"int": "Int", "fp": "Float", "bf": "BFloat"}[kind]
    return f"{'U' if unsigned else ''}{base}{bits}"


def flexible_schema_fields(array) -> dict:
    """The schema entries an ArrayFeatureType's shape flexibility adds."""
    kind = array.WhichOneof("ShapeFlexibility")
    if kind == "shapeRange":
        ranges = array.shapeRange.sizeRanges
        return {"shapeFlexibility": " × ".join(
                    f"{r.lowerBound}..." if r.upperBound < 0 else
                    (str(r.lowerBound) if r.lowerBound == r.upperBound else f"{r.lowerBound}...{r.upperBound}")
                    for r in ranges),
                "shapeRange": "[" + ", ".join(f"[{r.lowerBound}, {r.upperBound}]" for r in ranges) + "]"}
    if kind == "enumeratedShapes":
        shapes = [list(s.shape) for s in array.enumeratedShapes.shapes]
        return {"shapeFlexibility": " | ".join(" × ".join(map(str, s)) for s in shapes),
                "enumeratedShapes": "[" + ", ".join("[" + ", ".join(map(str, s)) + "]" for s in shapes) + "]"}
    return {}


def feature_schema(feature) -> dict:
    from mlir_coreml.codegen.espresso.metadata import feature_schema

    entry = feature_schema(feature)
    kind = feature.type.WhichOneof("Type")
    if kind == "multiArrayType":
        entry.update(flexible_schema_fields(feature.type.multiArrayType))
    elif kind == "stateType" and feature.type.stateType.WhichOneof("Type") == "arrayType":
        # a state's array, spelled as a multi-array's [G: no sample has a state]
        array_feature = type(feature)(name=feature.name, shortDescription=feature.shortDescription)
        array_feature.type.multiArrayType.CopyFrom(feature.type.stateType.arrayType)
        array = feature_schema(array_feature)
        entry.update({k: array[k] for k in ("dataType", "shape", "hasShapeFlexibility")})
        entry["formattedType"] = "State (" + array["formattedType"][len("MultiArray ("):]
    return entry


def function_entry(fn, inputs, outputs, states) -> dict:
    return {"computePrecision": compute_precision(fn),
            "outputSchema": [feature_schema(f) for f in outputs],
            "stateSchema": [feature_schema(f) for f in states],
            "name": str(fn.attributes["sym_name"].value),
            "mlProgramOperationTypeHistogram": function_histogram(fn),
            "inputSchema": [feature_schema(f) for f in inputs]}


def metadata_for_program(module, desc, model_name: str, stored_dtype) -> list:
    """metadata.json content for a mil-dialect module and its ModelDescription message."""
    from mlir_coreml.ir.dialects.func import entry_function

    spec_version = int(getattr(module.attributes.get("coreml.specification_version"), "value", 7))
    functions = [op for op in module.body.ops if op.op_name == "func.func"]
    default = entry_function(module)
    by_name = {f.name: f for f in desc.functions}
    described = by_name.get(default.attributes["sym_name"].value)
    inputs, outputs, states = ((described.input, described.output, described.state) if described is not None
                               else (desc.input, desc.output, desc.state))
    meta = desc.metadata
    out = {"metadataOutputVersion": "3.0"}
    storage = storage_precision(functions, stored_dtype)
    if storage is not None:
        out["storagePrecision"] = storage
    for key, value in (("shortDescription", meta.shortDescription), ("version", meta.versionString),
                       ("author", meta.author), ("license", meta.license)):
        if value:
            out[key] = value
    out["outputSchema"] = [feature_schema(f) for f in outputs]
    out["modelParameters"] = []
    out["specificationVersion"] = spec_version
    if desc.functions:
        fns = {f.attributes["sym_name"].value: f for f in functions}
        out["functions"] = [function_entry(fns[d.name], d.input, d.output, d.state)
                            for d in desc.functions if d.name in fns]
    out["mlProgramOperationTypeHistogram"] = function_histogram(default)
    out["computePrecision"] = compute_precision(default)
    out["isUpdatable"] = "0"
    out["stateSchema"] = [feature_schema(f) for f in states]
    if spec_version in AVAILABILITY:
        out["availability"] = dict(AVAILABILITY[spec_version])
    out["modelType"] = {"name": "MLModelType_mlProgram"}
    out["userDefinedMetadata"] = dict(sorted(meta.userDefined.items()))  # protobuf map order varies by process
    out["inputSchema"] = [feature_schema(f) for f in inputs]
    if desc.defaultFunctionName:
        out["defaultFunctionName"] = desc.defaultFunctionName
    out["generatedClassName"] = class_name(model_name)
    out["method"] = "predict"
    return [out]


def class_name(name: str) -> str:
    """generatedClassName: the source base name made an identifier [V for plain names]."""
    cleaned = re.sub(r"\W", "_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else "_" + cleaned
