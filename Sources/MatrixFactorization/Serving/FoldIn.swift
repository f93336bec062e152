import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// A user who was not in training, represented against a trained model's fixed item factors.
public struct FoldedInUser: Sendable {
  /// The user's embedding p_u (length `rank`).
  public var factors: [Float]
  /// The user's bias b_u (0 for implicit models).
  public var bias: Float
  /// The history's item indices (excluded from recommendations like seen items).
  public var history: [Int]
}

extension FactorModel {
  /// Folds a new user into the model from their history — one exact least-squares solve against
  /// the fixed item factors Q, no retraining (what `implicit` calls `recalculate_user`).
  ///
  /// - Implicit ALS: the user half-step of HKV eq. 4 with the model's λ, α and confidence
  ///   scaling: (QᵀQ + Σ_i (c_i − 1) q_i q_iᵀ + λI) p = Σ_i c_i q_i, with c_i from `values`
  ///   (1 per item when `values` is nil). It is the same solve training does, so a user folded in
  ///   gets the factors they would have after one more sweep.
  /// - BPR: BPR has no closed-form user step; the same confidence-weighted least-squares solve
  ///   (α = 1, the model's λ) places the user among the items they chose.
  /// - Explicit models: `values` are the user's ratings, and the solve is the ALS user step with
  ///   biases: [p; b] = (YᵀY + w·diag(λ,…,λ,λ_b))⁻¹ Yᵀ(r − μ − b_i) with y_i = [q_i; 1] and
  ///   w = n^e (SGD models: e = 1, matching SGD's per-rating penalty).
  ///
  /// - Parameters:
  ///   - items: item indices (duplicates are summed).
  ///   - values: counts (implicit) or ratings (explicit, required).
  public func foldIn(items history: [Int], values: [Float]?) throws(MFError) -> FoldedInUser {
    guard !history.isEmpty else { throw .invalidOption("the history is empty") }
    if let values, values.count != history.count {
      throw .invalidOption("the history has \(history.count) items but \(values.count) values")
    }
    for i in history where i < 0 || i >= itemCount {
      throw .invalidOption("item index \(i) is outside the model")
    }
    let options = summary.options
    let k = rank
    // Merge duplicates (sum their values) so the solve sees each item once.
    var merged: [Int: Float] = [:]
    for (n, i) in history.enumerated() { merged[i, default: 0] += values?[n] ?? 1 }
    let entries = merged.sorted { $0.key < $1.key }
    if isImplicit {
      let settings = options.implicit ?? ImplicitSettings()
      let alpha = options.algorithm == .bpr ? 1 : settings.alpha
      let lambda = max(options.regularization, 1e-6)
      var a = [Float](repeating: 0, count: k * k)
      var b = [Float](repeating: 0, count: k)
      itemFactors.values.withUnsafeBufferPointer { q in
        let q = q.baseAddress!
        a.withUnsafeMutableBufferPointer { a in
          BLAS.syrkTransposed(n: k, k: itemCount, alpha: 1, a: q, lda: k, beta: 0, c: a.baseAddress!, ldc: k)
          for f in 0 ..< k { a[f * k + f] += lambda }
          for (i, r) in entries {
            let c = settings.confidence.confidence(r, alpha: alpha, epsilon: settings.epsilon)
            BLAS.syr(n: k, alpha: c - 1, x: q + i * k, a: a.baseAddress!, lda: k)
            for f in 0 ..< k { b[f] += c * q[i * k + f] }
          }
        }
      }
      try solve(&a, &b, k)
      return FoldedInUser(factors: b, bias: 0, history: entries.map(\.key))
    }
    guard values != nil else {
      throw .invalidOption(
        "this model predicts ratings: give the new user's ratings as item:rating pairs (e.g. --history 50:5,172:4)")
    }
    let d = k + 1
    let n = entries.count
    var y = [Float](repeating: 0, count: n * d)
    var t = [Float](repeating: 0, count: n)
    for (row, (i, r)) in entries.enumerated() {
      for f in 0 ..< k { y[row * d + f] = itemFactors.values[i * k + f] }
      y[row * d + k] = 1
      t[row] = r - globalMean - itemBias[i]
    }
    var a = [Float](repeating: 0, count: d * d)
    var b = [Float](repeating: 0, count: d)
    BLAS.syrkTransposed(n: d, k: n, alpha: 1, a: y, lda: d, beta: 0, c: &a, ldc: d)
    BLAS.gemv(transpose: true, m: n, n: d, alpha: 1, a: y, lda: d, x: t, beta: 0, y: &b)
    let exponent = options.algorithm == .als ? options.regularizationExponent : 1
    let weight = exponent == 1 ? Float(n) : Float(pow(Double(n), Double(exponent)))
    for f in 0 ..< k { a[f * d + f] += max(options.regularization, 1e-6) * weight }
    a[k * d + k] += max(options.biasRegularization, 1e-6) * weight
    try solve(&a, &b, d)
    return FoldedInUser(factors: Array(b.prefix(k)), bias: b[k], history: entries.map(\.key))
  }

  private func solve(_ a: inout [Float], _ b: inout [Float], _ n: Int) throws(MFError) {
    var failure: LinearAlgebraError? = nil
    a.withUnsafeMutableBufferPointer { a in
      b.withUnsafeMutableBufferPointer { b in
        do throws(LinearAlgebraError) {
          try LAPACK.choleskySolve(n: n, a: a.baseAddress!, b: b.baseAddress!)
        } catch { failure = error }
      }
    }
    if let failure { throw .numerical("the fold-in system could not be solved: \(failure)") }
  }

  /// The `count` best items for a folded-in user (their history excluded unless
  /// `excludeSeen` is false), scored like ``recommend(user:count:excludeSeen:candidates:)``.
  public func recommend(
    _ user: FoldedInUser, count: Int, excludeSeen: Bool = true, candidates: [Int]? = nil
  ) -> [RankedItem] {
    let k = rank
    var scores = [Float](repeating: 0, count: itemCount)
    BLAS.gemv(
      transpose: false, m: itemCount, n: k, alpha: 1, a: itemFactors.values, lda: k,
      x: user.factors, beta: 0, y: &scores)
    var excluded = [Bool](repeating: false, count: itemCount)
    if excludeSeen { for i in user.history { excluded[i] = true } }
    let base = globalMean + user.bias
    var top = TopK(min(count, itemCount))
    for i in candidates ?? Array(0 ..< itemCount) where i >= 0 && i < itemCount && !excluded[i] {
      top.insert(scores[i] + itemBias[i] + base, i)
    }
    return top.sorted().map { RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score) }
  }
}
