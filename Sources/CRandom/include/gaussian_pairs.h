// Box–Muller on many draws at once, in plain C loops that the compiler vectorizes (see
// Sources/RatingData/SeededGenerator.swift, `fillGaussian`). Swift's generic SIMD types did not
// compile this to vector code: the same arithmetic written with them ran 4× slower than the C
// library's scalar calls.
#ifndef MF_GAUSSIAN_PAIRS_H
#define MF_GAUSSIAN_PAIRS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// For each of the `count` 64-bit draws: u1 = ((bits >> 40) + 1)·2⁻²⁴ in (0, 1] and
/// u2 = ((bits >> 16) & 0xFFFFFF)·2⁻²⁴ in [0, 1), and the Box–Muller pair
/// out[2i] = σ·√(−2 ln u1)·cos 2πu2, out[2i + 1] = σ·√(−2 ln u1)·sin 2πu2.
void mf_gaussian_pairs(const uint64_t *bits, int64_t count, float sigma, float *out);

#ifdef __cplusplus
}
#endif

#endif
