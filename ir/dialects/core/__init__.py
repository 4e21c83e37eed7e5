"""`core`: the normalized compute dialect that every frontend dialect lowers into and that
optimisation passes, the reference interpreter and codegen target.

Layout conventions: activations are NCHW (rank 4) or plain N-D tensors; weights are dense
constants in their stored precision (f32 or f16); compute is f32 unless an explicit
`core.cast` says otherwise (an op's result element type is the precision it rounds to).

Every op declares its operands/results/attributes, checks itself by re-running its shape
inference (`infer_types`, which raises VerifyError on bad attributes), and has a numpy
`reference` (the oracle for kernels and passes) and a `flops` estimate (multiply-add = 2).
Ops with two or more optional operands record which are present in `operand_segments`
(build them with `build(cls, {"input": x, "weight": w, "bias": b}, ...)`).

Recurrent ops (`lstm`, `gru`, `rnn`) follow PyTorch's gate order and equations (LSTM: i, f, g,
o; GRU: r, z, n with the reset gate applied after the hidden matmul); lowerings reorder the
Core ML weights. Weights carry a leading direction dimension (2 for bidirectional).

Submodules by op family: base (constant, CoreOp), elementwise, linalg, spatial, norm, tensor,
reduction, recurrent, attention, blocked (the NCHW16c layout). Importing the package registers every op.
"""
# Star imports re-export each family's ops and helpers (the op classes made by _unary/_binary/
# _activation_op are module globals created at import, so they cannot be listed by hand).
from mlir_coreml.ir.dialects.core.base import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.elementwise import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.linalg import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.spatial import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.norm import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.tensor import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.reduction import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.recurrent import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.quantized import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.attention import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core.blocked import *  # noqa: F401,F403
from mlir_coreml.ir.dialects.core import canonicalization  # noqa: F401,E402  (attaches the patterns)
