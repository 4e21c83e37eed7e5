"""Inferred espresso forms: how a NeuralNetwork layer without an observed espresso form is written
into, and read back from, a `model.espresso.net` layer.

No public Apple-compiled bundle shows these layer kinds (see docs/espresso-layers.md), so the
form follows the closest evidence, the ND layers Apple's own compilers wrote (`softmax_nd`,
`split_nd`, `expand_dims`, `squeeze`):

* `type` is the layer kind in snake case (`splitND` -> `split_nd`, `expandDims` -> `expand_dims`);
  a kind whose snake name is an espresso type with other fields (`convolution`, `reshape`, ...)
  takes espresso's `general_` prefix (`general_padding`, `general_concat` are espresso's own);
* every params field is a layer key under its proto name; a list of numbers `axes` is written as
  `size_of_axes` and `axes_0`, `axes_1`, ... (as `expand_dims`/`squeeze` write theirs); messages
  stay JSON objects; a proto field named like a structural key (`type`) is prefixed `param_`;
* each weight is a `blob_<proto path>` blob (`_f16` appended for half-precision blobs, as in
  `blob_weights_f16`), its logical shape in the `weight_shapes` object;
* `nn_layer_kind` names the source kind: only layers carrying it are read as inferred forms (a
  layer another compiler wrote under the same type name stays an unknown layer);
* `nd_mode: true` (the key spec-4 `elementwise` layers carry) marks a layer of an ND network,
  whose blobs keep their ranks; without it the layer is a classic one, which sees every blob as
  rank 5 [S, B, C, H, W] (the shape file drops a unit sequence axis, so the reader restores it).

`nn_layer` turns such a layer back into the `nn` op it was written from, so the reader runs it
with the `nn` dialect's own semantics (reference and nn-to-core lowering).
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import DenseResourceAttr
from mlir_coreml.ir.dialects.constant import ConstantOp
from mlir_coreml.ir.dialects.espresso import LAYER_OPS as TYPED_LAYERS
from mlir_coreml.ir.dialects.espresso import STRUCTURAL_KEYS
from mlir_coreml.ir.opdef import build
from mlir_coreml.ir.types import F16, TensorType, element_type_of

GENERAL_PREFIX = "general_"
PARAM_PREFIX = "param_"
SIZE_PREFIX = "size_of_"
WEIGHT_SHAPES = "weight_shapes"
ND_MODE = "nd_mode"
# names the source layer kind: marks the layer as ours, so that a layer Apple's own compilers
# wrote under the same type (`squeeze`, `split_nd`) is never run with guessed semantics
SOURCE_KIND = "nn_layer_kind"
BLOB_PREFIX = "blob_"
F16_SUFFIX = "_f16"
# espresso keys of a layer that are not layer parameters (era- and compiler-added)
NON_PARAM_KEYS = frozenset({"debug_info", "attributes", "hint_fallback_from_metal", "hint_fallback_from_ane",
                            WEIGHT_SHAPES, ND_MODE, SOURCE_KIND})


# layer type -> net keys of its nested networks, in region order
NESTED_NETWORKS = {"loop": ("conditionNetwork", "bodyNetwork"), "branch": ("ifBranch", "elseBranch")}
LAYERS_KEY = "layers"


def nested_blob_names(layer_type: str, params: dict) -> list[tuple[list, list]]:
    """(argument blob names, yielded blob names) of each nested network, in region order: a loop's
    networks take the carried blobs, its condition hands back `conditionVar` and its body the
    carried blobs; a branch's networks read outer blobs and hand back the carried ones."""
    carried = [str(n) for n in params.get("carried", ())]
    if layer_type == "loop":
        condition = [str(params["conditionVar"])] if params.get("conditionVar") else []
        return [(carried, condition), (carried, carried)]
    return [([], carried), ([], carried)]


def _layer_ops() -> dict:
    from mlir_coreml.ir.dialects.nn import LAYER_OPS

    return LAYER_OPS


def espresso_type_of(kind: str) -> str:
    """The inferred espresso layer type of NeuralNetwork layer kind `kind`."""
    snake = _layer_ops()[kind].name[len("nn."):]
    return GENERAL_PREFIX + snake if snake in TYPED_LAYERS else snake


_TYPES: dict[str, str] = {}  # inferred type -> layer kind, filled on first use


def kind_of(espresso_type: str) -> str | None:
    """The layer kind whose inferred form has type `espresso_type`, or None."""
    if not _TYPES:
        _TYPES.update({espresso_type_of(kind): kind for kind in _layer_ops()})
    return _TYPES.get(espresso_type)


def is_inferred_layer(op) -> bool:
    """An inferred form we wrote: its type is the one its `nn_layer_kind` key names."""
    if op.op_name not in ("espresso.layer", "espresso.nested_layer"):
        return False
    marker = op.attributes.get(SOURCE_KIND)
    kind = kind_of(op.espresso_type)
    return kind is not None and marker is not None and marker.value == kind


# -- writing ---------------------------------------------------------------------------------

def _is_number_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


def encode_params(params: dict) -> dict:
    """Layer keys for the params fields `params` (JSON values by proto field name)."""
    fields = {}
    for key, value in params.items():
        key = PARAM_PREFIX + key if key in STRUCTURAL_KEYS or key in NON_PARAM_KEYS else key
        if _is_number_list(value):
            fields[SIZE_PREFIX + key] = len(value)
            fields.update({f"{key}_{i}": v for i, v in enumerate(value)})
        else:
            fields[key] = value
    return fields


def blob_key(field: str, element) -> str:
    return BLOB_PREFIX + field + (F16_SUFFIX if element == F16 else "")


# -- reading ---------------------------------------------------------------------------------

def decode_params(fields: dict) -> dict:
    """The params fields of an inferred layer's keys (inverse of encode_params)."""
    lists = {key[len(SIZE_PREFIX):]: n for key, n in fields.items()
             if key.startswith(SIZE_PREFIX) and isinstance(n, int) and n >= 0
             and all(f"{key[len(SIZE_PREFIX):]}_{i}" in fields for i in range(n))}
    items = {f"{name}_{i}" for name, n in lists.items() for i in range(n)}
    params = {}
    for key, value in fields.items():
        if key in NON_PARAM_KEYS or key in items or key.startswith(BLOB_PREFIX):
            continue
        if key.startswith(SIZE_PREFIX) and key[len(SIZE_PREFIX):] in lists:
            name = key[len(SIZE_PREFIX):]
            value = [fields[f"{name}_{i}"] for i in range(lists[name])]
            key = name
        if key.startswith(PARAM_PREFIX):
            key = key[len(PARAM_PREFIX):]
        params[key] = value
    return params


def weight_array(raw: np.ndarray, key: str, shape) -> np.ndarray:
    """A blob's bytes (or an already typed array) as the weight the nn layer reads."""
    dtype = np.float16 if key.endswith(F16_SUFFIX) else np.float32
    array = np.asarray(raw)
    if array.dtype == np.uint8:
        array = np.ascontiguousarray(array).view(dtype)
    return array.reshape(tuple(shape))


def weight_field(key: str) -> str:
    field = key[len(BLOB_PREFIX):]
    return field[:-len(F16_SUFFIX)] if field.endswith(F16_SUFFIX) else field


def is_classic(op) -> bool:
    """A classic layer reads rank-5 views; control flow passes blobs through as they are."""
    return not op.fields().get(ND_MODE, False) and not op.regions


def rank5(type):
    """A classic layer's view of a blob type: rank 5, leading unit axes restored."""
    if not isinstance(type, TensorType) or type.shape is None:
        return type
    return type.with_shape((1,) * (5 - len(type.shape)) + tuple(type.shape))


def nn_layer(op, inputs: list, weights: list, regions=()):
    """The `nn` op an inferred espresso layer `op` was written from, over data `inputs` (rank 5
    for a classic layer) and `weights` (one per blob, in blob order), taking `regions`; not
    inserted anywhere."""
    kind = kind_of(op.espresso_type)
    params = decode_params(op.fields())
    params["weight_fields"] = [weight_field(key) for key, _ in op.blobs()]
    types = [r.type for r in op.results]
    if is_classic(op):
        types = [rank5(t) for t in types]
    return build(_layer_ops()[kind], list(inputs) + list(weights), types, params, regions, location=op.location,
                 result_names=[r.name for r in op.results])


def weight_constants(op) -> list[ConstantOp]:
    """New constants holding the typed, shaped weights of inferred layer `op` (for the rewrite)."""
    shapes = op.fields().get(WEIGHT_SHAPES, {})
    out = []
    for key, value in op.blobs():
        raw = value.op.attributes["value"].value
        array = weight_array(raw, key, shapes.get(weight_field(key), (-1,)))
        name = value.name or key
        tensor = TensorType(array.shape, element_type_of(array.dtype))
        attr = DenseResourceAttr.from_array(name, array, tensor)
        out.append(build(ConstantOp, [], [tensor], {"value": attr}, location=value.op.location,
                         result_names=[name]))
    return out


def execute(op, interp, env, *arrays):
    """Reference semantics of an inferred layer: those of its nn layer (control flow runs the
    espresso layers of its nested networks)."""
    data = op.data_inputs()
    shapes = op.fields().get(WEIGHT_SHAPES, {})
    weights = [weight_array(a, key, shapes.get(weight_field(key), (-1,)))
               for (key, _), a in zip(op.blobs(), arrays[len(data):])]
    inputs = [np.asarray(a) for a in arrays[:len(data)]]
    if is_classic(op):
        inputs = [a.reshape((1,) * (5 - a.ndim) + a.shape) for a in inputs]
    layer = nn_layer(op, data, [value for _, value in op.blobs()])
    try:
        if hasattr(layer, "execute"):
            layer.regions = op.regions  # borrowed: execute only reads them
            out = layer.execute(interp, env, *inputs, *weights)
        else:
            out = layer.reference(*inputs, *weights)
    finally:
        layer.regions = []
        layer.drop_operands()
    if not is_classic(op):
        return out
    outs = out if isinstance(out, tuple) else (out,)
    # a run-time sequence length other than the declared one keeps the rank-5 view
    outs = tuple(np.asarray(o).reshape(r.type.shape) if r.type.is_static and np.size(o) == r.type.num_elements
                 else o for o, r in zip(outs, op.results))
    return outs if isinstance(out, tuple) else outs[0]


def _reshaped(value, type, before):
    """`value` reshaped to static `type` by a core.reshape inserted before `before` (or as is)."""
    from mlir_coreml.ir.dialects.core.tensor import ReshapeOp

    if not isinstance(type, TensorType) or not type.is_static or value.type == type:
        return value
    reshape = build(ReshapeOp, [value], [type], {"shape": list(type.shape)}, location=before.location)
    before.parent.insert_before(reshape, before)
    return reshape.result


def rewrite_as_nn(module) -> int:
    """Replace every inferred espresso layer in `module` by its nn op (weights as typed constants,
    classic layers between reshapes to and from rank 5); returns how many were replaced."""
    count = 0
    for op in [o for o in module.walk() if is_inferred_layer(o)]:
        constants = weight_constants(op)
        for const in constants:
            op.parent.insert_before(const, op)
        inputs = list(op.data_inputs())
        if is_classic(op):
            inputs = [_reshaped(v, rank5(v.type), op) for v in inputs]
        regions, op.regions = op.regions, []  # moved to the nn op
        layer = nn_layer(op, inputs, [c.result for c in constants], regions)
        op.parent.insert_before(layer, op)
        for old, new in zip(op.results, layer.results):
            old.replace_all_uses_with(_reshaped(new, old.type, op))
        blob_producers = [value.op for _, value in op.blobs()]
        op.erase()
        for producer in blob_producers:
            if not any(r.uses for r in producer.results):
                producer.erase()
        count += 1
    return count
