import MatrixFactorization
import RatingData
import Testing

/// The AVX2/FMA SGD loop against the portable Swift loop on the same ratings and start: the same
/// rule, so the same result up to rounding (FMA rounds once where the portable loop rounds
/// twice), and bit-for-bit the same on two runs. Skipped, with the reason, on a CPU without
/// AVX2 and FMA.
@Suite(
  .enabled(
    if: SGDKernel.wideAvailable, "this CPU has no AVX2 and FMA, so only the portable SGD loop runs"))
struct WideKernelTests {
  struct Start {
    var entries: [RatingEntry]
    var p: [Float]
    var q: [Float]
    var userBias: [Float]
    var itemBias: [Float]
  }

  static func start(rank k: Int, stride: Int, seed: UInt64) -> Start {
    var rng = SeededGenerator(seed: seed)
    let (users, items) = (40, 30)
    let entries = (0 ..< 3_000).map { _ in
      RatingEntry(
        user: UInt16(rng.nextIndex(below: users)), item: UInt16(rng.nextIndex(below: items)),
        rating: Float(1 + rng.nextIndex(below: 5)))
    }
    func table(_ n: Int, _ scale: Double) -> [Float] { (0 ..< n).map { _ in Float(scale * rng.nextGaussian()) } }
    var userBias = table(users * stride, 0.1)
    var itemBias = table(items * stride, 0.1)
    if stride == 4 {  // adaptive records: bias, factor step, bias step, unused
      for r in 0 ..< users { (userBias[r * 4 + 1], userBias[r * 4 + 2]) = (0.01, 0.01) }
      for r in 0 ..< items { (itemBias[r * 4 + 1], itemBias[r * 4 + 2]) = (0.01, 0.01) }
    }
    return Start(
      entries: entries, p: table(users * k, 0.3), q: table(items * k, 0.3), userBias: userBias,
      itemBias: itemBias)
  }

  /// Runs one pass with the chosen kernel on a copy of `start`.
  static func pass<Step: SGDStep>(_ start: Start, rank k: Int, step: Step, wide: Bool) -> (Start, Double) {
    var s = start
    let sse = s.entries.withUnsafeBufferPointer { entries in
      s.p.withUnsafeMutableBufferPointer { p in
        s.q.withUnsafeMutableBufferPointer { q in
          s.userBias.withUnsafeMutableBufferPointer { ub in
            s.itemBias.withUnsafeMutableBufferPointer { ib in
              SGDKernel.run(
                entries: entries.baseAddress!, count: entries.count, p: p.baseAddress!,
                q: q.baseAddress!, userBias: ub.baseAddress!, itemBias: ib.baseAddress!, rank: k,
                step: step, wide: wide)
            }
          }
        }
      }
    }
    return (s, sse)
  }

  static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  @Test(arguments: [1, 7, 8, 16, 32, 40, 64, 128])
  func wideMatchesPortableAndRepeatsExactly(rank k: Int) {
    let decaying = DecayingStep(mean: 3, learningRate: 0.01, regularization: 0.05, biasRegularization: 0.02)
    let adaptive = AdaptiveStep(mean: 3, regularization: 0.05, biasRegularization: 0.02)
    for (stride, name) in [(1, "decaying"), (4, "adaptive")] {
      let start = Self.start(rank: k, stride: stride, seed: UInt64(k))
      func both(wide: Bool) -> (Start, Double) {
        stride == 1
          ? Self.pass(start, rank: k, step: decaying, wide: wide)
          : Self.pass(start, rank: k, step: adaptive, wide: wide)
      }
      let (portable, portableSSE) = both(wide: false)
      let (wide, wideSSE) = both(wide: true)
      let (again, againSSE) = both(wide: true)
      // The pass moved the factors (so the comparison is not of two untouched copies) ...
      #expect(Self.maxDifference(portable.p, start.p) > 1e-3, "\(name) rank \(k)")
      // ... and both kernels moved them alike, to rounding.
      #expect(Self.maxDifference(wide.p, portable.p) < 1e-4, "\(name) rank \(k)")
      #expect(Self.maxDifference(wide.q, portable.q) < 1e-4, "\(name) rank \(k)")
      #expect(Self.maxDifference(wide.userBias, portable.userBias) < 1e-4, "\(name) rank \(k)")
      #expect(abs(wideSSE - portableSSE) < 1e-3 * portableSSE, "\(name) rank \(k)")
      // The wide kernel is deterministic.
      #expect(again.p == wide.p && again.q == wide.q && again.itemBias == wide.itemBias && againSSE == wideSSE)
    }
  }
  /// The wide loop that scores the final training RMSE gives Σe² of the clamped predictions as
  /// a naive Double loop does, to float rounding, for specialized ranks, a generic one and both
  /// bias-record strides.
  @Test(arguments: [7, 32, 64, 128], [1, 4])
  func wideSquaredErrorsMatchANaiveSum(rank k: Int, stride: Int) throws {
    let s = Self.start(rank: k, stride: stride, seed: UInt64(k * 10 + stride))
    let (low, high): (Float, Float) = (1, 5)
    var naive = 0.0
    for e in s.entries {
      let (u, i) = (Int(e.user), Int(e.item))
      var raw = 3.5 + Double(s.userBias[u * stride]) + Double(s.itemBias[i * stride])
      for f in 0 ..< k { raw += Double(s.p[u * k + f]) * Double(s.q[i * k + f]) }
      let err = min(max(raw, Double(low)), Double(high)) - Double(e.rating)
      naive += err * err
    }
    let wide = try #require(
      s.entries.withUnsafeBufferPointer { entries in
        SGDKernel.wideSquaredErrors(
          entries.baseAddress!, entries.count, p: s.p, q: s.q, userBias: s.userBias, itemBias: s.itemBias,
          biasStride: stride, k: k, mean: 3.5, range: low ... high, wide: true)
      })
    #expect(abs(wide - naive) <= 1e-5 * naive, "\(wide) against \(naive)")
  }
}
