@_spi(Engine) import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
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
/// users less (``ALSSettings/regularizationExponent``). YᵀY is one `ssyrk` on the gathered rows,
/// Yᵀt one `sgemv`, the solve one `sposv` (Cholesky), all in a ``RidgeSystem``. Items are solved the same
/// way with the roles swapped. Rows are independent, so they are solved in parallel, each thread
/// with its own scratch, and OpenBLAS single-threaded inside.
struct ALSSolver: AlternatingSolver {
  let data: TrainingData
  let context: TrainingContext
  private(set) var settings: ALSSettings

  static var systemName: String { "ALS" }

  mutating func backOff() -> String? {
    settings.regularization *= 4
    settings.biasRegularization *= 4
    return "raised the ridge ×4 (λ = \(settings.regularization), λ_b = \(settings.biasRegularization))"
  }

  func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide,
    measure: Bool
  ) -> RowRangeOutcome {
    Self.solveRows(
      range, of: rows, fixed: fixed, target: target, measure: measure, rank: context.rank,
      settings: settings, mean: data.mean, valueRange: data.range)
  }

  /// ``solveRows(_:of:fixed:target:measure:)`` given what it reads of the fit (a distributed
  /// fit calls it on its own rows with the global μ and rating range).
  static func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide,
    measure: Bool, rank k: Int, settings: ALSSettings, mean: Float, valueRange: ClosedRange<Float>
  ) -> RowRangeOutcome {
    let fixedRows = fixed.factors.readOnly
    let fixedBias = fixed.bias.readOnly
    let targetRows = target.factors.mutable
    let targetBias = target.bias.mutable
    let low = valueRange.lowerBound
    let high = valueRange.upperBound
    return rows.withSharedRows { rowStart, columns, values in
      var outcome = RowRangeOutcome()
      var widest = 0
      for r in range { widest = max(widest, rowStart[r + 1] - rowStart[r]) }
      var system = RidgeSystem(order: k + 1, rows: widest)
      for r in range {
        let lo = rowStart[r]
        let n = rowStart[r + 1] - lo
        if n == 0 {
          targetRows.row(r).update(repeating: 0, count: k)
          targetBias[r] = 0
          continue
        }
        let weight = Self.penaltyWeight(count: n, exponent: settings.regularizationExponent)
        do {
          try system.solveBiasedRow(
            count: n, columns: columns.base + lo, values: values.base + lo, fixed: fixedRows,
            fixedBias: fixedBias, mean: mean, penalty: settings.regularization * weight,
            biasPenalty: settings.biasRegularization * weight)
        } catch {
          outcome.failedRow = r
          return outcome
        }
        system.copySolution(to: targetRows.row(r), count: k)
        targetBias[r] = system.solutionEntry(k)
        if measure {
          // e_j = t_j − y_j·x is the entry's error against μ + b + b' + p·q; predictions are
          // clamped to the rating range as the model serves them.
          for j in 0 ..< n {
            let fitted = RowKernels.dot(k + 1, system.designRow(j), system.solution)
            let rating = values[lo + j]
            let predicted = min(max(rating - system.targets[j] + fitted, low), high)
            let e = Double(predicted - rating)
            outcome.squaredError += e * e
          }
        }
      }
      return outcome
    }
  }

  /// The weight w = n^e of a row with `n` ratings in its ridge penalty w·λ.
  static func penaltyWeight(count n: Int, exponent: Float) -> Float {
    exponent == 1 ? Float(n) : Float(pow(Double(n), Double(exponent)))
  }
}

extension RidgeSystem {
  /// Gathers a row's design rows y_j = [q_c; 1] and targets t_j = r_j − μ − b_c (the bias
  /// folded in as a last coordinate, as ALS and the Gibbs sampler both solve it).
  mutating func gatherBiasedRows(
    count n: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
    fixed: RowTable.Rows, fixedBias: RowTable.Rows, mean: Float
  ) {
    let k = order - 1
    reserve(rows: n)
    for j in 0 ..< n {
      let c = Int(columns[j])
      let y = designRow(j)
      y.update(from: fixed.row(c), count: k)
      y[k] = 1
      targets[j] = values[j] - mean - fixedBias[c]
    }
  }

  /// The biased ALS step for one row: with y_j = [q_j; 1] for the row's `count` entries and
  /// t_j = r_j − μ − b_j, solves (YᵀY + diag(penalty, …, penalty, biasPenalty)) x = Yᵀt for
  /// x = [p; b] (``order`` is k + 1). Training and folding in a new user both call it.
  ///
  /// - Parameters:
  ///   - columns, values: the row's entries (fixed-side indices and ratings).
  ///   - fixed, fixedBias: the other side's factors and biases.
  mutating func solveBiasedRow(
    count n: Int, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
    fixed: RowTable.Rows, fixedBias: RowTable.Rows, mean: Float, penalty: Float,
    biasPenalty: Float
  ) throws(LinearAlgebraError) {
    let k = order - 1
    gatherBiasedRows(
      count: n, columns: columns, values: values, fixed: fixed, fixedBias: fixedBias, mean: mean)
    setGram(rows: n)
    addToDiagonal(penalty, 0 ..< k)
    addToDiagonal(biasPenalty, k ..< k + 1)
    setRightHandSide(rows: n)
    try solve()
  }
}
