"""A whole model on every dispatch path this CPU has (`force_isa`): the executor and the
generated module (which calls the kernels through the kernel table) agree with the numpy
reference on each ISA, so an AVX2-only machine's path is exercised on an AVX-512 one too."""
from __future__ import annotations

import numpy as np
import pytest

from tests.runtime.nn_builder import builder, save

from mlir_coreml.csrc import _kernels as K
from mlir_coreml.runtime.predict import compile_model
from mlir_coreml.runtime.specialized import SpecializedExecutor

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]


def cnn(folder, seed: int = 0) -> str:
    """conv 3x3 + relu, depthwise 3x3 on 104-wide rows (the planar path), max and average pooling,
    global pooling, inner product, softmax: one layer per kernel family, seeded weights."""
    rng = np.random.default_rng(seed)
    b = builder({"x": (4, 6, 104)})

    def conv(name, cin, cout, k, groups, src):
        b.add_convolution(name, kernel_channels=cin // groups, output_channels=cout, height=k, width=k,
                          stride_height=1, stride_width=1, border_mode="same", groups=groups,
                          W=(rng.standard_normal((k, k, cin // groups, cout)) * 0.3).astype(np.float32),
                          b=rng.standard_normal(cout).astype(np.float32), has_bias=True, input_name=src,
                          output_name=name)

    conv("c1", 4, 8, 3, 1, "x")
    b.add_activation("r1", "RELU", "c1", "r1")
    conv("dw", 8, 8, 3, 8, "r1")
    b.add_pooling("mp", 3, 3, 1, 1, "MAX", "SAME", "dw", "mp")
    b.add_pooling("ap", 2, 2, 2, 2, "AVERAGE", "VALID", "mp", "ap")
    b.add_pooling("gap", 1, 1, 1, 1, "AVERAGE", "VALID", "ap", "gap", is_global=True)
    b.add_reshape_static("flat", "gap", "flat", (8,))
    b.add_inner_product("fc", rng.standard_normal((10, 8)).astype(np.float32), rng.standard_normal(10).astype(np.float32),
                        8, 10, True, "flat", "fc")
    b.add_softmax("sm", "fc", "output")
    return save(b, folder, "cnn")


@pytest.fixture(scope="module")
def model_and_reference(tmp_path_factory):
    path = cnn(tmp_path_factory.mktemp("isa"))
    x = {"x": np.random.default_rng(3).standard_normal((4, 6, 104)).astype(np.float32)}
    expected = compile_model(path, use_kernels=False).predict(x)["output"]
    return path, x, expected


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)


@pytest.mark.parametrize("codegen", [False, True], ids=["executor", "generated"])
def test_every_isa_predicts_like_the_reference(model_and_reference, isa, codegen):
    path, x, expected = model_and_reference
    model = compile_model(path, threads=1, codegen=codegen)
    assert isinstance(model.runner, SpecializedExecutor) == codegen
    assert K.current_isa() == isa
    np.testing.assert_allclose(model.predict(x)["output"], expected, rtol=1e-4, atol=1e-6)
