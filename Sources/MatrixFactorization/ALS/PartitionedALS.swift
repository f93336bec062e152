@_spi(Engine) import LinearAlgebra
import RatingData

/// ALS (biased, or implicit) as one process of a distributed fit runs it: the factor tables of
/// every user and item, started exactly as ``Trainer`` starts them, and half-sweeps that solve
/// only the rows this process owns, with the very row solves of single-process ALS.
///
/// The caller owns the communication: after each half-sweep it exchanges the rows it solved
/// (``withRows(_:_:)``), and for implicit ALS it sums the fixed side's YᵀY over the processes
/// (``partialGram(_:rows:)``) before the half-sweep. Given the same data, μ and rating range,
/// a row's solve reads exactly what it reads in ``Trainer/fit(_:validation:options:measureTrainRMSE:progress:)``,
/// so the factors are the same bit for bit (for implicit ALS, up to the order of YᵀY's sums).
@_spi(Distributed) public final class PartitionedALS: @unchecked Sendable {
  /// One side of the factorization.
  public enum Side: Sendable {
    case users, items
  }

  /// The options of the fit (ALS or implicit ALS).
  public let options: TrainingOptions
  /// The global mean μ (rating ALS) and the smallest and largest training value.
  public let mean: Float
  public let valueRange: ClosedRange<Float>
  let factors: FactorTables

  /// Tables for `users` × `items` started from `options.seed` as a single-process fit starts
  /// them.
  ///
  /// - Throws: ``MFError/invalidParameter(_:requirement:)`` for invalid options,
  ///   ``MFError/invalidInput(_:)`` for an algorithm other than ALS or implicit ALS, and
  ///   ``MFError`` when the tables would not fit in memory.
  public init(
    users: Int, items: Int, options: TrainingOptions, mean: Float, valueRange: ClosedRange<Float>
  ) throws(MFError) {
    try options.validate()
    let initialization: FactorInitialization
    switch options.solver {
    case .als(let s): initialization = s.initialization
    case .implicitALS(let s): initialization = s.initialization
    default:
      throw .invalidInput("a distributed fit runs ALS or implicit ALS, not \(options.algorithm.rawValue)")
    }
    try Limits.checkFactorTables(users: users, items: items, options: options)
    self.options = options
    self.mean = mean
    self.valueRange = valueRange
    factors = FactorTables(
      users: users, items: items, rank: options.rank, initialization: initialization,
      seed: options.seed, threads: options.threads)
  }

  /// Rating prediction (ALS) or ranking (implicit ALS).
  public var kind: ModelKind { options.algorithm.kind }

  /// What a value is trained as: itself (ALS) or its confidence c = 1 + α·r (implicit ALS).
  public func trainingValue(_ r: Float) -> Float {
    if case .implicitALS(let s) = options.solver { return s.confidence(of: r) }
    return r
  }

  /// The k × k matrix Σ_{r ∈ owned} x_r x_rᵀ over rows `owned` of `side` (full, row-major):
  /// implicit ALS's YᵀY is its sum over the processes' owned rows.
  public func partialGram(_ side: Side, rows owned: Range<Int>) -> [Float] {
    let k = options.rank
    let table = self.side(side).factors
    var g = [Float](repeating: 0, count: k * k)
    if owned.isEmpty { return g }
    g.withUnsafeMutableBufferPointer { g in
      let out = g.baseAddress!
      BLAS.withThreads(1) {
        BLAS.syrkTransposed(
          n: k, k: owned.count, alpha: 1, a: table.readOnly.row(owned.lowerBound), lda: k, beta: 0,
          c: out, ldc: k)
      }
      for f in 0 ..< k { for h in 0 ..< f { out[h * k + f] = out[f * k + h] } }
    }
    return g
  }

  /// Solves rows `owned` of `side` against the other side's current tables.
  ///
  /// - Parameters:
  ///   - rows: `side`'s entries (rows of `side`, columns of the other side, values as
  ///     ``trainingValue(_:)`` gives them, duplicates already merged); rows outside `owned` are
  ///     not read.
  ///   - gram: implicit ALS: the other side's YᵀY over all its rows (``partialGram(_:rows:)``
  ///     summed over the processes); λI is added here. Ignored by rating ALS.
  ///   - measure: rating ALS: also return Σ e² over the solved rows' entries.
  ///   - ids: `side`'s ids, to name a row whose system cannot be solved.
  /// - Throws: ``MFError/numerical(_:)`` naming the first row in `owned` that could not be solved.
  public func solve(
    _ side: Side, rows: SparseRatingMatrix, owned: Range<Int>, gram: [Float]?, measure: Bool,
    ids: IDMap
  ) throws(MFError) -> Double {
    if owned.isEmpty { return 0 }
    let (target, fixed) = side == .users ? (factors.userSide, factors.itemSide) : (factors.itemSide, factors.userSide)
    let (k, threads) = (options.rank, options.threads)
    let outcomes: [RowRangeOutcome]
    let systemName: String
    switch options.solver {
    case .als(let s):
      systemName = ALSSolver.systemName
      let (mean, valueRange) = (mean, valueRange)
      outcomes = BLAS.withThreads(1) {
        solveInParallel(rows, owned, threads: threads) { part in
          ALSSolver.solveRows(
            part, of: rows, fixed: fixed, target: target, measure: measure, rank: k, settings: s,
            mean: mean, valueRange: valueRange)
        }
      }
    case .implicitALS(let s):
      systemName = ImplicitALSSolver.systemName
      var g = gram ?? [Float](repeating: 0, count: k * k)
      for f in 0 ..< k { g[f * k + f] += s.regularization }
      let ridge = g
      outcomes = BLAS.withThreads(1) {
        solveInParallel(rows, owned, threads: threads) { part in
          ImplicitALSSolver.solveRows(
            part, of: rows, fixed: fixed, target: target, rank: k, settings: s, gram: ridge)
        }
      }
    default:
      preconditionFailure("checked in init")
    }
    if let bad = outcomes.lazy.compactMap(\.failedRow).first {
      let id = bad < ids.count ? " '\(ids.ids[bad])'" : ""
      throw .numerical(
        "the \(systemName) system of \(side == .users ? "user" : "item")\(id) (row \(bad)) could not be solved (not positive definite)")
    }
    return outcomes.reduce(0) { $0 + $1.squaredError }
  }

  /// Calls `body` with `side`'s factor rows (row-major, `rank` floats a row) and biases (one
  /// float a row), to send the rows this process solved and receive the others'.
  public func withRows<R, E: Error>(
    _ side: Side, _ body: (_ factors: UnsafeMutablePointer<Float>, _ biases: UnsafeMutablePointer<Float>) throws(E) -> R
  ) throws(E) -> R {
    let s = self.side(side)
    return try body(s.factors.mutable.row(0), s.bias.mutable.row(0))
  }

  /// Whether every factor and bias is finite.
  public func allFinite() -> Bool { factors.allFinite() }

  /// The model these tables make, as ``Trainer`` builds it: μ and b_u are 0 for implicit ALS.
  public func model(
    users: IDMap, items: IDMap, seen: InteractionIndex, summary: TrainingSummary
  ) -> FactorModel {
    let kept = factors.snapshot()
    let rating = kind == .rating
    return FactorModel(
      kind: kind, globalMean: rating ? mean : 0,
      userBias: rating ? kept.userBias : [Float](repeating: 0, count: users.count),
      itemBias: kept.itemBias,
      userFactors: Matrix(rows: users.count, columns: options.rank, values: kept.p),
      itemFactors: Matrix(rows: items.count, columns: options.rank, values: kept.q),
      users: users, items: items, ratingRange: valueRange, seen: seen, summary: summary)
  }

  private func side(_ side: Side) -> FactorSide {
    side == .users ? factors.userSide : factors.itemSide
  }
}
