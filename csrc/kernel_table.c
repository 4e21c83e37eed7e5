/* The one kernel table of this build (see kernel_table.h). */
#include "kernel_table.h"

static const mc_kernel_table TABLE = {
    MC_KERNEL_TABLE_VERSION,
    mc_gemm,
    mc_conv2d,
    mc_depthwise_conv2d,
    mc_max_pool2d,
    mc_avg_pool2d,
    mc_global_pool,
    mc_softmax,
    mc_activation,
    mc_float_to_half,
    mc_winograd_conv2d_w32,
    mc_layer_norm,
    mc_attention,
    mc_strided_copy,
    mc_batched_matmul,
    mc_gemm_w32,
    mc_conv2d_w32,
    mc_depthwise_conv2d_w32,
    mc_gemm_rows,
    mc_gemm_rows_w32,
    mc_to_blocked,
    mc_from_blocked,
    mc_conv2d_blocked,
    mc_conv2d_blocked_w32,
    mc_depthwise_blocked,
    mc_pool2d_blocked,
    mc_global_pool_blocked,
};

const mc_kernel_table *mc_kernel_table_get(void) { return &TABLE; }
