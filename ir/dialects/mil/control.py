"""Constants, compile-time dequantization (`constexpr_*`) and control flow (`cond`, `while_loop`).

`mil.const` keeps the MIL value in its `val` attribute (dense, or `dense_resource` backed by
weight.bin). iOS16 `constexpr_*` ops carry their data as attributes (that is how the protobuf
stores them); iOS18 ones take operands — both forms read the same way through `MilOp.bind`.
Control-flow ops own one region per MIL block; a block's outputs are its `mil.yield` operands.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.attributes import ArrayAttr, DenseAttr, DenseResourceAttr
from mlir_coreml.ir.dialects.mil.base import MIL_DTYPES, MIL_OPS, MilOp, ints, mil_op, numpy_dtype, scalar
from mlir_coreml.ir.opdef import (AnyType, ConstantLike, Pure, Terminator, VerifyError, attribute, op_def,
                                  operand, region, result)
from mlir_coreml.ir.types import ListType, TensorType

# -- const ---------------------------------------------------------------------------------


@op_def("mil.const")
class ConstOp(MilOp):
    """A MIL constant: `%w = mil.const {val = dense_resource<w> : tensor<8x3x3x3xf16>}`; a list
    constant (e.g. `classify.classes`) holds an array of dense values and has a list type."""

    val = attribute("any")
    output = result(AnyType)
    traits = frozenset({Pure, ConstantLike})
    mil_type = "const"

    def verify_(self):
        attr = self.attributes["val"]
        if isinstance(attr, ArrayAttr):
            if not isinstance(self.output.type, ListType) or not all(
                    isinstance(x, (DenseAttr, DenseResourceAttr)) for x in attr.data):
                raise VerifyError(f"a list val needs dense elements and a list result, not {self.output.type}")
            return
        if not isinstance(attr, (DenseAttr, DenseResourceAttr)):
            raise VerifyError("val must be a dense tensor or a list of them")
        if attr.type != self.output.type:
            raise VerifyError(f"val has type {attr.type} but the result is {self.output.type}")

    def infer_types(self):
        return [value_type(self.attributes["val"])]

    def reference(self):
        attr = self.attributes["val"]
        if isinstance(attr, ArrayAttr):
            return ([x.value for x in attr.data],)  # one list value
        return attr.value


def value_type(attr):
    """The IR type of a MIL constant: a tensor, or a list of tensors (typed by its first element)."""
    if isinstance(attr, ArrayAttr):
        if not attr.data or not hasattr(attr.data[0], "type"):
            raise ValueError("a list constant needs tensor elements")
        return ListType(attr.data[0].type)
    return attr.type


MIL_OPS["const"] = ConstOp

# -- constexpr dequantization --------------------------------------------------------------


def unpack_bits(packed, nbits: int, count: int) -> np.ndarray:
    """Unsigned `nbits`-wide values packed little-endian first (MIL blob convention)."""
    bits = np.unpackbits(np.asarray(packed, dtype=np.uint8).reshape(-1), bitorder="little")
    bits = bits[:count * nbits].reshape(count, nbits).astype(np.uint32)
    return (bits << np.arange(nbits, dtype=np.uint32)).sum(axis=1)


def pack_bits(values, nbits: int) -> bytes:
    """The inverse of `unpack_bits`: `nbits`-wide values (two's complement for signed ones) packed
    little-endian first, the last byte zero-padded."""
    values = np.asarray(values).reshape(-1).astype(np.int64) & ((1 << nbits) - 1)
    bits = ((values[:, None] >> np.arange(nbits)) & 1).astype(np.uint8).reshape(-1)
    return np.packbits(bits, bitorder="little").tobytes()


def _along(values, axis, rank):
    values = np.asarray(values)
    if values.ndim != 1 or rank == 0:
        return values
    shape = [1] * rank
    shape[axis] = -1
    return values.reshape(shape)


def _affine_dequantize(self, a):
    q = np.asarray(a["quantized_data"]).astype(np.float32)
    axis = int(scalar(a["axis"])) % max(q.ndim, 1)
    zp = _along(np.asarray(a["zero_point"]).astype(np.float32), axis, q.ndim)
    return (q - zp) * _along(a["scale"], axis, q.ndim)


def _constexpr_cast(self, a):
    return np.asarray(a["source_val"]).astype(numpy_dtype(MIL_DTYPES[str(scalar(a["output_dtype"]))]))


def _expand_blocks(values, shape):
    """Repeat a per-block parameter (one entry per block on every axis) up to `shape`."""
    values = np.asarray(values)
    values = values.reshape((1,) * (len(shape) - values.ndim) + values.shape)
    for axis, (dim, blocks) in enumerate(zip(shape, values.shape)):
        if blocks != dim:
            if blocks == 0 or dim % blocks:
                raise ValueError(f"axis {axis}: {dim} is not a multiple of {blocks} blocks")
            values = np.repeat(values, dim // blocks, axis=axis)
    return values


def _block_of(shape, blocks, where=None):
    """Per axis, the block index of each element of a `shape` tensor split in `blocks` blocks
    (broadcastable grids; with a boolean `where`, flat ones for its set elements only)."""
    if where is not None:
        return tuple(np.nonzero(where)[axis] // (dim // n) for axis, (dim, n) in enumerate(zip(shape, blocks)))
    grids = []
    for axis, (dim, n) in enumerate(zip(shape, blocks)):
        grid = [1] * len(shape)
        grid[axis] = -1
        grids.append((np.arange(dim) // (dim // n)).reshape(grid))
    return tuple(grids)


def _scalar_luts(lut):
    if lut.shape[-1] != 1:
        raise NotImplementedError("vector palettization (vector_size > 1) is not supported")
    return lut[..., 0]  # [*blocks, nlut]


def _lut_to_dense(self, a):
    lut = a["lut"]
    if a.get("shape") is not None:  # iOS16: packed indices, a flat LUT
        shape = ints(a["shape"])
        nbits = int(np.log2(lut.shape[-1]))
        count = int(np.prod(shape))
        return np.asarray(lut)[unpack_bits(a["indices"], nbits, count)].reshape(shape)
    indices = np.asarray(a["indices"]).astype(np.int64)  # iOS18: one LUT per block
    luts = _scalar_luts(lut)
    return luts[_block_of(indices.shape, luts.shape[:-1]) + (indices,)]


def _lut_to_sparse(self, a):
    """iOS18 joint compression: palettized nonzero values of a sparse tensor -> (mask, values)."""
    mask = np.asarray(a["indices_mask"]).astype(bool)
    luts = _scalar_luts(a["lut"])
    indices = np.asarray(a["indices_nonzero_data"]).astype(np.int64)
    return mask.astype(np.uint8), luts[_block_of(mask.shape, luts.shape[:-1], mask) + (indices,)]


def _sparse_blockwise_shift_scale(self, a):
    """iOS18 joint compression: quantized nonzero values of a sparse tensor -> (mask, values)."""
    mask = np.asarray(a["data_mask"]).astype(bool)
    data = np.asarray(a["nonzero_data"]).astype(np.float32)
    scale = _expand_blocks(a["scale"], mask.shape)[mask]
    if a.get("offset") is not None:
        data = data - _expand_blocks(a["offset"], mask.shape)[mask]
    return mask.astype(np.uint8), data * scale


def _sparse_to_dense(self, a):
    data = np.asarray(a["nonzero_data"])
    if a.get("shape") is not None:  # iOS16: mask packed one bit per element
        shape = ints(a["shape"])
        mask = unpack_bits(a["mask"], 1, int(np.prod(shape))).astype(bool).reshape(shape)
    else:
        mask = np.asarray(a["mask"]).astype(bool)
    out = np.zeros(mask.shape, dtype=data.dtype)
    out[mask] = data
    return out


def _blockwise_shift_scale(self, a):
    data = np.asarray(a["data"]).astype(np.float32)
    if a.get("offset") is not None:
        data = data - _expand_blocks(a["offset"], data.shape)
    return data * _expand_blocks(a["scale"], data.shape)


mil_op("constexpr_affine_dequantize", "quantized_data? zero_point? scale? axis?", compute=_affine_dequantize)
mil_op("constexpr_cast", "source_val? output_dtype?", compute=_constexpr_cast)
mil_op("constexpr_lut_to_dense", "indices? lut? shape? vector_axis?", compute=_lut_to_dense)
mil_op("constexpr_sparse_to_dense", "nonzero_data? mask? shape?", compute=_sparse_to_dense)
mil_op("constexpr_blockwise_shift_scale", "data? scale? offset?", compute=_blockwise_shift_scale)
mil_op("constexpr_lut_to_sparse", "indices_mask indices_nonzero_data lut vector_axis?",
       "output_mask output_nonzero_data", compute=_lut_to_sparse)
mil_op("constexpr_sparse_blockwise_shift_scale", "data_mask nonzero_data scale offset?",
       "output_mask output_nonzero_data", compute=_sparse_blockwise_shift_scale)

# -- state (iOS18) ---------------------------------------------------------------------------
# A `state<tensor<...>>` value is, at run time, the state's buffer (a numpy array that lives
# across predictions): `read_state` copies it out, `coreml_update_state` writes into it and
# passes the new value on. The runtime turns both into plain data flow (passes/functionalize_state.py).


def _wrapped(value):
    from mlir_coreml.ir.types import StateType

    t = value.type
    return t.wrapped if isinstance(t, StateType) else t


def _write_state(self, a):
    state, value = a["state"], a["value"]
    np.copyto(state, np.asarray(value, dtype=state.dtype))
    return np.array(state)


mil_op("read_state", "input", compute=lambda self, a: np.array(a["input"]),
       result_elements=lambda self: [_wrapped(self.param("input")).element],
       shapes=lambda self: [_wrapped(self.param("input")).shape])
def _write_state_in_place(self, a):
    np.copyto(a["input"], np.asarray(a["data"], dtype=a["input"].dtype))
    return ()


# `coreml_update_state` is what converters build; coremltools stores it as write_state + read_state.
mil_op("write_state", "input data", results="", compute=_write_state_in_place, shapes=lambda self: [])
mil_op("coreml_update_state", "state value", compute=_write_state,
       result_elements=lambda self: [_wrapped(self.param("state")).element],
       shapes=lambda self: [_wrapped(self.param("state")).shape])

# -- control flow --------------------------------------------------------------------------


@op_def("mil.yield")
class YieldOp(MilOp):
    """The outputs of a MIL block nested in `cond` / `while_loop`."""

    values = operand(AnyType, variadic=True)
    traits = frozenset({Terminator})
    mil_type = ""

    def infer_types(self):
        return []


def _yielded(region) -> list:
    block = region.blocks[0] if region.blocks else None
    last = block.last_op if block is not None else None
    if last is None or last.op_name != "mil.yield":
        raise VerifyError("each block must end with mil.yield")
    return [v.type for v in last.operands]


def _agreed_types(*type_lists) -> list | None:
    """The types every list gives, when they all give the same tensor types (else None: the
    declared result types stand)."""
    first = list(type_lists[0])
    if any(list(t) != first for t in type_lists[1:]) or not all(isinstance(t, TensorType) for t in first):
        return None
    return first


class _ResultsFromRegions:
    """Result types read off the regions' yields, so a retyped input flows through control flow
    (runtime/flexible.py); `_region_types` gives the candidate type lists."""

    def _region_types(self) -> list[list] | None:
        raise NotImplementedError

    def shapes(self):
        try:
            types = _agreed_types(*self._region_types())
        except (VerifyError, IndexError):
            return None
        return None if types is None or len(types) != len(self.results) else [t.shape for t in types]

    def result_elements(self):
        return [r.type.element if isinstance(r.type, TensorType) else None for r in self.results]


@op_def("mil.cond")
class CondOp(_ResultsFromRegions, MilOp):
    """`cond(pred)`: runs the true block or the false block; results are the block's outputs."""

    pred = operand(AnyType)
    outputs = result(AnyType, variadic=True)
    true_block = region()
    false_block = region()
    mil_type = "cond"

    def _region_types(self):
        return [_yielded(self.regions[0]), _yielded(self.regions[1])]

    def verify_(self):
        want = [r.type for r in self.results]
        for name, r in (("true", self.regions[0]), ("false", self.regions[1])):
            got = _yielded(r)
            if len(got) != len(want):
                raise VerifyError(f"{name} block yields {len(got)} values for {len(want)} results")

    def execute(self, interp, env, pred):
        taken = self.regions[0] if bool(np.asarray(pred).reshape(-1)[0]) else self.regions[1]
        return tuple(interp.run_region(taken, [], env))


MIL_OPS["cond"] = CondOp


@op_def("mil.while_loop")
class WhileLoopOp(_ResultsFromRegions, MilOp):
    """`while_loop(loop_vars)`: the cond block maps the loop vars to a bool; while it holds, the
    body block maps them to their next values. Results are the final loop vars."""

    loop_vars = operand(AnyType, variadic=True)
    outputs = result(AnyType, variadic=True)
    cond_block = region()
    body_block = region()
    mil_type = "while_loop"
    max_iterations = 1 << 24

    def _region_types(self):
        return [[v.type for v in self.loop_vars], _yielded(self.regions[1])]

    def verify_(self):
        n = len(self.loop_vars)
        if len(self.results) != n:
            raise VerifyError(f"has {len(self.results)} results for {n} loop vars")
        for name, r in (("cond", self.regions[0]), ("body", self.regions[1])):
            if not r.blocks or len(r.blocks[0].args) != n:
                raise VerifyError(f"{name} block must take the {n} loop vars")
        if len(_yielded(self.regions[0])) != 1:
            raise VerifyError("cond block must yield one bool")
        if len(_yielded(self.regions[1])) != n:
            raise VerifyError(f"body block must yield the {n} loop vars")

    def execute(self, interp, env, *loop_vars):
        values = list(loop_vars)
        for _ in range(self.max_iterations):
            (go,) = interp.run_region(self.regions[0], values, env)
            if not bool(np.asarray(go).reshape(-1)[0]):
                return tuple(values)
            values = interp.run_region(self.regions[1], values, env)
        raise ValueError(f"while_loop did not finish after {self.max_iterations} iterations")


MIL_OPS["while_loop"] = WhileLoopOp


# -- lists (values are Python lists of arrays in the interpreter) -------------------------


def _make_list(self, a):
    shape = [int(scalar(d)) for d in a["elem_shape"]]
    dtype = numpy_dtype(MIL_DTYPES[str(scalar(a["dtype"]))])
    return [np.zeros(shape, dtype=dtype) for _ in range(int(scalar(a["init_length"])))]


def _list_write(self, a):
    items = list(a["ls"])
    index = int(scalar(a["index"]))
    items.extend(np.zeros_like(a["value"]) for _ in range(index + 1 - len(items)))
    items[index] = a["value"]
    return items


def _list_scatter(self, a):
    items = list(a["ls"])
    for i, index in enumerate(ints(a["indices"])):
        items.extend(np.zeros_like(a["value"][i]) for _ in range(index + 1 - len(items)))
        items[index] = a["value"][i]
    return items


mil_op("make_list", "init_length? dynamic_length? elem_shape* dtype?",
       defaults={"init_length": 1, "dynamic_length": True, "dtype": "fp32"}, compute=_make_list)
mil_op("list_write", "ls index value", compute=_list_write)
mil_op("list_scatter", "ls indices value", compute=_list_scatter)
mil_op("list_read", "ls index", compute=lambda self, a: a["ls"][int(scalar(a["index"]))])
mil_op("list_gather", "ls indices", compute=lambda self, a: np.stack([a["ls"][i] for i in ints(a["indices"])]))
mil_op("list_length", "ls", compute=lambda self, a: np.int32(len(a["ls"])),
       result_elements=lambda self: [MIL_DTYPES["int32"]])


# -- classifier output ---------------------------------------------------------------------


def _classify(self, a):
    """(the most probable class, {class: probability}) from probabilities [1, n] or [n]."""
    probabilities = np.asarray(a["probabilities"], dtype=np.float64).reshape(-1)
    classes = [np.asarray(c).reshape(-1)[0] for c in a["classes"]]
    if len(classes) != probabilities.size:
        raise ValueError(f"{len(classes)} classes for {probabilities.size} probabilities")
    keys = [c if isinstance(c, str) else int(c) for c in classes]
    return np.array(keys[int(np.argmax(probabilities))], dtype=object if isinstance(keys[0], str) else np.int64), \
        dict(zip(keys, probabilities.tolist()))


mil_op("classify", "probabilities classes", results="class_label class_probabilities", compute=_classify)
