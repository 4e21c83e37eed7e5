"""The coremlc rewrites as passes: each keeps what the model computes (reference interpreter
before vs after), and the fold arithmetic is coremlc's."""
from pathlib import Path

import numpy as np
import pytest

from mlir_coreml.ir.interpreter import run_module
from mlir_coreml.ir.parser import parse_module
from mlir_coreml.ir.verifier import verify
from mlir_coreml.passes.fuse_conv_batchnorm import fold_batchnorm_into_conv
from mlir_coreml.passes.manager import PassManager

from tests.samples import SAMPLES
S1 = SAMPLES / "getbouncer__cardscan-ios__FourRecognize-2019"
FILECHECK = Path(__file__).parent.parent / "filecheck" / "espresso"
needs_s1 = pytest.mark.skipif(not S1.is_dir(), reason="sample S1 not available")


def source_module():
    from mlir_coreml.frontend.mlmodel import read

    return read(str(S1 / "source" / "FourRecognize.mlmodel"))


def pixels():
    return np.random.default_rng(1).uniform(0, 255, size=(1, 1, 3, 36, 80)).astype(np.float32)


def run_pipeline(module, pipeline: str):
    PassManager.from_pipeline(pipeline).run(module)
    verify(module)
    return module


def ops_named(module, name: str) -> list:
    return [op for op in module.walk() if op.op_name == name]


@needs_s1
@pytest.mark.parametrize("pipeline", ["fuse-conv-batchnorm", "fold-padding", "fuse-conv-batchnorm,fold-padding"])
def test_nn_level_rewrites_keep_the_outputs(pipeline):
    before = source_module()
    (expected,) = run_module(before, [pixels()])
    after = run_pipeline(source_module(), pipeline)
    assert len(list(after.walk())) < len(list(before.walk()))
    (actual,) = run_module(after, [pixels()])
    np.testing.assert_allclose(actual, expected, atol=1e-5)


@needs_s1
def test_lowering_to_espresso_keeps_the_outputs():
    module = source_module()
    preprocess = ops_named(module, "nn.image_preprocess")[0]
    scale = np.float32(preprocess.attributes["scaler"].value["channelScale"])
    (expected,) = run_module(module, [pixels()])
    lowered = run_pipeline(module, "fuse-conv-batchnorm,nn-to-espresso{coremlc-version=2019},fuse-activation")
    assert not [op for op in lowered.walk() if op.op_name.startswith("nn.")]
    assert not [op for op in ops_named(lowered, "espresso.activation") if op.mode == 0]  # all ReLUs fused
    (actual,) = run_module(lowered, [pixels().reshape(1, 3, 36, 80) * scale])
    np.testing.assert_allclose(np.asarray(actual).reshape(-1), np.asarray(expected).reshape(-1), atol=1e-5)


def test_fold_arithmetic_in_coremlc_order():
    """float32 standard deviation, then float64 scale and sums rounded once to float32."""
    weights = np.array([[[[1.5]]], [[[-2.0]]]], np.float32)
    bias = np.array([0.25, 0.0], np.float32)
    gamma, beta = np.array([2.0, 0.5], np.float32), np.array([0.1, -0.3], np.float32)
    mean, var = np.array([1.0, -4.0], np.float32), np.array([3.0, 0.7], np.float32)
    eps = 1e-5
    folded_w, folded_b = fold_batchnorm_into_conv(weights, bias, gamma, beta, mean, var, eps)
    s = gamma.astype(np.float64) / np.sqrt(var + np.float32(eps)).astype(np.float64)
    assert folded_w.dtype == np.float32 and folded_b.dtype == np.float32
    assert folded_w.reshape(-1).tobytes() == (weights.reshape(2) * s).astype(np.float32).tobytes()
    assert folded_b.tobytes() == ((bias - mean.astype(np.float64)) * s + beta).astype(np.float32).tobytes()


def test_fold_matches_apple_where_a_float32_fold_does_not():
    """SSDOcr-2020 layer 480, channel 98 (no conv bias): (b - mean) * s and beta nearly cancel, so a
    float32 scale or sum lands about 290 ulp away from Apple's folded bias 0x3a92e8e2."""
    half = np.float16
    _, folded_b = fold_batchnorm_into_conv(np.ones((1, 1, 1, 1), half), None, np.array([1.369140625], half),
                                           np.array([0.65234375], half), np.array([3.408203125], half),
                                           np.array([51.34375], half), 1e-5)
    assert folded_b.view(np.uint32)[0] == 0x3a92e8e2


def test_fold_keeps_fp16_weights_fp16_and_biases_fp32():
    weights = np.array([0.1, -0.2, 0.3, 0.4], np.float16).reshape(2, 2, 1, 1)
    ones = np.ones(2, np.float16)
    folded_w, folded_b = fold_batchnorm_into_conv(weights, None, ones * 2, ones, ones * 0, ones, 0.0)
    assert folded_w.dtype == np.float16 and folded_b.dtype == np.float32
    expected = (weights.astype(np.float32).reshape(2, 2) * np.float32(2)).astype(np.float16)
    assert folded_w.reshape(2, 2).tobytes() == expected.tobytes()


@pytest.mark.parametrize("name, pipeline", [("fuse_conv_batchnorm.mlir", "fuse-conv-batchnorm"),
                                            ("fold_padding.mlir", "fold-padding"),
                                            ("fuse_activation.mlir", "fuse-activation"),
                                            ("nn_to_espresso.mlir", "nn-to-espresso,fuse-activation"),
                                            ("nn_to_espresso_clip.mlir", "nn-to-espresso")])
def test_filecheck_inputs_compute_the_same_after_the_pass(name, pipeline):
    text = (FILECHECK / name).read_text()
    before = parse_module(text)
    fn = before.body.first_op
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal(arg.type.shape).astype(np.float32) for arg in fn.body.args]
    expected = run_module(before, inputs)
    after = run_pipeline(parse_module(text), pipeline)
    args = after.body.first_op.body.args
    actual = run_module(after, [x.reshape(a.type.shape) for x, a in zip(inputs, args)])
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(np.asarray(a).reshape(-1), np.asarray(e).reshape(-1), rtol=1e-5, atol=1e-5)
