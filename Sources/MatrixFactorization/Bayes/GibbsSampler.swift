@_spi(Engine) import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

// MARK: - The model and its priors
//
// Bayesian probabilistic matrix factorization (Salakhutdinov & Mnih 2008) with biases, in the
// per-dimension form of libFM's and myFM's MCMC (Rendle 2012, "Factorization machines with
// libFM"; Ohtsuki, myFM):
//
//     r_ui | · ~ N(μ + b_u + b_i + p_u·q_i, 1/α)                 (μ: the training mean, fixed)
//     x_u = [p_u; b_u],  x_uf ~ N(m_f, 1/λ_f)       f = 1…k+1     (users; items alike, own m, λ)
//     m_f | λ_f ~ N(μ₀, 1/(κ₀ λ_f)),  λ_f ~ Gamma(a₀, b₀)         (Normal–Gamma hyperprior)
//     α ~ Gamma(a₀, b₀)
//
// with μ₀ = 0, κ₀ = 1, a₀ = b₀ = 1 (libFM's defaults). The bias is one more coordinate of the
// row with its own prior mean and precision, so a row's factors and bias are drawn jointly.
//
// Why per-dimension Normal–Gamma and not the Gaussian–Wishart of Salakhutdinov & Mnih: (1) the
// prior precision is diagonal, so a row's precision is the Gram matrix plus a diagonal, exactly
// what ``RidgeSystem`` forms for ALS; (2) its hyperparameters are drawn in O(rows·k) with no
// Wishart draw and no k×k inverse; (3) it is the model of myFM, the reference this sampler is
// measured against (ML-100K 0.8977 at rank 32); (4) the likelihood is invariant under rotations
// of the latent space, so the off-diagonal prior covariance a Wishart learns buys little, while
// per-dimension precisions still let the sampler switch off dimensions the data does not support.
//
// One sweep draws, in order (each from its exact conditional given everything else):
//   1. α ~ Gamma(a₀ + N/2, b₀ + ½ Σ e²) from the residuals of the current sample;
//   2. the users' (m_f, λ_f) from the Normal–Gamma posterior of the columns of [P, b_u];
//   3. with implicit feedback (ImplicitFeedback.swift), the users' implicit rows' prior and the
//      rows y_j themselves, and every user row is then drawn around m + s_u instead of m;
//   4. every user row x_u ~ N(A⁻¹c, A⁻¹), A = diag(λ) + α Σ_i y_i y_iᵀ,
//      c = diag(λ) m + α Σ_i y_i (r_ui − μ − b_i), y_i = [q_i; 1] over the user's items;
//   5. the items' (m_f, λ_f), their implicit rows (with implicit feedback), then every item row
//      the same way against the users.
// Rows of one side are independent given the other side, so they are drawn in parallel, as ALS
// solves them. Each row's noise comes from its own stream, seeded by (seed, sweep, side, row), so
// the chain is the same for every thread count.

/// The state of one side's prior: the mean m_f and precision λ_f of each of the k + 1
/// coordinates of a row [p; b].
struct RowPrior: Sendable {
  var mean: [Float]
  var precision: [Float]

  /// The prior the chain starts from before its first draw: N(0, 1) per coordinate.
  init(order: Int) {
    mean = [Float](repeating: 0, count: order)
    precision = [Float](repeating: 1, count: order)
  }

  init(mean: [Float], precision: [Float]) {
    self.mean = mean
    self.precision = precision
  }
}

/// The hyperprior constants (libFM's defaults).
enum Hyperprior {
  /// Gamma(a₀, b₀) on every precision λ_f and on the noise precision α.
  static let shape = 1.0
  static let rate = 1.0
  /// m_f | λ_f ~ N(μ₀, 1/(κ₀ λ_f)).
  static let priorMean = 0.0
  static let meanStrength = 1.0
}

extension RidgeSystem {
  /// One Gibbs draw of a row x = [p; b] (``order`` = k + 1) from its Gaussian conditional
  ///
  ///     x ~ N(A⁻¹c, A⁻¹),  A = diag(λ) + α YᵀY,  c = diag(λ) m + α Yᵀt,
  ///
  /// with y_j = [q_j; 1] and t_j = r_j − μ − b_j over the row's `count` entries: `ssyrk` for
  /// α YᵀY, `sgemv` for Yᵀt, Cholesky A = LLᵀ (`spotrf`), then x = L⁻ᵀ(L⁻¹c + z) = A⁻¹c + L⁻ᵀz.
  /// A row with no entries is drawn from its prior.
  ///
  /// - Parameters:
  ///   - noise: z ~ N(0, I), `order` values (all 0: the conditional mean).
  ///   - conditionalMean: when given, receives A⁻¹c as well (`order` values).
  mutating func drawBiasedRow(
    count n: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
    fixed: RowTable.Rows, fixedBias: RowTable.Rows, mean: Float, noisePrecision alpha: Float,
    prior: UnsafePointer<Float>, priorPrecision: UnsafePointer<Float>,
    noise: UnsafePointer<Float>, conditionalMean: UnsafeMutablePointer<Float>? = nil
  ) throws(LinearAlgebraError) {
    gatherBiasedRows(
      count: n, columns: columns, values: values, fixed: fixed, fixedBias: fixedBias, mean: mean)
    if n > 0 {
      setGram(rows: n, scale: alpha)
      setRightHandSide(rows: n)
    } else {
      matrix.update(repeating: 0, count: order * order)
      solution.update(repeating: 0, count: order)
    }
    // Through local copies of the pointers: swift 6.3.1 miscompiles `matrix[…] += …` on the
    // stored pointer here under -sanitize=thread ("Invalid bitcast", a broken module).
    let (system, rightHandSide) = (matrix, solution)
    for f in 0 ..< order {
      system[f &* order &+ f] += priorPrecision[f]
      rightHandSide[f] = alpha * rightHandSide[f] + priorPrecision[f] * prior[f]
    }
    try factor()
    if let conditionalMean {
      // A⁻¹c = L⁻ᵀ(L⁻¹c), for the Rao–Blackwellized kept sample (see GibbsSampler).
      conditionalMean.update(from: solution, count: order)
      BLAS.solveLowerTriangular(n: order, a: matrix, lda: order, x: conditionalMean, transpose: false)
      BLAS.solveLowerTriangular(n: order, a: matrix, lda: order, x: conditionalMean, transpose: true)
    }
    drawFactored(noise: noise)
  }
}

/// Bayesian MF by Gibbs sampling (see the comment at the top of this file for the model).
///
/// The training loop's factor tables hold the current sample. After the burn-in, every
/// `thinning`-th sweep is kept: its rows are copied side by side into wide tables
/// (P̃ row u = [p_u⁽¹⁾ … p_u⁽ˢ⁾], Q̃ likewise), its biases and rows summed. At the end
/// ``posteriorAverage()`` scales the wide tables by 1/√S, so that
///
///     μ + b̄_u + b̄_i + p̃_u·q̃_i = (1/S) Σ_s (μ + b_u⁽ˢ⁾ + b_i⁽ˢ⁾ + p_u⁽ˢ⁾·q_i⁽ˢ⁾)
///
/// exactly: the model is a plain biased factorization of width S·k whose score is the posterior
/// average, and every serving path (predict, evaluate, top-N by inner product, batch scoring)
/// uses it unchanged.
///
/// What a kept sweep stores for one side is Rao–Blackwellized: not the drawn [q_i; b_i] but its
/// conditional mean given the other side's rows (and α, the priors), E[q_i, b_i | P, b_u, …],
/// which the row's draw computes anyway from the same Cholesky factor. Since
/// E[p_u·q_i] = E[p_u·E[q_i | P, …]], the average over kept sweeps estimates the same posterior
/// mean of the prediction, with that side's share of the Monte Carlo noise removed (ML-100K u1,
/// 16 samples 10 apart after 40 sweeps from init 1: test RMSE 0.9100 against 0.9156 with the
/// draws).
///
/// **Which side**: the one whose rows have fewer ratings on average (more rows than the other
/// side; items on a tie), whose draws are the noisier. For items (ML-100K: 59 ratings per item
/// against 106 per user) the kept sweep stores the users' draw and the items' conditional means
/// given it; for users (the suite's dense set, 180 per user against 450 per item; its very sparse
/// one, 2.7 against 7.9) it stores the items' current draw and the users' conditional means given
/// it, the users being drawn second in each sweep. Measured with `--conditional-means` (README,
/// "Kept samples"; Benchmarks/accuracy/results/bayes-side), rank 32: dense test RMSE 0.57289 with
/// the users' means against 0.57326 with the items' (mean of 8 seeds), very sparse 0.94801 against
/// 0.94857 (5 seeds); the MovieLens-like set, 35.6 ratings per item, the other way (0.65133 with
/// the items', 0.65191 with the users'). `BayesSettings.conditionalMeans` overrides the rule.
struct GibbsSampler: FactorSolver {
  let data: TrainingData
  let context: TrainingContext
  let settings: BayesSettings
  private var noisePrecision: Double = 1
  private var userPrior: RowPrior
  private var itemPrior: RowPrior
  /// Σ e² over the training ratings at the current sample (unclamped residuals, for α).
  private var squaredError: Double
  /// Kept samples, side by side: row u holds `settings.samples` slots of k floats.
  private var keptP: [Float]
  private var keptQ: [Float]
  private var userBiasSum: [Double]
  private var itemBiasSum: [Double]
  private var kept = 0
  private var lastSweepKept = false
  /// Σ over kept samples of each validation rating's prediction (unclamped), when validating.
  private var validationSums: [Double] = []
  /// Σ α over kept samples (its posterior mean is reported).
  private var noisePrecisionSum = 0.0
  /// Σ over kept sweeps of the users' prior means and precisions (their posterior means are
  /// stored, for folding in a new user).
  private var userPriorMeanSum: [Double]
  private var userPriorPrecisionSum: [Double]
  /// Whether the users' side (else the items') is stored as conditional means in a kept sample.
  let conditionalMeansOfUsers: Bool
  /// That side's conditional means of the last kept sweep (its rows × (k+1), the bias last).
  private let conditionalMeans: RowTable
  /// The biases of the last kept sample (for the validation RMSE of the running average).
  private var keptUserBias: [Float]
  private var keptItemBias: [Float]
  /// The implicit-feedback terms of users and items, when the model has them
  /// (``BayesSettings/implicitFeedback``).
  private var userImplicit: ImplicitFeedback? = nil
  private var itemImplicit: ImplicitFeedback? = nil
  /// Σ over kept sweeps of the items' implicit rows y_j (with implicit feedback).
  private var implicitItemRowSum: [Double] = []

  init(data: TrainingData, context: TrainingContext, settings: BayesSettings) {
    self.data = data
    self.context = context
    self.settings = settings
    let k = context.rank
    userPrior = RowPrior(order: k + 1)
    itemPrior = RowPrior(order: k + 1)
    keptP = [Float](repeating: 0, count: data.userCount * settings.samples * k)
    keptQ = [Float](repeating: 0, count: data.itemCount * settings.samples * k)
    userBiasSum = [Double](repeating: 0, count: data.userCount)
    itemBiasSum = [Double](repeating: 0, count: data.itemCount)
    switch settings.conditionalMeans {
    case .auto: conditionalMeansOfUsers = data.userCount > data.itemCount
    case .users: conditionalMeansOfUsers = true
    case .items: conditionalMeansOfUsers = false
    }
    conditionalMeans = RowTable(rows: conditionalMeansOfUsers ? data.userCount : data.itemCount, width: k + 1)
    keptUserBias = [Float](repeating: 0, count: data.userCount)
    keptItemBias = [Float](repeating: 0, count: data.itemCount)
    userPriorMeanSum = [Double](repeating: 0, count: k + 1)
    userPriorPrecisionSum = [Double](repeating: 0, count: k + 1)
    if settings.implicitFeedback {
      userImplicit = ImplicitFeedback(rows: data.byUser, order: k + 1)
      implicitItemRowSum = [Double](repeating: 0, count: data.itemCount * (k + 1))
      itemImplicit = ImplicitFeedback(rows: data.byItem, order: k + 1)
    }
    squaredError = 0
    squaredError = residualSquares()
  }

  /// One Gibbs sweep (see the file's comment for the order of the draws).
  mutating func runEpoch(_ sweep: Int) throws(MFError) -> EpochOutcome {
    let factors = context.factors
    var rng = SeededGenerator(seed: Self.streamSeed(context.seed, sweep: sweep, side: 2, row: 0))
    let n = Double(data.ratings.count)
    noisePrecision =
      rng.nextGamma(shape: Hyperprior.shape + n / 2) / (Hyperprior.rate + squaredError / 2)
    // With implicit feedback, each side's prior is that of its rows less their implicit sums
    // (p_u = x̃_u − s_u; see ImplicitFeedback), and the implicit rows are drawn before the side's.
    lastSweepKept = settings.keeps(sweep: sweep) && kept < settings.samples
    // The side whose conditional means a kept sweep stores is drawn second, given the other
    // side's draw of the same sweep (users first, as in BPMF, unless it is the users').
    let means = lastSweepKept ? conditionalMeans : nil
    let errors: (raw: Double, clamped: Double)
    if conditionalMeansOfUsers {
      _ = try drawSide(users: false, sweep: sweep, conditionalMeans: nil, rng: &rng)
      errors = try drawSide(users: true, sweep: sweep, conditionalMeans: means, rng: &rng)
      if lastSweepKept {
        // The items' draw, and the users' conditional means given it.
        keepItems(factors.q.readOnly, bias: factors.itemBias.readOnly)
        keepUsers(conditionalMeans.readOnly, bias: nil)
      }
    } else {
      _ = try drawSide(users: true, sweep: sweep, conditionalMeans: nil, rng: &rng)
      errors = try drawSide(users: false, sweep: sweep, conditionalMeans: means, rng: &rng)
      if lastSweepKept {
        // The users' draw, and the items' conditional means given it.
        keepUsers(factors.p.readOnly, bias: factors.userBias.readOnly)
        keepItems(conditionalMeans.readOnly, bias: nil)
      }
    }
    squaredError = errors.raw
    if lastSweepKept { finishKeptSample() }
    return EpochOutcome(inEpochRMSE: (errors.clamped / max(1, n)).squareRoot())
  }

  /// One side's half of a sweep: its prior, its implicit rows (with implicit feedback), then its
  /// rows given the other side's. The side drawn second ends the sweep: it measures the training
  /// errors and, in a kept sweep, stores its rows' conditional means in `conditionalMeans`.
  private mutating func drawSide(
    users: Bool, sweep: Int, conditionalMeans: RowTable?, rng: inout SeededGenerator
  ) throws(MFError) -> (raw: Double, clamped: Double) {
    let factors = context.factors
    let seed = context.seed
    let implicit: WritableKeyPath<GibbsSampler, ImplicitFeedback?> = users ? \.userImplicit : \.itemImplicit
    let (target, fixed) = users ? (factors.userSide, factors.itemSide) : (factors.itemSide, factors.userSide)
    let prior = Self.drawPrior(target, offsets: self[keyPath: implicit]?.sums, rank: context.rank, rng: &rng)
    if users { userPrior = prior } else { itemPrior = prior }
    self[keyPath: implicit]?.drawPrior(&rng)
    self[keyPath: implicit]?.draw(byFeature: users ? data.byItem : data.byUser, side: target, sidePrior: prior) {
      SeededGenerator(seed: Self.streamSeed(seed, sweep: sweep, side: users ? 3 : 4, row: $0))
    }
    let last = users == conditionalMeansOfUsers
    return try halfSweep(
      rows: users ? data.byUser : data.byItem, fixed: fixed, target: target, prior: prior,
      offsets: self[keyPath: implicit]?.sums, sweep: sweep, side: users ? 0 : 1, measure: last,
      conditionalMeans: conditionalMeans)
  }

  /// Validation RMSE of the running posterior average (the kept samples so far); during the
  /// burn-in `nil`, and the loop scores the current sample.
  mutating func validationRMSE(_ ratings: AlignedRatings) -> Double? {
    if validationSums.isEmpty { validationSums = [Double](repeating: 0, count: ratings.count) }
    if lastSweepKept {
      // The sample just kept, as the model stores it.
      let (k, slots, slot) = (context.rank, settings.samples, kept - 1)
      keptP.withUnsafeBufferPointer { p in
        keptQ.withUnsafeBufferPointer { q in
          for j in 0 ..< ratings.count {
            let u = Int(ratings.users[j])
            let i = Int(ratings.items[j])
            var raw = Double(data.mean)
            if u >= 0 { raw += Double(keptUserBias[u]) }
            if i >= 0 { raw += Double(keptItemBias[i]) }
            if u >= 0 && i >= 0 {
              raw += Double(
                RowKernels.dot(k, p.baseAddress! + (u * slots + slot) * k, q.baseAddress! + (i * slots + slot) * k))
            }
            validationSums[j] += raw
          }
        }
      }
    }
    guard kept > 0 else { return nil }
    let (low, high) = (Double(data.range.lowerBound), Double(data.range.upperBound))
    var squares = 0.0
    for j in 0 ..< ratings.count {
      let e = min(max(validationSums[j] / Double(kept), low), high) - Double(ratings.values[j])
      squares += e * e
    }
    return (squares / Double(max(1, ratings.count))).squareRoot()
  }

  /// The model the kept samples define (`nil` before any was kept).
  func posteriorAverage() -> PosteriorAverage? {
    guard kept > 0 else { return nil }
    let k = context.rank
    let slots = settings.samples
    let scale = Float(1 / Double(kept).squareRoot())
    func wide(_ table: [Float], rows: Int) -> [Float] {
      var out = [Float](repeating: 0, count: rows * kept * k)
      for r in 0 ..< rows {
        for j in 0 ..< kept * k { out[r * kept * k + j] = table[r * slots * k + j] * scale }
      }
      return out
    }
    func means(_ table: [Float], rows: Int) -> [Float] {
      var out = [Float](repeating: 0, count: rows * k)
      for r in 0 ..< rows {
        for f in 0 ..< k {
          var s = 0.0
          for t in 0 ..< kept { s += Double(table[(r * slots + t) * k + f]) }
          out[r * k + f] = Float(s / Double(kept))
        }
      }
      return out
    }
    let users = data.userCount
    let items = data.itemCount
    return PosteriorAverage(
      samples: kept, rank: k, p: wide(keptP, rows: users), q: wide(keptQ, rows: items),
      userBias: userBiasSum.map { Float($0 / Double(kept)) },
      itemBias: itemBiasSum.map { Float($0 / Double(kept)) },
      userMeans: means(keptP, rows: users), itemMeans: means(keptQ, rows: items),
      noisePrecision: noisePrecisionSum / Double(kept),
      userPrior: PriorSummary(
        mean: userPriorMeanSum.map { Float($0 / Double(kept)) },
        precision: userPriorPrecisionSum.map { Float($0 / Double(kept)) }),
      implicitItemRows: userImplicit == nil ? nil : implicitItemRowSum.map { Float($0 / Double(kept)) })
  }

  // MARK: - Steps

  /// Copies the users' half of the sample being kept into the next slot of the kept tables: the
  /// rows of `rows` (k values, then the bias when `bias` is `nil`) and the biases.
  private mutating func keepUsers(_ rows: RowTable.Rows, bias: RowTable.Rows?) {
    Self.keep(rows, bias: bias, count: data.userCount, into: &keptP, slot: kept, slots: settings.samples,
      rank: context.rank, biasSum: &userBiasSum, lastBias: &keptUserBias)
  }

  /// The items' half, as ``keepUsers(_:bias:)``.
  private mutating func keepItems(_ rows: RowTable.Rows, bias: RowTable.Rows?) {
    Self.keep(rows, bias: bias, count: data.itemCount, into: &keptQ, slot: kept, slots: settings.samples,
      rank: context.rank, biasSum: &itemBiasSum, lastBias: &keptItemBias)
  }

  private static func keep(
    _ rows: RowTable.Rows, bias: RowTable.Rows?, count: Int, into table: inout [Float], slot: Int,
    slots: Int, rank k: Int, biasSum: inout [Double], lastBias: inout [Float]
  ) {
    for r in 0 ..< count {
      let row = rows.row(r)
      for c in 0 ..< k { table[(r * slots + slot) * k + c] = row[c] }
      let b = bias.map { $0[r] } ?? row[k]
      biasSum[r] += Double(b)
      lastBias[r] = b
    }
  }

  /// Ends the sample being kept (both halves copied): the noise level, the implicit rows and
  /// the users' prior join their sums.
  private mutating func finishKeptSample() {
    let k = context.rank
    noisePrecisionSum += noisePrecision
    if let y = userImplicit?.features.readOnly {
      for i in 0 ..< data.itemCount {
        for c in 0 ... k { implicitItemRowSum[i * (k + 1) + c] += Double(y.row(i)[c]) }
      }
    }
    for f in 0 ... k {
      userPriorMeanSum[f] += Double(userPrior.mean[f])
      userPriorPrecisionSum[f] += Double(userPrior.precision[f])
    }
    kept += 1
  }

  /// Draws every row of one side, in balanced ranges on the fit's threads. With `measure`
  /// (the item half-sweep, which ends the sweep), returns Σ e² over the drawn rows' entries, raw and with the prediction clamped to the rating range (the training
  /// RMSE as the model would serve this sample), summed in row order: the same for any number of
  /// threads.
  private func halfSweep(
    rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide, prior: RowPrior,
    offsets: RowTable? = nil, sweep: Int, side: Int, measure: Bool,
    conditionalMeans: RowTable? = nil
  ) throws(MFError) -> (raw: Double, clamped: Double) {
    let means = conditionalMeans?.mutable
    let shifts = offsets?.readOnly
    let k = context.rank
    let ranges = Parallel.balancedRanges(rows.rowStart, parts: min(rows.rowCount, context.threads * 8))
    var rowErrors = [Double](repeating: 0, count: 2 * rows.rowCount)
    var failed = [Int](repeating: -1, count: ranges.count)
    let alpha = Float(noisePrecision)
    let (mean, low, high) = (data.mean, data.range.lowerBound, data.range.upperBound)
    let seed = context.seed
    let fixedRows = fixed.factors.readOnly
    let fixedBias = fixed.bias.readOnly
    let targetRows = target.factors.mutable
    let targetBias = target.bias.mutable
    rows.withSharedRows { rowStart, columns, values in
      withSharedReadPointers(prior.mean, prior.precision) { m, lambda in
        rowErrors.withSharedPointer { errors in
          failed.withSharedPointer { failures in
            Parallel.forEach(ranges.count, threads: context.threads) { part in
              let range = ranges[part]
              var widest = 0
              for r in range { widest = max(widest, rowStart[r + 1] - rowStart[r]) }
              var system = RidgeSystem(order: k + 1, rows: widest)
              let z = UnsafeMutablePointer<Float>.allocate(capacity: k + 1)
              // The row's own prior mean m + offset_r, when the rows have offsets.
              let rowMean = UnsafeMutablePointer<Float>.allocate(capacity: k + 1)
              defer {
                z.deallocate()
                rowMean.deallocate()
              }
              for r in range {
                var rng = SeededGenerator(seed: Self.streamSeed(seed, sweep: sweep, side: side, row: r))
                rng.fillGaussian(z, count: k + 1)
                let lo = rowStart[r]
                let n = rowStart[r + 1] - lo
                if let shifts {
                  for f in 0 ... k { rowMean[f] = m[f] + shifts.row(r)[f] }
                }
                do {
                  try system.drawBiasedRow(
                    count: n, columns: columns.base + lo, values: values.base + lo, fixed: fixedRows,
                    fixedBias: fixedBias, mean: mean, noisePrecision: alpha,
                    prior: shifts == nil ? m.base : UnsafePointer(rowMean), priorPrecision: lambda.base, noise: z, conditionalMean: means?.row(r))
                } catch {
                  failures[part] = r
                  return
                }
                system.copySolution(to: targetRows.row(r), count: k)
                targetBias[r] = system.solutionEntry(k)
                guard measure else { continue }
                // e_j = t_j − y_j·x: the entry's residual against μ + b + b' + p·q.
                var raw = 0.0
                var clamped = 0.0
                for j in 0 ..< n {
                  let fitted = RowKernels.dot(k + 1, system.designRow(j), system.solution)
                  let e = system.targets[j] - fitted
                  raw += Double(e * e)
                  let rating = values[lo + j]
                  let c = Double(min(max(rating - e, low), high) - rating)
                  clamped += c * c
                }
                errors[2 * r] = raw
                errors[2 * r + 1] = clamped
              }
            }
          }
        }
      }
    }
    if let bad = failed.first(where: { $0 >= 0 }) {
      throw .numerical("the Gibbs conditional of row \(bad) could not be factored (not positive definite)")
    }
    var raw = 0.0
    var clamped = 0.0
    for r in 0 ..< rows.rowCount {
      raw += rowErrors[2 * r]
      clamped += rowErrors[2 * r + 1]
    }
    return (raw, clamped)
  }

  /// Σ (r − μ − b_u − b_i − p_u·q_i)² at the current tables (the start's residuals, for the
  /// first α).
  private func residualSquares() -> Double {
    let k = context.rank
    let f = context.factors
    let p = f.p.readOnly
    let q = f.q.readOnly
    let bu = f.userBias.readOnly
    let bi = f.itemBias.readOnly
    var total = 0.0
    data.byUser.withSharedRows { rowStart, columns, values in
      for u in 0 ..< data.userCount {
        for j in rowStart[u] ..< rowStart[u + 1] {
          let i = Int(columns[j])
          let e = values[j] - data.mean - bu[u] - bi[i] - RowKernels.dot(k, p.row(u), q.row(i))
          total += Double(e * e)
        }
      }
    }
    return total
  }

  /// The Normal–Gamma posterior draw of (m_f, λ_f) for each coordinate f of the rows [p; b] of
  /// one side: with the column's N values x, x̄ their mean and S = Σ (x − x̄)²,
  ///
  ///     λ_f ~ Gamma(a₀ + N/2, b₀ + S/2 + κ₀ N (x̄ − μ₀)² / (2 (κ₀ + N))),
  ///     m_f ~ N((κ₀ μ₀ + N x̄)/(κ₀ + N), 1/((κ₀ + N) λ_f)),
  ///
  /// an exact joint draw (the conjugate posterior of a Normal with unknown mean and precision).
  ///
  /// The columns are those of [factors, bias] less `offsets` (rows × (k + 1)) when given. An
  /// implicit table y (k + 1 wide) is passed as both `factors` and `bias`: its first k columns are
  /// read as the factors, its last as the bias.
  static func drawPrior(
    _ side: FactorSide, offsets: RowTable?, rank k: Int, rng: inout SeededGenerator
  ) -> RowPrior {
    let rows = side.factors.rows
    var mean = [Float](repeating: 0, count: k + 1)
    var precision = [Float](repeating: 0, count: k + 1)
    var sums = [Double](repeating: 0, count: k + 1)
    var squares = [Double](repeating: 0, count: k + 1)
    let p = side.factors.readOnly
    let b = side.bias.readOnly
    let biasColumn = side.bias.width - 1
    let shifts = offsets?.readOnly
    for r in 0 ..< rows {
      let row = p.row(r)
      for f in 0 ... k {
        var x = Double(f < k ? row[f] : b.row(r)[biasColumn])
        if let shifts { x -= Double(shifts.row(r)[f]) }
        sums[f] += x
        squares[f] += x * x
      }
    }
    let n = Double(rows)
    let kappa = Hyperprior.meanStrength
    let mu0 = Hyperprior.priorMean
    for f in 0 ... k {
      let average = n > 0 ? sums[f] / n : 0
      let spread = max(0, squares[f] - n * average * average)
      let shape = Hyperprior.shape + n / 2
      let rate = Hyperprior.rate + spread / 2
        + kappa * n * (average - mu0) * (average - mu0) / (2 * (kappa + n))
      let lambda = rng.nextGamma(shape: shape) / rate
      let center = (kappa * mu0 + n * average) / (kappa + n)
      precision[f] = Float(lambda)
      mean[f] = Float(center + rng.nextGaussian() / ((kappa + n) * lambda).squareRoot())
    }
    return RowPrior(mean: mean, precision: precision)
  }

  /// The seed of the stream for (sweep, side, row): side 0 users, 1 items, 2 hyperparameters.
  /// A finalizer-mixed key, so that nearby keys give unrelated SplitMix streams.
  static func streamSeed(_ seed: UInt64, sweep: Int, side: Int, row: Int) -> UInt64 {
    let key = UInt64(truncatingIfNeeded: sweep) << 34 ^ UInt64(truncatingIfNeeded: side) << 32
      ^ UInt64(truncatingIfNeeded: row)
    return mix(seed ^ mix(key &+ 0x6A09_E667_F3BC_C909))
  }

  private static func mix(_ x: UInt64) -> UInt64 {
    var z = x &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// What a sampler hands the training loop instead of its live tables: the posterior average as a
/// wide factorization (see ``GibbsSampler``).
struct PosteriorAverage {
  /// S, the kept samples.
  var samples: Int
  /// k, the embedding dimension.
  var rank: Int
  /// P̃ (users × S·k) and Q̃ (items × S·k), each sample's rows scaled by 1/√S.
  var p: [Float]
  var q: [Float]
  /// b̄_u, b̄_i: the biases averaged over the kept samples.
  var userBias: [Float]
  var itemBias: [Float]
  /// P̄ (users × k), Q̄ (items × k): the embeddings averaged over the kept samples.
  var userMeans: [Float]
  var itemMeans: [Float]
  /// The posterior mean of the noise precision α over the kept samples.
  var noisePrecision: Double
  /// The users' prior (m, λ) averaged over the kept samples.
  var userPrior: PriorSummary
  /// With implicit feedback: the items' implicit rows y_j averaged over the kept samples
  /// (items × (k + 1)).
  var implicitItemRows: [Float]?
}

extension SeededGenerator {
  /// `count` standard normal deviates into `z`, two per Box–Muller pair (cos and sin of one
  /// angle), which halves the logarithms and square roots of drawing them one at a time.
  mutating func fillGaussian(_ z: UnsafeMutablePointer<Float>, count: Int) {
    var f = 0
    while f < count {
      let radius = (-2 * log(max(nextUnit(), 0x1.0p-60))).squareRoot()
      let angle = 2 * Double.pi * nextUnit()
      z[f] = Float(radius * cos(angle))
      if f + 1 < count { z[f + 1] = Float(radius * sin(angle)) }
      f += 2
    }
  }

  /// A Gamma(shape, 1) deviate (Marsaglia & Tsang 2000); divide by a rate for Gamma(shape, rate).
  /// For shape < 1, Gamma(shape + 1)·U^(1/shape).
  mutating func nextGamma(shape: Double) -> Double {
    if shape < 1 {
      let u = max(nextUnit(), 0x1.0p-60)
      return nextGamma(shape: shape + 1) * exp(log(u) / shape)
    }
    let d = shape - 1.0 / 3
    let c = 1 / (9 * d).squareRoot()
    while true {
      var x = 0.0
      var v = 0.0
      repeat {
        x = nextGaussian()
        v = 1 + c * x
      } while v <= 0
      v = v * v * v
      let u = nextUnit()
      if u < 1 - 0.0331 * x * x * x * x { return d * v }
      if log(max(u, 0x1.0p-60)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
    }
  }
}

/// One row's Gibbs conditional with everything given explicitly: the draw the sampler makes for a
/// row, run outside a fit, so that it can be checked against the closed form.
@_spi(Engine) public enum GibbsConditional {
  /// The conditional mean A⁻¹c and `count` draws of x = [p; b] (k + 1 values each) for a row whose
  /// entries are `ratings` against the fixed rows `fixed` (n × k, row-major) with biases
  /// `fixedBias`, given μ = `mean`, the noise precision α and the row prior (m, λ) (k + 1 values
  /// each): A = diag(λ) + α Σ y yᵀ, c = diag(λ) m + α Σ y (r − μ − b'), y = [q; 1]. Draw t uses
  /// noise from the stream `seed` split `t`.
  public static func draws(
    fixed: [Float], fixedBias: [Float], ratings: [Float], mean: Float, noisePrecision: Float,
    priorMean: [Float], priorPrecision: [Float], count: Int, seed: UInt64
  ) throws(MFError) -> (mean: [Float], draws: [[Float]]) {
    let n = ratings.count
    let order = priorMean.count
    let k = order - 1
    guard fixed.count == n * k, fixedBias.count == n, priorPrecision.count == order, k >= 1 else {
      throw .invalidInput("the conditional needs n × k fixed rows, n biases and k + 1 prior values")
    }
    let table = RowTable(rows: n, width: k, values: fixed)
    let biases = RowTable(rows: n, width: 1, values: fixedBias)
    let columns = (0 ..< n).map(Int32.init)
    var system = RidgeSystem(order: order, rows: n)
    let zero = [Float](repeating: 0, count: order)
    var conditionalMean = [Float](repeating: 0, count: order)
    var result: [[Float]] = []
    let root = SeededGenerator(seed: seed)
    for t in 0 ... count {
      var rng = root.split(t)
      let z = t == 0 ? zero : (0 ..< order).map { _ in Float(rng.nextGaussian()) }
      var failure: LinearAlgebraError? = nil
      withSharedReadPointers(columns, ratings, priorMean, priorPrecision) { c, r, m, lambda in
        withSharedReadPointers(z, zero) { noise, _ in
          do throws(LinearAlgebraError) {
            try system.drawBiasedRow(
              count: n, columns: c.base, values: r.base, fixed: table.readOnly,
              fixedBias: biases.readOnly, mean: mean, noisePrecision: noisePrecision,
              prior: m.base, priorPrecision: lambda.base, noise: noise.base)
          } catch { failure = error }
        }
      }
      if let failure { throw .numerical("the conditional could not be factored: \(failure)") }
      let x = system.solutionArray(count: order)
      if t == 0 { conditionalMean = x } else { result.append(x) }
    }
    return (conditionalMean, result)
  }
}

extension GibbsConditional {
  /// One pass of the implicit rows' draw (see `ImplicitFeedback`) on a small problem given
  /// explicitly, `count` times from the same start: users' entries `items` (the items N(u) of
  /// each user), their rows `userRows` x̃_u (users × (k + 1)), their prior (m, λ), the y's prior
  /// (m_y, λ_y) and the starting y's `start` (items × (k + 1)). Pass t uses the noise streams of
  /// `seed` split t. Returns each pass's y's and s's (items × (k + 1), users × (k + 1)).
  public static func implicitDraws(
    items: [[Int]], itemCount: Int, userRows: [Float], priorMean: [Float], priorPrecision: [Float],
    implicitMean: [Float], implicitPrecision: [Float], start: [Float], count: Int, seed: UInt64
  ) -> [(features: [Float], sums: [Float])] {
    let order = priorMean.count
    let users = items.count
    var rows: [Int32] = []
    var columns: [Int32] = []
    for (u, list) in items.enumerated() {
      for i in list {
        rows.append(Int32(u))
        columns.append(Int32(i))
      }
    }
    let ones = [Float](repeating: 1, count: rows.count)
    let byUser = SparseRatingMatrix(
      rowCount: users, columnCount: itemCount, rows: rows, columns: columns, values: ones)
    let byItem = SparseRatingMatrix(
      rowCount: itemCount, columnCount: users, rows: columns, columns: rows, values: ones)
    // x̃ as a factor side, as the sampler holds it: the first k columns as factors, the last as
    // the bias.
    let k = order - 1
    let side = FactorSide(
      factors: RowTable(
        rows: users, width: k,
        values: (0 ..< users).flatMap { u in userRows[u * order ..< u * order + k] }),
      bias: RowTable(rows: users, width: 1, values: (0 ..< users).map { userRows[$0 * order + k] }))
    let prior = RowPrior(mean: priorMean, precision: priorPrecision)
    let root = SeededGenerator(seed: seed)
    return (0 ..< count).map { t in
      var implicit = ImplicitFeedback(rows: byUser, order: order)
      implicit.prior = RowPrior(mean: implicitMean, precision: implicitPrecision)
      implicit.features.assign(start)
      // s at the start: |N(u)|^-½ Σ y_j, as the sampler keeps it.
      var sums = [Float](repeating: 0, count: users * order)
      for (u, list) in items.enumerated() where !list.isEmpty {
        let c = Float(1 / Double(list.count).squareRoot())
        for i in list { for f in 0 ..< order { sums[u * order + f] += c * start[i * order + f] } }
      }
      implicit.sums.assign(sums)
      let stream = root.split(t)
      implicit.draw(byFeature: byItem, side: side, sidePrior: prior) { stream.split($0) }
      return (implicit.features.values, implicit.sums.values)
    }
  }
}
