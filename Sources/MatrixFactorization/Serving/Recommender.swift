@_spi(Engine) import LinearAlgebra
import RatingData

/// One ranked item.
public struct RankedItem: Sendable, Equatable {
  /// Dense item index.
  public var index: Int
  /// Raw item id.
  public var id: String
  /// The ranking score (see the method that produced it).
  public var score: Float
}

extension FactorModel {
  /// The `count` best items for `user` by predicted rating, best first.
  ///
  /// Scores are μ + b_u + b_i + p_u·q_i, unclamped (clamping would tie every item above the
  /// top of the scale). All item scores come from one BLAS `sgemv`, Q·p_u, plus the biases.
  ///
  /// - Parameters:
  ///   - excludeSeen: leave out the items the user rated in training.
  ///   - candidates: rank only these item indices (nil: the whole catalogue).
  public func recommend(
    user: Int, count: Int, excludeSeen: Bool = true, candidates: [Int]? = nil
  ) -> [RankedItem] {
    checkUser(user)
    let k = rank
    var scores = [Float](repeating: 0, count: itemCount)
    withSharedReadPointers(userFactors.values, itemFactors.values) { p, q in
      BLAS.gemv(
        transpose: false, m: itemCount, n: k, alpha: 1, a: q.base, lda: k, x: p.base + user * k,
        beta: 0, y: &scores)
    }
    let base = globalMean + userBias[user]
    var excluded = [Bool](repeating: false, count: itemCount)
    if excludeSeen { for i in seen.items(of: user) { excluded[Int(i)] = true } }
    var top = TopK(min(count, itemCount))
    if let candidates {
      for i in candidates where i >= 0 && i < itemCount && !excluded[i] {
        top.insert(scores[i] + itemBias[i] + base, i)
      }
    } else {
      for i in 0 ..< itemCount where !excluded[i] { top.insert(scores[i] + itemBias[i] + base, i) }
    }
    return top.sorted().map { RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score) }
  }

  /// The `count` items most similar to `item` by cosine similarity of item embeddings,
  /// cos(q_i, q_j) = q_i·q_j / (‖q_i‖‖q_j‖), most similar first; the item itself and items whose
  /// embedding is zero are left out. The dot products come from one `sgemv`. A Bayesian model
  /// compares the posterior means of the embeddings (``itemEmbeddings``).
  public func similarItems(to item: Int, count: Int) -> [RankedItem] {
    checkItem(item)
    return FactorModel.cosineNeighbours(of: item, in: itemEmbeddings, count: count).map {
      RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score)
    }
  }
}

/// A ranked list for a user given by raw id, and what it was computed from.
public struct Recommendations: Sendable, Equatable {
  /// The items, best first.
  public var items: [RankedItem]
  /// ``PredictionSource/model`` for a known user; ``PredictionSource/itemBaseline`` when the
  /// user is unknown and items are ranked by baseline (see
  /// ``FactorModel/recommendForUnknownUser(count:candidates:)``).
  public var source: PredictionSource
}

extension FactorModel {
  /// The `count` best items for the user with raw id `userID` (see
  /// ``recommend(user:count:excludeSeen:candidates:)``); a user the model does not know gets
  /// the baseline ranking of ``recommendForUnknownUser(count:candidates:)``, as
  /// ``predict(userID:itemID:)`` falls back to the baseline.
  public func recommend(userID: String, count: Int, excludeSeen: Bool = true) -> Recommendations {
    if let u = users.index(of: userID) {
      return Recommendations(
        items: recommend(user: Int(u), count: count, excludeSeen: excludeSeen), source: .model)
    }
    return Recommendations(items: recommendForUnknownUser(count: count), source: .itemBaseline)
  }

  /// The `count` items most similar to the item with raw id `itemID` (see
  /// ``similarItems(to:count:)``).
  public func similarItems(toID itemID: String, count: Int) throws(MFError) -> [RankedItem] {
    guard let i = items.index(of: itemID) else { throw .unknownID(kind: "item", id: itemID) }
    return similarItems(to: Int(i), count: count)
  }

  /// Stops with a clear message when `user` is not a user index of this model (a programming
  /// error: raw ids go through ``users``).
  @inlinable
  public func checkUser(_ user: Int) {
    precondition(user >= 0 && user < userCount, "user index \(user) is outside the model's 0..<\(userCount)")
  }

  /// Stops with a clear message when `item` is not an item index of this model.
  @inlinable
  public func checkItem(_ item: Int) {
    precondition(item >= 0 && item < itemCount, "item index \(item) is outside the model's 0..<\(itemCount)")
  }
}

extension FactorModel {
  /// The `count` items with the highest baseline μ + b_i, for a user the model does not know.
  /// Implicit ALS models have no biases; they rank by popularity (training interactions), the
  /// score being that count.
  public func recommendForUnknownUser(count: Int, candidates: [Int]? = nil) -> [RankedItem] {
    var baseline = itemBias.map { globalMean + $0 }
    if summary.options.algorithm == .implicitALS {
      baseline = [Float](repeating: 0, count: itemCount)
      for i in seen.items { baseline[Int(i)] += 1 }
    }
    var top = TopK(min(count, itemCount))
    for i in candidates ?? Array(0 ..< itemCount) where i >= 0 && i < itemCount {
      top.insert(baseline[i], i)
    }
    return top.sorted().map { RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score) }
  }
}

extension FactorModel {
  /// The `count` users most similar to `user` by cosine similarity of user embeddings, most
  /// similar first; the user itself and users with a zero embedding are left out. A Bayesian
  /// model compares the posterior means of the embeddings (``userEmbeddings``).
  public func similarUsers(to user: Int, count: Int) -> [RankedItem] {
    checkUser(user)
    return FactorModel.cosineNeighbours(of: user, in: userEmbeddings, count: count).map {
      RankedItem(index: $0.index, id: users.ids[$0.index], score: $0.score)
    }
  }

  /// The rows of `table` closest to row `row` by cosine similarity (one `sgemv` for the dots).
  static func cosineNeighbours(of row: Int, in table: Matrix, count: Int) -> [(score: Float, index: Int)] {
    let k = table.columns
    let n = table.rows
    let norms = table.rowNorms()
    var dots = [Float](repeating: 0, count: n)
    table.values.withSharedReadPointer { t in
      BLAS.gemv(
        transpose: false, m: n, n: k, alpha: 1, a: t.base, lda: k, x: t.base + row * k, beta: 0,
        y: &dots)
    }
    var top = TopK(min(count, n))
    let own = norms[row]
    if own > 0 {
      for j in 0 ..< n where j != row && norms[j] > 0 { top.insert(dots[j] / (own * norms[j]), j) }
    }
    return top.sorted()
  }
}
