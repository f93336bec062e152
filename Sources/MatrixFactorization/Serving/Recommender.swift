import LinearAlgebra
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
    let k = rank
    var scores = [Float](repeating: 0, count: itemCount)
    userFactors.values.withUnsafeBufferPointer { p in
      BLAS.gemv(
        transpose: false, m: itemCount, n: k, alpha: 1, a: itemFactors.values, lda: k,
        x: p.baseAddress! + user * k, beta: 0, y: &scores)
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
  /// embedding is zero are left out. The dot products come from one `sgemv`.
  public func similarItems(to item: Int, count: Int) -> [RankedItem] {
    FactorModel.cosineNeighbours(of: item, in: itemFactors, count: count).map {
      RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score)
    }
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
  /// similar first; the user itself and users with a zero embedding are left out.
  public func similarUsers(to user: Int, count: Int) -> [RankedItem] {
    FactorModel.cosineNeighbours(of: user, in: userFactors, count: count).map {
      RankedItem(index: $0.index, id: users.ids[$0.index], score: $0.score)
    }
  }

  /// The rows of `table` closest to row `row` by cosine similarity (one `sgemv` for the dots).
  static func cosineNeighbours(of row: Int, in table: Matrix, count: Int) -> [(score: Float, index: Int)] {
    let k = table.columns
    let n = table.rows
    let norms = table.rowNorms()
    var dots = [Float](repeating: 0, count: n)
    table.values.withUnsafeBufferPointer { t in
      BLAS.gemv(
        transpose: false, m: n, n: k, alpha: 1, a: t.baseAddress!, lda: k,
        x: t.baseAddress! + row * k, beta: 0, y: &dots)
    }
    var top = TopK(min(count, n))
    let own = norms[row]
    if own > 0 {
      for j in 0 ..< n where j != row && norms[j] > 0 { top.insert(dots[j] / (own * norms[j]), j) }
    }
    return top.sorted()
  }
}
