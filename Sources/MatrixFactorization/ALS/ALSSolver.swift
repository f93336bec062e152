import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
  private func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#endif

/// Biased matrix factorization by alternating least squares.
///
/// With item factors fixed, each user's factors and bias are the exact minimizer of a ridge
/// problem. The bias is folded in with the augmented-vector trick: write x_u = [p_u; b_u] and
/// y_i = [q_i; 1], so r̂ − μ − b_i = x_u·y_i and
///
///     x_u = argmin Σ_{i∈I(u)} (r_ui − μ − b_i − x_u·y_i)² + w_u (λ‖p_u‖² + λ_b b_u²)
///         = (YᵀY + w_u·diag(λ,…,λ,λ_b))⁻¹ Yᵀ t,     t_i = r_ui − μ − b_i,  w_u = n_u^e,
///
/// where Y stacks the y_i of the n_u items u rated. With e = 1, scaling λ by n_u is the weighted-λ
/// regularization of ALS-WR (Zhou et al. 2008), as Spark MLlib does; e < 1 penalizes heavy
/// users less (`--regularization-exponent`). YᵀY is one `ssyrk` on the
/// gathered rows, Yᵀt one `sgemv`, the solve one `sposv` (Cholesky). Items are solved the same
/// way with the roles swapped. Rows are independent, so they are solved in parallel, each thread
/// with its own scratch, and OpenBLAS single-threaded inside.
struct ALSSolver {
  let options: TrainingOptions
  let buffers: FactorBuffers
  let mean: Float
  let byUser: SparseRatingMatrix
  let byItem: SparseRatingMatrix

  init(
    byUser: SparseRatingMatrix, byItem: SparseRatingMatrix, mean: Float, options: TrainingOptions,
    buffers: FactorBuffers
  ) {
    self.options = options
    self.buffers = buffers
    self.mean = mean
    self.byUser = byUser
    self.byItem = byItem
  }

  /// One sweep: all users, then all items.
  func runEpoch(_ epoch: Int) throws(MFError) {
    try solveSide(
      rows: byUser, fixed: buffers.q, fixedBias: buffers.itemBias, target: buffers.p,
      targetBias: buffers.userBias)
    try solveSide(
      rows: byItem, fixed: buffers.p, fixedBias: buffers.userBias, target: buffers.q,
      targetBias: buffers.itemBias)
  }

  private func solveSide(
    rows: SparseRatingMatrix, fixed: UnsafeMutablePointer<Float>,
    fixedBias: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>,
    targetBias: UnsafeMutablePointer<Float>
  ) throws(MFError) {
    let k = options.rank
    let reg = options.regularization
    let regBias = options.biasRegularization
    let exponent = options.regularizationExponent
    let mean = self.mean
    let ranges = balancedRanges(rows.rowStart, parts: min(rows.rowCount, options.threads * 8))
    var failures = [Int](repeating: -1, count: ranges.count)
    let fixedP = SharedPointer(fixed)
    let fixedB = SharedPointer(fixedBias)
    let targetP = SharedPointer(target)
    let targetB = SharedPointer(targetBias)
    rows.rowStart.withUnsafeBufferPointer { rowStart in
      rows.columns.withUnsafeBufferPointer { columns in
        rows.values.withUnsafeBufferPointer { values in
          failures.withUnsafeMutableBufferPointer { failureBuffer in
            let failed = SharedPointer(failureBuffer.baseAddress!)
            let rowStart = SharedPointer(UnsafeMutablePointer(mutating: rowStart.baseAddress!))
            let columns = SharedPointer(UnsafeMutablePointer(mutating: columns.baseAddress!))
            let values = SharedPointer(UnsafeMutablePointer(mutating: values.baseAddress!))
            Parallel.forEach(ranges.count, threads: options.threads) { part in
              let range = ranges[part]
              failed.base[part] = ALSSolver.solveRows(
                range, k: k, reg: reg, regBias: regBias, exponent: exponent, mean: mean, rowStart: rowStart.base,
                columns: columns.base, values: values.base, fixed: fixedP.base,
                fixedBias: fixedB.base, target: targetP.base, targetBias: targetB.base)
            }
          }
        }
      }
    }
    if let bad = failures.first(where: { $0 >= 0 }) {
      throw .numerical("the ALS system of row \(bad) could not be solved (not positive definite)")
    }
  }

  /// Solves rows `range`; returns the first row that failed, or -1.
  private static func solveRows(
    _ range: Range<Int>, k: Int, reg: Float, regBias: Float, exponent: Float, mean: Float,
    rowStart: UnsafeMutablePointer<Int>, columns: UnsafeMutablePointer<Int32>,
    values: UnsafeMutablePointer<Float>, fixed: UnsafeMutablePointer<Float>,
    fixedBias: UnsafeMutablePointer<Float>, target: UnsafeMutablePointer<Float>,
    targetBias: UnsafeMutablePointer<Float>
  ) -> Int {
    let d = k + 1
    var widest = 0
    for r in range { widest = max(widest, rowStart[r + 1] - rowStart[r]) }
    let y = UnsafeMutablePointer<Float>.allocate(capacity: max(1, widest * d))
    let t = UnsafeMutablePointer<Float>.allocate(capacity: max(1, widest))
    let a = UnsafeMutablePointer<Float>.allocate(capacity: d * d)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: d)
    defer {
      y.deallocate()
      t.deallocate()
      a.deallocate()
      x.deallocate()
    }
    for r in range {
      let lo = rowStart[r]
      let n = rowStart[r + 1] - lo
      if n == 0 {
        (target + r * k).update(repeating: 0, count: k)
        targetBias[r] = 0
        continue
      }
      // Gather Y = [q_i, 1] and t_i = r_ui − μ − b_i.
      for j in 0 ..< n {
        let c = Int(columns[lo + j])
        (y + j * d).update(from: fixed + c * k, count: k)
        y[j * d + k] = 1
        t[j] = values[lo + j] - mean - fixedBias[c]
      }
      BLAS.syrkTransposed(n: d, k: n, alpha: 1, a: y, lda: d, beta: 0, c: a, ldc: d)
      let weight = exponent == 1 ? Float(n) : Float(_pow(Double(n), Double(exponent)))
      for f in 0 ..< k { a[f * d + f] += reg * weight }
      a[k * d + k] += regBias * weight
      BLAS.gemv(transpose: true, m: n, n: d, alpha: 1, a: y, lda: d, x: t, beta: 0, y: x)
      do {
        try LAPACK.choleskySolve(n: d, a: a, b: x)
      } catch {
        return r
      }
      (target + r * k).update(from: x, count: k)
      targetBias[r] = x[k]
    }
    return -1
  }
}

/// Splits rows `0 ..< rowStart.count − 1` into about `parts` contiguous ranges of similar
/// entry counts (a heavy row costs as much as many light ones).
func balancedRanges(_ rowStart: [Int], parts: Int) -> [Range<Int>] {
  let rows = rowStart.count - 1
  if rows <= 0 { return [] }
  let parts = max(1, min(parts, rows))
  let total = rowStart[rows]
  var ranges: [Range<Int>] = []
  var lo = 0
  for part in 1 ... parts {
    let goal = total * part / parts
    var hi = lo
    while hi < rows && (rowStart[hi + 1] <= goal || hi == lo) { hi += 1 }
    if part == parts { hi = rows }
    if hi > lo { ranges.append(lo ..< hi) }
    lo = hi
    if lo >= rows { break }
  }
  return ranges
}
