@_spi(Engine) import LinearAlgebra
import RatingData

/// Implicit-feedback ALS (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
/// Feedback Datasets").
///
/// Every (user, item) pair has a preference p_ui (1 if observed, else 0) and a confidence c_ui
/// (c = 1 + α·r for observed pairs, 1 for all others). The loss is
///
///     L = Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)          (HKV eq. 3)
///
/// over *all* pairs. With Y fixed, user u's minimizer solves (HKV eq. 4)
///
///     (YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p(u),
///
/// and C_u − I is zero outside u's n_u observed items, so A_u = G + Σ_{i∈I(u)} (c_ui − 1) y_i y_iᵀ
/// with G = YᵀY + λI computed once per half-sweep (one `ssyrk`), and b_u = Σ_{i∈I(u)} c_ui y_i.
/// The dense matrix is never formed.
///
/// Two solvers: the exact one (`ssyrk` of the gathered, √(c−1)-scaled rows onto a copy of G, then
/// `sposv`, in a ``RidgeSystem``), O(n_u·k² + k³) per row; and conjugate gradient started from the previous x_u with a
/// few steps per row (Takács, Pilászy & Tikk 2011, "Applications of the conjugate gradient
/// method for implicit feedback collaborative filtering"), O(n_u·k + k²) per step, where the
/// product A_u·v = G·v + Σ (c−1)(y_i·v) y_i costs one `sgemv` and two passes over the rows.
/// Items are solved the same way with the roles swapped.
struct ImplicitALSSolver: AlternatingSolver {
  /// The interactions, whose values are the confidences c_ui, by user and by item.
  let data: TrainingData
  let context: TrainingContext
  private(set) var settings: ImplicitALSSettings
  /// G = YᵀY + λI over the fixed side of the current half-sweep, shared read-only by every
  /// row's solve.
  private var gram: [Float] = []

  init(data: TrainingData, context: TrainingContext, settings: ImplicitALSSettings) {
    self.data = data
    self.context = context
    self.settings = settings
  }

  static var systemName: String { "implicit ALS" }

  mutating func backOff() -> String? {
    settings.regularization *= 4
    return "raised the ridge ×4 (λ = \(settings.regularization))"
  }

  mutating func prepareHalfSweep(fixed: FactorSide) {
    let k = context.rank
    gram = Self.gram(fixed.factors)
    for f in 0 ..< k { gram[f * k + f] += settings.regularization }
  }

  func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide,
    measure: Bool
  ) -> RowRangeOutcome {
    Self.solveRows(range, of: rows, fixed: fixed, target: target, rank: context.rank, settings: settings, gram: gram)
  }

  /// ``solveRows(_:of:fixed:target:measure:)`` given G = YᵀY + λI (a distributed fit sums
  /// YᵀY over the processes).
  static func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide,
    rank: Int, settings: ImplicitALSSettings, gram: [Float]
  ) -> RowRangeOutcome {
    let solver = settings.solver
    let steps = settings.cgSteps
    return withSharedReadPointers(gram, rows.rowStart) { gram, rowStart in
      withSharedReadPointers(rows.columns, rows.values) { columns, confidence in
        let systems = RowSystems(
          k: rank, gram: gram, rowStart: rowStart, columns: columns,
          confidence: confidence, fixed: fixed.factors.readOnly, target: target.factors.mutable)
        switch solver {
        case .cholesky:
          let failed = systems.solveExactly(range)
          return RowRangeOutcome(failedRow: failed >= 0 ? failed : nil)
        case .cg:
          systems.conjugateGradient(range, steps: steps)
          return RowRangeOutcome()
        }
      }
    }
  }

  /// The loss L of HKV eq. 3 at the current factors, in `Double`.
  ///
  /// Σ over all pairs of (x_u·y_i)² is Σ_u x_uᵀ(YᵀY)x_u = ⟨XᵀX, YᵀY⟩ (two `ssyrk`s), so only
  /// the observed pairs are visited: each adds c(1 − s)² − s² with s = x_u·y_i.
  func loss() -> Double? {
    let k = context.rank
    let factors = context.factors
    let byUser = data.byUser
    let xtx = Self.gram(factors.p)
    let yty = Self.gram(factors.q)
    var total = 0.0
    for f in 0 ..< k {
      for g in 0 ..< k { total += Double(xtx[f * k + g]) * Double(yty[f * k + g]) }
    }
    let p = factors.p.readOnly
    let q = factors.q.readOnly
    for u in 0 ..< byUser.rowCount {
      for e in byUser.rowStart[u] ..< byUser.rowStart[u + 1] {
        let s = Double(RowKernels.dot(k, p.row(u), q.row(Int(byUser.columns[e]))))
        let c = Double(byUser.values[e])
        total += c * (1 - s) * (1 - s) - s * s
      }
    }
    var norms = 0.0
    for j in 0 ..< factors.p.count { norms += Double(p[j]) * Double(p[j]) }
    for j in 0 ..< factors.q.count { norms += Double(q[j]) * Double(q[j]) }
    return total + Double(settings.regularization) * norms
  }

  /// The full symmetric k × k matrix MᵀM of a table (one `ssyrk`, mirrored).
  static func gram(_ m: RowTable) -> [Float] {
    let k = m.width
    var g = [Float](repeating: 0, count: k * k)
    g.withUnsafeMutableBufferPointer { g in
      guard let out = g.baseAddress else { return }
      BLAS.syrkTransposed(
        n: k, k: m.rows, alpha: 1, a: m.readOnly.base, lda: k, beta: 0, c: out, ldc: k)
      for f in 0 ..< k { for h in 0 ..< f { out[h * k + f] = out[f * k + h] } }
    }
    return g
  }
}

/// The per-row systems of one half-sweep: A_r = G + Σ_{e∈row r} (c_e − 1) y_e y_eᵀ,
/// b_r = Σ_e c_e y_e, over memory shared read-only across threads (each row writes only its
/// own target row).
struct RowSystems: Sendable {
  let k: Int
  let gram: SharedReadPointer<Float>
  let rowStart: SharedReadPointer<Int>
  let columns: SharedReadPointer<Int32>
  let confidence: SharedReadPointer<Float>
  let fixed: RowTable.Rows
  let target: RowTable.MutableRows

  /// Exact solves of rows `range` by Cholesky; returns the first row that failed, or -1.
  func solveExactly(_ range: Range<Int>) -> Int {
    var widest = 0
    for r in range { widest = max(widest, rowStart[r + 1] - rowStart[r]) }
    var system = RidgeSystem(order: k, rows: widest)
    for r in range {
      let lo = rowStart[r]
      let n = rowStart[r + 1] - lo
      if n == 0 {
        // No observations: b = 0, so x = 0 is the exact minimizer.
        target.row(r).update(repeating: 0, count: k)
        continue
      }
      do {
        try system.solveConfidenceWeightedRow(
          count: n, columns: columns.base + lo, confidences: confidence.base + lo, fixed: fixed,
          gram: gram.base)
      } catch {
        return r
      }
      system.copySolution(to: target.row(r), count: k)
    }
    return -1
  }

  /// `steps` conjugate-gradient steps on each row of `range`, from its current value.
  ///
  /// CG minimizes ½xᵀAx − bᵀx along A-conjugate directions, so every step lowers the row's share
  /// of the loss; with k steps it would be exact.
  func conjugateGradient(_ range: Range<Int>, steps: Int) {
    let k = self.k
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * k)
    defer { scratch.deallocate() }
    let residual = scratch
    let direction = scratch + k
    let product = scratch + 2 * k
    let g = gram.base
    let distance = RidgeSystem.prefetchDistance
    for r in range {
      let lo = rowStart[r]
      let hi = rowStart[r + 1]
      let x = target.row(r)
      // r = b − A x = −G x + Σ_e (c_e − (c_e − 1)(y_e·x)) y_e. This first pass over the row's
      // items misses the cache on every y_e; prefetching a few entries ahead overlaps the misses
      // (the later passes find the rows in cache).
      BLAS.gemv(transpose: false, m: k, n: k, alpha: -1, a: g, lda: k, x: x, beta: 0, y: residual)
      for e in lo ..< hi {
        if e &+ distance < hi {
          Prefetch.read(fixed.row(Int(columns[e &+ distance])), bytes: k * 4)
        }
        let ye = fixed.row(Int(columns[e]))
        let c = confidence[e]
        let s = RowKernels.dot(k, ye, x)
        RowKernels.axpy(k, c - (c - 1) * s, ye, residual)
      }
      var rsOld = RowKernels.dot(k, residual, residual)
      if rsOld < 1e-20 { continue }
      direction.update(from: residual, count: k)
      for _ in 0 ..< steps {
        // A p = G p + Σ_e (c_e − 1)(y_e·p) y_e
        BLAS.gemv(transpose: false, m: k, n: k, alpha: 1, a: g, lda: k, x: direction, beta: 0, y: product)
        for e in lo ..< hi {
          let ye = fixed.row(Int(columns[e]))
          let c = confidence[e]
          RowKernels.axpy(k, (c - 1) * RowKernels.dot(k, ye, direction), ye, product)
        }
        let curvature = RowKernels.dot(k, direction, product)
        if !(curvature > 0) { break }
        let stepSize = rsOld / curvature
        RowKernels.axpy(k, stepSize, direction, x)
        RowKernels.axpy(k, -stepSize, product, residual)
        let rsNew = RowKernels.dot(k, residual, residual)
        if rsNew < 1e-20 { break }
        // p ← r + (rsNew / rsOld) p
        RowKernels.scaleAdd(k, rsNew / rsOld, direction, residual)
        rsOld = rsNew
      }
    }
  }
}

extension RidgeSystem {
  /// Entries ahead whose rows are prefetched in gathering passes.
  static let prefetchDistance = 6

  /// The exact implicit-ALS step for one row (HKV eq. 4): with y_j the fixed side's rows for
  /// the row's `count` entries and c_j their confidences, solves
  /// (G + Σ (c_j − 1) y_j y_jᵀ) x = Σ c_j y_j, where G = YᵀY + λI over the whole fixed side.
  /// Training's Cholesky solver and folding a user into an implicit model both call it.
  mutating func solveConfidenceWeightedRow(
    count n: Int, columns: UnsafePointer<Int32>, confidences: UnsafePointer<Float>,
    fixed: RowTable.Rows, gram: UnsafePointer<Float>
  ) throws(LinearAlgebraError) {
    let k = order
    reserve(rows: n)
    for j in 0 ..< n {
      if j &+ Self.prefetchDistance < n {
        Prefetch.read(fixed.row(Int(columns[j + Self.prefetchDistance])), bytes: k * 4)
      }
      designRow(j).update(from: fixed.row(Int(columns[j])), count: k)
      targets[j] = confidences[j]
    }
    // b = Yᵀc, from the unscaled rows.
    setRightHandSide(rows: n)
    // A = G + Yᵀ diag(c − 1) Y: scale row j by √(c_j − 1), then one ssyrk onto a copy of G.
    let weights = targets
    scaleDesignRows(rows: n) { j in max(0, weights[j] - 1).squareRoot() }
    setMatrix(copying: gram)
    addGram(rows: n)
    try solve()
  }
}
