#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// The top-N ranking measures of one user's list, as defined in the README ("Ranking
/// metrics"); each is a pure function so that tests can check it against a hand computation.
///
/// `ranked` is the recommended list, best first (length ≤ k); `relevant` holds the user's
/// held-out relevant items. All are averaged over users by ``RankingEvaluation``.
public enum RankingMeasures {
  /// Hits in the first `k` places, divided by k.
  public static func precision(_ ranked: [Int], relevant: Set<Int>, k: Int) -> Double {
    Double(hits(ranked, relevant, k)) / Double(k)
  }

  /// Hits in the first `k` places, divided by the number of relevant items.
  public static func recall(_ ranked: [Int], relevant: Set<Int>, k: Int) -> Double {
    relevant.isEmpty ? 0 : Double(hits(ranked, relevant, k)) / Double(relevant.count)
  }

  /// Normalized discounted cumulative gain with binary gains (Järvelin & Kekäläinen 2002):
  /// DCG = Σ_{r ≤ k, hit at r} 1/log₂(r + 1), divided by the DCG of an ideal list, which puts
  /// min(|relevant|, k) hits first.
  public static func ndcg(_ ranked: [Int], relevant: Set<Int>, k: Int) -> Double {
    var dcg = 0.0
    for (r, item) in ranked.prefix(k).enumerated() where relevant.contains(item) {
      dcg += 1 / log2(Double(r + 2))
    }
    var ideal = 0.0
    for r in 0 ..< min(relevant.count, k) { ideal += 1 / log2(Double(r + 2)) }
    return ideal > 0 ? dcg / ideal : 0
  }

  /// Average precision at k: Σ_{r ≤ k, hit at r} precision@r, divided by min(|relevant|, k)
  /// (so a list that puts every relevant item it can on top scores 1).
  public static func averagePrecision(_ ranked: [Int], relevant: Set<Int>, k: Int) -> Double {
    var found = 0
    var sum = 0.0
    for (r, item) in ranked.prefix(k).enumerated() where relevant.contains(item) {
      found += 1
      sum += Double(found) / Double(r + 1)
    }
    let denominator = min(relevant.count, k)
    return denominator > 0 ? sum / Double(denominator) : 0
  }

  /// The area under the ROC curve of one user: the fraction of (relevant, non-relevant) pairs of
  /// candidate items that the scores order correctly, ties counting one half. `nil` when either
  /// side is empty.
  ///
  /// O(n log r) for n candidates and r relevant items: the relevant scores are sorted once and
  /// each non-relevant score is located among them by binary search.
  public static func auc(relevantScores: [Float], otherScores: some Sequence<Float>) -> Double? {
    if relevantScores.isEmpty { return nil }
    let sorted = relevantScores.sorted()
    var correct = 0.0
    var negatives = 0
    for s in otherScores {
      negatives += 1
      let below = lowerBound(sorted, s)  // relevant scores < s
      let notAbove = upperBound(sorted, s)  // relevant scores ≤ s
      correct += Double(sorted.count - notAbove) + 0.5 * Double(notAbove - below)
    }
    if negatives == 0 { return nil }
    return correct / (Double(negatives) * Double(sorted.count))
  }

  static func hits(_ ranked: [Int], _ relevant: Set<Int>, _ k: Int) -> Int {
    ranked.prefix(k).reduce(0) { $0 + (relevant.contains($1) ? 1 : 0) }
  }

  /// First position whose value is ≥ x.
  static func lowerBound(_ a: [Float], _ x: Float) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
      let mid = (lo + hi) >> 1
      if a[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// First position whose value is > x.
  static func upperBound(_ a: [Float], _ x: Float) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
      let mid = (lo + hi) >> 1
      if a[mid] <= x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }
}
