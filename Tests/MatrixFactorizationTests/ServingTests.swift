import Foundation
import MatrixFactorization
import Testing

@Suite struct ServingTests {
  @Test func predictionIsTheModelEquationClamped() throws {
    let m = try smallModel()
    for (u, i) in [(0, 0), (3, 7), (39, 29)] {
      var expected = Double(m.globalMean) + Double(m.userBias[u]) + Double(m.itemBias[i])
      for f in 0 ..< m.rank { expected += Double(m.userFactors[u, f]) * Double(m.itemFactors[i, f]) }
      let clamped = min(max(expected, Double(m.ratingRange.lowerBound)), Double(m.ratingRange.upperBound))
      let p = m.predict(user: u, item: i)
      #expect(p.source == .model)
      #expect(abs(Double(p.value) - clamped) < 1e-5)
      #expect(m.predict(userID: m.users.ids[u], itemID: m.items.ids[i]) == p)
    }
  }

  @Test func unknownIDsFallBackToTheKnownBaseline() throws {
    let m = try smallModel()
    let item = m.predict(userID: "nobody", itemID: m.items.ids[2])
    #expect(item.source == .itemBaseline && item.value == m.clampToRange(m.globalMean + m.itemBias[2]))
    let user = m.predict(userID: m.users.ids[5], itemID: "nothing")
    #expect(user.source == .userBaseline && user.value == m.clampToRange(m.globalMean + m.userBias[5]))
    let neither = m.predict(userID: "nobody", itemID: "nothing")
    #expect(neither.source == .globalMean && neither.value == m.globalMean)
  }

  @Test func recommendMatchesBruteForceAndExcludesSeen() throws {
    let m = try smallModel()
    for u in [0, 7, 21] {
      let seen = Set(m.seen.items(of: u).map(Int.init))
      #expect(!seen.isEmpty)
      let brute = (0 ..< m.itemCount).filter { !seen.contains($0) }
        .map { i -> (Int, Float) in
          (i, m.globalMean + m.userBias[u] + m.itemBias[i] + (0 ..< m.rank).reduce(Float(0)) { $0 + m.userFactors[u, $1] * m.itemFactors[i, $1] })
        }
        .sorted { $0.1 > $1.1 }
      let got = m.recommend(user: u, count: 5)
      #expect(got.count == 5)
      #expect(got.allSatisfy { !seen.contains($0.index) })
      for (r, b) in zip(got, brute.prefix(5)) { #expect(abs(r.score - b.1) < 1e-4) }
      let all = m.recommend(user: u, count: 5, excludeSeen: false)
      #expect(all.first!.score >= got.first!.score)
      let restricted = m.recommend(user: u, count: 3, excludeSeen: false, candidates: [1, 2, 3, 4])
      #expect(Set(restricted.map(\.index)).isSubset(of: [1, 2, 3, 4]) && restricted.count == 3)
    }
  }

  @Test func similarItemsMatchNaiveCosine() throws {
    let m = try smallModel(rank: 6)
    let i = 3
    func cosine(_ a: Int, _ b: Int) -> Double {
      var dot = 0.0, na = 0.0, nb = 0.0
      for f in 0 ..< m.rank {
        let x = Double(m.itemFactors[a, f]), y = Double(m.itemFactors[b, f])
        dot += x * y; na += x * x; nb += y * y
      }
      return dot / (na.squareRoot() * nb.squareRoot())
    }
    let brute = (0 ..< m.itemCount).filter { $0 != i }.map { ($0, cosine(i, $0)) }.sorted { $0.1 > $1.1 }
    let got = m.similarItems(to: i, count: 4)
    #expect(got.map(\.index) == brute.prefix(4).map(\.0))
    for (r, b) in zip(got, brute) { #expect(abs(Double(r.score) - b.1) < 1e-4) }
    #expect(got.allSatisfy { $0.score <= 1.0001 && $0.index != i })
  }

  @Test func evaluationCountsFallbacks() throws {
    let m = try smallModel()
    var users = m.users
    users.intern("stranger")
    let set = RatingSet(
      users: users, items: m.items, userIndices: [0, Int32(users.count - 1)], itemIndices: [0, 1],
      values: [m.predict(user: 0, item: 0).value + 0.5, m.predict(user: nil, item: 1).value - 1])
    let e = Evaluation.errors(of: m, on: set)
    #expect(e.count == 2 && e.fallbacks == 1)
    #expect(abs(e.mae - 0.75) < 1e-5)
    #expect(abs(e.rmse - ((0.25 + 1) / 2.0).squareRoot()) < 1e-5)
  }
}
