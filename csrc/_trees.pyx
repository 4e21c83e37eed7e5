"""Python entry point of the tree ensemble kernel (csrc/trees.c)."""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t


cdef extern from "trees.h":
    ctypedef struct tree_node:
        pass
    void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features, const tree_node *nodes,
                               const int32_t *roots, const int32_t *depth, int32_t n_trees,
                               const int32_t *leaf_start, const int32_t *leaf_index, const double *leaf_value,
                               double *out, int64_t n_outputs) nogil

NODE_BYTES = 24  # sizeof(tree_node)


def predict(const double[:, ::1] X, const uint8_t[::1] nodes, const int32_t[::1] roots, const int32_t[::1] depth,
            const int32_t[::1] leaf_start, const int32_t[::1] leaf_index, const double[::1] leaf_value,
            int64_t n_outputs):
    """Sum of the leaf values every row reaches, per output: an (n_rows, n_outputs) f64 array.
    `nodes` is the packed tree_node array; the caller (trees.py) guarantees the arrays are
    consistent (child, feature and leaf indices in range)."""
    cdef int64_t n_rows = X.shape[0]
    if n_rows == 0 or n_outputs == 0 or roots.shape[0] == 0:
        return np.zeros((n_rows, n_outputs))
    out = np.empty((n_rows, n_outputs), dtype=np.float64)
    cdef double[:, ::1] o = out
    with nogil:
        tree_ensemble_predict(&X[0, 0], n_rows, X.shape[1], <const tree_node *>&nodes[0], &roots[0], &depth[0],
                              <int32_t>roots.shape[0], &leaf_start[0],
                              &leaf_index[0] if leaf_index.shape[0] else NULL,
                              &leaf_value[0] if leaf_value.shape[0] else NULL, &o[0, 0], n_outputs)
    return out
