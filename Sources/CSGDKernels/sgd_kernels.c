// The SGD loops of SGDKernel.swift with 8-wide AVX2 arithmetic and fused multiply-adds. Same
// update, same order of ratings, same prefetching; only the rounding of the dot product and the
// row steps differs (FMA rounds once where the portable kernel rounds twice), so results are
// bit-reproducible on a given machine but not bit-equal to the portable kernel's.
#include "sgd_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define WIDE __attribute__((target("avx2,fma")))
#define PREFETCH_DISTANCE 8

int mf_sgd_wide_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static inline WIDE __attribute__((always_inline)) float horizontal_sum(__m256 v) {
  __m128 low = _mm256_castps256_ps128(v);
  __m128 high = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(low, high);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

/// p·q with four independent accumulators (the sum's latency chain is what a rating waits on).
static inline WIDE __attribute__((always_inline)) float dot(int64_t k, const float *x, const float *y) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= k; j += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 8), _mm256_loadu_ps(y + j + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 16), _mm256_loadu_ps(y + j + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 24), _mm256_loadu_ps(y + j + 24), a3);
  }
  for (; j + 8 <= k; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j), a0);
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; j < k; j++) sum += x[j] * y[j];
  return sum;
}

/// p ← shrinkP·p + stepP·q and q ← shrinkQ·q + stepQ·p, both from the old rows.
static inline WIDE __attribute__((always_inline)) void coupled_step(
    int64_t k, float *p, float *q, float shrink_p, float step_p, float shrink_q, float step_q) {
  const __m256 sp = _mm256_set1_ps(shrink_p), tp = _mm256_set1_ps(step_p);
  const __m256 sq = _mm256_set1_ps(shrink_q), tq = _mm256_set1_ps(step_q);
  int64_t j = 0;
  for (; j + 8 <= k; j += 8) {
    __m256 pv = _mm256_loadu_ps(p + j);
    __m256 qv = _mm256_loadu_ps(q + j);
    _mm256_storeu_ps(p + j, _mm256_fmadd_ps(tp, qv, _mm256_mul_ps(sp, pv)));
    _mm256_storeu_ps(q + j, _mm256_fmadd_ps(tq, pv, _mm256_mul_ps(sq, qv)));
  }
  for (; j < k; j++) {
    float pv = p[j], qv = q[j];
    p[j] = shrink_p * pv + step_p * qv;
    q[j] = shrink_q * qv + step_q * pv;
  }
}

static inline __attribute__((always_inline)) void prefetch_rows(
    const mf_rating_entry *e, const float *p, const float *q, int64_t k, int64_t stride,
    const float *user_bias, const float *item_bias) {
  const char *row_p = (const char *)(p + (int64_t)e->user * k);
  const char *row_q = (const char *)(q + (int64_t)e->item * k);
  for (int64_t line = 0; line < k * 4; line += 64) {
    __builtin_prefetch(row_p + line, 1, 3);
    __builtin_prefetch(row_q + line, 1, 3);
  }
  __builtin_prefetch(user_bias + (int64_t)e->user * stride, 1, 3);
  __builtin_prefetch(item_bias + (int64_t)e->item * stride, 1, 3);
}

/// The loop for one rule and one rank; `K` is a compile-time constant where the caller passes
/// one, so the row loops unroll completely (as the Swift kernel's Rank types do).
static inline WIDE __attribute__((always_inline)) double run(
    const mf_rating_entry *entries, int64_t count, float *p, float *q, float *user_bias,
    float *item_bias, int64_t K, float mean, int adaptive, float a, float b, float c) {
  const int64_t stride = adaptive ? 4 : 1;
  double sse = 0;
  float block_sse = 0;
  for (int64_t n = 0; n < count; n++) {
    if (n + PREFETCH_DISTANCE < count)
      prefetch_rows(entries + n + PREFETCH_DISTANCE, p, q, K, stride, user_bias, item_bias);
    const mf_rating_entry entry = entries[n];
    float *pu = p + (int64_t)entry.user * K;
    float *qi = q + (int64_t)entry.item * K;
    float *ru = user_bias + (int64_t)entry.user * stride;
    float *ri = item_bias + (int64_t)entry.item * stride;
    const float bu = ru[0], bi = ri[0];
    const float e = entry.rating - (mean + bu + bi + dot(K, pu, qi));
    if (adaptive) {
      // a = λ, b = λ_b; steps from the rows' records.
      ru[0] = bu + ru[2] * (e - b * bu);
      ri[0] = bi + ri[2] * (e - b * bi);
      const float su = ru[1], si = ri[1];
      coupled_step(K, pu, qi, 1 - su * a, su * e, 1 - si * a, si * e);
    } else {
      // a = η, b = 1 − ηλ, c = 1 − ηλ_b.
      ru[0] = c * bu + a * e;
      ri[0] = c * bi + a * e;
      coupled_step(K, pu, qi, b, a * e, b, a * e);
    }
    block_sse += e * e;
    if ((n & 1023) == 1023) {
      sse += block_sse;
      block_sse = 0;
    }
  }
  return sse + block_sse;
}

#define DISPATCH(ADAPTIVE, A, B, C)                                                              \
  switch (k) {                                                                                   \
    case 8: return run(entries, count, p, q, ub, ib, 8, mean, ADAPTIVE, A, B, C);             \
    case 16: return run(entries, count, p, q, ub, ib, 16, mean, ADAPTIVE, A, B, C);           \
    case 32: return run(entries, count, p, q, ub, ib, 32, mean, ADAPTIVE, A, B, C);           \
    case 64: return run(entries, count, p, q, ub, ib, 64, mean, ADAPTIVE, A, B, C);           \
    case 128: return run(entries, count, p, q, ub, ib, 128, mean, ADAPTIVE, A, B, C);         \
    case 256: return run(entries, count, p, q, ub, ib, 256, mean, ADAPTIVE, A, B, C);         \
    default: return run(entries, count, p, q, ub, ib, k, mean, ADAPTIVE, A, B, C);            \
  }

WIDE double mf_sgd_decaying_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                                 float *ub, float *ib, int64_t k, float mean, float learning_rate,
                                 float shrink, float bias_shrink) {
  DISPATCH(0, learning_rate, shrink, bias_shrink)
}

WIDE double mf_sgd_adaptive_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                                 float *ub, float *ib, int64_t k, float mean, float regularization,
                                 float bias_regularization) {
  DISPATCH(1, regularization, bias_regularization, 0)
}

/// Σe² of the clamped predictions over `count` entries, no update (the final training RMSE): the
/// same prefetching, one accumulator per 1,024 ratings as in `run`.
static inline WIDE __attribute__((always_inline)) double squared_errors(
    const mf_rating_entry *entries, int64_t count, const float *p, const float *q,
    const float *user_bias, const float *item_bias, int64_t stride, int64_t K, float mean,
    float low, float high) {
  double sse = 0;
  float block_sse = 0;
  for (int64_t n = 0; n < count; n++) {
    if (n + PREFETCH_DISTANCE < count)
      prefetch_rows(entries + n + PREFETCH_DISTANCE, p, q, K, stride, user_bias, item_bias);
    const mf_rating_entry entry = entries[n];
    float raw = mean + user_bias[(int64_t)entry.user * stride] + item_bias[(int64_t)entry.item * stride]
                + dot(K, p + (int64_t)entry.user * K, q + (int64_t)entry.item * K);
    raw = raw < low ? low : (raw > high ? high : raw);
    const float e = raw - entry.rating;
    block_sse += e * e;
    if ((n & 1023) == 1023) {
      sse += block_sse;
      block_sse = 0;
    }
  }
  return sse + block_sse;
}

WIDE double mf_sgd_squared_errors_wide(const mf_rating_entry *entries, int64_t count, const float *p,
                                       const float *q, const float *ub, const float *ib,
                                       int64_t bias_stride, int64_t k, float mean, float low,
                                       float high) {
  switch (k) {
    case 32: return squared_errors(entries, count, p, q, ub, ib, bias_stride, 32, mean, low, high);
    case 64: return squared_errors(entries, count, p, q, ub, ib, bias_stride, 64, mean, low, high);
    case 128: return squared_errors(entries, count, p, q, ub, ib, bias_stride, 128, mean, low, high);
    default: return squared_errors(entries, count, p, q, ub, ib, bias_stride, k, mean, low, high);
  }
}

#else

int mf_sgd_wide_available(void) { return 0; }

double mf_sgd_squared_errors_wide(const mf_rating_entry *entries, int64_t count, const float *p,
                                  const float *q, const float *ub, const float *ib,
                                  int64_t bias_stride, int64_t k, float mean, float low,
                                  float high) {
  return 0;
}

double mf_sgd_decaying_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                            float *ub, float *ib, int64_t k, float mean, float learning_rate,
                            float shrink, float bias_shrink) {
  return 0;
}

double mf_sgd_adaptive_wide(const mf_rating_entry *entries, int64_t count, float *p, float *q,
                            float *ub, float *ib, int64_t k, float mean, float regularization,
                            float bias_regularization) {
  return 0;
}

#endif
