import Foundation
import MatrixFactorization
import Testing

@Suite struct ImplicitALSTests {
  let data = plantedInteractions(users: 120, items: 80, rank: 4, perUser: 12, testPerUser: 4, seed: 7)

  @Test(arguments: [ImplicitSolver.cg, .cholesky])
  func lossDecreasesEverySweep(solver: ImplicitSolver) throws {
    var o = implicitOptions(rank: 8, epochs: 12)
    o.implicitALS!.solver = solver
    o.implicitALS!.alpha = 20
    let fit = try Trainer.fit(data.train, options: o)
    let losses = fit.history.map { $0.loss! }
    #expect(losses.count == 12)
    for (a, b) in zip(losses, losses.dropFirst()) {
      // Each half-step minimizes (Cholesky) or lowers (CG) a convex quadratic in one side's
      // factors, so the loss cannot rise; allow float rounding.
      #expect(b <= a * (1 + 1e-5), "loss rose from \(a) to \(b) with \(solver)")
    }
    #expect(losses.last! < losses.first! * 0.9)
    #expect(fit.model.summary.trainLoss != nil)
  }

  @Test func conjugateGradientAgreesWithCholesky() throws {
    var exact = implicitOptions(rank: 6, epochs: 4)
    exact.implicitALS!.solver = .cholesky
    var cg = exact
    cg.implicitALS!.solver = .cg
    // With as many steps as the dimension, CG solves each row exactly (in exact arithmetic).
    cg.implicitALS!.cgSteps = 12
    let a = try Trainer.fit(data.train, options: exact).model
    let b = try Trainer.fit(data.train, options: cg).model
    let diff = zip(a.itemFactors.values, b.itemFactors.values).map { abs($0 - $1) }.max()!
    let scale = a.itemFactors.values.map { abs($0) }.max()!
    #expect(diff <= 2e-3 * scale, "CG and Cholesky item factors differ by \(diff) (scale \(scale))")
    // The default three steps land close to the exact solution's loss.
    var three = exact
    three.implicitALS!.solver = .cg
    three.epochs = 15
    exact.epochs = 15
    let lossCG = try Trainer.fit(data.train, options: three).model.summary.trainLoss!
    let lossExact = try Trainer.fit(data.train, options: exact).model.summary.trainLoss!
    #expect(abs(lossCG - lossExact) <= 0.02 * lossExact, "CG loss \(lossCG) vs exact \(lossExact)")
  }

  /// The last half-sweep solves every item exactly given the users: check it against the normal
  /// equations of HKV eq. 4 built densely, over *all* users, in Double.
  @Test func itemStepSolvesTheDenseNormalEquations() throws {
    var o = implicitOptions(rank: 5, epochs: 3)
    o.implicitALS!.solver = .cholesky
    o.implicitALS!.alpha = 7
    o.implicitALS!.regularization = 0.3
    let model = try Trainer.fit(data.train, options: o).model
    let k = model.rank
    let alpha = 7.0
    var observed = Set<[Int]>()
    for n in 0 ..< data.train.count {
      // Map through the model's ids (the trainer keeps the set's maps).
      observed.insert([Int(data.train.userIndices[n]), Int(data.train.itemIndices[n])])
    }
    for i in stride(from: 0, to: model.itemCount, by: 9) {
      var a = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
      var b = [Double](repeating: 0, count: k)
      for u in 0 ..< model.userCount {
        let x = model.userFactors.row(u).map(Double.init)
        let isObserved = observed.contains([u, i])
        let c = isObserved ? 1 + alpha : 1
        let preference = isObserved ? 1.0 : 0
        for f in 0 ..< k {
          b[f] += c * preference * x[f]
          for g in 0 ..< k { a[f][g] += c * x[f] * x[g] }
        }
      }
      for f in 0 ..< k { a[f][f] += 0.3 }
      let expected = naiveSolve(a, b)
      let got = model.itemFactors.row(i)
      for f in 0 ..< k {
        #expect(abs(Double(got[f]) - expected[f]) <= 1e-3 * max(1, abs(expected[f])), "item \(i) factor \(f)")
      }
    }
  }

  @Test func repeatedPairsAreSummedAndNegativeValuesRejected() throws {
    var items = IDMap()
    var users = IDMap()
    users.intern("a"); users.intern("b")
    items.intern("x"); items.intern("y")
    let set = RatingSet(
      users: users, items: items, userIndices: [0, 0, 1, 0], itemIndices: [0, 1, 1, 0], values: [1, 1, 2, 3])
    let (merged, count) = set.summingDuplicates()
    #expect(count == 1 && merged.count == 3)
    #expect(merged.values == [4, 1, 2])
    let bad = RatingSet(users: users, items: items, userIndices: [0, 1], itemIndices: [0, 1], values: [1, -2])
    #expect(throws: MFError.self) { try Trainer.fit(bad, options: implicitOptions()) }
  }

  @Test func scoresAreNotClampedToARatingScale() throws {
    let model = try Trainer.fit(data.train, options: implicitOptions()).model
    #expect(model.isImplicit)
    let u = 3
    let i = 5
    #expect(model.predict(user: u, item: i).value == model.score(user: u, item: i))
  }
}

@Suite struct BPRTests {
  @Test func bprRaisesAUCOnAPlantedModel() throws {
    let data = plantedInteractions(users: 150, items: 100, rank: 4, perUser: 15, testPerUser: 5, seed: 11)
    var untrained = implicitOptions(.bpr, rank: 8, epochs: 1)
    untrained.bpr!.learningRate = 1e-7
    let before = try RankingEvaluation.evaluate(
      Trainer.fit(data.train, options: untrained).model, on: data.test, k: 10, threads: 1)
    let trained = try Trainer.fit(data.train, options: implicitOptions(.bpr, rank: 8, epochs: 60)).model
    let after = try RankingEvaluation.evaluate(trained, on: data.test, k: 10, threads: 1)
    #expect(abs(before.auc - 0.5) < 0.1, "an untrained model should rank at random, AUC \(before.auc)")
    #expect(after.auc > 0.8, "BPR AUC \(after.auc)")
    #expect(after.ndcg > before.ndcg + 0.1)
  }

  @Test func bprIsReproducibleWithOneThreadAndRunsWithTwo() throws {
    let data = plantedInteractions(users: 60, items: 40, rank: 3, perUser: 8, testPerUser: 2, seed: 3)
    let a = try Trainer.fit(data.train, options: implicitOptions(.bpr, epochs: 5)).model
    let b = try Trainer.fit(data.train, options: implicitOptions(.bpr, epochs: 5)).model
    #expect(a.itemFactors == b.itemFactors)
    var two = implicitOptions(.bpr, epochs: 5)
    two.threads = 2
    let c = try Trainer.fit(data.train, options: two)
    #expect(c.history.allSatisfy { $0.sampledAUC != nil })
  }
}

@Suite struct FoldInTests {
  /// A user folded in against a model trained without them gets (nearly) the same top 10 as a
  /// model retrained with them.
  @Test func foldInMatchesRetraining() throws {
    // A well-determined fixture (model rank = planted rank, a clear signal, many users per
    // item), so that the retrained model is not a different local optimum.
    let data = plantedInteractions(
      users: 300, items: 120, rank: 4, perUser: 20, testPerUser: 0, sharpness: 5, seed: 5)
    var o = implicitOptions(rank: 4, epochs: 25)
    o.implicitALS!.solver = .cholesky
    o.implicitALS!.alpha = 10
    o.implicitALS!.regularization = 0.1
    let withUser = try Trainer.fit(data.train, options: o).model
    var overlaps: [Int] = []
    for held in [0, 57, 123] {
      let heldID = "u\(held)"
      let others = (0 ..< data.train.count).filter { data.train.users.ids[Int(data.train.userIndices[$0])] != heldID }
      let history = (0 ..< data.train.count)
        .filter { data.train.users.ids[Int(data.train.userIndices[$0])] == heldID }
        .map { data.train.items.ids[Int(data.train.itemIndices[$0])] }
      let without = try Trainer.fit(reindexed(data.train.subset(others)), options: o).model
      #expect(without.users.index(of: heldID) == nil)
      let folded = try without.foldIn(items: history.map { Int(without.items.index(of: $0)!) }, values: nil)
      let foldedTop = Set(without.recommend(folded, count: 10).map(\.id))
      let retrainedTop = Set(
        withUser.recommend(user: Int(withUser.users.index(of: heldID)!), count: 10).map(\.id))
      overlaps.append(foldedTop.intersection(retrainedTop).count)
      let selfFold = try withUser.foldIn(items: history.map { Int(withUser.items.index(of: $0)!) }, values: nil)
      let selfTop = Set(withUser.recommend(selfFold, count: 10).map(\.id))
      // Folding a training user back into their own model reproduces their list.
      #expect(selfTop.intersection(retrainedTop).count >= 9)
    }
    #expect(overlaps.allSatisfy { $0 >= 9 }, "top-10 overlaps \(overlaps)")
  }

  /// Explicit models fold a user in from ratings: the solution satisfies the ALS user step's
  /// normal equations (built naively in Double).
  @Test func explicitFoldInSolvesTheRidgeSystem() throws {
    let model = try smallModel(algorithm: .als, rank: 4)
    let items = [0, 3, 7, 11, 20]
    let ratings: [Float] = [5, 3, 4, 1, 2]
    let folded = try model.foldIn(items: items, values: ratings)
    let k = model.rank
    let o = try #require(model.summary.options.als)
    let weight = pow(Double(items.count), Double(o.regularizationExponent))
    var a = [[Double]](repeating: [Double](repeating: 0, count: k + 1), count: k + 1)
    var b = [Double](repeating: 0, count: k + 1)
    for (n, i) in items.enumerated() {
      let y = model.itemFactors.row(i).map(Double.init) + [1]
      let t = Double(ratings[n]) - Double(model.globalMean) - Double(model.itemBias[i])
      for f in 0 ... k {
        b[f] += y[f] * t
        for g in 0 ... k { a[f][g] += y[f] * y[g] }
      }
    }
    for f in 0 ..< k { a[f][f] += Double(o.regularization) * weight }
    a[k][k] += Double(o.biasRegularization) * weight
    let expected = naiveSolve(a, b)
    for f in 0 ..< k { #expect(abs(Double(folded.factors[f]) - expected[f]) < 1e-3) }
    #expect(abs(Double(folded.bias) - expected[k]) < 1e-3)
    #expect(throws: MFError.self) { try model.foldIn(items: items, values: nil) }
  }
}

/// The same ratings over a user map holding only the users that occur (the item map is kept,
/// so item indices, and hence the seeded start of the item table, stay the same).
func reindexed(_ set: RatingSet) -> RatingSet {
  var users = IDMap()
  let u = set.userIndices.map { users.intern(set.users.ids[Int($0)]) }
  return RatingSet(users: users, items: set.items, userIndices: u, itemIndices: set.itemIndices, values: set.values)
}
