@_spi(Engine) import LinearAlgebra
import RatingData

/// How a fit's factors start.
enum FactorInitialization {
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
final class FactorTables: @unchecked Sendable {
  let userCount: Int
  let itemCount: Int
  let rank: Int
  /// P: one row of `rank` per user.
  let p: RowTable
  /// Q: one row of `rank` per item.
  let q: RowTable
  /// b_u (one value per user).
  let userBias: RowTable
  /// b_i (one value per item).
  let itemBias: RowTable
  /// SVD++'s implicit item factors Y (one row of `rank` per item), for the solvers that train
  /// them; `nil` for the others. They start at 0 and draw nothing from the seed, so P and Q
  /// start as they do for every other algorithm.
  let y: RowTable?

  init(
    users: Int, items: Int, rank: Int, initialization: FactorInitialization, seed: UInt64,
    threads: Int = 1, implicitItemFactors: Bool = false
  ) {
    userCount = users
    itemCount = items
    self.rank = rank
    y = implicitItemFactors ? RowTable(rows: items, width: rank) : nil
    p = RowTable(rows: users, width: rank)
    q = RowTable(rows: items, width: rank)
    userBias = RowTable(rows: users, width: 1)
    itemBias = RowTable(rows: items, width: 1)
    // Entry j of a table is drawn from its stream's draws at j's own offset (one per pair of
    // Gaussians, one per uniform), so the tables fill in parallel and are the same for any thread
    // count: exactly what one generator drawing P then Q entry by entry gives.
    switch initialization {
    case .gaussian(let scale):
      let root = SeededGenerator(seed: seed ^ 0x1A17_FAC7)
      let sigma = scale / Float(rank).squareRoot()
      p.fill(threads: threads) { range, out in Self.fillGaussian(range, out, sigma: sigma, stream: root) }
      q.fill(threads: threads) { range, out in
        Self.fillGaussian(range, out, sigma: sigma, stream: root.advanced(by: (users * rank + 1) / 2))
      }
    case .uniform(let scale):
      let root = SeededGenerator(seed: seed ^ 0x1A17_FAC7)
      let (userStream, itemStream) = (root.split(0), root.split(1))
      let scale = Double(scale)
      p.fill(threads: threads) { range, out in
        var rng = userStream.advanced(by: range.lowerBound)
        for j in range { out[j] = Float(scale * rng.nextUnit()) }
      }
      q.fill(threads: threads) { range, out in
        var rng = itemStream.advanced(by: range.lowerBound)
        for j in range { out[j] = Float(scale * rng.nextUnit()) }
      }
    }
  }

  /// Entries `range` of a table of N(0, σ²) deviates: entries 2m and 2m + 1 are the pair that
  /// draw m of `stream` gives (``SeededGenerator/nextGaussianPair()``), so a range may start
  /// and end anywhere and any split of the table fills it the same. One draw and three `Float`
  /// transcendentals per two entries: a fifth of the time of a Double Box–Muller per entry,
  /// which was a whole SGD epoch's time at 22.5M ratings.
  private static func fillGaussian(
    _ range: Range<Int>, _ out: UnsafeMutablePointer<Float>, sigma: Float, stream: SeededGenerator
  ) {
    guard !range.isEmpty else { return }
    var rng = stream.advanced(by: range.lowerBound >> 1)
    var j = range.lowerBound
    if j & 1 == 1 {
      out[j] = sigma * rng.nextGaussianPair().1
      j += 1
    }
    while j + 1 < range.upperBound {
      let (a, b) = rng.nextGaussianPair()
      out[j] = sigma * a
      out[j + 1] = sigma * b
      j += 2
    }
    if j < range.upperBound { out[j] = sigma * rng.nextGaussianPair().0 }
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
  }

  /// A copy of the parameters.
  struct Snapshot {
    var p: [Float]
    var q: [Float]
    var userBias: [Float]
    var itemBias: [Float]
    /// Y, or empty when the tables have none.
    var y: [Float] = []
  }

  func snapshot() -> Snapshot {
    Snapshot(
      p: p.values, q: q.values, userBias: userBias.values, itemBias: itemBias.values,
      y: y?.values ?? [])
  }

  /// Takes a snapshot into `s`, reusing its arrays.
  func snapshot(into s: inout Snapshot?) {
    guard var taken = s else {
      s = snapshot()
      return
    }
    s = nil  // `taken` is then the arrays' only owner: updated in place, not copied.
    p.copy(into: &taken.p)
    q.copy(into: &taken.q)
    userBias.copy(into: &taken.userBias)
    itemBias.copy(into: &taken.itemBias)
    y?.copy(into: &taken.y)
    s = taken
  }

  /// Puts a snapshot's parameters back.
  func restore(_ s: Snapshot) {
    p.assign(s.p)
    q.assign(s.q)
    userBias.assign(s.userBias)
    itemBias.assign(s.itemBias)
    y?.assign(s.y)
  }

  /// Whether every parameter is finite (a diverged run shows up as NaN or ±inf).
  func allFinite() -> Bool {
    p.allFinite() && q.allFinite() && userBias.allFinite() && itemBias.allFinite()
      && (y?.allFinite() ?? true)
  }
}
