// SGD inner loops compiled for AVX2 + FMA, chosen at run time (see Sources/MatrixFactorization/SGD).
//
// Swift compiles a module for one target CPU (baseline x86-64: 4-wide SSE, no FMA) and has no
// per-function target attribute; C has one (`__attribute__((target("avx2,fma")))`), so these two
// loops live here and the rest of the binary stays baseline. The Swift kernel remains the
// portable one and the reference the tests compare against.
#ifndef MF_SGD_KERNELS_H
#define MF_SGD_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One rating as the SGD loop streams it (the layout of Swift's RatingEntry): rows counted from
/// the pointers the caller passes, which start at the block's user and item groups.
typedef struct {
  uint16_t user;
  uint16_t item;
  float rating;
} mf_rating_entry;

/// 1 when this CPU has AVX2 and FMA (and the OS saves the YMM registers), else 0; always 0 off
/// x86-64.
int mf_sgd_wide_available(void);

/// The decaying-step update (Koren et al. 2009) over `count` entries; returns Σe² (errors
/// before each update). Rows are `k` floats; biases one float per row.
double mf_sgd_decaying_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                            float *user_bias, float *item_bias, int64_t k, float mean,
                            float learning_rate, float shrink, float bias_shrink);

/// The per-row adaptive-step update; bias records are 4 floats (bias, factor step, bias step,
/// unused).
double mf_sgd_adaptive_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                            float *user_bias, float *item_bias, int64_t k, float mean,
                            float regularization, float bias_regularization);

/// Σe² over `count` entries of the clamped prediction min(max(μ + b_u + b_i + p·q, low), high)
/// against the rating, nothing updated (a fit's final training RMSE). Bias records are
/// `bias_stride` floats, the bias first.
double mf_sgd_squared_errors_wide(const mf_rating_entry *entries, int64_t count, const float *p,
                                  const float *q, const float *user_bias, const float *item_bias,
                                  int64_t bias_stride, int64_t k, float mean, float low,
                                  float high);

#ifdef __cplusplus
}
#endif

#endif
