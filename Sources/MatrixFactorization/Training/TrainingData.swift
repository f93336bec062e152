@_spi(Engine) import LinearAlgebra
import RatingData

/// What happens to repeated (user, item) pairs before training.
public enum DuplicatePolicy: String, Sendable, Equatable {
  /// Ratings: the last occurrence in file order wins (a later rating replaces an earlier one).
  case keepLast
  /// Interactions: the values are summed (three play lines are one pair with count 3).
  case sum
}

/// How many repeated (user, item) pairs a fit found, and what it did with them.
public struct DuplicateReport: Sendable, Equatable {
  /// Entries removed: dropped (``DuplicatePolicy/keepLast``) or merged into an earlier one
  /// (``DuplicatePolicy/sum``).
  public var count: Int
  /// What was done with them.
  public var policy: DuplicatePolicy
}

/// The training data every solver is handed: the ratings (or interactions) after the duplicate
/// policy, and their sparse orientations.
///
/// The index of items by user is always built: the model keeps it as the seen-items index.
/// Access by user with values (CSR) is built with it for the solvers that read it (ALS,
/// implicit ALS, BPR); SGD does not, and saves its 4 bytes a rating. Access by item (the CSR of
/// the transpose) is built the first time a solver asks for it (the ALS solvers).
///
/// Shared with worker threads read-only: nothing changes after `init` except `byUser` and
/// `byItem`, which are built on their first read, and that happens outside parallel sections.
final class TrainingData: @unchecked Sendable {
  /// The ratings after the duplicate policy, in file order (raw values). Once a solver has
  /// taken them (``takeRatings()``) only their id maps are left here.
  private(set) var ratings: RatingSet
  /// The number of ratings (kept when the ratings are taken).
  let ratingCount: Int
  /// Whether the caller handed its ratings over: nothing outside reads them after the fit
  /// starts, so a solver that needs them only while it sets up may take them and free them.
  private let handedOver: Bool
  /// Whether the ratings are gone: taken by the solver (``takeRatings()``) or dropped once the
  /// rows by user were built (`rowsOnly`).
  private(set) var ratingsTaken = false
  let duplicates: DuplicateReport
  /// What the model predicts.
  let kind: ModelKind
  /// The global mean μ of the ratings (rating models).
  let mean: Float
  /// The smallest and largest value.
  let range: ClosedRange<Float>
  /// The mean of (r − μ)² over the ratings (μ as stored, in `Float`): SGD's adaptive step starts
  /// from it.
  let meanSquaredDeviation: Double
  /// The values the solver trains on, per rating (the raw values, or implicit ALS's
  /// confidences).
  private var trainingValues: [Float]
  /// The items of each user (the model's seen-items index).
  let seen: InteractionIndex
  /// Entries by user (built in `init` when asked for, else on first use).
  private(set) lazy var byUser: SparseRatingMatrix = {
    precondition(!ratingsTaken, "the ratings were taken by the solver: the rows by user cannot be built")
    return SparseRatingMatrix(ratings, .byUser, values: trainingValues, threads: threads)
  }()
  /// Entries by item (built on first use), as the transpose of the rows by user: one counting
  /// sort instead of the two that building from the ratings takes, the same matrix bit for bit
  /// (``SparseRatingMatrix/transposed(threads:)``), and available after the ratings are dropped.
  private(set) lazy var byItem = byUser.transposed(threads: threads)
  /// Threads for building the sparse forms.
  private let threads: Int

  /// Applies the duplicate policy of `kind` and checks the values; `transform` turns each value
  /// into what the solver trains on.
  ///
  /// With `handedOver`, the caller gives up `input` (it passes it with `consume` and keeps no
  /// other copy): a solver may then take the ratings (``takeRatings()``) and release their
  /// memory while it builds its own form of them.
  ///
  /// With `handedOver` and `rowsOnly` (a solver that reads the ratings only through the sparse
  /// forms: ALS, implicit ALS), the ratings are dropped as soon as the rows by user are built
  /// (the rows by item come from those), so the triplets and both orientations are never held
  /// together.
  init(
    _ input: consuming RatingSet, kind: ModelKind, transform: ((Float) -> Float)? = nil,
    rowsByUser: Bool = true, threads: Int = 1, handedOver: Bool = false, rowsOnly: Bool = false
  ) throws(MFError) {
    self.threads = threads
    self.handedOver = handedOver
    self.kind = kind
    let train: RatingSet
    var builtRows: SparseRatingMatrix? = nil
    var builtIndex: InteractionIndex? = nil
    switch kind {
    case .rating:
      let dropped: Int
      if transform == nil && rowsByUser {
        // One ordering finds the repeated pairs and gives the rows by user.
        let sorted = input.removingDuplicatesWithRowsByUser(threads: threads)
        (train, dropped, builtRows) = (sorted.ratings, sorted.dropped, sorted.byUser)
      } else if transform == nil {
        // The same ordering without the values: only the index is kept.
        let sorted = input.removingDuplicatesWithItemsByUser(threads: threads)
        (train, dropped) = (sorted.ratings, sorted.dropped)
        builtIndex = InteractionIndex(rowStart: sorted.rowStart, items: sorted.items)
      } else {
        (train, dropped) = input.removingDuplicates()
      }
      guard train.count > 0 else { throw .invalidInput("there are no training ratings") }
      duplicates = DuplicateReport(count: dropped, policy: .keepLast)
    case .ranking:
      let merged: Int
      (train, merged) = input.summingDuplicates()
      guard train.count > 0 else { throw .invalidInput("there are no training interactions") }
      if let bad = train.values.firstIndex(where: { !($0 >= 0) }) {
        throw .invalidInput(
          "implicit feedback needs values ≥ 0 (counts or strengths), but user"
            + " '\(train.users.ids[Int(train.userIndices[bad])])' has \(train.values[bad]) for item"
            + " '\(train.items.ids[Int(train.itemIndices[bad])])'")
      }
      duplicates = DuplicateReport(count: merged, policy: .sum)
    }
    // From here `train` holds the columns (the same storage as `input` when nothing was
    // dropped): ending `input` leaves this object their only holder when they were handed over.
    _ = consume input
    ratings = train
    ratingCount = train.count
    (mean, range, meanSquaredDeviation) = Self.valueStatistics(train.values, threads: threads)
    let values = transform.map { train.values.map($0) } ?? train.values
    trainingValues = values
    if rowsByUser && builtRows == nil {
      builtRows = SparseRatingMatrix(train, .byUser, values: values, threads: threads)
    }
    seen =
      builtRows.map { InteractionIndex($0) } ?? builtIndex
      ?? InteractionIndex(SparseRatingMatrix(train, .byUser, threads: threads))
    if let builtRows {
      byUser = builtRows
      if handedOver && rowsOnly { dropRatings() }
    }
  }

  /// μ, the smallest and largest value and the mean of (r − μ)², in one pass on `threads`
  /// threads. Sums are taken in Double over fixed chunks added in order, so they do not depend
  /// on the thread count; Σ(r − μ)² comes from Σr² − 2μΣr + nμ², exact enough in Double for
  /// values of any rating scale (the terms are ~10² n, the result ~n).
  static func valueStatistics(_ values: [Float], threads: Int) -> (
    mean: Float, range: ClosedRange<Float>, meanSquaredDeviation: Double
  ) {
    let n = values.count
    guard n > 0 else { return (0, 0 ... 0, 0) }
    let chunks = max(1, min(64, n / 65_536))
    var partial = [(sum: Double, squares: Double, low: Float, high: Float)](
      repeating: (0, 0, .infinity, -.infinity), count: chunks)
    values.withSharedReadPointer { values in
      partial.withSharedPointer { out in
        Parallel.forEach(chunks, threads: threads) { c in
          // Two chains of additions each, not one: the pass was bound by the additions' latency.
          var (sum0, sum1, squares0, squares1) = (0.0, 0.0, 0.0, 0.0)
          var (low, high) = (Float.infinity, -Float.infinity)
          let end = (c + 1) * n / chunks
          var m = c * n / chunks
          while m + 2 <= end {
            let (a, b) = (values[m], values[m + 1])
            let (x, y) = (Double(a), Double(b))
            sum0 += x
            sum1 += y
            squares0 += x * x
            squares1 += y * y
            low = min(low, min(a, b))
            high = max(high, max(a, b))
            m += 2
          }
          if m < end {
            let v = values[m]
            sum0 += Double(v)
            squares0 += Double(v) * Double(v)
            low = min(low, v)
            high = max(high, v)
          }
          out[c] = (sum0 + sum1, squares0 + squares1, low, high)
        }
      }
    }
    let sum = partial.reduce(0.0) { $0 + $1.sum }
    let squares = partial.reduce(0.0) { $0 + $1.squares }
    let mean = Float(sum / Double(n))
    let mu = Double(mean)
    let deviation = max(0, (squares - 2 * mu * sum + Double(n) * mu * mu) / Double(n))
    return (mean, partial.map(\.low).min()! ... partial.map(\.high).max()!, deviation)
  }

  var userCount: Int { ratings.users.count }
  var itemCount: Int { ratings.items.count }

  /// The ratings, taken out of this object for a solver that reads them once while it sets up
  /// and never again (SGD builds its blocked copy from them), or `nil` when the caller did not
  /// hand them over (the solver then reads ``ratings``, which stay). Once taken, only their id
  /// maps are left here, and the sparse forms can no longer be built.
  func takeRatings() -> RatingSet? {
    guard handedOver, !ratingsTaken else { return nil }
    let taken = ratings
    dropRatings()
    return taken
  }

  /// Leaves only the ratings' id maps here.
  private func dropRatings() {
    ratingsTaken = true
    ratings = RatingSet(
      users: ratings.users, items: ratings.items, userIndices: [], itemIndices: [], values: [])
    trainingValues = []
  }
}

// MARK: - Pinned for parallel sections

extension RatingSet {
  /// Runs `body` with the user indices, item indices and values pinned for a parallel section.
  func withSharedColumns<R>(
    _ body: (SharedReadPointer<Int32>, SharedReadPointer<Int32>, SharedReadPointer<Float>) -> R
  ) -> R {
    withSharedReadPointers(userIndices, itemIndices, values, body)
  }
}

extension SparseRatingMatrix {
  /// Runs `body` with the row offsets, column indices and values pinned for a parallel section.
  func withSharedRows<R>(
    _ body: (SharedReadPointer<Int>, SharedReadPointer<Int32>, SharedReadPointer<Float>) -> R
  ) -> R {
    withSharedReadPointers(rowStart, columns, values, body)
  }
}
