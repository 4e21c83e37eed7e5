"""passes/_lowering.py's `slice_bounds`: the begin/end/strides of a core.slice (Python slicing
per axis) that select what `x[slices]` does, for any slices of a static shape, a negative step
running past index 0 included."""
import numpy as np
import pytest

from mlir_coreml.passes._lowering import slice_bounds


def core_slice(x, bounds):
    return x[tuple(slice(b, e, s) for b, e, s in zip(bounds["begin"], bounds["end"], bounds["strides"]))]


def test_a_reversed_axis_ends_before_index_zero():
    assert slice_bounds([slice(None, None, -1), slice(1, None)], (4, 3)) == \
        {"begin": [3, 1], "end": [-5, 3], "strides": [-1, 1]}


def test_an_empty_backward_slice_stays_empty():
    # slice.indices gives (-1, -1, -1): as core.slice bounds, -1 would start at the last element
    assert slice_bounds([slice(-6, None, -1)], (4,)) == {"begin": [0], "end": [0], "strides": [1]}


@pytest.mark.parametrize("seed", range(20))
def test_random_slices_select_what_python_does(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    x = np.arange(int(np.prod(shape))).reshape(shape)
    bound = lambda d: None if rng.random() < 0.3 else int(rng.integers(-d - 2, d + 3))  # noqa: E731
    slices = [slice(bound(d), bound(d), int(rng.choice([-3, -2, -1, 1, 2, 3]))) for d in shape]
    bounds = slice_bounds(slices, shape)
    assert all(isinstance(v, int) for values in bounds.values() for v in values)
    np.testing.assert_array_equal(core_slice(x, bounds), x[tuple(slices)])
