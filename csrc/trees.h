/* Tree ensemble inference over flattened node arrays (layout in trees.c). */
#ifndef MLIR_COREML_TREES_H
#define MLIR_COREML_TREES_H
#include <stdint.h>

void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features,
                           const int32_t *feature, const double *threshold, const uint8_t *strict,
                           const uint8_t *missing, const int32_t *child, const int32_t *roots,
                           const int32_t *depth, int32_t n_trees, const int32_t *leaf_start,
                           const int32_t *leaf_index, const double *leaf_value, double *out, int64_t n_outputs);
#endif
