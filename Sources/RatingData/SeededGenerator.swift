import CRandom

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator.
///
/// Every random choice in mf (initialization, shuffles, splits, synthetic data) draws from one of
/// these, so a run is reproducible from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  @usableFromInline var state: UInt64

  /// A generator whose stream is determined by `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform `Double` in [0, 1) with 53 random bits.
  @inlinable
  public mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A standard normal deviate (Box–Muller).
  public mutating func nextGaussian() -> Double {
    let u1 = max(nextUnit(), 0x1.0p-60)
    let u2 = nextUnit()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// Fills `out[j]` for j in `entries` with σ·N(0, 1) deviates: entries 2m and 2m + 1 are the
  /// Box–Muller pair of draw m of this stream, both outputs kept, on two 24-bit uniforms of the
  /// draw (u₁ in (0, 1], u₂ in [0, 1); the tail is cut at √(2·ln 2²⁴) ≈ 5.8σ), so a table split
  /// into ranges anywhere, on any number of threads, fills the same. One draw per two deviates,
  /// in single precision: factor initialization, where their last bits do not matter.
  ///
  /// The pairs come 64 draws at a time from `mf_gaussian_pairs` (C, Sources/CRandom: polynomial
  /// log, sine and cosine that the compiler vectorizes), not from the C library's scalar calls:
  /// at rank 32 a 25M-rating set's P and Q are 7M deviates, and three library calls per pair
  /// took about a tenth of SGD's set-up. The two agree to about 1e-6 (tested), and no fused
  /// operations are used, so every machine computes the same bits.
  public func fillGaussian(_ out: UnsafeMutablePointer<Float>, entries: Range<Int>, sigma: Float) {
    guard !entries.isEmpty else { return }
    let batch = 64
    let firstDraw = entries.lowerBound >> 1
    let endDraw = (entries.upperBound + 1) >> 1
    var rng = advanced(by: firstDraw)
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: batch) { bits in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * batch) { pairs in
        var draw = firstDraw
        while draw < endDraw {
          let count = min(batch, endDraw - draw)
          for d in 0 ..< count { bits[d] = rng.next() }
          mf_gaussian_pairs(bits.baseAddress!, Int64(count), sigma, pairs.baseAddress!)
          // Entries 2·draw ..< 2·(draw + count), cut to the range asked for.
          let lo = max(entries.lowerBound, 2 * draw)
          let hi = min(entries.upperBound, 2 * (draw + count))
          (out + lo).update(from: pairs.baseAddress! + (lo - 2 * draw), count: hi - lo)
          draw += count
        }
      }
    }
  }

  /// This generator as it will be after `draws` more calls to ``next()``. SplitMix64's state
  /// moves by a constant per draw, so jumping ahead costs one multiplication: a table can be
  /// filled in parallel, each thread from its own offset, with the numbers one stream gives.
  public func advanced(by draws: Int) -> SeededGenerator {
    var g = self
    g.state &+= 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: draws)
    return g
  }

  /// A uniform integer in `0 ..< bound` (Lemire's multiply-shift, bias below 2⁻³²).
  @inlinable
  public mutating func nextIndex(below bound: Int) -> Int {
    Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(bound)) >> 32)
  }

  /// A derived generator for stream `index`, independent of this one's later draws.
  public func split(_ index: Int) -> SeededGenerator {
    var g = SeededGenerator(seed: state ^ (UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03))
    _ = g.next()
    return g
  }
}

#if canImport(Glibc)
  import Glibc
  @usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
  @usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
  @usableFromInline func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
  import Foundation
  @usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
  @usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }
  @usableFromInline func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif
