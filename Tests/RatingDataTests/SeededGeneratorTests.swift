import RatingData
import Testing

/// The generator's Gaussian pairs (factor initialization) against the normal law they claim.
@Suite struct SeededGeneratorTests {
  /// Over 200,000 pairs: each deviate has mean 0 and variance 1, the two of a pair are
  /// uncorrelated, and the tails hold what N(0, 1) puts there (|z| > 1: 31.73%, |z| > 2: 4.55%),
  /// each within five standard errors.
  @Test func gaussianPairsFollowTheStandardNormal() {
    var rng = SeededGenerator(seed: 2026)
    let pairs = 200_000
    var (sum, squares, cross, beyond1, beyond2) = (0.0, 0.0, 0.0, 0, 0)
    for _ in 0 ..< pairs {
      let (a, b) = rng.nextGaussianPair()
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
}
