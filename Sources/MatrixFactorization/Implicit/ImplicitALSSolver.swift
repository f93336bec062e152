import LinearAlgebra
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
/// `sposv`), O(n_u·k² + k³) per row; and conjugate gradient started from the previous x_u with a
/// few steps per row (Takács, Pilászy & Tikk 2011, "Applications of the conjugate gradient
/// method for implicit feedback collaborative filtering"), O(n_u·k + k²) per step, where the
/// product A_u·v = G·v + Σ (c−1)(y_i·v) y_i costs one `sgemv` and two passes over the rows.
/// Items are solved the same way with the roles swapped.
struct ImplicitALSSolver {
  let options: TrainingOptions
  let settings: ImplicitSettings
  let buffers: FactorBuffers
  /// Confidences c_ui by user (CSR).
  let byUser: SparseRatingMatrix
  /// The same confidences by item.
  let byItem: SparseRatingMatrix

  init(
    byUser: SparseRatingMatrix, byItem: SparseRatingMatrix, options: TrainingOptions,
    buffers: FactorBuffers
  ) {
    self.options = options
    self.settings = options.implicit ?? ImplicitSettings()
    self.buffers = buffers
    self.byUser = byUser
    self.byItem = byItem
  }

  /// One sweep: all users against fixed items, then all items against fixed users.
  func runEpoch() throws(MFError) {
    try solveSide(rows: byUser, fixed: buffers.q, fixedCount: buffers.itemCount, target: buffers.p)
    try solveSide(rows: byItem, fixed: buffers.p, fixedCount: buffers.userCount, target: buffers.q)
  }

  /// The loss L of HKV eq. 3 at the current factors, in `Double`.
  ///
  /// Σ over all pairs of (x_u·y_i)² is Σ_u x_uᵀ(YᵀY)x_u = ⟨XᵀX, YᵀY⟩ (two `ssyrk`s), so only
  /// the observed pairs are visited: each adds c(1 − s)² − s² with s = x_u·y_i.
  func loss() -> Double {
    let k = options.rank
    let xtx = gram(buffers.p, rows: buffers.userCount, k: k)
    let yty = gram(buffers.q, rows: buffers.itemCount, k: k)
    var total = 0.0
    for f in 0 ..< k {
      for g in 0 ..< k { total += Double(xtx[f * k + g]) * Double(yty[f * k + g]) }
    }
    let p = buffers.p
    let q = buffers.q
    for u in 0 ..< byUser.rowCount {
      for e in byUser.rowStart[u] ..< byUser.rowStart[u + 1] {
        let s = Double(Kernels.dot(k, p + u * k, q + Int(byUser.columns[e]) * k))
        let c = Double(byUser.values[e])
        total += c * (1 - s) * (1 - s) - s * s
      }
    }
    var norms = 0.0
    for j in 0 ..< buffers.userCount * k { norms += Double(p[j]) * Double(p[j]) }
    for j in 0 ..< buffers.itemCount * k { norms += Double(q[j]) * Double(q[j]) }
    return total + Double(options.regularization) * norms
  }

  /// The full symmetric k × k matrix MᵀM of the `rows × k` matrix `m` (one `ssyrk`, mirrored).
  private func gram(_ m: UnsafeMutablePointer<Float>, rows: Int, k: Int) -> [Float] {
    var g = [Float](repeating: 0, count: k * k)
    g.withUnsafeMutableBufferPointer { g in
      BLAS.syrkTransposed(n: k, k: rows, alpha: 1, a: m, lda: k, beta: 0, c: g.baseAddress!, ldc: k)
      for f in 0 ..< k { for h in 0 ..< f { g[h * k + f] = g[f * k + h] } }
    }
    return g
  }

  private func solveSide(
    rows: SparseRatingMatrix, fixed: UnsafeMutablePointer<Float>, fixedCount: Int,
    target: UnsafeMutablePointer<Float>
  ) throws(MFError) {
    let k = options.rank
    // G = YᵀY + λI, shared read-only by every row's solve.
    var g = gram(fixed, rows: fixedCount, k: k)
    for f in 0 ..< k { g[f * k + f] += options.regularization }
    let ranges = balancedRanges(rows.rowStart, parts: min(rows.rowCount, options.threads * 8))
    var failures = [Int](repeating: -1, count: ranges.count)
    let solver = settings.solver
    let steps = settings.cgSteps
    g.withUnsafeMutableBufferPointer { g in
      rows.rowStart.withUnsafeBufferPointer { rowStart in
        rows.columns.withUnsafeBufferPointer { columns in
          rows.values.withUnsafeBufferPointer { values in
            failures.withUnsafeMutableBufferPointer { failed in
              let system = RowSystems(
                k: k, gram: SharedPointer(g.baseAddress!),
                rowStart: SharedPointer(UnsafeMutablePointer(mutating: rowStart.baseAddress!)),
                columns: SharedPointer(UnsafeMutablePointer(mutating: columns.baseAddress!)),
                confidence: SharedPointer(UnsafeMutablePointer(mutating: values.baseAddress!)),
                fixed: SharedPointer(fixed), target: SharedPointer(target))
              let failed = SharedPointer(failed.baseAddress!)
              Parallel.forEach(ranges.count, threads: options.threads) { part in
                switch solver {
                case .cholesky: failed.base[part] = system.solveExactly(ranges[part])
                case .cg: system.conjugateGradient(ranges[part], steps: steps)
                }
              }
            }
          }
        }
      }
    }
    if let bad = failures.first(where: { $0 >= 0 }) {
      throw .numerical("the implicit ALS system of row \(bad) could not be solved (not positive definite)")
    }
  }
}

/// The per-row systems of one half-sweep: A_r = G + Σ_{e∈row r} (c_e − 1) y_e y_eᵀ,
/// b_r = Σ_e c_e y_e, with pointers shared read-only across threads (each row writes only its
/// own target row).
struct RowSystems: Sendable {
  /// Entries ahead whose rows are prefetched in gathering passes.
  static let prefetchDistance = 6
  let k: Int
  let gram: SharedPointer<Float>
  let rowStart: SharedPointer<Int>
  let columns: SharedPointer<Int32>
  let confidence: SharedPointer<Float>
  let fixed: SharedPointer<Float>
  let target: SharedPointer<Float>

  /// Exact solves of rows `range` by Cholesky; returns the first row that failed, or -1.
  func solveExactly(_ range: Range<Int>) -> Int {
    let k = self.k
    var widest = 0
    for r in range { widest = max(widest, rowStart.base[r + 1] - rowStart.base[r]) }
    let gathered = UnsafeMutablePointer<Float>.allocate(capacity: max(1, widest * k))
    let weights = UnsafeMutablePointer<Float>.allocate(capacity: max(1, widest))
    let a = UnsafeMutablePointer<Float>.allocate(capacity: k * k)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: k)
    defer {
      gathered.deallocate()
      weights.deallocate()
      a.deallocate()
      x.deallocate()
    }
    for r in range {
      let lo = rowStart.base[r]
      let n = rowStart.base[r + 1] - lo
      if n == 0 {
        // No observations: b = 0, so x = 0 is the exact minimizer.
        (target.base + r * k).update(repeating: 0, count: k)
        continue
      }
      for j in 0 ..< n {
        if j &+ Self.prefetchDistance < n {
          Prefetch.read(fixed.base + Int(columns.base[lo + j + Self.prefetchDistance]) * k, bytes: k * 4)
        }
        (gathered + j * k).update(from: fixed.base + Int(columns.base[lo + j]) * k, count: k)
        weights[j] = confidence.base[lo + j]
      }
      // b = Yᵤᵀ c, from the unscaled rows.
      BLAS.gemv(transpose: true, m: n, n: k, alpha: 1, a: gathered, lda: k, x: weights, beta: 0, y: x)
      // A = G + Yᵤᵀ diag(c − 1) Yᵤ: scale row j by √(c_j − 1), then one ssyrk onto a copy of G.
      for j in 0 ..< n {
        let s = (max(0, weights[j] - 1)).squareRoot()
        for f in 0 ..< k { gathered[j * k + f] *= s }
      }
      a.update(from: gram.base, count: k * k)
      BLAS.syrkTransposed(n: k, k: n, alpha: 1, a: gathered, lda: k, beta: 1, c: a, ldc: k)
      do {
        try LAPACK.choleskySolve(n: k, a: a, b: x)
      } catch {
        return r
      }
      (target.base + r * k).update(from: x, count: k)
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
    let y = fixed.base
    for r in range {
      let lo = rowStart.base[r]
      let hi = rowStart.base[r + 1]
      let x = target.base + r * k
      // r = b − A x = −G x + Σ_e (c_e − (c_e − 1)(y_e·x)) y_e. This first pass over the row's
      // items misses the cache on every y_e; prefetching a few entries ahead overlaps the misses
      // (the later passes find the rows in cache).
      BLAS.gemv(transpose: false, m: k, n: k, alpha: -1, a: g, lda: k, x: x, beta: 0, y: residual)
      for e in lo ..< hi {
        if e &+ Self.prefetchDistance < hi {
          Prefetch.read(y + Int(columns.base[e &+ Self.prefetchDistance]) * k, bytes: k * 4)
        }
        let ye = y + Int(columns.base[e]) * k
        let c = confidence.base[e]
        let s = Kernels.dot(k, ye, x)
        VectorOps.axpy(k, c - (c - 1) * s, ye, residual)
      }
      var rsOld = Kernels.dot(k, residual, residual)
      if rsOld < 1e-20 { continue }
      direction.update(from: residual, count: k)
      for _ in 0 ..< steps {
        // A p = G p + Σ_e (c_e − 1)(y_e·p) y_e
        BLAS.gemv(transpose: false, m: k, n: k, alpha: 1, a: g, lda: k, x: direction, beta: 0, y: product)
        for e in lo ..< hi {
          let ye = y + Int(columns.base[e]) * k
          let c = confidence.base[e]
          VectorOps.axpy(k, (c - 1) * Kernels.dot(k, ye, direction), ye, product)
        }
        let curvature = Kernels.dot(k, direction, product)
        if !(curvature > 0) { break }
        let stepSize = rsOld / curvature
        VectorOps.axpy(k, stepSize, direction, x)
        VectorOps.axpy(k, -stepSize, product, residual)
        let rsNew = Kernels.dot(k, residual, residual)
        if rsNew < 1e-20 { break }
        // p ← r + (rsNew / rsOld) p
        VectorOps.scaleAdd(k, rsNew / rsOld, direction, residual)
        rsOld = rsNew
      }
    }
  }
}

/// Small vector loops the solvers need between BLAS calls, where a BLAS call's overhead would
/// exceed its work (k is 16–256).
enum VectorOps {
  /// y ← y + a·x
  @inline(__always)
  static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    var f = 0
    let a8 = SIMD8<Float>(repeating: a)
    while f + 8 <= n {
      let xv = UnsafeRawPointer(x + f).loadUnaligned(as: SIMD8<Float>.self)
      let yv = UnsafeRawPointer(y + f).loadUnaligned(as: SIMD8<Float>.self)
      // Plain a·x + y: `addingProduct` lowers to a libm fmaf call per lane on baseline x86-64.
      UnsafeMutableRawPointer(y + f).storeBytes(of: yv + a8 * xv, as: SIMD8<Float>.self)
      f += 8
    }
    while f < n {
      y[f] += a * x[f]
      f += 1
    }
  }

  /// p ← r + β·p
  @inline(__always)
  static func scaleAdd(_ n: Int, _ beta: Float, _ p: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>) {
    for f in 0 ..< n { p[f] = r[f] + beta * p[f] }
  }
}
