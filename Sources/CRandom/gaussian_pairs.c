#include "gaussian_pairs.h"

#include <string.h>

// No fused multiply-adds: every machine computes the same bits (the compiler would fuse a·b + c
// where the target has FMA, arm64 for one).
#pragma clang fp contract(off)

// Eight draws at a time on clang's vector types (explicit: left to itself the compiler kept this
// loop scalar), each step branch-free:
//  - ln u1 = e·ln 2 + ln m after splitting off the exponent, m in [√½, √2); ln m by its series in
//    s = (m − 1)/(m + 1), |s| ≤ 0.172, to s⁹ (the next term is below 4e-10);
//  - 2πu2 = kπ/2 + φ with r = u2 − round(u2), k = round(4r), |φ| ≤ π/4 (exact in float: u2 has
//    24 bits); sin φ and cos φ by their Taylor polynomials (to φ⁹ and φ¹⁰), then the quarter
//    turns taken back by swapping and negating.
// Rounding to nearest uses the 1.5·2²³ trick (exact for |x| < 2²²), which baseline SSE2 has
// no instruction for.
typedef float float8 __attribute__((ext_vector_type(8)));
typedef int32_t int8 __attribute__((ext_vector_type(8)));

static inline float8 round_nearest(float8 x) {
  const float8 shift = 12582912.0f;  // 1.5 · 2^23
  return (x + shift) - shift;
}

/// Lanes of `a` where `mask` is all ones, of `b` where it is zero.
static inline float8 select(int8 mask, float8 a, float8 b) {
  return (float8)((mask & (int8)a) | (~mask & (int8)b));
}

/// Eight pairs: cos and sin parts, radius σ·√(−2 ln u1) included.
static inline void pairs8(const uint64_t *bits, float sigma, float8 *cos_part, float8 *sin_part) {
  int8 high_bits, low_bits;
  for (int lane = 0; lane < 8; lane++) {
    high_bits[lane] = (int32_t)((bits[lane] >> 40) + 1);
    low_bits[lane] = (int32_t)((bits[lane] >> 16) & 0xFFFFFF);
  }
  const float8 u1 = __builtin_convertvector(high_bits, float8) * 0x1.0p-24f;
  const float8 u2 = __builtin_convertvector(low_bits, float8) * 0x1.0p-24f;

  const int8 pattern = (int8)u1;
  int8 exponent = ((pattern >> 23) & 0xFF) - 127;
  float8 m = (float8)((pattern & 0x007FFFFF) | 0x3F800000);
  const int8 high = m > 1.41421356f;
  m = select(high, m * 0.5f, m);
  exponent = exponent - high;  // a true comparison is −1
  const float8 s = (m - 1.0f) / (m + 1.0f);
  const float8 s2 = s * s;
  float8 series = 1.0f / 9.0f;
  series = series * s2 + 1.0f / 7.0f;
  series = series * s2 + 1.0f / 5.0f;
  series = series * s2 + 1.0f / 3.0f;
  series = series * s2 + 1.0f;
  const float8 log_u1 = __builtin_convertvector(exponent, float8) * 0.693147181f + 2.0f * s * series;
  const float8 radius = sigma * __builtin_elementwise_sqrt(-2.0f * log_u1);

  const float8 r = u2 - round_nearest(u2);
  const float8 quarter = round_nearest(4.0f * r);
  const float8 phi = (r - 0.25f * quarter) * 6.28318531f;
  const float8 p2 = phi * phi;
  float8 sine = 1.0f / 362880.0f;
  sine = sine * p2 - 1.0f / 5040.0f;
  sine = sine * p2 + 1.0f / 120.0f;
  sine = sine * p2 - 1.0f / 6.0f;
  sine = (sine * p2 + 1.0f) * phi;
  float8 cosine = -1.0f / 3628800.0f;
  cosine = cosine * p2 + 1.0f / 40320.0f;
  cosine = cosine * p2 - 1.0f / 720.0f;
  cosine = cosine * p2 + 1.0f / 24.0f;
  cosine = cosine * p2 - 0.5f;
  cosine = cosine * p2 + 1.0f;
  // cos and sin of kπ/2 + φ: k = 0 (c, s), 1 (−s, c), 2 (−c, −s), 3 (s, −c).
  const int8 k = __builtin_convertvector(quarter, int8) & 3;
  const int8 odd = (k & 1) == 1;
  const float8 c = select(odd, sine, cosine);
  const float8 d = select(odd, cosine, sine);
  *cos_part = radius * select((k == 1) | (k == 2), -c, c);
  *sin_part = radius * select((k == 2) | (k == 3), -d, d);
}

void mf_gaussian_pairs(const uint64_t *bits, int64_t count, float sigma, float *out) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    float8 c, d;
    pairs8(bits + i, sigma, &c, &d);
    const float8 first = __builtin_shufflevector(c, d, 0, 8, 1, 9, 2, 10, 3, 11);
    const float8 second = __builtin_shufflevector(c, d, 4, 12, 5, 13, 6, 14, 7, 15);
    memcpy(out + 2 * i, &first, sizeof first);
    memcpy(out + 2 * i + 8, &second, sizeof second);
  }
  if (i < count) {
    uint64_t rest[8] = {0};
    memcpy(rest, bits + i, (size_t)(count - i) * sizeof(uint64_t));
    float8 c, d;
    pairs8(rest, sigma, &c, &d);
    for (int64_t lane = 0; lane < count - i; lane++) {
      out[2 * (i + lane)] = c[lane];
      out[2 * (i + lane) + 1] = d[lane];
    }
  }
}
