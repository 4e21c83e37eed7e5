"""`mil`: the ML Program dialect, one op per MIL op type (`mil.conv`, `mil.const`, …), mirroring
the program so that import -> export can be exact.

Conventions (frontend/mlpackage.py and frontend/mil/to_ir.py produce exactly this):

* A MIL function is a `func.func` with an `opset` attribute (`"ios15"` … `"ios18"`); its
  arguments and op results carry the MIL variable names; an op's location is its `name`.
* MIL parameters are operand groups named like the parameter (see base.py); parameter values
  written by the converter as `const` ops stay `mil.const` ops. A literal bound inline becomes a
  `mil.const` without a location named `<param>_inline_<n>`. MIL op attributes other than `name`
  become IR attributes of the same name (iOS16 `constexpr_*` ops keep their data there).
* Weights are `mil.const` ops whose `val` is a lazily loaded `dense_resource` (named after the
  variable) over a memory map of weight.bin. Sub-byte types (int4, uint1…uint6) are unpacked to
  one i8 / u8 per value. A list constant (`classify.classes`) is an array of dense values.
* `cond` / `while_loop` hold one region per MIL block, ending in `mil.yield`.

`MIL_OPS` maps a MIL op type to its class; an op type missing there is an import error.
"""
from mlir_coreml.ir.dialects.mil import control, elementwise, nn, recurrent, tensor  # noqa: F401
from mlir_coreml.ir.dialects.mil.base import MIL_DTYPES, MIL_OPS, OPSETS, MilOp  # noqa: F401
