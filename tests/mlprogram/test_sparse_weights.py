"""Pruned weights (`constexpr_sparse_to_dense`, iOS16 packed-mask and iOS18 uint1-mask forms, as
coremltools' `prune_weights` writes them, and iOS18 joint compression: the nonzero values also
palettized or int8-quantized) stay sparse: imported as the MIL op, lowered to
`core.sparse_to_dense` (bit mask + nonzero values) that expands to coremltools' own dense
weights, exported back to `.mlpackage` and kept in a bundle's `model.mil`.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import mlir_coreml
from mlir_coreml.codegen.lower import lower_model
from mlir_coreml.ir.dialects.core.quantized import sparse_attributes
from mlir_coreml.errors import MlirCoremlError
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.printer import print_module
from mlir_coreml.ir.verifier import verify
from mlir_coreml.passes.to_core import lower_to_core

ct = pytest.importorskip("coremltools")
torch = pytest.importorskip("torch")

from tests.models import zoo  # noqa: E402


class ConvLinear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.linear = torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.Linear(8 * 6 * 6, 10)

    def forward(self, x):
        return self.linear(torch.relu(self.conv(x)).flatten(1))


def pruned(tmp_path, target, joint):
    """(pruned .mlpackage -- its nonzero values also palettized or quantized with `joint` --,
    the same model with coremltools' decompressed dense weights, that model)."""
    import coremltools.optimize.coreml as cto

    torch.manual_seed(5)
    module = ConvLinear().eval()
    config = cto.OptimizationConfig(global_config=cto.OpMagnitudePrunerConfig(target_sparsity=0.6, weight_threshold=0))
    with zoo._quiet():
        model = ct.convert(torch.jit.trace(module, torch.rand(1, 4, 6, 6)),
                           inputs=[ct.TensorType(name="x", shape=(1, 4, 6, 6))], outputs=[ct.TensorType(name="y")],
                           minimum_deployment_target=getattr(ct.target, target), compute_precision=ct.precision.FLOAT32)
        sparse = cto.prune_weights(model, config)
        if joint == "palettized":
            config = cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(nbits=4, weight_threshold=0))
            sparse = cto.palettize_weights(sparse, config, joint_compression=True)
        elif joint == "int8":
            config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(weight_threshold=0))
            sparse = cto.linear_quantize_weights(sparse, config, joint_compression=True)
        dense = cto.decompress_weights(sparse)
    paths = tmp_path / "sparse.mlpackage", tmp_path / "dense.mlpackage"
    sparse.save(str(paths[0]))
    dense.save(str(paths[1]))
    return paths + (dense,)


def dense_weights(dense_model) -> dict:
    """coremltools' decompressed weights by name."""
    function = dense_model._mil_program.functions["main"]
    return {op.outputs[0].name: op.outputs[0].val for op in function.operations if op.op_type == "const"}


JOINT = {"palettized": "constexpr_lut_to_sparse", "int8": "constexpr_sparse_blockwise_shift_scale"}
CASES = [("iOS16", None), ("iOS18", None), ("iOS18", "palettized"), ("iOS18", "int8")]


@pytest.mark.parametrize("target, joint", CASES, ids=[f"{t}-{j or 'pruned'}" for t, j in CASES])
def test_pruned_weights_stay_sparse(tmp_path, target, joint):
    path, dense_path, dense_model = pruned(tmp_path, target, joint)
    module = mlir_coreml.load(path)
    text = print_module(module)
    assert text.count("mil.constexpr_sparse_to_dense") == 2
    if joint:
        assert text.count(f"mil.{JOINT[joint]}") == 2
    lower_to_core(module)
    text = print_module(module)
    assert text.count("core.sparse_to_dense") == 2 and "constexpr" not in text
    assert print_module(parse_module(text)) == text
    want = dense_weights(dense_model)
    ops = [op for op in module.walk() if op.op_name == "core.sparse_to_dense"]
    for op in ops:
        np.testing.assert_allclose(op.reference(), want[op.location.name], rtol=1e-6, atol=1e-7)
        assert 0.3 < op.attributes["nonzero"].type.shape[0] / op.output.type.num_elements < 0.5

    x = np.random.default_rng(0).standard_normal((1, 4, 6, 6)).astype(np.float32)
    reference = mlir_coreml.compile_model(dense_path).predict({"x": x})["y"]
    np.testing.assert_allclose(mlir_coreml.compile_model(path).predict({"x": x})["y"], reference, rtol=1e-5, atol=1e-5)

    exported = tmp_path / "exported.mlpackage"
    lower_model(path, exported, emit="mlpackage")
    with zoo._quiet():
        ct.models.MLModel(str(exported), skip_model_load=True)
    assert print_module(mlir_coreml.load(exported)) == print_module(mlir_coreml.load(path))

    bundle = tmp_path / "sparse.mlmodelc"
    lower_model(path, bundle)
    mil = (bundle / "model.mil").read_text()
    assert mil.count("= constexpr_sparse_to_dense(") == 2 and (not joint or mil.count(f"= {JOINT[joint]}(") == 2)
    precision = json.loads((bundle / "metadata.json").read_text())[0]["storagePrecision"]
    assert precision == {None: "Float32", "palettized": "Mixed (Float32, Palettized (4 bits))",  # fp32 biases
                         "int8": "Mixed (Float32, Int8)"}[joint]
    got = mlir_coreml.compile_model(bundle).predict({"x": x})["y"]
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-5)


def _sparse_op(mask, nonzero):
    from mlir_coreml.ir.dialects.core.quantized import SparseToDenseOp
    from mlir_coreml.ir.opdef import build
    from mlir_coreml.ir.types import TensorType, element_type_of

    t = TensorType(np.shape(mask), element_type_of(np.float32))
    return build(SparseToDenseOp, [], [t], sparse_attributes("w", mask, np.asarray(nonzero, np.float32)))


def test_sparse_to_dense_reference_and_verifier():
    mask = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 1]], bool)
    op = _sparse_op(mask, [1, 2, 3, 4, 5, 6])
    verify(op)
    np.testing.assert_array_equal(op.reference(), [[1, 0, 0], [0, 2, 3], [4, 5, 6]])
    with pytest.raises(MlirCoremlError, match="6 set bits but 5 nonzero values"):
        verify(_sparse_op(mask, [1, 2, 3, 4, 5]))
