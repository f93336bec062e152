@_spi(Engine) import LinearAlgebra
import RatingData

/// How a fit's factors start.
package enum FactorInitialization {
  /// p, q ~ N(0, (scale/√k)²), biases 0 (Funk/Koren SGD, ALS, BPR).
  case gaussian(scale: Float)
  /// p, q ~ U[0, scale), biases 0, as `implicit` starts implicit ALS. P and Q are drawn from
  /// separate streams, so Q's start does not depend on the number of users: two fits that differ
  /// by a few users start from the same item table (which folding in a user relies on).
  case uniform(scale: Float)
}

/// The parameters while they are trained: P, Q, b_u and b_i, each a ``RowTable``.
///
/// Solvers read and write them through the tables' views; the training loop snapshots them for
/// early stopping, checks them for divergence, and copies them into the model at the end.
package final class FactorTables: @unchecked Sendable {
  package let userCount: Int
  package let itemCount: Int
  package let rank: Int
  /// P: one row of `rank` per user.
  package let p: RowTable
  /// Q: one row of `rank` per item.
  package let q: RowTable
  /// b_u (one value per user).
  package let userBias: RowTable
  /// b_i (one value per item).
  package let itemBias: RowTable
  /// SVD++'s implicit item factors Y (one row of `rank` per item), for the solvers that train
  /// them; `nil` for the others. They start at 0 and draw nothing from the seed, so P and Q
  /// start as they do for every other algorithm.
  package let y: RowTable?

  package init(
    users: Int, items: Int, rank: Int, initialization: FactorInitialization, seed: UInt64,
    threads: Int = 1, implicitItemFactors: Bool = false
  ) {
    userCount = users
    itemCount = items
    self.rank = rank
    y = implicitItemFactors ? RowTable(rows: items, width: rank) : nil
    userBias = RowTable(rows: users, width: 1)
    itemBias = RowTable(rows: items, width: 1)
    let draws = Self.startingDraws(initialization, seed: seed, users: users, rank: rank)
    self.draws = draws
    self.threads = threads
    // P and Q are written once, by the threads that draw them (no zero-fill first, and the pages
    // are first touched in parallel).
    p = RowTable(rows: users, width: rank, threads: threads, fillRange: draws.p)
    q = RowTable(rows: items, width: rank, threads: threads, fillRange: draws.q)
  }

  typealias RangeFill = RowTable.RangeFill
  /// The start's draws, kept so that ``restart()`` can make them again (`nil` for tables made
  /// from given values, which are models, not trained).
  private let draws: (p: RangeFill, q: RangeFill)?
  private let threads: Int

  /// Entry j of a table is drawn from its stream's draws at j's own offset (one per pair of
  /// Gaussians, one per uniform), so the tables fill in parallel and are the same for any thread
  /// count: exactly what one generator drawing P then Q entry by entry gives.
  private static func startingDraws(
    _ initialization: FactorInitialization, seed: UInt64, users: Int, rank: Int
  ) -> (p: RangeFill, q: RangeFill) {
    let root = SeededGenerator(seed: seed ^ 0x1A17_FAC7)
    switch initialization {
    case .gaussian(let scale):
      let sigma = scale / Float(rank).squareRoot()
      let itemStream = root.advanced(by: (users * rank + 1) / 2)
      return (
        // Entries 2m and 2m + 1 are the Gaussian pair of the stream's draw m.
        { range, out in root.fillGaussian(out, entries: range, sigma: sigma) },
        { range, out in itemStream.fillGaussian(out, entries: range, sigma: sigma) }
      )
    case .uniform(let scale):
      let (userStream, itemStream) = (root.split(0), root.split(1))
      let scale = Double(scale)
      return (
        { range, out in
          var rng = userStream.advanced(by: range.lowerBound)
          for j in range { out[j] = Float(scale * rng.nextUnit()) }
        },
        { range, out in
          var rng = itemStream.advanced(by: range.lowerBound)
          for j in range { out[j] = Float(scale * rng.nextUnit()) }
        }
      )
    }
  }

  /// Puts every table back as `init` left it: P and Q drawn again from the same streams, the
  /// biases and Y at 0. For a fit that starts over: it restores what a snapshot taken after
  /// `init` would, without holding that copy (the size of P and Q) through every fit.
  package func restart() {
    guard let draws else { preconditionFailure("tables made from given values have no start to go back to") }
    p.fill(threads: threads, draws.p)
    q.fill(threads: threads, draws.q)
    for table in [userBias, itemBias] + (y.map { [$0] } ?? []) { table.fill { _ in 0 } }
  }

  /// Tables holding the given values (row-major P and Q of width `rank`).
  init(rank: Int, p: [Float], q: [Float], userBias: [Float], itemBias: [Float]) {
    userCount = userBias.count
    itemCount = itemBias.count
    self.rank = rank
    self.p = RowTable(rows: userCount, width: rank, values: p)
    self.q = RowTable(rows: itemCount, width: rank, values: q)
    self.userBias = RowTable(rows: userCount, width: 1, values: userBias)
    self.itemBias = RowTable(rows: itemCount, width: 1, values: itemBias)
    self.y = nil
    draws = nil
    threads = 1
  }

  /// A copy of the parameters.
  package struct Snapshot: Equatable {
    package var p: [Float]
    package var q: [Float]
    package var userBias: [Float]
    package var itemBias: [Float]
    /// Y, or empty when the tables have none.
    package var y: [Float] = []
  }

  package func snapshot() -> Snapshot {
    var s = Snapshot(p: [], q: [], userBias: [], itemBias: [])
    p.copy(into: &s.p, threads: threads)
    q.copy(into: &s.q, threads: threads)
    userBias.copy(into: &s.userBias)
    itemBias.copy(into: &s.itemBias)
    if let y { y.copy(into: &s.y, threads: threads) }
    return s
  }

  /// Takes a snapshot into `s`, reusing its arrays.
  package func snapshot(into s: inout Snapshot?) {
    guard var taken = s else {
      s = snapshot()
      return
    }
    s = nil  // `taken` is then the arrays' only owner: updated in place, not copied.
    p.copy(into: &taken.p, threads: threads)
    q.copy(into: &taken.q, threads: threads)
    userBias.copy(into: &taken.userBias)
    itemBias.copy(into: &taken.itemBias)
    y?.copy(into: &taken.y, threads: threads)
    s = taken
  }

  /// Puts a snapshot's parameters back.
  package func restore(_ s: Snapshot) {
    p.assign(s.p)
    q.assign(s.q)
    userBias.assign(s.userBias)
    itemBias.assign(s.itemBias)
    y?.assign(s.y)
  }

  /// Whether every parameter is finite (a diverged run shows up as NaN or ±inf).
  package func allFinite() -> Bool {
    p.allFinite() && q.allFinite() && userBias.allFinite() && itemBias.allFinite()
      && (y?.allFinite() ?? true)
  }
}
