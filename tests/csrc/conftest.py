"""The `isa` fixture the kernel tests share: each test runs once per dispatch path this CPU has
(portable, then AVX2 and AVX-512 where present), with that path forced for its duration."""
import pytest

from mlir_coreml.csrc import _kernels as K

ORDER = ["portable", "avx2", "avx512"]
ISAS = ORDER[:ORDER.index(K.detect_isa()) + 1]


@pytest.fixture(params=ISAS)
def isa(request):
    K.force_isa(request.param)
    yield request.param
    K.force_isa(None)
