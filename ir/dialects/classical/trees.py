"""Tree ensembles, evaluated by the compiled kernel in csrc/trees.c.

The `treeEnsemble` attribute mirrors TreeEnsembleParameters except its `nodes`, which are stored
column-wise (one dense array per TreeNode field, in node order; `nodeBehavior` as its enum
number, `missingValueTracksTrueChild` as 0/1; the ragged `evaluationInfo` as a per-node
`evaluationCount` plus the concatenated `evaluationIndex` / `evaluationValue`). Printing a
500-tree forest then stays a handful of resource handles, and the kernel's flattened arrays
are built from the columns with numpy alone.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.classical.base import (ClassicalModel, class_labels, classifier_outputs, model_op,
                                                    numeric_vector, sigmoid, softmax)
from mlir_coreml.ir.dialects.classical.models import ClassifierOp
from mlir_coreml.ir.opdef import VerifyError, op_def

# TreeNode field -> numpy dtype of its column (evaluationInfo is split in three, see above).
NODE_COLUMNS = {"treeId": np.int64, "nodeId": np.int64, "nodeBehavior": np.int64, "branchFeatureIndex": np.int64,
                "branchFeatureValue": np.float64, "trueChildNodeId": np.int64, "falseChildNodeId": np.int64,
                "missingValueTracksTrueChild": np.int64, "relativeHitRate": np.float64,
                "evaluationCount": np.int64, "evaluationIndex": np.int64, "evaluationValue": np.float64}
# csrc/trees.h's tree_node, 24 bytes.
NODE_DTYPE = np.dtype([("threshold", "<f8"), ("feature", "<i4"), ("child", "<i4", (2,)), ("mode", "u1"),
                       ("missing", "u1"), ("pad", "u1", (2,))])
MAX_ID = 1 << 31  # (treeId, nodeId) pairs are packed into one int64 key
LEAF = 6  # TreeNodeBehavior.LeafNode; 0..5: <=, <, >=, >, ==, !=
# behavior -> kernel mode (0: x <= t, 1: x < t, 2: x == t); >=, > and != are the negations of <,
# <= and ==, stored with their children swapped.
MODE = {0: 0, 1: 1, 2: 1, 3: 0, 4: 2, 5: 2}
SWAPPED = {2, 3, 5}


class FlatForest:
    """The kernel's arrays (layout in csrc/trees.c) for one ensemble."""

    def __init__(self, columns: dict):
        col = {k: np.asarray(columns.get(k, ()), dtype=t) for k, t in NODE_COLUMNS.items()}
        n = col["nodeId"].size
        for key in ("treeId", "nodeBehavior", "branchFeatureIndex", "trueChildNodeId", "falseChildNodeId",
                    "evaluationCount"):
            if col[key].size not in (0, n):
                raise ValueError(f"node column '{key}' has {col[key].size} entries for {n} nodes")
        tree = col["treeId"] if col["treeId"].size else np.zeros(n, np.int64)
        behavior = col["nodeBehavior"] if col["nodeBehavior"].size else np.zeros(n, np.int64)
        index = _node_index(tree, col["nodeId"])
        leaf = behavior == LEAF
        inner = ~leaf
        true_child, false_child = np.arange(n), np.arange(n)  # leaves point to themselves
        true_child[inner] = index(tree[inner], _column(col, "trueChildNodeId", n)[inner])
        false_child[inner] = index(tree[inner], _column(col, "falseChildNodeId", n)[inner])
        swapped = np.isin(behavior, list(SWAPPED))
        child = np.empty(2 * n, np.int32)
        child[0::2] = np.where(swapped, false_child, true_child)
        child[1::2] = np.where(swapped, true_child, false_child)
        tracks_true = _column(col, "missingValueTracksTrueChild", n).astype(bool)
        self.missing = np.where(swapped, tracks_true, ~tracks_true).astype(np.uint8)
        self.mode = np.array([MODE.get(int(b), 0) for b in range(7)], np.uint8)[np.clip(behavior, 0, 6)]
        feature = np.where(leaf, 0, _column(col, "branchFeatureIndex", n))
        _check_range(feature, "branchFeatureIndex")
        self.feature = feature.astype(np.int32)
        self.threshold = np.where(leaf, 0.0, col["branchFeatureValue"] if col["branchFeatureValue"].size
                                  else np.zeros(n))
        self.child = child
        self.roots, self.depth = _roots_and_depths(tree, true_child, false_child, leaf)
        counts = _column(col, "evaluationCount", n)
        _check_range(counts, "evaluationCount")
        _check_range(np.cumsum(counts), "evaluationCount (running total)")
        _check_range(col["evaluationIndex"], "evaluationIndex")
        self.leaf_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        self.leaf_index = col["evaluationIndex"].astype(np.int32)
        self.leaf_value = col["evaluationValue"]
        if self.leaf_index.size != int(self.leaf_start[-1]) or self.leaf_value.size != self.leaf_index.size:
            raise ValueError("evaluationIndex / evaluationValue do not match evaluationCount")
        self.kernel = self.checked_kernel()  # here, so that the op verifier reports a bad array

    def predict(self, X: np.ndarray, n_outputs: int) -> np.ndarray:
        """(rows, features) -> (rows, n_outputs) sums of the reached leaves' values."""
        return self.kernel.predict(np.ascontiguousarray(X, dtype=np.float64), n_outputs)

    def checked_kernel(self):
        """The compiled kernel over these arrays; it checks every index it will follow."""
        from mlir_coreml.csrc import _trees

        return _trees.Forest(self.pack(), self.roots, self.depth, self.leaf_start, self.leaf_index, self.leaf_value)

    def pack(self) -> np.ndarray:
        """The nodes as csrc/trees.h's tree_node structs, as bytes."""
        packed = np.zeros(self.feature.size, dtype=NODE_DTYPE)
        packed["threshold"], packed["feature"] = self.threshold, self.feature
        packed["child"] = self.child.reshape(-1, 2)
        packed["mode"], packed["missing"] = self.mode, self.missing
        return packed.view(np.uint8)


def _check_range(values: np.ndarray, name: str) -> None:
    """The kernel indexes with int32: a negative or wider value would wrap to another place."""
    if values.size and (values.min() < 0 or values.max() >= MAX_ID):
        bad = int(np.flatnonzero((values < 0) | (values >= MAX_ID))[0])
        raise ValueError(f"{name} {int(values[bad])} of node {bad} is outside 0..{MAX_ID - 1}")


def _column(col, key, n):
    return col[key] if col[key].size else np.zeros(n, np.int64)


def _node_index(tree, node_id):
    """A function (tree ids, node ids) -> positions in the node arrays."""
    if node_id.size and (node_id.min() < 0 or node_id.max() >= MAX_ID or tree.min() < 0 or tree.max() >= MAX_ID):
        raise ValueError(f"tree and node ids must be below {MAX_ID}")
    width = int(node_id.max()) + 1 if node_id.size else 1
    keys = tree * width + node_id
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if np.any(sorted_keys[1:] == sorted_keys[:-1]):
        raise ValueError("two nodes share a (treeId, nodeId)")

    def index(trees, ids):
        wanted = trees * width + ids
        pos = np.searchsorted(sorted_keys, wanted)
        pos = np.minimum(pos, max(len(sorted_keys) - 1, 0))
        if len(sorted_keys) and not np.array_equal(sorted_keys[pos], wanted):
            bad = int(np.flatnonzero(sorted_keys[pos] != wanted)[0])
            raise ValueError(f"node {int(ids[bad])} of tree {int(trees[bad])} is referenced but not defined")
        return order[pos]

    return index


def _roots_and_depths(tree, true_child, false_child, leaf):
    """Each tree's root (the node no other node points to) and the longest root-leaf path."""
    n = tree.size
    pointed = np.zeros(n, bool)
    inner = ~leaf
    pointed[true_child[inner]] = True
    pointed[false_child[inner]] = True
    trees = np.unique(tree)
    roots = []
    for t in trees:
        candidates = np.flatnonzero((tree == t) & ~pointed)
        if candidates.size != 1:
            raise ValueError(f"tree {int(t)} has {candidates.size} root nodes")
        roots.append(candidates[0])
    roots = np.asarray(roots, np.int32)
    level = np.full(n, -1, np.int64)
    level[roots] = 0
    frontier = roots.astype(np.int64)
    depth = 0
    while frontier.size:
        frontier = frontier[inner[frontier]]
        nxt = np.concatenate([true_child[frontier], false_child[frontier]])
        if nxt.size and (level[nxt] >= 0).any():
            raise ValueError("a tree has a cycle or a node with two parents")
        depth += bool(nxt.size)
        level[nxt] = depth
        frontier = nxt
    tree_depth = np.zeros(trees.size, np.int32)
    np.maximum.at(tree_depth, np.searchsorted(trees, tree), np.maximum(level, 0).astype(np.int32))
    return roots, tree_depth


class TreeEnsembleOp(ClassicalModel):
    def ensemble(self) -> dict:
        return self.attr("treeEnsemble", {})

    def flat(self) -> FlatForest:
        """The kernel arrays, built once per op (and again if the attribute is replaced)."""
        attr = self.attributes.get("treeEnsemble")
        cached = self.__dict__.get("_flat")
        if cached is None or cached[0] is not attr:
            cached = (attr, FlatForest(self.ensemble().get("nodes", {})))
            self.__dict__["_flat"] = cached
        return cached[1]

    def check_params(self):
        try:
            self.flat()
        except ValueError as e:
            raise VerifyError(str(e)) from None

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Raw ensemble outputs (base prediction + leaf sums) for rows `X`."""
        params = self.ensemble()
        base = np.asarray(params.get("basePredictionValue", ()), dtype=np.float64)
        n_outputs = max(int(params.get("numPredictionDimensions", 0)), base.size, 1)
        out = self.flat().predict(X, n_outputs)
        if base.size:
            out[:, :base.size] += base
        return out


@model_op("treeEnsembleRegressor")
@op_def("classical.tree_ensemble_regressor")
class TreeEnsembleRegressorOp(TreeEnsembleOp):
    """Sum over trees of the reached leaves' values plus the base; optionally logistic."""

    def compute(self, x):
        y = self.scores(numeric_vector(x)[None, :])[0]
        if self.attr("postEvaluationTransform", "NoTransform") == "Regression_Logistic":
            y = sigmoid(y)
        return (y,)


@model_op("treeEnsembleClassifier")
@op_def("classical.tree_ensemble_classifier")
class TreeEnsembleClassifierOp(TreeEnsembleOp, ClassifierOp):
    """Class scores from the ensemble; one score for two classes is P(labels[1]) (through the
    logistic for Regression_Logistic); softmax transforms normalize several scores (the
    zero-class-reference form prepends a 0 score)."""

    def compute(self, x):
        scores = self.scores(numeric_vector(x)[None, :])[0]
        return classifier_outputs(self, self.probabilities(scores))

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        transform = self.attr("postEvaluationTransform", "NoTransform")
        n = len(class_labels(self))
        if transform == "Classification_SoftMax":
            return softmax(scores[:n])
        if transform == "Classification_SoftMaxWithZeroClassReference":
            return softmax(np.concatenate([[0.0], scores[:n - 1]])) if scores.size < n else softmax(scores[:n])
        if transform == "Regression_Logistic":
            scores = sigmoid(scores)
        if n == 2 and scores.size == 1:
            return np.array([1.0 - scores[0], scores[0]])
        return scores[:n]
