/* Runtime CPU-feature dispatch and the thread-count setting shared by all kernels. */
#include "kernels_impl.h"

#include <math.h>

static int forced_isa = MC_ISA_AUTO;
static int num_threads = 0;   /* 0: OpenMP default */

int mc_detect_isa(void) {
#ifdef MC_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                   && __builtin_cpu_supports("f16c");
        int avx512 = avx2 && __builtin_cpu_supports("avx512f");
        cached = avx512 ? MC_ISA_AVX512 : avx2 ? MC_ISA_AVX2 : MC_ISA_PORTABLE;
    }
    return cached;
#else
    return MC_ISA_PORTABLE;
#endif
}

int mc_force_isa(int isa) {
    if (isa < MC_ISA_AUTO || isa > MC_ISA_AVX512 || isa > mc_detect_isa()) return -1;
    forced_isa = isa;
    return 0;
}

int mc_current_isa(void) { return forced_isa ? forced_isa : mc_detect_isa(); }
int mc_isa(void) { return mc_current_isa(); }

void mc_set_num_threads(int n) { num_threads = n > 0 ? n : 0; }

int mc_get_num_threads(void) {
#ifdef _OPENMP
    return num_threads ? num_threads : omp_get_max_threads();
#else
    return 1;
#endif
}

/* Below ~2 MFLOP a parallel region costs more than it saves. */
int mc_threads_for(double flops) {
    int t = mc_get_num_threads();
    return flops < 2e6 ? 1 : t;
}

int mc_act_is_linear(int act) {
    return act == MC_ACT_NONE || act == MC_ACT_RELU || act == MC_ACT_CLIP || act == MC_ACT_LEAKY_RELU;
}

float mc_act_scalar(float v, const mc_epilogue *ep) {
    switch (ep->act) {
    case MC_ACT_RELU: return v > 0.f ? v : 0.f;
    case MC_ACT_CLIP: return v < ep->alpha ? ep->alpha : (v > ep->beta ? ep->beta : v);
    case MC_ACT_LEAKY_RELU: return v >= 0.f ? v : v * ep->alpha;
    case MC_ACT_SIGMOID: return 1.f / (1.f + expf(-v));
    case MC_ACT_TANH: return tanhf(v);
    case MC_ACT_GELU: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
    case MC_ACT_GELU_TANH:
        return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    case MC_ACT_SILU: return v / (1.f + expf(-v));
    default: return v;
    }
}
