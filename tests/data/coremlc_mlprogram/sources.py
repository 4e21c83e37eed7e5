"""Build the source models of the coremlc fixtures in this folder (see SOURCES.md).

Each `expected.mlmodelc/` beside this file is what Apple's coremlc (3520.5.1 or 3600.25.1)
compiled from a small source model. The sources are rebuilt here, from the facts their
generators and the compiled programs state (ops, names, types, shapes, flexibility, weight
bytes), with our own protobuf bindings: `build(case, folder)` writes the source model (and its
`weights/weights.bin`) into `folder` and returns the model file's path.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from mlir_coreml.frontend.proto import model_pb2

FLOAT32, INT32 = 65568, 131104          # ArrayFeatureType.ArrayDataType
FP16, FP32, STRING, I8, I32 = 10, 11, 2, 21, 23   # MIL DataType
WEIGHTS = "@model_path/weights/weights.bin"


# -- descriptions ----------------------------------------------------------------------------

def array_feature(features, name, shape, dtype=FLOAT32, ranges=None, enumerated=None, doc=""):
    f = features.add(name=name, shortDescription=doc)
    array = f.type.multiArrayType
    array.shape.extend(shape)
    array.dataType = dtype
    for lo, hi in ranges or ():
        array.shapeRange.sizeRanges.add(lowerBound=lo, upperBound=hi)
    for s in enumerated or ():
        array.enumeratedShapes.shapes.add().shape.extend(s)
    return f


# -- programs ----------------------------------------------------------------------------------

def value_type(vt, dtype, shape):
    tt = vt.tensorType
    tt.dataType = dtype
    tt.rank = len(shape)
    for d in shape:
        dim = tt.dimensions.add()
        if d is None:
            dim.unknown.variadic = False
        else:
            dim.constant.size = d


def named(items, name, dtype, shape):
    nt = items.add(name=name)
    value_type(nt.type, dtype, shape)


def immediate(value, dtype, shape, field, values):
    value_type(value.type, dtype, shape)
    tensor = value.immediateValue.tensor
    if field == "bytes":
        tensor.bytes.values = values
    else:
        getattr(tensor, field).values.extend(values)


def op(block, kind, outputs, args=(), attrs=()):
    """`args`: (param, variable name | (dtype, shape, field, values)); `attrs` likewise as values."""
    operation = block.operations.add(type=kind)
    for param, binding in args:
        arg = operation.inputs[param].arguments.add()
        if isinstance(binding, str):
            arg.name = binding
        else:
            immediate(arg.value, *binding)
    for name, dtype, shape in outputs:
        named(operation.outputs, name, dtype, shape)
    for key, binding in attrs:
        if binding[0] == "blob":
            value_type(operation.attributes[key].type, binding[1], binding[2])
            operation.attributes[key].blobFileValue.fileName = WEIGHTS
            operation.attributes[key].blobFileValue.offset = 64
        else:
            immediate(operation.attributes[key], *binding)
    return operation


def program(model, inputs, outputs, opset="CoreML7", name="main"):
    """A function `name` with `inputs` [(name, dtype, shape)]; returns its block."""
    model.mlProgram.version = 1
    fn = model.mlProgram.functions[name]
    fn.opset = opset
    for n, dtype, shape in inputs:
        named(fn.inputs, n, dtype, shape)
    block = fn.block_specializations[opset]
    block.outputs.extend(outputs)
    return block


def blob_file(dtype_code: int, data: bytes) -> bytes:
    """Blob storage v2 with one blob: header, the record at 64, the data at 128."""
    out = bytearray(128 + len(data))
    struct.pack_into("<II", out, 0, 1, 2)
    struct.pack_into("<IIQQ", out, 64, 0xDEADBEEF, dtype_code, len(data), 128)
    out[128:] = data
    return bytes(out)


# -- the cases ---------------------------------------------------------------------------------

def _relu(model, opset="CoreML7", name="main"):
    block = program(model, [("input", FP32, [None])], ["output"], opset, name)
    op(block, "relu", [("output", FP32, [None])], [("x", "input")])


def flexible_range():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [4], ranges=[(0, 4)])
    array_feature(m.description.output, "output", [4], ranges=[(0, 4)])
    _relu(m)
    return m, {}


def flexible_enumerated():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [4], enumerated=[[1], [2], [4]])
    array_feature(m.description.output, "output", [4], ranges=[(0, 4)])
    _relu(m)
    return m, {}


def flexible_multifunction():
    m = model_pb2.Model(specificationVersion=9)
    for name, default, doc in (("first", 4, ""), ("second", 2, 'Default input: "second"\n' + "x" * 300)):
        _relu(m, "CoreML8", name)
        fn = m.description.functions.add(name=name)
        array_feature(fn.input, "input", [default], ranges=[(0, 4)], doc=doc)
        array_feature(fn.output, "output", [4], ranges=[(0, 4)])
    m.description.defaultFunctionName = "second"
    return m, {}


def flexible_weighted_legacy():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [1, 4], ranges=[(1, 4), (4, 4)])
    array_feature(m.description.output, "output", [1, 4], ranges=[(1, 4), (4, 4)])
    block = program(m, [("input", FP32, [None, 4])], ["output"])
    op(block, "const", [("weight", FP32, [4])], attrs=[("val", ("blob", FP32, [4]))])
    op(block, "add", [("output", FP32, [None, 4])], [("x", "input"), ("y", "weight")])
    return m, {"weights/weights.bin": blob_file(2, np.array([2, -3, 5, -7], "<f4").tobytes())}


def flexible_gather():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "data", [3, 2])
    array_feature(m.description.input, "indices", [2, 4], INT32, ranges=[(0, 2), (0, 4)])
    array_feature(m.description.output, "output", [2, 4, 2], ranges=[(0, 2), (0, 4), (2, 2)])
    block = program(m, [("data", FP32, [3, 2]), ("indices", I32, [None, None])], ["output"])
    clamped = _gather_clamped(block, "output", "indices", 3, [None, None])
    op(block, "gather", [("output", FP32, [None, None, 2])],
       [("axis", (I32, [], "ints", [0])), ("indices", clamped), ("validate_indices", (1, [], "bools", [False])),
        ("x", "data")])
    return m, {}


def fp16_subnormal_cast():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [5])
    array_feature(m.description.output, "output", [5])
    block = program(m, [("input", FP32, [5])], ["output"])
    bits = struct.pack("<5H", 0x0001, 0x00A8, 0x03FF, 0x0400, 0x80A8)
    op(block, "const", [("half", FP16, [5])], attrs=[("val", (FP16, [5], "bytes", bits))])
    op(block, "cast", [("constant", FP32, [5])], [("dtype", (STRING, [], "strings", ["fp32"])), ("x", "half")])
    op(block, "add", [("output", FP32, [5])], [("x", "input"), ("y", "constant")])
    return m, {}


def quantized_constexpr():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [4])
    array_feature(m.description.output, "output", [4])
    block = program(m, [("input", FP32, [4])], ["output"])
    op(block, "constexpr_affine_dequantize", [("constant", FP32, [4])],
       attrs=[("zero_point", (I8, [], "bytes", b"\xff")), ("scale", (FP32, [], "floats", [0.5])),
              ("quantized_data", ("blob", I8, [4])), ("axis", (I32, [], "ints", [0]))])
    op(block, "add", [("output", FP32, [4])], [("x", "input"), ("y", "constant")])
    return m, {"weights/weights.bin": blob_file(4, struct.pack("<4b", -128, -1, 0, 127))}


def neg_0d_scalar():
    m = model_pb2.Model(specificationVersion=9)
    fn = m.description.functions.add(name="main")
    array_feature(fn.input, "negInput", [1])
    array_feature(fn.output, "negOutput", [1])
    m.description.defaultFunctionName = "main"
    block = program(m, [("negInput", FP32, [1])], ["negOutput"])
    op(block, "mul", [("negOutput", FP32, [1])], [("x", "negInput"), ("y", (FP32, [1], "floats", [-1.0]))])
    return m, {}


def _cast_stage(source, target, source_type, target_type, code, size=4, ranges=None):
    """One cast; `ranges` makes the extent flexible (unknown in the program, a range in the description)."""
    stage = model_pb2.Model(specificationVersion=9)
    feature = {FP32: FLOAT32, FP16: 65552}
    array_feature(stage.description.input, source, [size], feature[source_type], ranges=ranges)
    array_feature(stage.description.output, target, [size], feature[target_type], ranges=ranges)
    dims = [None] if ranges else [size]
    block = program(stage, [(source, source_type, dims)], [target])
    op(block, "cast", [(target, target_type, dims)], [("dtype", (STRING, [], "strings", [code])), ("x", source)])
    return stage


def pipeline_cast():
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [4])
    array_feature(m.description.output, "result", [4])
    m.pipeline.models.add().CopyFrom(_cast_stage("input", "rounded", FP32, FP16, "fp16"))
    m.pipeline.models.add().CopyFrom(_cast_stage("rounded", "result", FP16, FP32, "fp32"))
    return m, {}


def _weighted_stage(source, target, source_type, steps):
    """`steps`: ("add", name) adds the shared weights, ("cast", name, dtype code, MIL dtype) casts."""
    stage = model_pb2.Model(specificationVersion=9)
    feature = {FP32: FLOAT32, FP16: 65552}
    array_feature(stage.description.input, source, [4], feature[source_type])
    last_type = {"add": FP32}
    block = program(stage, [(source, source_type, [4])], [steps[-1][1]])
    op(block, "const", [("weights", FP32, [4])], attrs=[("val", ("blob", FP32, [4]))])
    current = source
    for step in steps:
        if step[0] == "add":
            op(block, "add", [(step[1], FP32, [4])], [("x", current), ("y", "weights")])
            out_type = last_type["add"]
        else:
            op(block, "cast", [(step[1], step[2], [4])], [("dtype", (STRING, [], "strings", [step[3]])), ("x", current)])
            out_type = step[2]
        current = step[1]
    array_feature(stage.description.output, current, [4], feature[out_type])
    return stage


def pipeline_weighted():
    """Both stages read the one weight file beside the pipeline [0.25, -0.25, 0.5, -0.5]; the
    intermediate half tensor is a pipeline output too."""
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [4])
    array_feature(m.description.output, "rounded", [4], 65552)
    array_feature(m.description.output, "result", [4])
    m.pipeline.models.add().CopyFrom(_weighted_stage("input", "rounded", FP32,
                                                     [("add", "sum"), ("cast", "rounded", FP16, "fp16")]))
    m.pipeline.models.add().CopyFrom(_weighted_stage("rounded", "result", FP16,
                                                     [("cast", "widened", FP32, "fp32"), ("add", "result")]))
    return m, {"weights/weights.bin": blob_file(2, np.array([0.25, -0.25, 0.5, -0.5], "<f4").tobytes())}


def _gather_clamped(block, prefix, indices, size, shape):
    """The index normalisation the RustNN converter writes before a gather (negative indices wrap)."""
    op(block, "cast", [(f"{prefix}_idx_i32", I32, shape)], [("dtype", (STRING, [], "strings", ["int32"])),
                                                             ("x", indices)])
    for name, v in ((f"{prefix}_gsz", size), (f"{prefix}_gszm1", size - 1), (f"{prefix}_gz", 0)):
        op(block, "const", [(name, I32, [])], attrs=[("val", (I32, [], "ints", [v]))])
    steps = [("less", "gneg", 1, "idx_i32", "gz"), ("cast", "gnegi", I32, "gneg", None),
             ("mul", "goff", I32, "gnegi", "gsz"), ("add", "gwrap", I32, "idx_i32", "goff"),
             ("maximum", "gmx", I32, "gwrap", "gz"), ("minimum", "gcl", I32, "gmx", "gszm1")]
    for kind, out, dtype, a, b in steps:
        if kind == "cast":
            args = [("dtype", (STRING, [], "strings", ["int32"])), ("x", f"{prefix}_{a}")]
        else:
            args = [("x", f"{prefix}_{a}"), ("y", f"{prefix}_{b}")]
        op(block, kind, [(f"{prefix}_{out}", dtype, shape)], args)
    return f"{prefix}_gcl"


def pipeline_indexed():
    """argmax indices (int32) cross the stage boundary into a gather after an fp16 round trip."""
    first = model_pb2.Model(specificationVersion=9)
    array_feature(first.description.input, "input", [2, 2])
    array_feature(first.description.output, "indices", [2], INT32)
    array_feature(first.description.output, "rounded", [2, 2], 65552)
    block = program(first, [("input", FP32, [2, 2])], ["indices", "rounded"])
    op(block, "reduce_argmax", [("indices", I32, [2])],
       [("axis", (I32, [], "ints", [1])), ("keep_dims", (1, [], "bools", [False])), ("x", "input")])
    op(block, "cast", [("rounded", FP16, [2, 2])], [("dtype", (STRING, [], "strings", ["fp16"])), ("x", "input")])
    second = model_pb2.Model(specificationVersion=9)
    array_feature(second.description.input, "indices", [2], INT32)
    array_feature(second.description.input, "rounded", [2, 2], 65552)
    array_feature(second.description.output, "result", [2, 2])
    block = program(second, [("indices", I32, [2]), ("rounded", FP16, [2, 2])], ["result"])
    op(block, "cast", [("widened", FP32, [2, 2])], [("dtype", (STRING, [], "strings", ["fp32"])), ("x", "rounded")])
    clamped = _gather_clamped(block, "result", "indices", 2, [2])
    op(block, "gather", [("result", FP32, [2, 2])],
       [("axis", (I32, [], "ints", [1])), ("indices", clamped), ("validate_indices", (1, [], "bools", [False])),
        ("x", "widened")])
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [2, 2])
    array_feature(m.description.output, "result", [2, 2])
    m.pipeline.models.add().CopyFrom(first)
    m.pipeline.models.add().CopyFrom(second)
    return m, {}


def pipeline_dynamic_boundary():
    """Two precision stages with an unknown extent, bounds [0, 8]."""
    m = model_pb2.Model(specificationVersion=9)
    array_feature(m.description.input, "input", [8], ranges=[(0, 8)])
    array_feature(m.description.output, "result", [8], ranges=[(0, 8)])
    m.pipeline.models.add().CopyFrom(_cast_stage("input", "rounded", FP32, FP16, "fp16", 8, [(0, 8)]))
    m.pipeline.models.add().CopyFrom(_cast_stage("rounded", "result", FP16, FP32, "fp32", 8, [(0, 8)]))
    return m, {}


def pipeline_dynamic():
    child, _ = flexible_range()
    m = model_pb2.Model(specificationVersion=9)
    m.description.CopyFrom(child.description)
    m.description.metadata.shortDescription = "Pipeline precision boundary. " * 20
    m.pipeline.models.add().CopyFrom(child)
    return m, {}


CASES = {"flexible-range": flexible_range, "flexible-enumerated": flexible_enumerated,
         "flexible-multifunction": flexible_multifunction, "flexible-weighted-legacy": flexible_weighted_legacy,
         "flexible-gather": flexible_gather, "fp16-subnormal-cast": fp16_subnormal_cast,
         "quantized-constexpr": quantized_constexpr, "neg-0d-scalar": neg_0d_scalar,
         "pipeline-cast": pipeline_cast, "pipeline-dynamic": pipeline_dynamic, "pipeline-weighted": pipeline_weighted,
         "pipeline-indexed": pipeline_indexed, "pipeline-dynamic-boundary": pipeline_dynamic_boundary}
# the source file's base name (coremlc names generatedClassName after it)
MODEL_NAMES = {"pipeline-cast": "cast_pipeline", "pipeline-weighted": "weighted_pipeline"}


def build(case: str, folder: Path) -> Path:
    model, files = CASES[case]()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{MODEL_NAMES.get(case, 'input')}.mlmodel"
    path.write_bytes(model.SerializeToString())
    for relative, data in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return path
