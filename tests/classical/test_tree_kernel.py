"""The compiled tree ensemble kernel (csrc/trees.c) against a plain walk of the protobuf nodes:
every comparison form, NaN routing, shuffled and sparse node ids, several outputs per leaf."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.classical.zoo import check_round_trip, feature, load, model_spec

COMPARE = {0: lambda x, t: x <= t, 1: lambda x, t: x < t, 2: lambda x, t: x >= t, 3: lambda x, t: x > t,
           4: lambda x, t: x == t, 5: lambda x, t: x != t}


def _random_forest(rng, trees, depth, features, outputs):
    """TreeNode dicts of `trees` random trees (ids shuffled per tree, ragged depths)."""
    nodes = []
    for tree in range(trees):
        ids = rng.permutation(4 * 2 ** depth)[: 2 ** (depth + 1)].tolist()
        counter = iter(ids)

        def grow(level):
            node = {"treeId": tree, "nodeId": next(counter)}
            if level == depth or (level > 0 and rng.random() < 0.25):
                node["nodeBehavior"] = 6
                node["leaf"] = [(int(k), float(rng.normal())) for k in rng.choice(outputs, rng.integers(1, outputs + 1),
                                                                                   replace=False)]
                nodes.append(node)
                return node["nodeId"]
            node.update(nodeBehavior=int(rng.integers(0, 6)), feature=int(rng.integers(0, features)),
                        threshold=float(rng.integers(-1, 2)), missing_true=bool(rng.random() < 0.5))
            nodes.append(node)
            node["true"], node["false"] = grow(level + 1), grow(level + 1)
            return node["nodeId"]

        grow(0)
    order = rng.permutation(len(nodes))
    return [nodes[i] for i in order]


def _walk(nodes, x, outputs, base):
    by_id = {(n["treeId"], n["nodeId"]): n for n in nodes}
    out = np.array(base, dtype=np.float64)
    for tree in sorted({n["treeId"] for n in nodes}):
        children = {c for n in nodes if n["treeId"] == tree and n["nodeBehavior"] != 6 for c in (n["true"], n["false"])}
        node = next(n for n in nodes if n["treeId"] == tree and n["nodeId"] not in children)
        while node["nodeBehavior"] != 6:
            value = x[node["feature"]]
            go_true = node["missing_true"] if math.isnan(value) else COMPARE[node["nodeBehavior"]](value,
                                                                                                node["threshold"])
            node = by_id[(tree, node["true"] if go_true else node["false"])]
        for k, v in node["leaf"]:
            out[k] += v
    return out


@pytest.mark.parametrize("seed,trees,depth,outputs", [(0, 1, 3, 1), (1, 5, 4, 3), (2, 12, 6, 2), (3, 3, 9, 4)])
def test_kernel_matches_a_plain_walk(seed, trees, depth, outputs, tmp_path):
    rng = np.random.default_rng(seed)
    features = 5
    nodes = _random_forest(rng, trees, depth, features, outputs)
    base = rng.normal(size=outputs)
    spec = model_spec(1)
    feature(spec.description.input, "x", "array", shape=[features])
    feature(spec.description.output, "y", "array", shape=[outputs])
    params = spec.treeEnsembleRegressor.treeEnsemble
    params.numPredictionDimensions = outputs
    params.basePredictionValue.extend(base)
    for n in nodes:
        node = params.nodes.add()
        node.treeId, node.nodeId, node.nodeBehavior = n["treeId"], n["nodeId"], n["nodeBehavior"]
        if n["nodeBehavior"] == 6:
            for k, v in n["leaf"]:
                info = node.evaluationInfo.add()
                info.evaluationIndex, info.evaluationValue = k, v
            continue
        node.branchFeatureIndex, node.branchFeatureValue = n["feature"], n["threshold"]
        node.trueChildNodeId, node.falseChildNodeId = n["true"], n["false"]
        node.missingValueTracksTrueChild = n["missing_true"]
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path)
    X = rng.normal(size=(60, features))
    X[:30] = np.round(X[:30])  # values on the (integer) thresholds tell <= from <, and == from !=
    X[rng.random(X.shape) < 0.15] = np.nan
    for x in X:
        np.testing.assert_allclose(compiled.predict({"x": x})["y"], _walk(nodes, x, outputs, base), rtol=0, atol=1e-12)
    check_round_trip(path, data)


def test_kernel_refuses_a_broken_tree(tmp_path):
    import mlir_coreml

    spec = model_spec(1)
    feature(spec.description.input, "x", "array", shape=[2])
    feature(spec.description.output, "y", "double")
    node = spec.treeEnsembleRegressor.treeEnsemble.nodes.add()
    node.nodeId, node.trueChildNodeId, node.falseChildNodeId = 0, 1, 7  # children 1 and 7 do not exist
    path = tmp_path / "broken.mlmodel"
    path.write_bytes(spec.SerializeToString())
    with pytest.raises(mlir_coreml.MlirCoremlError, match="node 1 of tree 0 is referenced but not defined"):
        mlir_coreml.compile_model(str(path))
