@_spi(Engine) import LinearAlgebra
import RatingData

/// One side of the factorization: its factor rows and its biases (users: P and b_u; items: Q
/// and b_i).
struct FactorSide: Sendable {
  let factors: RowTable
  let bias: RowTable
}

extension FactorTables {
  var userSide: FactorSide { FactorSide(factors: p, bias: userBias) }
  var itemSide: FactorSide { FactorSide(factors: q, bias: itemBias) }
}

/// A solver that alternates exact half-sweeps (ALS, implicit ALS): users against fixed items,
/// then items against fixed users. Each half-sweep solves every row of one side independently,
/// which is also the unit a distributed ALS runs on its own rows.
protocol AlternatingSolver: FactorSolver, Sendable {
  var data: TrainingData { get }
  var context: TrainingContext { get }
  /// Solves the rows `range` of `rows` (one side's entries) against `fixed`, writing `target`.
  /// With `measure`, also sums the squared training errors of the solved rows' entries (the
  /// residuals are at hand: the design rows and targets are still in the row's system). Called
  /// in parallel on disjoint ranges.
  func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide,
    measure: Bool
  ) -> RowRangeOutcome
  /// Work before a half-sweep's rows are solved (e.g. a Gram matrix over the fixed side).
  mutating func prepareHalfSweep(fixed: FactorSide)
  /// What the half-sweep's systems are called in an error ("ALS", "implicit ALS").
  static var systemName: String { get }
}

/// What solving a range of rows found.
struct RowRangeOutcome {
  /// The first row whose system could not be solved.
  var failedRow: Int? = nil
  /// Σ e² over the solved rows' entries, when measured.
  var squaredError: Double = 0
}

extension AlternatingSolver {
  mutating func prepareHalfSweep(fixed: FactorSide) {}

  /// One sweep: all users against fixed items, then all items against fixed users.
  ///
  /// The training RMSE comes free with the item half-sweep: once an item's row is solved, its
  /// entries' residuals are those of the final factors of this sweep, and its design rows are
  /// still in cache.
  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome {
    let factors = context.factors
    _ = try halfSweep(
      rows: data.byUser, fixed: factors.itemSide, target: factors.userSide, measure: false,
      side: ("user", data.ratings.users))
    let measure = data.kind == .rating
    let sse = try halfSweep(
      rows: data.byItem, fixed: factors.userSide, target: factors.itemSide, measure: measure,
      side: ("item", data.ratings.items))
    return EpochOutcome(inEpochRMSE: measure ? (sse / Double(max(1, data.ratingCount))).squareRoot() : nil)
  }

  /// The final model's training RMSE over the rows by user (predictions clamped to the rating
  /// range, as everywhere), when the ratings themselves were dropped after the rows were built
  /// (``TrainingData/ratingsTaken``); otherwise `nil`, and the loop scores the ratings.
  /// Summed per fixed range of rows, in range order: the same for any thread count.
  func trainingRMSE(range: ClosedRange<Float>) -> Double? {
    guard data.kind == .rating, data.ratingsTaken else { return nil }
    let rows = data.byUser
    let factors = context.factors
    let k = context.rank
    let (p, q) = (factors.p.readOnly, factors.q.readOnly)
    let (userBias, itemBias) = (factors.userBias.readOnly, factors.itemBias.readOnly)
    let (mean, low, high) = (data.mean, range.lowerBound, range.upperBound)
    let ranges = Parallel.balancedRanges(rows.rowStart, parts: min(rows.rowCount, 64))
    var squares = [Double](repeating: 0, count: ranges.count)
    rows.withSharedRows { rowStart, columns, values in
      squares.withSharedPointer { out in
        Parallel.forEach(ranges.count, threads: context.threads) { part in
          var sum = 0.0
          for u in ranges[part] {
            for n in rowStart[u] ..< rowStart[u + 1] {
              let i = Int(columns[n])
              let raw = mean + userBias[u] + itemBias[i] + RowKernels.dot(k, p.row(u), q.row(i))
              let e = min(max(raw, low), high) - values[n]
              sum += Double(e * e)
            }
          }
          out[part] = sum
        }
      }
    }
    return (squares.reduce(0, +) / Double(max(1, data.ratingCount))).squareRoot()
  }

  /// Every row of `rows`, in balanced ranges (a heavy row costs as much as many light ones)
  /// taken dynamically by the threads, each range with its own scratch.
  /// Returns Σ e² over the entries when `measure` (summed in range order: reproducible).
  /// A row whose system cannot be solved is named by its side and id (the first such row in
  /// row order), so that the error, and the recovery note when the loop retries with a larger
  /// ridge, say which user or item it was.
  private mutating func halfSweep(
    rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide, measure: Bool,
    side: (kind: String, ids: IDMap)
  ) throws(MFError) -> Double {
    prepareHalfSweep(fixed: fixed)
    let solver = self
    let outcomes = solveInParallel(rows, 0 ..< rows.rowCount, threads: context.threads) { part in
      solver.solveRows(part, of: rows, fixed: fixed, target: target, measure: measure)
    }
    if let bad = outcomes.lazy.compactMap(\.failedRow).first {
      let id = bad < side.ids.count ? " '\(side.ids.ids[bad])'" : ""
      throw .numerical(
        "the \(Self.systemName) system of \(side.kind)\(id) (row \(bad)) could not be solved (not positive definite)")
    }
    return outcomes.reduce(0) { $0 + $1.squaredError }
  }
}

/// Solves rows `owned` of `rows` in balanced ranges (a heavy row costs as much as many light
/// ones) taken dynamically by `threads` threads; the outcomes are in range order.
func solveInParallel(
  _ rows: SparseRatingMatrix, _ owned: Range<Int>, threads: Int,
  _ solve: @Sendable (Range<Int>) -> RowRangeOutcome
) -> [RowRangeOutcome] {
  // The owned rows' offsets, from 0: `balancedRanges` cuts 0 ..< offsets.last into equal parts.
  let base = rows.rowStart[owned.lowerBound]
  let offsets = rows.rowStart[owned.lowerBound ... owned.upperBound].map { $0 - base }
  let ranges = Parallel.balancedRanges(offsets, parts: min(owned.count, threads * 8)).map {
    $0.lowerBound + owned.lowerBound ..< $0.upperBound + owned.lowerBound
  }
  var outcomes = [RowRangeOutcome](repeating: RowRangeOutcome(), count: ranges.count)
  outcomes.withSharedPointer { out in
    Parallel.forEach(ranges.count, threads: threads) { part in out[part] = solve(ranges[part]) }
  }
  return outcomes
}
