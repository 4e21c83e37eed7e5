"""`nn`: the NeuralNetwork dialect, one op per `NeuralNetworkLayer` kind (all 158), mirroring the
Core ML protobuf so that import -> export can be exact.

Conventions (the importer, frontend/mlmodel.py, produces exactly this):

* Op names are `nn.<snake_case of the oneof name>`: `nn.inner_product`, `nn.batchnorm`,
  `nn.gather_nd`, `nn.non_maximum_suppression`. `LAYER_OPS` maps the oneof name to the class.
* Operands: layer inputs, then one value per `WeightParams` (see base.py); attributes are the
  params fields under their proto names, enums as strings, sub-messages as dicts, proto3
  defaults omitted.
* Weights are `core.constant`s in stored precision: `floatValue` -> f32, `float16Value` -> f16;
  quantized `rawValue` / `int8RawValue` stay as stored bytes (u8 / i8) behind an `nn.dequantize`
  carrying the linear or lookup-table parameters. Layers compute in f32, like Core ML's CPU path.
* Blob shapes. Spec-4+ models with EXACT_ARRAY_MAPPING use the declared shapes as they are.
  Classic models (the default RANK5 mappings) see every blob as rank 5 [S, B, C, H, W]:
  an image or a [C, H, W] multi-array input becomes [1, 1, C, H, W], a [C] input [1, 1, C, 1, 1]
  (rank-5 rather than rank-4 because classic reshape/permute/concat address the sequence axis,
  e.g. SSD models reshape to [-1, 11, 1, 1] and concatenate along S). Spatial and channel layers
  address trailing axes (C = -3, H = -2, W = -1), so they accept rank 4 and rank 5 blobs alike.
* Every blob is f32 (NeuralNetwork computes in f32; indices are carried as floats, as Core ML does).
* Image inputs are raw 0..255 pixels in the input's color order; `nn.image_preprocess` applies the
  network's `scaler` / `meanImage` preprocessing as an explicit op.
* Control flow: `loop` and `branch` hold their nested networks as regions ending in `nn.yield`.
  Blobs are SSA values, so outer blobs a nested network overwrites are "carried" (attribute
  `carried`): a loop takes their initial values as trailing operands and as block arguments of
  both regions, and returns their final values; a branch returns the carried values its taken
  region yields. `loopBreak` / `loopContinue` take the enclosing loop's carried values.
* Shape inference: every op whose result shapes follow from static input shapes and params has
  a shape function; the verifier recomputes it and rejects mismatching result types. Ops
  without one (dynamic reshape/fill/range/random, NMS with a run-time maxBoxes input, custom)
  have unranked results.

Reference semantics (numpy `compute`, or `execute` for control flow) exist for every layer kind;
custom (app-defined) layers run the implementation the user registers for their class name
(ir/custom_layers.py). Random layers sample with numpy's generator seeded by `seed`: right
distribution and shape, not Core ML's values. tests/frontend/test_mlmodel_import.py checks every
kind against an independent computation (test_every_layer_kind_has_a_semantic_test).
"""
from mlir_coreml.ir.dialects.nn import elementwise, linalg, misc, recurrent, spatial, tensor  # noqa: F401
from mlir_coreml.ir.dialects.nn.base import LAYER_OPS, NNLayer, snake_case  # noqa: F401
from mlir_coreml.ir.dialects.nn.misc import DequantizeOp  # noqa: F401
