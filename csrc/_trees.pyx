"""Python entry point of the tree ensemble kernel (csrc/trees.c)."""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t


cdef extern from "trees.h":
    ctypedef struct tree_node:
        double threshold
        int32_t feature
        int32_t child[2]
        uint8_t mode
        uint8_t missing
    void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features, const tree_node *nodes,
                               const int32_t *roots, const int32_t *depth, int32_t n_trees,
                               const int32_t *leaf_start, const int32_t *leaf_index, const double *leaf_value,
                               double *out, int64_t n_outputs) nogil

NODE_BYTES = sizeof(tree_node)


cdef class Forest:
    """The kernel's arrays, checked once here: every index the kernel follows (child, feature,
    leaf range, output) is in range and every walk is at most one step per node, so no node
    array, however hostile, makes `predict` read or write outside its arrays or run unbounded.
    A bad array raises one ValueError naming the node."""
    cdef readonly object nodes, roots, depth, leaf_start, leaf_index, leaf_value
    cdef readonly int64_t n_features, n_outputs  # the X width and output count the arrays need

    def __init__(self, const uint8_t[::1] nodes, const int32_t[::1] roots, const int32_t[::1] depth,
                 const int32_t[::1] leaf_start, const int32_t[::1] leaf_index, const double[::1] leaf_value):
        cdef int64_t n = nodes.shape[0] // sizeof(tree_node)
        if nodes.shape[0] % sizeof(tree_node):
            raise ValueError(f"node array of {nodes.shape[0]} bytes is not a whole number of nodes")
        if roots.shape[0] != depth.shape[0]:
            raise ValueError(f"{roots.shape[0]} roots but {depth.shape[0]} depths")
        if leaf_start.shape[0] != n + 1 or leaf_value.shape[0] != leaf_index.shape[0]:
            raise ValueError("leaf ranges do not match the nodes and leaf values")
        cdef int64_t i
        for i in range(roots.shape[0]):
            if not 0 <= roots[i] < n or not 0 <= depth[i] <= n:
                raise ValueError(f"tree {i}: root {roots[i]} or depth {depth[i]} outside the {n} nodes")
        self.n_features = _check_nodes(<const tree_node *>&nodes[0] if n else NULL, n, leaf_start,
                                       leaf_index.shape[0])
        self.n_outputs = 0
        for i in range(leaf_index.shape[0]):
            if leaf_index[i] < 0:
                raise ValueError(f"leaf entry {i} writes output {leaf_index[i]}")
            self.n_outputs = max(self.n_outputs, leaf_index[i] + 1)
        self.nodes, self.roots, self.depth = nodes, roots, depth
        self.leaf_start, self.leaf_index, self.leaf_value = leaf_start, leaf_index, leaf_value

    def predict(self, const double[:, ::1] X, int64_t n_outputs):
        """Sum of the leaf values every row reaches, per output: an (n_rows, n_outputs) f64 array."""
        if X.shape[1] < self.n_features:
            raise ValueError(f"input has {X.shape[1]} features, the trees read feature {self.n_features - 1}")
        if n_outputs < self.n_outputs:
            raise ValueError(f"a leaf writes output {self.n_outputs - 1} of {n_outputs}")
        cdef int64_t n_rows = X.shape[0]
        cdef const int32_t[::1] roots = self.roots
        if n_rows == 0 or n_outputs == 0 or roots.shape[0] == 0:
            return np.zeros((n_rows, n_outputs))
        cdef const uint8_t[::1] nodes = self.nodes
        cdef const int32_t[::1] depth = self.depth
        cdef const int32_t[::1] leaf_start = self.leaf_start
        cdef const int32_t[::1] leaf_index = self.leaf_index
        cdef const double[::1] leaf_value = self.leaf_value
        out = np.empty((n_rows, n_outputs), dtype=np.float64)
        cdef double[:, ::1] o = out
        with nogil:
            tree_ensemble_predict(&X[0, 0], n_rows, X.shape[1], <const tree_node *>&nodes[0], &roots[0], &depth[0],
                                  <int32_t>roots.shape[0], &leaf_start[0],
                                  &leaf_index[0] if leaf_index.shape[0] else NULL,
                                  &leaf_value[0] if leaf_value.shape[0] else NULL, &o[0, 0], n_outputs)
        return out


cdef int64_t _check_nodes(const tree_node *nodes, int64_t n, const int32_t[::1] leaf_start,
                          int64_t n_leaves) except -1:
    """Checks every node; returns 1 + the highest feature read."""
    cdef int64_t i, n_features = 0
    cdef const tree_node *node
    if leaf_start[0] != 0:
        raise ValueError("leaf ranges do not start at 0")
    for i in range(n):
        node = nodes + i
        if not (0 <= node.child[0] < n and 0 <= node.child[1] < n):
            raise ValueError(f"node {i} points to node {node.child[0]} / {node.child[1]} of {n}")
        if node.feature < 0 or node.mode > 2 or node.missing > 1:
            raise ValueError(f"node {i} reads feature {node.feature} (mode {node.mode}, missing {node.missing})")
        if not leaf_start[i] <= leaf_start[i + 1] <= n_leaves:
            raise ValueError(f"node {i}'s leaf range {leaf_start[i]}..{leaf_start[i + 1]} is outside 0..{n_leaves}")
        n_features = max(n_features, <int64_t>node.feature + 1)
    return n_features
