@_spi(Engine) import LinearAlgebra
import RatingData

/// Top-N ranking quality of a model on held-out interactions, averaged over users.
public struct RankingReport: Sendable, Equatable {
  /// The list length k.
  public var k: Int
  /// Mean precision@k.
  public var precision: Double
  /// Mean recall@k.
  public var recall: Double
  /// Mean NDCG@k.
  public var ndcg: Double
  /// Mean average precision@k (MAP@k).
  public var map: Double
  /// Mean per-user AUC over users that have both relevant and non-relevant candidates.
  public var auc: Double
  /// Distinct items in all the top-k lists, as a fraction of the catalogue.
  public var coverage: Double
  /// Users evaluated (known to the model, with at least one relevant held-out item).
  public var users: Int
  /// Held-out users the model does not know (not evaluated).
  public var unknownUsers: Int
  /// Held-out relevant pairs left out: unknown items, or items the user already has in
  /// training (those are excluded from the ranking, so they cannot be hits).
  public var droppedPairs: Int
}

/// Ranking evaluation (the protocol is in the README, "Top-N recommendations").
public enum RankingEvaluation {
  /// Ranks every candidate item for each test user and scores the top `k`.
  ///
  /// For each user of `test` that the model knows, the relevant items are their held-out items
  /// (with value ≥ `relevanceThreshold` when one is given); candidates are all items except
  /// those the user has in training (``FactorModel/seen``), which are never recommended. Scores
  /// come in `sgemm` blocks (``FactorModel/forEachUserScores(_:threads:_:)``).
  public static func evaluate(
    _ model: FactorModel, on test: RatingSet, k: Int, relevanceThreshold: Float? = nil,
    threads: Int? = nil
  ) throws(MFError) -> RankingReport {
    guard k >= 1 else { throw .invalidParameter(.listLength, requirement: "must be at least 1, got \(k)") }
    // Map test ids into the model's index space and group relevant items by user.
    let userMap = test.users.ids.map { model.users.index(of: $0).map(Int.init) ?? -1 }
    let itemMap = test.items.ids.map { model.items.index(of: $0).map(Int.init) ?? -1 }
    var relevant: [Int: Set<Int>] = [:]
    var unknownUsers = Set<Int32>()
    var dropped = 0
    for n in 0 ..< test.count {
      if let t = relevanceThreshold, !(test.values[n] >= t) { continue }
      let u = userMap[Int(test.userIndices[n])]
      if u < 0 {
        unknownUsers.insert(test.userIndices[n])
        continue
      }
      let i = itemMap[Int(test.itemIndices[n])]
      if i < 0 || model.seen.items(of: u).contains(Int32(i)) {
        dropped += 1
        continue
      }
      relevant[u, default: []].insert(i)
    }
    let users = relevant.keys.sorted()
    let m = model.itemCount
    let wanted = min(k, m)

    // Per-user results, written by position from the workers.
    struct UserResult {
      var precision = 0.0, recall = 0.0, ndcg = 0.0, map = 0.0
      var auc: Double? = nil
      var top: [Int] = []
    }
    var results = [UserResult](repeating: UserResult(), count: users.count)
    let seen = model.seen
    let relevantByPosition = users.map { relevant[$0]! }
    results.withSharedPointer { out in
      model.forEachUserScores(users, threads: threads ?? Parallel.defaultThreads) { position, u, scores in
        let rel = relevantByPosition[position]
        for i in seen.items(of: u) { scores[Int(i)] = -.infinity }
        var top = TopK(wanted)
        for i in 0 ..< m where scores[i] > -.infinity { top.insert(scores[i], i) }
        let ranked = top.sorted().map(\.index)
        let relevantScores = rel.map { scores[$0] }
        let others = (0 ..< m).lazy.filter { scores[$0] > -.infinity && !rel.contains($0) }.map { scores[$0] }
        (out.base + position).pointee = UserResult(
          precision: RankingMeasures.precision(ranked, relevant: rel, k: k),
          recall: RankingMeasures.recall(ranked, relevant: rel, k: k),
          ndcg: RankingMeasures.ndcg(ranked, relevant: rel, k: k),
          map: RankingMeasures.averagePrecision(ranked, relevant: rel, k: k),
          auc: RankingMeasures.auc(relevantScores: relevantScores, otherScores: others),
          top: ranked)
      }
    }
    // Averages in user order, so the figures do not depend on the thread count.
    var report = RankingReport(
      k: k, precision: 0, recall: 0, ndcg: 0, map: 0, auc: 0, coverage: 0, users: users.count,
      unknownUsers: unknownUsers.count, droppedPairs: dropped)
    var recommended = [Bool](repeating: false, count: m)
    var aucUsers = 0
    for r in results {
      report.precision += r.precision
      report.recall += r.recall
      report.ndcg += r.ndcg
      report.map += r.map
      if let a = r.auc {
        report.auc += a
        aucUsers += 1
      }
      for i in r.top { recommended[i] = true }
    }
    let n = Double(max(1, users.count))
    report.precision /= n
    report.recall /= n
    report.ndcg /= n
    report.map /= n
    report.auc /= Double(max(1, aucUsers))
    report.coverage = m > 0 ? Double(recommended.lazy.filter { $0 }.count) / Double(m) : 0
    return report
  }
}
