/* Tree ensemble inference over flattened node arrays (layout in trees.c). */
#ifndef MLIR_COREML_TREES_H
#define MLIR_COREML_TREES_H
#include <stdint.h>

/* One node, 24 bytes (one load brings everything a step needs); trees.py builds the same layout
 * as a numpy structured array. */
typedef struct {
    double threshold;
    int32_t feature;
    int32_t child[2];   /* [0]: the comparison holds, [1]: it does not */
    uint8_t mode;       /* 0: x <= t, 1: x < t, 2: x == t */
    uint8_t missing;    /* the child slot a NaN feature takes */
    uint8_t pad[2];
} tree_node;

void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features, const tree_node *nodes,
                           const int32_t *roots, const int32_t *depth, int32_t n_trees, const int32_t *leaf_start,
                           const int32_t *leaf_index, const double *leaf_value, double *out, int64_t n_outputs);
#endif
