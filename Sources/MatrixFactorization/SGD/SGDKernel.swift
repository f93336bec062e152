import CSGDKernels
@_spi(Engine) import LinearAlgebra
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One rating as the SGD loop reads it: 8 bytes, streamed in order.
///
/// `user` and `item` are rows counted from the start of the block's user group and item group
/// (the solver hands the loop P, Q and the biases already offset to those starts): a group holds
/// at most 65,536 rows (``SGDSolver/blockCount(users:items:ratings:threads:)`` makes enough
/// groups), so 16 bits each are enough, and a third less memory is scattered, shuffled and
/// streamed than with two 32-bit rows.
package struct RatingEntry {
  package var user: UInt16
  package var item: UInt16
  package var rating: Float

  package init(user: UInt16, item: UInt16, rating: Float) {
    self.user = user
    self.item = item
    self.rating = rating
  }
}

/// The SGD hot loop: one pass over a run of ratings.
///
/// For each rating r_ui (Koren, Bell & Volinsky 2009, eq. 5–6):
///
///     e    = r_ui − (μ + b_u + b_i + p_u·q_i)
///     b_u ← b_u + η (e − λ_b b_u)
///     b_i ← b_i + η (e − λ_b b_i)
///     p_u ← (1 − ηλ) p_u + η e q_i
///     q_i ← (1 − ηλ) q_i + η e p_u        (with the old p_u)
///
/// Written over raw pointers and `SIMD8<Float>` (the row loops are ``RowKernels``'
/// `lowLatencyDot` and `coupledStep`, inlined here), with no allocation, bounds check or
/// reference counting inside; everything the engine's speed rests on is here.
///
/// **Memory latency** is what limits a plain version of this loop: every rating touches two
/// rows at random (p_u, q_i) plus two biases, and each miss to L3 stalls the dependent dot
/// product for tens of nanoseconds, several times the arithmetic. The loop therefore prefetches
/// the rows and biases of the rating `prefetchDistance` ahead, so the misses of several ratings
/// overlap (software pipelining of independent loads; the ratings' order, and hence every bit
/// of the result, is unchanged).
package enum SGDKernel {
  /// How many ratings ahead the rows are prefetched: enough to cover an L3/DRAM miss
  /// (~20–100 ns) at ~5–10 ns per rating, few enough that the lines are still in L1 on use.
  static let prefetchDistance = 8

  /// Whether this CPU can run the wide kernels (AVX2 and FMA, checked once with CPUID).
  package static let wideAvailable = mf_sgd_wide_available() != 0

  /// Whether fits use the wide kernels: when the CPU has them, unless the environment says
  /// `MF_SIMD=portable`. Tests switch it to compare the two.
  private static let wideSelected = Atomic<Bool>(
    wideAvailable && getenv("MF_SIMD").map { String(cString: $0) } != "portable")

  /// The kernel in use: `"avx2+fma"` or `"portable"` (recorded with each fit).
  package static var instructionSet: String {
    wideSelected.load(ordering: .relaxed) ? "avx2+fma" : "portable"
  }

  /// Chooses the wide (when available) or the portable kernel for the fits that follow.
  package static func useWideKernels(_ wide: Bool) {
    wideSelected.store(wide && wideAvailable, ordering: .relaxed)
  }

  /// Σe² of the clamped predictions min(max(μ + b_u + b_i + p·q, low), high) over `count`
  /// entries, nothing updated, by the C loop when the wide kernels are selected; `nil` otherwise
  /// (the caller then runs its Swift loop). Bias records are `biasStride` floats, the bias first.
  /// `wide` overrides the selection for this call, as in `run`.
  package static func wideSquaredErrors(
    _ entries: UnsafePointer<RatingEntry>, _ count: Int, p: UnsafePointer<Float>, q: UnsafePointer<Float>,
    userBias: UnsafePointer<Float>, itemBias: UnsafePointer<Float>, biasStride: Int, k: Int, mean: Float,
    range: ClosedRange<Float>, wide: Bool? = nil
  ) -> Double? {
    guard wide.map({ $0 && wideAvailable }) ?? wideSelected.load(ordering: .relaxed) else { return nil }
    return mf_sgd_squared_errors_wide(
      entries.asKernelEntries, Int64(count), p, q, userBias, itemBias, Int64(biasStride), Int64(k), mean,
      range.lowerBound, range.upperBound)
  }

  /// Runs `step`'s update for `count` entries and returns Σe² (errors before each update).
  ///
  /// On a CPU with AVX2 and FMA this is the C loop of `CSGDKernels` (8-wide, fused
  /// multiply-adds); elsewhere, or with `MF_SIMD=portable`, the Swift loop below (baseline
  /// x86-64 SSE or arm64 NEON). Each is bit-reproducible for a given machine, seed and thread
  /// count; the two differ in the last bits (FMA rounds once), not in what they compute.
  /// `wide` chooses the kernel for this call (tests compare the two); `nil` follows the
  /// selection above.
  @inline(never)
  package static func run<Step: SGDStep>(
    entries: UnsafePointer<RatingEntry>, count: Int,
    p: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>,
    userBias: UnsafeMutablePointer<Float>, itemBias: UnsafeMutablePointer<Float>,
    rank k: Int, step: Step, wide: Bool? = nil
  ) -> Double {
    if wide.map({ $0 && wideAvailable }) ?? wideSelected.load(ordering: .relaxed) {
      return step.runWide(entries, count, p, q, userBias, itemBias, k)
    }
    // The common ranks get their own copy of the loop (a generic specialization per rank type,
    // which the optimizer always makes, unlike inlining), with `k` a constant: the SIMD loops
    // over the row unroll completely and the row offsets become shifts.
    switch k {
    case 8: return updates(Rank8.self, entries, count, p, q, userBias, itemBias, k, step)
    case 16: return updates(Rank16.self, entries, count, p, q, userBias, itemBias, k, step)
    case 32: return updates(Rank32.self, entries, count, p, q, userBias, itemBias, k, step)
    case 64: return updates(Rank64.self, entries, count, p, q, userBias, itemBias, k, step)
    case 128: return updates(Rank128.self, entries, count, p, q, userBias, itemBias, k, step)
    case 256: return updates(Rank256.self, entries, count, p, q, userBias, itemBias, k, step)
    default: return updates(AnyRank.self, entries, count, p, q, userBias, itemBias, k, step)
    }
  }

  private static func updates<Rank: KernelRank, Step: SGDStep>(
    _: Rank.Type, _ entries: UnsafePointer<RatingEntry>, _ count: Int,
    _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
    _ userBias: UnsafeMutablePointer<Float>, _ itemBias: UnsafeMutablePointer<Float>,
    _ rank: Int, _ step: Step
  ) -> Double {
    let k = Rank.value(given: rank)
    var sse: Double = 0
    var blockSSE: Float = 0
    // The biases are prefetched too: a block's biases are one short run (~16 KiB in slot
    // order) but L1 is shared with the rows streaming through; leaving them out cost ~5%.
    let prefetching = max(0, count &- prefetchDistance)
    var n = 0
    while n < prefetching {
      let ahead = entries[n &+ prefetchDistance]
      prefetchRows(of: ahead, p, q, k)
      Prefetch.write(userBias + Int(ahead.user) &* Step.biasStride)
      Prefetch.write(itemBias + Int(ahead.item) &* Step.biasStride)
      let e = step.update(entries[n], p, q, userBias, itemBias, k)
      blockSSE += e * e
      if n & 1023 == 1023 {
        sse += Double(blockSSE)
        blockSSE = 0
      }
      n &+= 1
    }
    while n < count {
      let e = step.update(entries[n], p, q, userBias, itemBias, k)
      blockSSE += e * e
      n &+= 1
    }
    return sse + Double(blockSSE)
  }

  /// Asks for the cache lines of `entry`'s two rows.
  @inline(__always)
  private static func prefetchRows(
    of entry: RatingEntry, _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
    _ k: Int
  ) {
    let rowP = UnsafeRawPointer(p + Int(entry.user) &* k)
    let rowQ = UnsafeRawPointer(q + Int(entry.item) &* k)
    let rowBytes = k &* 4
    var line = 0
    while line < rowBytes {
      Prefetch.write(rowP + line)
      Prefetch.write(rowQ + line)
      line &+= 64
    }
  }
}

/// One rating's update rule: how the step size is chosen.
package protocol SGDStep: Sendable {
  /// Floats per row in the bias tables: the bias first, then any per-row state the rule keeps
  /// beside it (in the same cache line, so a rating touches no extra line for it).
  static var biasStride: Int { get }
  /// Updates b_u, b_i, p_u, q_i for `entry`; returns its error e (before the update).
  func update(
    _ entry: RatingEntry, _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
    _ userBias: UnsafeMutablePointer<Float>, _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Float
  /// The same rule over `count` entries in the wide C kernel; returns Σe².
  func runWide(
    _ entries: UnsafePointer<RatingEntry>, _ count: Int, _ p: UnsafeMutablePointer<Float>,
    _ q: UnsafeMutablePointer<Float>, _ userBias: UnsafeMutablePointer<Float>,
    _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Double
}

extension UnsafePointer where Pointee == RatingEntry {
  /// The entries as the C kernels declare them (the same 12-byte layout).
  var asKernelEntries: UnsafePointer<mf_rating_entry> {
    UnsafeRawPointer(self).assumingMemoryBound(to: mf_rating_entry.self)
  }
}

/// The same step size η_t = η·decay^t for every rating of an epoch (Koren et al. 2009).
package struct DecayingStep: SGDStep {
  package static var biasStride: Int { 1 }
  let mean: Float
  let learningRate: Float
  /// 1 − ηλ and 1 − ηλ_b.
  let shrink: Float
  let biasShrink: Float

  package init(mean: Float, learningRate: Float, regularization: Float, biasRegularization: Float) {
    self.mean = mean
    self.learningRate = learningRate
    shrink = 1 - learningRate * regularization
    biasShrink = 1 - learningRate * biasRegularization
  }

  @inline(__always)
  package func update(
    _ entry: RatingEntry, _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
    _ userBias: UnsafeMutablePointer<Float>, _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Float {
    let u = Int(entry.user)
    let i = Int(entry.item)
    let pu = p + u &* k
    let qi = q + i &* k
    let bu = userBias[u]
    let bi = itemBias[i]
    let lr = learningRate
    let e = entry.rating - (mean + bu + bi + RowKernels.lowLatencyDot(k, pu, qi))
    userBias[u] = biasShrink * bu + lr * e
    itemBias[i] = biasShrink * bi + lr * e
    RowKernels.coupledStep(k, pu, qi, shrink: shrink, step: lr * e)
    return e
  }

  package func runWide(
    _ entries: UnsafePointer<RatingEntry>, _ count: Int, _ p: UnsafeMutablePointer<Float>,
    _ q: UnsafeMutablePointer<Float>, _ userBias: UnsafeMutablePointer<Float>,
    _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Double {
    mf_sgd_decaying_wide(
      entries.asKernelEntries, Int64(count), p, q, userBias, itemBias, Int64(k), mean,
      learningRate, shrink, biasShrink)
  }
}

/// A step size per row, set before each epoch from what the row has seen (``SGDSolver``
/// computes it): an AdaGrad schedule (Duchi, Hazan & Singer 2011) with one accumulator per row,
/// as LIBMF's (Chin, Zhuang, Juan & Lin 2015), whose accumulator grows once per epoch by the
/// row's expected squared gradients instead of after every rating:
///
///     G_u ← G_u + n_u · E‖g‖²/k,    s_u = η_t/√G_u,    G_u starting at 1,
///
/// with n_u the row's ratings and E‖g‖²/k ≈ (last epoch's mean squared error) × (mean squared
/// entry of the other side's rows). Rows seen often (heavy users, popular items) take smaller
/// steps and every row's step shrinks as training goes on, so one η serves sparse and dense data.
/// Per rating the update is the decaying rule's with a step per row, read from the row's bias
/// record (same cache line): exact AdaGrad's per-rating square roots and gradient norms doubled
/// the cost of an epoch here (baseline x86-64, SSE), this costs a few percent.
///
///     b_u ← b_u + s^b_u (e − λ_b b_u),   p_u ← (1 − s_u λ) p_u + s_u e q_i,
///     q_i ← (1 − s_i λ) q_i + s_i e p_u   (old values).
package struct AdaptiveStep: SGDStep {
  /// Per row: the bias, the factor step s, the bias step s^b, one unused float.
  package static var biasStride: Int { 4 }
  let mean: Float
  let regularization: Float
  let biasRegularization: Float

  package init(mean: Float, regularization: Float, biasRegularization: Float) {
    self.mean = mean
    self.regularization = regularization
    self.biasRegularization = biasRegularization
  }

  @inline(__always)
  package func update(
    _ entry: RatingEntry, _ p: UnsafeMutablePointer<Float>, _ q: UnsafeMutablePointer<Float>,
    _ userBias: UnsafeMutablePointer<Float>, _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Float {
    let u = Int(entry.user)
    let i = Int(entry.item)
    let pu = p + u &* k
    let qi = q + i &* k
    let recordU = userBias + u &* Self.biasStride
    let recordI = itemBias + i &* Self.biasStride
    let bu = recordU[0]
    let bi = recordI[0]
    let e = entry.rating - (mean + bu + bi + RowKernels.lowLatencyDot(k, pu, qi))
    recordU[0] = bu + recordU[2] * (e - biasRegularization * bu)
    recordI[0] = bi + recordI[2] * (e - biasRegularization * bi)
    let stepU = recordU[1]
    let stepI = recordI[1]
    RowKernels.coupledStep(
      k, pu, qi, shrinkP: 1 - stepU * regularization, stepP: stepU * e,
      shrinkQ: 1 - stepI * regularization, stepQ: stepI * e)
    return e
  }

  package func runWide(
    _ entries: UnsafePointer<RatingEntry>, _ count: Int, _ p: UnsafeMutablePointer<Float>,
    _ q: UnsafeMutablePointer<Float>, _ userBias: UnsafeMutablePointer<Float>,
    _ itemBias: UnsafeMutablePointer<Float>, _ k: Int
  ) -> Double {
    mf_sgd_adaptive_wide(
      entries.asKernelEntries, Int64(count), p, q, userBias, itemBias, Int64(k), mean,
      regularization, biasRegularization)
  }
}

/// A rank known when the kernel is compiled (`RankN`) or only at run time (`AnyRank`).
protocol KernelRank {
  /// The rank: the type's constant, or `rank` for `AnyRank`.
  static func value(given rank: Int) -> Int
}

enum AnyRank: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { rank }
}

enum Rank8: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 8 }
}

enum Rank16: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 16 }
}

enum Rank32: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 32 }
}

enum Rank64: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 64 }
}

enum Rank128: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 128 }
}

enum Rank256: KernelRank {
  @inline(__always) static func value(given rank: Int) -> Int { 256 }
}
