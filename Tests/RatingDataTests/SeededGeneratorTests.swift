import CRandom
import RatingData
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The generator's Gaussian pairs (factor initialization) against the normal law they claim.
@Suite struct SeededGeneratorTests {
  /// Over 200,000 pairs: each deviate has mean 0 and variance 1, the two of a pair are
  /// uncorrelated, and the tails hold what N(0, 1) puts there (|z| > 1: 31.73%, |z| > 2: 4.55%),
  /// each within five standard errors.
  @Test func gaussianPairsFollowTheStandardNormal() {
    let pairs = 200_000
    var deviates = [Float](repeating: .nan, count: 2 * pairs)
    deviates.withUnsafeMutableBufferPointer {
      SeededGenerator(seed: 2026).fillGaussian($0.baseAddress!, entries: 0 ..< 2 * pairs, sigma: 1)
    }
    var (sum, squares, cross, beyond1, beyond2) = (0.0, 0.0, 0.0, 0, 0)
    for m in 0 ..< pairs {
      let (a, b) = (deviates[2 * m], deviates[2 * m + 1])
      for z in [Double(a), Double(b)] {
        sum += z
        squares += z * z
        if abs(z) > 1 { beyond1 += 1 }
        if abs(z) > 2 { beyond2 += 1 }
      }
      cross += Double(a) * Double(b)
    }
    let n = Double(2 * pairs)
    #expect(abs(sum / n) < 5 / n.squareRoot())
    #expect(abs(squares / n - 1) < 5 * (2 / n).squareRoot())
    #expect(abs(cross / Double(pairs)) < 5 / Double(pairs).squareRoot())
    for (count, p) in [(beyond1, 0.3173), (beyond2, 0.0455)] {
      #expect(abs(Double(count) / n - p) < 5 * (p * (1 - p) / n).squareRoot(), "tail \(p)")
    }
  }

  /// The vectorized Box–Muller against Box–Muller in `Double` on the C library's functions, draw
  /// for draw: within 2e-6 (deviates reach 5.8, where a `Float`'s ulp is 4.8e-7) over 400,000
  /// pairs of a stream, and on draws built to hit the edges (u₁
  /// at its smallest, 2⁻²⁴, where the radius is largest, and at 1; u₂ on and beside every
  /// eighth of a turn, where the quarter-turn reduction changes branch).
  @Test func vectorizedGaussianPairsMatchTheLibraryFunctions() {
    var draws: [UInt64] = []
    var rng = SeededGenerator(seed: 77)
    for _ in 0 ..< 400_000 { draws.append(rng.next()) }
    for u1Bits: UInt64 in [0, 1, 0x7F_FFFF, 0xFF_FFFE, 0xFF_FFFF] {
      for eighth: UInt64 in 0 ..< 8 {
        for offset: Int64 in [-1, 0, 1] {
          let u2Bits = UInt64(truncatingIfNeeded: Int64(eighth << 21) + offset) & 0xFF_FFFF
          draws.append(u1Bits << 40 | u2Bits << 16)
        }
      }
    }
    var pairs = [Float](repeating: 0, count: 2 * draws.count)
    pairs.withUnsafeMutableBufferPointer { mf_gaussian_pairs(draws, Int64(draws.count), 1, $0.baseAddress!) }
    var worst: Float = 0
    for (d, bits) in draws.enumerated() {
      let (ra, rb) = Self.libraryPair(bits)
      worst = max(worst, abs(pairs[2 * d] - ra), abs(pairs[2 * d + 1] - rb))
    }
    #expect(worst < 2e-6, "largest difference \(worst)")
  }

  /// ``SeededGenerator/fillGaussian(_:entries:sigma:)``'s uniforms from given bits, the pair computed in
  /// `Double` with the C library's functions (the exact pair to well below a `Float`'s ulp).
  static func libraryPair(_ bits: UInt64) -> (Float, Float) {
    let u1 = Double((bits >> 40) &+ 1) * 0x1.0p-24
    let u2 = Double((bits >> 16) & 0xFF_FFFF) * 0x1.0p-24
    let radius = (-2 * log(u1)).squareRoot()
    return (Float(radius * cos(2 * Double.pi * u2)), Float(radius * sin(2 * Double.pi * u2)))
  }

  /// A table filled in pieces (any cut points, odd or even) is the table filled whole, bit for
  /// bit, and its deviates are σ times the Box–Muller pairs of the stream's draws (within the
  /// tolerance above) and follow N(0, σ²).
  @Test func tableFillsAreTheSameHoweverTheyAreSplit() {
    let stream = SeededGenerator(seed: 5)
    let n = 100_003
    let sigma: Float = 0.25
    var whole = [Float](repeating: .nan, count: n)
    whole.withUnsafeMutableBufferPointer { stream.fillGaussian($0.baseAddress!, entries: 0 ..< n, sigma: sigma) }
    var pieces = [Float](repeating: .nan, count: n)
    let cuts = [0, 1, 2, 7, 8, 9, 16, 17, 1_000, 1_001, 50_000, 99_999, n]
    pieces.withUnsafeMutableBufferPointer { out in
      for (lo, hi) in zip(cuts, cuts.dropFirst()) { stream.fillGaussian(out.baseAddress!, entries: lo ..< hi, sigma: sigma) }
    }
    #expect(whole.map(\.bitPattern) == pieces.map(\.bitPattern))
    var reference = stream
    var (worst, squares) = (Float(0), 0.0)
    for m in 0 ..< n / 2 {
      let (a, b) = Self.libraryPair(reference.next())
      worst = max(worst, abs(whole[2 * m] - sigma * a), abs(whole[2 * m + 1] - sigma * b))
      squares += Double(whole[2 * m]) * Double(whole[2 * m]) + Double(whole[2 * m + 1]) * Double(whole[2 * m + 1])
    }
    #expect(worst < 2e-6)
    let variance = squares / Double(n - 1) / Double(sigma * sigma)
    #expect(abs(variance - 1) < 5 * (2 / Double(n)).squareRoot(), "variance \(variance)")
  }
}
