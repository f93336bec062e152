@_spi(Engine) import LinearAlgebra
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
  ///
  /// Both are the row solves training uses (``RidgeSystem``), run against the model's Q.
  /// - Bayesian MF: the same solve once per kept sample, with the model's averaged priors
  ///   (see ``foldInSampled(columns:ratings:posterior:prior:noisePrecision:)``).
  /// - Explicit models: `values` are the user's ratings, and the solve is the ALS user step with
  ///   biases: [p; b] = (YᵀY + w·diag(λ,…,λ,λ_b))⁻¹ Yᵀ(r − μ − b_i) with y_i = [q_i; 1] and
  ///   w = n^e (SGD models: e = 1, matching SGD's per-rating penalty).
  ///
  /// - Parameters:
  ///   - items: item indices (duplicates are summed).
  ///   - values: counts (implicit) or ratings (explicit, required).
  public func foldIn(items history: [Int], values: [Float]?) throws(MFError) -> FoldedInUser {
    guard !history.isEmpty else { throw .invalidParameter(.history, requirement: "is empty") }
    if let values, values.count != history.count {
      throw .invalidParameter(
        .history, requirement: "has \(history.count) items but \(values.count) values")
    }
    for i in history where i < 0 || i >= itemCount {
      throw .invalidParameter(.history, requirement: "holds item index \(i), outside the model")
    }
    if !isImplicit && values == nil {
      throw .invalidParameter(
        .history, requirement: "needs a rating for each item: this model predicts ratings")
    }
    let k = rank
    // Merge duplicates (sum their values) so the solve sees each item once, in index order.
    var merged: [Int: Float] = [:]
    for (n, i) in history.enumerated() { merged[i, default: 0] += values?[n] ?? 1 }
    let entries = merged.sorted { $0.key < $1.key }
    let columns = entries.map { Int32($0.key) }
    let q = RowTable(rows: itemCount, width: k, values: itemFactors.values)
    var failure: LinearAlgebraError? = nil
    var factors: [Float] = []
    var bias: Float = 0
    switch summary.options.solver {
    case .bayes:
      guard let posterior, let prior = summary.userPrior, let alpha = summary.noisePrecision else {
        throw .invalidParameter(
          .history, requirement: "cannot be folded into this Bayesian model: it stores no user prior")
      }
      (factors, bias) = try foldInSampled(
        columns: columns.map(Int.init), ratings: entries.map(\.value),
        posterior: posterior, prior: prior, noisePrecision: Float(alpha))
    case .implicitALS, .bpr:
      // BPR has no closed-form user step; the confidence-weighted solve with α = 1 and BPR's λ
      // places the user among the items they chose.
      let settings = summary.options.implicitALS
        ?? ImplicitALSSettings(regularization: summary.options.bpr?.regularization ?? 0.01, alpha: 1)
      let confidences = entries.map { settings.confidence(of: $0.value) }
      var gram = ImplicitALSSolver.gram(q)
      for f in 0 ..< k { gram[f * k + f] += max(settings.regularization, 1e-6) }
      var system = RidgeSystem(order: k, rows: entries.count)
      withSharedReadPointers(columns, confidences, gram) { c, w, g in
        do throws(LinearAlgebraError) {
          try system.solveConfidenceWeightedRow(
            count: entries.count, columns: c.base, confidences: w.base, fixed: q.readOnly, gram: g.base)
        } catch { failure = error }
      }
      factors = system.solutionArray(count: k)
    case .sgd, .als, .svdpp:
      let (lambda, lambdaBias, exponent): (Float, Float, Float) =
        switch summary.options.solver {
        case .als(let s): (s.regularization, s.biasRegularization, s.regularizationExponent)
        case .sgd(let s): (s.regularization, s.biasRegularization, 1)
        // SVD++: the model does not keep the y's, so a new user gets the biased-MF solve
        // against Q with SVD++'s λ (no implicit term; README, "SVD++").
        case .svdpp(let s): (s.regularization, s.biasRegularization, 1)
        default: (0, 0, 1)
        }
      let ratings = entries.map(\.value)
      let weight = ALSSolver.penaltyWeight(count: entries.count, exponent: exponent)
      let b = RowTable(rows: itemCount, width: 1, values: itemBias)
      var system = RidgeSystem(order: k + 1, rows: entries.count)
      withSharedReadPointers(columns, ratings) { c, r in
        do throws(LinearAlgebraError) {
          try system.solveBiasedRow(
            count: entries.count, columns: c.base, values: r.base, fixed: q.readOnly,
            fixedBias: b.readOnly, mean: globalMean, penalty: max(lambda, 1e-6) * weight,
            biasPenalty: max(lambdaBias, 1e-6) * weight)
        } catch { failure = error }
      }
      factors = system.solutionArray(count: k)
      bias = system.solutionEntry(k)
    }
    if let failure { throw .numerical("the fold-in system could not be solved: \(failure)") }
    return FoldedInUser(factors: factors, bias: bias, history: entries.map(\.key))
  }

  /// A Bayesian model's fold-in: for each kept sample s, the conditional mean of the new user's
  /// [p; b] given that sample's item rows q⁽ˢ⁾ (block s of Q̃, times √S), the averaged item biases,
  /// the averaged noise precision ᾱ and the users' averaged prior (m̄, λ̄),
  ///
  ///     x⁽ˢ⁾ = (diag(λ̄) + ᾱ YᵀY)⁻¹ (diag(λ̄) m̄ + ᾱ Yᵀ(r − μ − b̄_i)),  y = [q⁽ˢ⁾; 1],
  ///
  /// the same row solve training draws from, with no noise. With implicit feedback, m̄ becomes
  /// m̄ + |N|^-½ Σ_{j∈N} ȳ_j over the user's items N (the stored averaged implicit rows). The
  /// items' own implicit terms are part of their stored rows and stay as trained: one new user
  /// changes them by a vanishing amount. The user's wide row is
  /// [p⁽¹⁾ … p⁽ˢ⁾]/√S, like a trained user's, and the bias the average of the b⁽ˢ⁾, so the
  /// folded-in score is the average over the samples of each sample's prediction.
  func foldInSampled(
    columns: [Int], ratings: [Float], posterior: PosteriorSummary, prior: PriorSummary,
    noisePrecision alpha: Float
  ) throws(MFError) -> (factors: [Float], bias: Float) {
    let s = posterior.samples
    let k = posterior.rank
    let n = columns.count
    let root = Float(Double(s).squareRoot())
    var factors = [Float](repeating: 0, count: s * k)
    var bias = 0.0
    let biases = RowTable(rows: n, width: 1, values: columns.map { itemBias[$0] })
    let indices = (0 ..< n).map(Int32.init)
    let zero = [Float](repeating: 0, count: k + 1)
    // With implicit feedback the new user's prior mean is m̄ + |N|^-½ Σ_{j∈N} ȳ_j over the items
    // they rated (ImplicitFeedback's hierarchical prior, at the averaged ȳ).
    var priorMean = prior.mean
    if let rows = posterior.implicitItemRows, n > 0 {
      let scale = Float(1 / Double(n).squareRoot())
      for i in columns { for f in 0 ... k { priorMean[f] += scale * rows[i, f] } }
    }
    var system = RidgeSystem(order: k + 1, rows: n)
    var failure: LinearAlgebraError? = nil
    for t in 0 ..< s {
      var rows = [Float](repeating: 0, count: n * k)
      for (j, i) in columns.enumerated() {
        for f in 0 ..< k { rows[j * k + f] = itemFactors[i, t * k + f] * root }
      }
      let table = RowTable(rows: n, width: k, values: rows)
      withSharedReadPointers(indices, ratings, priorMean, prior.precision) { c, r, m, lambda in
        zero.withSharedReadPointer { z in
          do throws(LinearAlgebraError) {
            try system.drawBiasedRow(
              count: n, columns: c.base, values: r.base, fixed: table.readOnly,
              fixedBias: biases.readOnly, mean: globalMean, noisePrecision: alpha, prior: m.base,
              priorPrecision: lambda.base, noise: z.base)
          } catch { failure = error }
        }
      }
      if let failure { throw .numerical("the fold-in system could not be solved: \(failure)") }
      for f in 0 ..< k { factors[t * k + f] = system.solutionEntry(f) / root }
      bias += Double(system.solutionEntry(k))
    }
    return (factors, Float(bias / Double(s)))
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
