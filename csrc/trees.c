/* Tree ensemble inference over flattened nodes (tree_node, trees.h).
 *
 * Node i compares row[feature] with threshold as `x <= t`, `x < t` or `x == t` (mode 0, 1, 2); the
 * next node is child[0] when the comparison holds and child[1] when not (>=, > and != are stored
 * as their negations with the children swapped); a NaN feature takes child[missing]. Leaves point to themselves, so
 * every tree is walked exactly depth[t] steps with no leaf test: the next index is computed,
 * not branched on. Blocking: BLOCK rows go through one tree before the next tree is touched
 * (the tree stays in L1/L2 while the forest is far larger), and the rows walk it ROWS at a
 * time, interleaved, so that independent walks overlap their load latency. Leaf node i adds
 * leaf_value[k] to output leaf_index[k] for k in [leaf_start[i], leaf_start[i + 1]).
 */
#include <stdint.h>
#include <string.h>

#include "trees.h"

#define BLOCK 128
#define ROWS 8

static inline int32_t step(const double *row, const tree_node *node)
{
    double x = row[node->feature], t = node->threshold;
    int mode = node->mode;
    int fails = !(((x < t) & (mode != 2)) | ((x == t) & (mode != 1)));
    int slot = (x != x) ? node->missing : fails;
    return node->child[slot];
}

static void walk(const double *X, int64_t rows, int64_t n_features, const tree_node *nodes, int32_t root,
                 int32_t depth, const int32_t *leaf_start, const int32_t *leaf_index, const double *leaf_value,
                 double *out, int64_t n_outputs)
{
    int32_t at[ROWS];
    for (int64_t r = 0; r < rows; r++)
        at[r] = root;
    for (int32_t d = 0; d < depth; d++)
        for (int64_t r = 0; r < rows; r++)
            at[r] = step(X + r * n_features, nodes + at[r]);
    for (int64_t r = 0; r < rows; r++) {
        double *o = out + r * n_outputs;
        for (int32_t k = leaf_start[at[r]]; k < leaf_start[at[r] + 1]; k++)
            o[leaf_index[k]] += leaf_value[k];
    }
}

void tree_ensemble_predict(const double *X, int64_t n_rows, int64_t n_features, const tree_node *nodes,
                           const int32_t *roots, const int32_t *depth, int32_t n_trees, const int32_t *leaf_start,
                           const int32_t *leaf_index, const double *leaf_value, double *out, int64_t n_outputs)
{
    memset(out, 0, sizeof(double) * (size_t)(n_rows * n_outputs));
    for (int64_t b0 = 0; b0 < n_rows; b0 += BLOCK) {
        int64_t b1 = n_rows - b0 < BLOCK ? n_rows : b0 + BLOCK;
        for (int32_t t = 0; t < n_trees; t++)
            for (int64_t r0 = b0; r0 < b1; r0 += ROWS)
                walk(X + r0 * n_features, b1 - r0 < ROWS ? b1 - r0 : ROWS, n_features, nodes, roots[t], depth[t],
                     leaf_start, leaf_index, leaf_value, out + r0 * n_outputs, n_outputs);
    }
}
