/* Tree ensemble inference over flattened node arrays.
 *
 * Layout (built by ir/dialects/classical/trees.py): node i compares row[feature[i]] with
 * threshold[i] as `x < t` (strict[i] = 1) or `x <= t` (strict[i] = 0); its next node is
 * child[2 i] when the comparison holds and child[2 i + 1] when not (greater-than forms are
 * stored with their children swapped); a NaN feature goes to child[2 i + missing[i]]. Leaves point
 * to themselves, so every tree is walked exactly depth[t] steps with no leaf test: the next index
 * is computed, not branched on. Rows go through each tree in blocks of ROWS so that the
 * independent walks overlap their memory latency. Leaf node i adds leaf_value[k] to output
 * leaf_index[k] for k in [leaf_start[i], leaf_start[i + 1]).
 */
#include <stdint.h>
#include <string.h>

#include "trees.h"

#define ROWS 8

static inline int32_t step(const double *row, int32_t i, const int32_t *feature, const double *threshold,
                           const uint8_t *strict, const uint8_t *missing, const int32_t *child)
{
    double x = row[feature[i]], t = threshold[i];
    int fails = !((x < t) | (!strict[i] & (x == t)));
    int slot = (x != x) ? missing[i] : fails;
    return child[2 * i + slot];
}

void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features,
                           const int32_t *feature, const double *threshold, const uint8_t *strict,
                           const uint8_t *missing, const int32_t *child, const int32_t *roots,
                           const int32_t *depth, int32_t n_trees, const int32_t *leaf_start,
                           const int32_t *leaf_index, const double *leaf_value, double *out, int64_t n_outputs)
{
    memset(out, 0, sizeof(double) * (size_t)(n_rows * n_outputs));
    for (int64_t r0 = 0; r0 < n_rows; r0 += ROWS) {
        int64_t rows = n_rows - r0 < ROWS ? n_rows - r0 : ROWS;
        for (int32_t t = 0; t < n_trees; t++) {
            int32_t node[ROWS];
            for (int64_t r = 0; r < rows; r++)
                node[r] = roots[t];
            for (int32_t d = 0; d < depth[t]; d++)
                for (int64_t r = 0; r < rows; r++)
                    node[r] = step(X + (r0 + r) * n_features, node[r], feature, threshold, strict, missing, child);
            for (int64_t r = 0; r < rows; r++) {
                double *o = out + (r0 + r) * n_outputs;
                for (int32_t k = leaf_start[node[r]]; k < leaf_start[node[r] + 1]; k++)
                    o[leaf_index[k]] += leaf_value[k];
            }
        }
    }
}
