import Foundation
@_spi(Engine) import MatrixFactorization
import Testing

/// The update rules against naive references written from the papers' formulas, in Double, one
/// scalar loop per row: the kernels (SIMD8 loops with a scalar tail, a specialized loop per
/// common rank, prefetching from the 9th rating on) must agree with them at every rank.
@Suite struct UpdateRuleTests {
  static let ranks = [1, 3, 8, 9, 16, 32, 64, 128, 256, 512]

  /// Reproducible values in [-0.5, 0.5).
  static func values(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0 ..< n).map { _ in Float(rng.nextUnit()) - 0.5 }
  }

  /// Ratings over 6 users and 5 items, repeating rows (so each update must see the one before
  /// it) and long enough (20) to run the prefetching loop as well as its tail.
  static let ratings: [(user: Int32, item: Int32, rating: Float)] = (0 ..< 20).map {
    (n: Int) -> (user: Int32, item: Int32, rating: Float) in
    let user = Int32(n * 7 % 6)
    let item = Int32(n * 3 % 5)
    return (user, item, Float(1 + n % 5))
  }

  /// Koren et al. 2009, eq. 5–6: e = r − (μ + b_u + b_i + p·q); b ← b + η(e − λ_b b);
  /// p ← p + η(e q − λ p); q ← q + η(e p_old − λ q). The adaptive rule is the same with a step
  /// per row (s_u for p_u and b_u's own s^b_u), so one reference takes the steps per row.
  static func naiveSGD(
    k: Int, mean: Double, lambda: Double, lambdaBias: Double,
    factorStep: (_ isUser: Bool, _ row: Int) -> Double, biasStep: (_ isUser: Bool, _ row: Int) -> Double,
    p: inout [Double], q: inout [Double], bu: inout [Double], bi: inout [Double]
  ) -> Double {
    var sse = 0.0
    for (u32, i32, r) in ratings {
      let u = Int(u32)
      let i = Int(i32)
      var dot = 0.0
      for f in 0 ..< k { dot += p[u * k + f] * q[i * k + f] }
      let e = Double(r) - (mean + bu[u] + bi[i] + dot)
      sse += e * e
      bu[u] += biasStep(true, u) * (e - lambdaBias * bu[u])
      bi[i] += biasStep(false, i) * (e - lambdaBias * bi[i])
      let su = factorStep(true, u)
      let si = factorStep(false, i)
      for f in 0 ..< k {
        let pf = p[u * k + f]
        let qf = q[i * k + f]
        p[u * k + f] = pf + su * (e * qf - lambda * pf)
        q[i * k + f] = qf + si * (e * pf - lambda * qf)
      }
    }
    return sse
  }

  static func close(_ a: [Float], _ b: [Double], _ what: String) {
    var worst = 0.0
    var at = 0
    for n in a.indices where abs(Double(a[n]) - b[n]) > worst {
      worst = abs(Double(a[n]) - b[n])
      at = n
    }
    #expect(worst < 1e-4, "\(what): entry \(at) is \(a[at]), the reference \(b[at])")
  }

  @Test(arguments: ranks)
  func sgdDecayingMatchesTheNaiveUpdate(rank k: Int) {
    var p = Self.values(6 * k, seed: 1).map { $0 * 0.5 }
    var q = Self.values(5 * k, seed: 2).map { $0 * 0.5 }
    var bu = Self.values(6, seed: 3)
    var bi = Self.values(5, seed: 4)
    var (rp, rq, rbu, rbi) = (p.map(Double.init), q.map(Double.init), bu.map(Double.init), bi.map(Double.init))
    let sse = UpdateRules.sgdDecaying(
      Self.ratings, rank: k, mean: 3, learningRate: 0.05, regularization: 0.1,
      biasRegularization: 0.02, p: &p, q: &q, userBias: &bu, itemBias: &bi)
    let reference = Self.naiveSGD(
      k: k, mean: 3, lambda: 0.1, lambdaBias: 0.02, factorStep: { _, _ in 0.05 },
      biasStep: { _, _ in 0.05 }, p: &rp, q: &rq, bu: &rbu, bi: &rbi)
    Self.close(p, rp, "P, rank \(k)")
    Self.close(q, rq, "Q, rank \(k)")
    Self.close(bu + bi, rbu + rbi, "biases, rank \(k)")
    #expect(abs(sse - reference) < 1e-3 * reference, "Σe² \(sse) against \(reference)")
    // The update did something: a kernel that skipped rows would fail above, not pass here.
    #expect(p != Self.values(6 * k, seed: 1).map { $0 * 0.5 })
  }

  @Test(arguments: ranks)
  func sgdAdaptiveMatchesTheNaiveUpdate(rank k: Int) {
    var p = Self.values(6 * k, seed: 5).map { $0 * 0.5 }
    var q = Self.values(5 * k, seed: 6).map { $0 * 0.5 }
    // Records [bias, s, s^b, unused], a different step for every row.
    func records(_ rows: Int, seed: UInt64) -> [Float] {
      let b = Self.values(rows, seed: seed)
      var out: [Float] = []
      for r in 0 ..< rows {
        let s = Float(r)
        out += [b[r], 0.01 + 0.01 * s, 0.03 + 0.005 * s, 0]
      }
      return out
    }
    var users = records(6, seed: 7)
    var items = records(5, seed: 8)
    var (rp, rq) = (p.map(Double.init), q.map(Double.init))
    var rbu = (0 ..< 6).map { Double(users[4 * $0]) }
    var rbi = (0 ..< 5).map { Double(items[4 * $0]) }
    let (u0, i0) = (users, items)
    let sse = UpdateRules.sgdAdaptive(
      Self.ratings, rank: k, mean: 3, regularization: 0.1, biasRegularization: 0.02, p: &p, q: &q,
      userRecords: &users, itemRecords: &items)
    let reference = Self.naiveSGD(
      k: k, mean: 3, lambda: 0.1, lambdaBias: 0.02,
      factorStep: { isUser, r in Double(isUser ? u0[4 * r + 1] : i0[4 * r + 1]) },
      biasStep: { isUser, r in Double(isUser ? u0[4 * r + 2] : i0[4 * r + 2]) },
      p: &rp, q: &rq, bu: &rbu, bi: &rbi)
    Self.close(p, rp, "P, rank \(k)")
    Self.close(q, rq, "Q, rank \(k)")
    Self.close((0 ..< 6).map { users[4 * $0] } + (0 ..< 5).map { items[4 * $0] }, rbu + rbi, "biases, rank \(k)")
    // The steps are read, never written.
    for r in 0 ..< 6 { #expect(users[4 * r + 1] == u0[4 * r + 1] && users[4 * r + 2] == u0[4 * r + 2]) }
    #expect(abs(sse - reference) < 1e-3 * reference)
  }

  /// Rendle et al. 2009, LearnBPR: x = b_i − b_j + p·(q_i − q_j), z = 1/(1 + eˣ);
  /// p += η(z(q_i − q_j) − λp), q_i += η(z p − λ q_i), q_j += η(−z p − λ q_j),
  /// b_i += η(z − λ_b b_i), b_j += η(−z − λ_b b_j), all from the old values.
  @Test(arguments: ranks)
  func bprMatchesTheNaiveUpdate(rank k: Int) {
    var p = Self.values(3 * k, seed: 9)
    var q = Self.values(4 * k, seed: 10)
    var b = Self.values(4, seed: 11)
    var (rp, rq, rb) = (p.map(Double.init), q.map(Double.init), b.map(Double.init))
    let (eta, lambda, lambdaBias) = (0.1, 0.01, 0.02)
    for (u, i, j) in [(0, 1, 2), (2, 3, 1), (0, 1, 3), (1, 0, 2), (0, 2, 1)] {
      let x = UpdateRules.bpr(
        user: u, positive: i, negative: j, rank: k, learningRate: Float(eta),
        regularization: Float(lambda), biasRegularization: Float(lambdaBias), p: &p, q: &q, itemBias: &b)
      var rx = rb[i] - rb[j]
      for f in 0 ..< k { rx += rp[u * k + f] * (rq[i * k + f] - rq[j * k + f]) }
      #expect(abs(Double(x) - rx) < 1e-4, "x_uij \(x) against \(rx), rank \(k)")
      let z = 1 / (1 + exp(rx))
      for f in 0 ..< k {
        let (pf, qif, qjf) = (rp[u * k + f], rq[i * k + f], rq[j * k + f])
        rp[u * k + f] = pf + eta * (z * (qif - qjf) - lambda * pf)
        rq[i * k + f] = qif + eta * (z * pf - lambda * qif)
        rq[j * k + f] = qjf + eta * (-z * pf - lambda * qjf)
      }
      let (bi, bj) = (rb[i], rb[j])
      rb[i] = bi + eta * (z - lambdaBias * bi)
      rb[j] = bj + eta * (-z - lambdaBias * bj)
    }
    Self.close(p, rp, "P, rank \(k)")
    Self.close(q, rq, "Q, rank \(k)")
    Self.close(b, rb, "item biases, rank \(k)")
  }
}

/// Shapes the rest of the suite does not train: extreme ranks, a single user, more threads than
/// there is work, and every exact solver across thread counts.
@Suite struct TrainingShapeTests {
  /// Ranks 1, 64, 128 and 512 through a whole fit: the rank-64 and rank-128 SGD kernels and the
  /// generic loop at both ends, then the model file. SGD must learn (training RMSE falls well
  /// below the spread of the ratings) and stay finite.
  @Test(arguments: [1, 64, 128, 512])
  func extremeRanksTrain(rank: Int) throws {
    let (train, _) = plantedRatings(users: 60, items: 40, rank: 3, density: 0.5, noise: 0.1, seed: 13)
    var o = TrainingOptions.defaults(for: .sgd, rank: rank)
    o.epochs = 40
    o.threads = 2
    o.sgd = SGDSettings(learningRate: 0.02, learningRateDecay: 1, regularization: 0.01, initScale: 0.1)
    let result = try Trainer.fit(train, options: o)
    let m = result.model
    #expect(m.userFactors.columns == rank && m.itemFactors.rows == 40)
    #expect(m.userFactors.values.allSatisfy { $0.isFinite } && m.itemFactors.values.allSatisfy { $0.isFinite })
    let spread = meanBaselineRMSE(train: train, test: train)
    let rmse = try #require(m.summary.trainRMSE)
    #expect(rmse < 0.6 * spread, "rank \(rank): training RMSE \(rmse), ratings' spread \(spread)")
    #expect(result.model.summary.recoveries.isEmpty)
    let back = try ModelFile.decode(try ModelFile.encode(m))
    #expect(back.userFactors == m.userFactors && back.rank == rank)
    // ALS at the same ranks (512 is left out: 513² per row solve is slow, not different).
    if rank <= 128 {
      var a = TrainingOptions.defaults(for: .als, rank: rank)
      a.epochs = 3
      a.threads = 2
      let als = try Trainer.fit(train, options: a).model
      #expect(als.userFactors.values.allSatisfy { $0.isFinite })
      #expect(try #require(als.summary.trainRMSE) < spread)
    }
  }

  /// One user: every algorithm trains, predicts and recommends (a file of one user is a real
  /// case: a personal export).
  @Test(arguments: [Algorithm.sgd, .als, .implicitALS, .bpr])
  func singleUserTrains(algorithm: Algorithm) throws {
    var items = IDMap()
    for i in 0 ..< 6 { items.intern("i\(i)") }
    var users = IDMap()
    users.intern("solo")
    let values: [Float] = [5, 4, 1, 2, 5, 3]
    let set = RatingSet(
      users: users, items: items, userIndices: [Int32](repeating: 0, count: 5),
      itemIndices: [0, 1, 2, 3, 4], values: Array(values.prefix(5)))
    var o = TrainingOptions.defaults(for: algorithm, rank: 2)
    o.epochs = 5
    let m = try Trainer.fit(set, options: o).model
    #expect(m.userCount == 1 && m.itemCount == 6)
    #expect(m.userFactors.values.allSatisfy { $0.isFinite } && m.itemFactors.values.allSatisfy { $0.isFinite })
    // The one unseen item is the only recommendation.
    #expect(m.recommend(userID: "solo", count: 3).items.map(\.id) == ["i5"])
    let guess = m.predict(userID: "solo", itemID: "i0")
    #expect(guess.value.isFinite)
  }

  /// More threads than blocks (SGD caps B at 256), than row ranges (ALS) and than triples
  /// (BPR): the extra threads find no work and the result is the same as with exactly as many
  /// threads as there is work.
  @Test func moreThreadsThanWork() throws {
    let (train, _) = plantedRatings(users: 12, items: 9, rank: 2, density: 0.5, noise: 0.1, seed: 6)
    func fit(_ algorithm: Algorithm, threads: Int) throws -> FactorModel {
      var o = TrainingOptions.defaults(for: algorithm, rank: 4)
      o.epochs = 3
      o.threads = threads
      o.convergenceTolerance = nil
      return try Trainer.fit(train, options: o).model
    }
    // SGD: B = max(4, threads) up to 256, so 256 and 300 threads both run 256 × 256 blocks.
    #expect(SGDSolver.blockCount(users: 12, items: 9, ratings: train.count, threads: 300) == 256)
    let sgd256 = try fit(.sgd, threads: 256)
    let sgd300 = try fit(.sgd, threads: 300)
    #expect(tableDifferences(sgd256, sgd300).isEmpty, "\(tableDifferences(sgd256, sgd300))")
    #expect(sgd300.userFactors.values.allSatisfy { $0.isFinite })
    // ALS: 12 user rows and 9 item rows against 64 threads.
    let als = try fit(.als, threads: 64)
    #expect(tableDifferences(als, try fit(.als, threads: 1)).isEmpty)
    // BPR: fewer interactions than threads; only finiteness (Hogwild is not reproducible).
    let bpr = try fit(.bpr, threads: 500)
    #expect(bpr.itemFactors.values.allSatisfy { $0.isFinite })
  }

  /// Exact solvers solve each row independently and sum nothing across rows into the factors:
  /// the same bits whatever the thread count. (ALS's stopping rule is off, so the sweep count
  /// cannot differ either.)
  @Test(arguments: [
    (Algorithm.als, ImplicitSolver.cg), (.implicitALS, .cg), (.implicitALS, .cholesky),
  ])
  func exactSolversAreEqualAcrossThreadCounts(algorithm: Algorithm, solver: ImplicitSolver) throws {
    let train =
      algorithm == .als
      ? plantedRatings(users: 90, items: 70, rank: 3, density: 0.3, noise: 0.2, seed: 31).train
      : plantedInteractions(users: 90, items: 70, rank: 3, perUser: 12, testPerUser: 0, seed: 31).train
    var fits: [FactorModel] = []
    for threads in [1, 2, 4] {
      var o = TrainingOptions.defaults(for: algorithm, rank: 8)
      o.epochs = 4
      o.threads = threads
      if algorithm == .als { o.convergenceTolerance = nil }
      if algorithm == .implicitALS { o.implicitALS?.solver = solver }
      fits.append(try Trainer.fit(train, options: o).model)
    }
    for (n, m) in fits.enumerated().dropFirst() {
      #expect(tableDifferences(fits[0], m).isEmpty, "\(algorithm) \(solver), 1 against \([1, 2, 4][n]) threads: \(tableDifferences(fits[0], m))")
    }
  }
}

/// A system that cannot be solved is named (side, id and row), and the loop's recovery with a
/// larger ridge runs before the fit gives up.
@Suite struct ALSFailureTests {
  /// Initial factors drawn at the edge of Float's range: some are infinite, so the Gram matrix
  /// of a user who rated such an item holds inf − inf = NaN and its Cholesky fails.
  static func options(retries: Int) -> TrainingOptions {
    var o = TrainingOptions.defaults(for: .als, rank: 3)
    o.epochs = 2
    o.threads = 1
    o.als?.initScale = 3e38
    o.divergenceRetries = retries
    return o
  }

  static let train = plantedRatings(users: 10, items: 8, rank: 2, density: 0.6, noise: 0.1, seed: 2).train

  /// The message names the side and the id, and the id is the row's.
  static func expectNamedRow(_ error: MFError?) {
    let text = error?.description ?? ""
    let pattern = /the ALS system of user 'u(\d+)' \(row (\d+)\) could not be solved \(not positive definite\)/
    guard let match = text.firstMatch(of: pattern) else {
      Issue.record("unexpected error: \(text)")
      return
    }
    #expect(match.1 == match.2, "\(text)")
  }

  @Test func unsolvableRowIsNamed() throws {
    let error = #expect(throws: MFError.self) { try Trainer.fit(Self.train, options: Self.options(retries: 0)) }
    Self.expectNamedRow(error)
  }

  /// Factors of 1e30 overflow every Gram matrix to +inf: LAPACK solved that to zeros without a
  /// complaint (the fit "succeeded" with all-zero factors). The ridge system now refuses a
  /// non-finite diagonal, so the row is named.
  @Test func overflowedGramMatrixIsRefused() throws {
    var o = Self.options(retries: 0)
    o.als?.initScale = 1e30
    let error = #expect(throws: MFError.self) { try Trainer.fit(Self.train, options: o) }
    Self.expectNamedRow(error)
  }

  /// With retries, the failed sweep is undone and retried with the ridge ×4; a start that is
  /// itself infinite cannot be helped by a ridge, so after the retries the fit ends with the
  /// named error (never with a model holding NaN).
  @Test func retriesEndWithTheNamedRow() throws {
    let error = #expect(throws: MFError.self) { try Trainer.fit(Self.train, options: Self.options(retries: 3)) }
    Self.expectNamedRow(error)
  }
}

/// How two models' parameters, ids and seen index differ (the summary, which records the thread
/// count and the seconds, is left out).
func tableDifferences(_ a: FactorModel, _ b: FactorModel) -> [String] {
  differences(a, b).filter { !$0.hasPrefix("summary") }
}
