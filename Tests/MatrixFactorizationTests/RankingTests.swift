import Foundation
import MatrixFactorization
import Testing

@Suite struct RankingMeasureTests {
  // Ranked [3, 1, 4, 5, 9], relevant {1, 5, 7}, k = 5: hits at places 2 and 4.
  let ranked = [3, 1, 4, 5, 9]
  let relevant: Set<Int> = [1, 5, 7]

  @Test func handComputedExample() {
    #expect(RankingMeasures.precision(ranked, relevant: relevant, k: 5) == 0.4)
    #expect(abs(RankingMeasures.recall(ranked, relevant: relevant, k: 5) - 2.0 / 3) < 1e-12)
    // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4).
    let dcg = 1 / log2(3.0) + 1 / log2(5.0)
    let idcg = 1 + 1 / log2(3.0) + 0.5
    #expect(abs(RankingMeasures.ndcg(ranked, relevant: relevant, k: 5) - dcg / idcg) < 1e-12)
    #expect(abs(RankingMeasures.ndcg(ranked, relevant: relevant, k: 5) - 0.498189) < 1e-6)
    // AP = (1/2 + 2/4) / min(3, 5).
    #expect(abs(RankingMeasures.averagePrecision(ranked, relevant: relevant, k: 5) - 1.0 / 3) < 1e-12)
    // k = 2: one hit at place 2.
    #expect(RankingMeasures.precision(ranked, relevant: relevant, k: 2) == 0.5)
    #expect(abs(RankingMeasures.averagePrecision(ranked, relevant: relevant, k: 2) - 0.25) < 1e-12)
  }

  @Test func perfectAndEmptyLists() {
    #expect(RankingMeasures.ndcg([1, 5, 7], relevant: relevant, k: 3) == 1)
    #expect(RankingMeasures.averagePrecision([1, 5, 7], relevant: relevant, k: 3) == 1)
    #expect(RankingMeasures.ndcg([2, 3], relevant: relevant, k: 2) == 0)
    #expect(RankingMeasures.recall([], relevant: [], k: 2) == 0)
  }

  @Test func aucCountsOrderedPairsAndHalfTies() {
    // Relevant 0.9 beats 0.7, 0.5, 0.1 (3); relevant 0.5 loses to 0.7, ties 0.5, beats 0.1 (1.5).
    let a = RankingMeasures.auc(relevantScores: [0.9, 0.5], otherScores: [0.7, 0.5, 0.1])
    #expect(a == 4.5 / 6)
    #expect(RankingMeasures.auc(relevantScores: [], otherScores: [1]) == nil)
    #expect(RankingMeasures.auc(relevantScores: [1], otherScores: []) == nil)
  }

  /// Property: the O(n log r) AUC equals the O(n·r) pair count on random scores with ties.
  @Test func aucMatchesPairCounting() {
    var rng = SeededGenerator(seed: 99)
    for _ in 0 ..< 200 {
      let pos = (0 ..< 1 + rng.nextIndex(below: 6)).map { _ in Float(rng.nextIndex(below: 8)) }
      let neg = (0 ..< 1 + rng.nextIndex(below: 9)).map { _ in Float(rng.nextIndex(below: 8)) }
      var pairs = 0.0
      for p in pos { for n in neg { pairs += p > n ? 1 : (p == n ? 0.5 : 0) } }
      let expected = pairs / Double(pos.count * neg.count)
      #expect(abs(RankingMeasures.auc(relevantScores: pos, otherScores: neg)! - expected) < 1e-12)
    }
  }
}

@Suite struct RankingEvaluationTests {
  /// Two users, five items, rank 1: scores are p_u·q_i, so the ranking is known by hand.
  func handModel() throws -> FactorModel {
    let users = try IDMap(ids: ["a", "b"])
    let items = try IDMap(ids: ["i0", "i1", "i2", "i3", "i4"])
    var options = TrainingOptions.defaults(for: .implicitALS, rank: 1)
    options.threads = 1
    return FactorModel(
      kind: .ranking, globalMean: 0, userBias: [0, 0], itemBias: [0, 0, 0, 0, 0],
      userFactors: Matrix(rows: 2, columns: 1, values: [1, -1]),
      itemFactors: Matrix(rows: 5, columns: 1, values: [5, 4, 3, 2, 1]),
      users: users, items: items, ratingRange: 1 ... 1,
      // a has i0 in training (its best item); b has i4 (its best item).
      seen: InteractionIndex(rowStart: [0, 1, 2], items: [0, 4]),
      summary: TrainingSummary(
        options: options, epochsRun: 1, keptEpoch: 1, trainingRatings: 2, trainRMSE: nil,
        validationRMSE: nil, seconds: 0))
  }

  @Test func handComputedEvaluationExcludesTrainingItems() throws {
    let model = try handModel()
    // a's ranking without i0: i1, i2, i3, i4. b's without i4: i3, i2, i1, i0.
    let users = try IDMap(ids: ["a", "b", "stranger"])
    let items = try IDMap(ids: ["i2", "i0", "i3", "nope"])
    let test = RatingSet(
      users: users, items: items,
      userIndices: [0, 0, 1, 2, 1], itemIndices: [0, 1, 2, 0, 3], values: [1, 1, 1, 1, 1])
    let r = try RankingEvaluation.evaluate(model, on: test, k: 2, threads: 1)
    // a: relevant {i2} (i0 is a training item: dropped); top-2 = [i1, i2] → hit at place 2.
    // b: relevant {i3} (the unknown item is dropped); top-2 = [i3, i2] → hit at place 1.
    #expect(r.users == 2 && r.unknownUsers == 1 && r.droppedPairs == 2)
    #expect(r.precision == 0.5)  // (1/2 + 1/2) / 2
    #expect(r.recall == 1)
    #expect(abs(r.ndcg - (1 / log2(3.0) + 1) / 2) < 1e-12)
    #expect(abs(r.map - (0.5 + 1) / 2) < 1e-12)
    // a: i2 beats i3, i4 but loses to i1 → 2/3; b: i3 beats all 3 others → 1.
    #expect(abs(r.auc - (2.0 / 3 + 1) / 2) < 1e-12)
    // Recommended: a {i1, i2}, b {i3, i2} → 3 of 5 items.
    #expect(abs(r.coverage - 0.6) < 1e-12)
  }

  @Test func thresholdSelectsRelevantRatings() throws {
    let model = try handModel()
    let users = try IDMap(ids: ["a"])
    let items = try IDMap(ids: ["i1", "i4"])
    let test = RatingSet(users: users, items: items, userIndices: [0, 0], itemIndices: [0, 1], values: [2, 5])
    let r = try RankingEvaluation.evaluate(model, on: test, k: 1, relevanceThreshold: 4, threads: 1)
    // Only i4 (rated 5) is relevant, and a's top-1 is i1: no hit.
    #expect(r.users == 1 && r.precision == 0 && r.recall == 0)
  }

  @Test func evaluationDoesNotDependOnThreads() throws {
    let data = plantedInteractions(users: 300, items: 90, rank: 3, perUser: 10, testPerUser: 3, seed: 2)
    let model = try Trainer.fit(data.train, options: implicitOptions()).model
    let one = try RankingEvaluation.evaluate(model, on: data.test, k: 10, threads: 1)
    let two = try RankingEvaluation.evaluate(model, on: data.test, k: 10, threads: 2)
    #expect(one == two)
    #expect(one.ndcg > 0.2, "planted structure should be found, NDCG \(one.ndcg)")
  }
}

@Suite struct BatchServingTests {
  @Test func recommendAllMatchesOneUserAtATimeAndExcludesSeen() throws {
    let model = try smallModel(rank: 4)
    let all = model.recommendAll(users: Array(0 ..< model.userCount), count: 5, threads: 2)
    #expect(all.count == model.userCount)
    for u in 0 ..< model.userCount {
      let single = model.recommend(user: u, count: 5)
      #expect(all[u].map(\.index) == single.map(\.index), "user \(u)")
      for (a, b) in zip(all[u], single) { #expect(abs(a.score - b.score) < 1e-4) }
      let seen = Set(model.seen.items(of: u).map(Int.init))
      #expect(all[u].allSatisfy { !seen.contains($0.index) })
    }
    let candidates = [1, 2, 3]
    let restricted = model.recommendAll(users: [0, 5], count: 10, excludeSeen: false, candidates: candidates, threads: 1)
    #expect(restricted.allSatisfy { Set($0.map(\.index)) == Set(candidates) })
  }

  @Test func similarUsersMatchesBruteForceCosine() throws {
    let model = try smallModel(rank: 4)
    let got = model.similarUsers(to: 3, count: 5)
    let me = model.userFactors.row(3)
    func cosine(_ a: [Float], _ b: [Float]) -> Float {
      let dot = zip(a, b).map(*).reduce(0, +)
      return dot / (a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot())
    }
    let expected = (0 ..< model.userCount).filter { $0 != 3 }
      .map { (cosine(me, model.userFactors.row($0)), $0) }
      .sorted { $0.0 > $1.0 }.prefix(5)
    #expect(got.map(\.index) == expected.map(\.1))
  }
}
