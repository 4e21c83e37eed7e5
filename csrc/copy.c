/* Data movement without Python: a strided gather into a contiguous result, which is
   core.transpose (strides permuted), core.split (an offset and the input's strides) and
   core.reshape (one contiguous run).  Rows whose source is contiguous are memcpy'd. */
#include "kernels_impl.h"

#include <string.h>

void mc_strided_copy(const float *src, float *dst, int rank, const ptrdiff_t *shape,
                     const ptrdiff_t *strides) {
    if (rank <= 0) {
        dst[0] = src[0];
        return;
    }
    ptrdiff_t rows = 1, n = shape[rank - 1], last = strides[rank - 1];
    for (int d = 0; d < rank - 1; d++) rows *= shape[d];
    ptrdiff_t index[MC_COPY_MAX_RANK] = {0};
    const float *s = src;
    for (ptrdiff_t r = 0; r < rows; r++) {
        if (last == 1) {
            memcpy(dst, s, (size_t)n * sizeof(float));
        } else {
            for (ptrdiff_t i = 0; i < n; i++) dst[i] = s[i * last];
        }
        dst += n;
        /* odometer over the outer dims, moving s by their strides */
        for (int d = rank - 2; d >= 0; d--) {
            s += strides[d];
            if (++index[d] < shape[d]) break;
            s -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
}
