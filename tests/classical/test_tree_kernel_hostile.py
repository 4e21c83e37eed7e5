"""Hostile node arrays for the tree ensemble kernel (csrc/trees.c): out-of-range children,
features and leaf ranges, cycles, NaN thresholds, huge depths. The kernel's checked entry point
(`_trees.Forest`) and the op's column form (`FlatForest`) must raise one ValueError or answer;
never read outside their arrays (tests/tools/asan_run.sh runs this file under ASan) or hang."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlir_coreml.csrc import _trees
from mlir_coreml.ir.dialects.classical.trees import NODE_DTYPE, FlatForest

INT32 = st.integers(-(2 ** 31), 2 ** 31 - 1)
SMALL = st.integers(-3, 12)  # mostly in range for ~10 nodes, sometimes not


def _columns(**changes):
    """A stump (node 0 splits feature 0 at 0.5 into leaves 1 and 2), with `changes`."""
    columns = dict(treeId=[0, 0, 0], nodeId=[0, 1, 2], nodeBehavior=[0, 6, 6], branchFeatureIndex=[0, 0, 0],
                   branchFeatureValue=[0.5, 0, 0], trueChildNodeId=[1, 0, 0], falseChildNodeId=[2, 0, 0],
                   evaluationCount=[0, 1, 1], evaluationIndex=[0, 0], evaluationValue=[1.0, 2.0])
    return {**columns, **changes}


@pytest.mark.parametrize("changes,message", [
    (dict(branchFeatureIndex=[-5, 0, 0]), "branchFeatureIndex -5 of node 0"),
    (dict(branchFeatureIndex=[2 ** 31, 0, 0]), "branchFeatureIndex 2147483648"),  # wrapped to -2^31 in int32
    (dict(evaluationCount=[0, -1, 3]), "evaluationCount -1 of node 1"),
    (dict(evaluationCount=[0, 2 ** 31, 2 ** 31 + 2]), "evaluationCount 2147483648"),
    (dict(evaluationIndex=[2 ** 32, 0]), "evaluationIndex 4294967296"),
    (dict(nodeBehavior=[0, 0, 6], trueChildNodeId=[1, 0, 0], falseChildNodeId=[2, 2, 0]), "0 root nodes"),
])
def test_columns_the_kernel_would_misread_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        FlatForest(_columns(**changes))


def test_a_deep_chain_runs_without_recursion():
    depth = 3000  # node i splits feature 0 at i: leaf depth+i is reached by x in (i-1, i]
    n = 2 * depth + 1
    chain = np.arange(depth)
    columns = dict(treeId=np.zeros(n, np.int64), nodeId=np.arange(n),
                   nodeBehavior=np.r_[np.zeros(depth, np.int64), np.full(depth + 1, 6)],
                   branchFeatureIndex=np.zeros(n, np.int64), branchFeatureValue=np.r_[chain, np.zeros(depth + 1)],
                   trueChildNodeId=np.r_[depth + chain, np.zeros(depth + 1, np.int64)],
                   falseChildNodeId=np.r_[chain + 1, np.zeros(depth + 1, np.int64)].astype(np.int64),
                   evaluationCount=np.r_[np.zeros(depth, np.int64), np.ones(depth + 1, np.int64)],
                   evaluationIndex=np.zeros(depth + 1, np.int64), evaluationValue=np.arange(depth + 1.0))
    columns["falseChildNodeId"][depth - 1] = 2 * depth
    forest = FlatForest(columns)
    X = np.array([[-1.0], [0.5], [2999.0], [1e9], [np.nan]])
    np.testing.assert_array_equal(forest.predict(X, 1)[:, 0], [0, 1, 2999, 3000, 3000])


@st.composite
def raw_forests(draw):
    """Arbitrary kernel arrays: node bytes with any children, features, modes, NaN thresholds."""
    n = draw(st.integers(0, 10))
    nodes = np.zeros(n, NODE_DTYPE)
    nodes["threshold"] = draw(st.lists(st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf]), min_size=n, max_size=n))
    nodes["feature"] = draw(st.lists(st.one_of(SMALL, INT32), min_size=n, max_size=n))
    nodes["child"] = np.array(draw(st.lists(st.one_of(SMALL, INT32), min_size=2 * n, max_size=2 * n)),
                              np.int64).reshape(n, 2)
    nodes["mode"] = draw(st.lists(st.integers(0, 255), min_size=n, max_size=n))
    nodes["missing"] = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    trees = draw(st.integers(0, 4))
    roots = draw(st.lists(st.one_of(SMALL, INT32), min_size=trees, max_size=trees))
    depth = draw(st.lists(st.one_of(SMALL, INT32), min_size=trees, max_size=trees))
    leaves = draw(st.integers(0, 8))
    leaf_start = draw(st.lists(st.one_of(st.integers(-1, leaves + 1), INT32), min_size=draw(st.integers(n, n + 2)),
                               max_size=n + 2))
    leaf_index = draw(st.lists(st.one_of(st.integers(-1, 3), INT32), min_size=leaves, max_size=leaves))
    leaf_value = np.linspace(1, 2, leaves + draw(st.integers(0, 1)) * draw(st.booleans()))
    i32 = lambda v: np.asarray(v, np.int64).astype(np.int32)  # noqa: E731 (wrap like a hostile writer)
    return nodes.view(np.uint8), i32(roots), i32(depth), i32(leaf_start), i32(leaf_index), leaf_value


@settings(max_examples=300, deadline=None)
@given(raw_forests(), st.integers(0, 6), st.integers(0, 5))
def test_hostile_kernel_arrays_raise_or_answer(arrays, features, outputs):
    try:
        forest = _trees.Forest(*arrays)
    except ValueError:
        return
    X = np.full((9, features), np.nan)
    X[::2] = np.arange(features) - 1.0
    try:
        out = forest.predict(X, outputs)
    except ValueError:
        return
    assert out.shape == (9, outputs)


def test_forest_checks_survive_the_walks_it_allows():
    """A cycle the kernel may walk: depth bounds it (steps, not leaves, end a walk)."""
    nodes = np.zeros(2, NODE_DTYPE)
    nodes["child"] = [[1, 1], [0, 0]]
    nodes["threshold"] = np.nan
    forest = _trees.Forest(nodes.view(np.uint8), np.int32([0]), np.int32([2]), np.int32([0, 1, 1]), np.int32([0]),
                           np.array([7.0]))
    np.testing.assert_array_equal(forest.predict(np.zeros((3, 1)), 1), [[7.0]] * 3)
    with pytest.raises(ValueError, match="depth"):
        _trees.Forest(nodes.view(np.uint8), np.int32([0]), np.int32([3]), np.int32([0, 1, 1]), np.int32([0]),
                      np.array([7.0]))


@pytest.mark.parametrize("field", ["branchFeatureIndex", "trueChildNodeId", "evaluationIndex"])
def test_uint64_fields_beyond_int64_are_one_error(field, tmp_path):
    import mlir_coreml
    from tests.classical.zoo import feature, model_spec

    spec = model_spec(1)
    feature(spec.description.input, "x", "array", shape=[2])
    feature(spec.description.output, "y", "double")
    params = spec.treeEnsembleRegressor.treeEnsemble
    root = params.nodes.add()
    root.nodeId, root.trueChildNodeId, root.falseChildNodeId = 0, 1, 2
    for i in (1, 2):
        leaf = params.nodes.add()
        leaf.nodeId, leaf.nodeBehavior = i, 6
        leaf.evaluationInfo.add().evaluationValue = i
    target = params.nodes[1].evaluationInfo[0] if field == "evaluationIndex" else root
    setattr(target, field, 2 ** 64 - 1)
    path = tmp_path / "huge.mlmodel"
    path.write_bytes(spec.SerializeToString())
    with pytest.raises(mlir_coreml.MlirCoremlError, match=f"huge.mlmodel.*{field}' holds 18446744073709551615"):
        mlir_coreml.compile_model(str(path))
