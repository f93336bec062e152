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
  /// Solves the rows `range` of `rows` (one side's entries) against `fixed`, writing `target`;
  /// returns the first row whose system could not be solved, or `nil`. Called in parallel on
  /// disjoint ranges.
  func solveRows(
    _ range: Range<Int>, of rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide
  ) -> Int?
  /// Work before a half-sweep's rows are solved (e.g. a Gram matrix over the fixed side).
  mutating func prepareHalfSweep(fixed: FactorSide)
  /// What the half-sweep's systems are called in an error ("ALS", "implicit ALS").
  static var systemName: String { get }
}

extension AlternatingSolver {
  mutating func prepareHalfSweep(fixed: FactorSide) {}

  /// One sweep: all users against fixed items, then all items against fixed users.
  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome {
    let factors = context.factors
    try halfSweep(rows: data.byUser, fixed: factors.itemSide, target: factors.userSide)
    try halfSweep(rows: data.byItem, fixed: factors.userSide, target: factors.itemSide)
    return EpochOutcome()
  }

  /// Every row of `rows`, in balanced ranges (a heavy row costs as much as many light ones)
  /// taken dynamically by the threads, each range with its own scratch.
  private mutating func halfSweep(
    rows: SparseRatingMatrix, fixed: FactorSide, target: FactorSide
  ) throws(MFError) {
    prepareHalfSweep(fixed: fixed)
    let ranges = Parallel.balancedRanges(rows.rowStart, parts: min(rows.rowCount, context.threads * 8))
    var failures = [Int](repeating: -1, count: ranges.count)
    let solver = self
    failures.withSharedPointer { failed in
      Parallel.forEach(ranges.count, threads: context.threads) { part in
        failed[part] = solver.solveRows(ranges[part], of: rows, fixed: fixed, target: target) ?? -1
      }
    }
    if let bad = failures.first(where: { $0 >= 0 }) {
      throw .numerical(
        "the \(Self.systemName) system of row \(bad) could not be solved (not positive definite)")
    }
  }
}
