import Foundation
import MatrixFactorization
import RatingData
import Testing

/// SVD++ (`--algorithm svdpp`): the solver's user pass against the update written out naively in
/// Double (one rating: the exact per-rating SGD step, whose data terms are also checked against
/// finite differences of e²; several ratings: the documented batched y step), the folded user
/// factors against the explicit formula, and same-seed bits. (Planted recovery, finiteness, the
/// round trip and seen-item exclusion run in the conformance suite, which has an SVD++ case.)
@Suite struct SVDPPTests {
  /// Parameters of a tiny model, in Double, row-major.
  struct Params {
    var p: [Double]
    var q: [Double]
    var y: [Double]
    var bu: [Double]
    var bi: [Double]

    static func random(users: Int, items: Int, rank k: Int, seed: UInt64) -> Params {
      var rng = SeededGenerator(seed: seed)
      func draw(_ n: Int) -> [Double] { (0 ..< n).map { _ in Double(Float(0.3 * rng.nextGaussian())) } }
      return Params(p: draw(users * k), q: draw(items * k), y: draw(items * k), bu: draw(users), bi: draw(items))
    }

    var floats: (p: [Float], q: [Float], y: [Float], bu: [Float], bi: [Float]) {
      (p.map(Float.init), q.map(Float.init), y.map(Float.init), bu.map(Float.init), bi.map(Float.init))
    }

    /// z_u = p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j.
    func z(_ u: Int, _ n: [Int], _ k: Int) -> [Double] {
      let s = 1 / Double(n.count).squareRoot()
      return (0 ..< k).map { f in p[u * k + f] + s * n.reduce(0.0) { $0 + y[$1 * k + f] } }
    }

    /// SVD++'s r̂ (Koren 2008, eq. 15), from the definition.
    func predict(_ u: Int, _ i: Int, _ n: [Int], _ k: Int, mean: Double) -> Double {
      let z = z(u, n, k)
      return mean + bu[u] + bi[i] + (0 ..< k).reduce(0.0) { $0 + q[i * k + $1] * z[$1] }
    }
  }

  static let (k, mean, eta) = (5, 3.5, 0.05)

  /// The solver's user pass on `params` (converted to Float), back in Double.
  static func solverPass(
    _ params: Params, user u: Int, items: [Int], ratings: [Double], order: [Int],
    lambda: Double, lambdaImplicit: Double, lambdaBias: Double
  ) -> Params {
    var (p, q, y, bu, bi) = params.floats
    _ = SVDPPSolver.trainUser(
      u, items: items.map { Int32($0) }, ratings: ratings.map(Float.init), order: order.map { Int32($0) },
      mean: Float(mean), rank: k, p: &p, userBias: &bu, q: &q, itemBias: &bi, y: &y, eta: Float(eta),
      lambda: Float(lambda), lambdaImplicit: Float(lambdaImplicit), lambdaBias: Float(lambdaBias))
    func d(_ x: [Float]) -> [Double] { x.map(Double.init) }
    return Params(p: d(p), q: d(q), y: d(y), bu: d(bu), bi: d(bi))
  }

  static func expectClose(_ a: [Double], _ b: [Double], _ what: String, tolerance: Double = 1e-5) {
    #expect(a.count == b.count)
    for (x, y) in zip(a, b) {
      #expect(abs(x - y) <= tolerance * max(1, abs(y)), "\(what): \(a) against \(b)")
      if abs(x - y) > tolerance * max(1, abs(y)) { return }
    }
  }

  /// A user with one rating: the batched pass is then exactly one per-rating SGD step of
  /// SVD++, written out here from Koren's eq. 15 (with λ_y on y).
  @Test func oneRatingPassIsTheNaiveSGDStep() {
    let (k, eta) = (Self.k, Self.eta)
    let start = Params.random(users: 2, items: 4, rank: k, seed: 3)
    let (u, i, r) = (1, 2, 4.5)
    let (lambda, lambdaY, lambdaB) = (0.05, 0.3, 0.01)
    // The reference, naively.
    var want = start
    let z = start.z(u, [i], k)
    let e = r - start.predict(u, i, [i], k, mean: Self.mean)
    want.bu[u] += eta * (e - lambdaB * start.bu[u])
    want.bi[i] += eta * (e - lambdaB * start.bi[i])
    for f in 0 ..< k {
      want.q[i * k + f] += eta * (e * z[f] - lambda * start.q[i * k + f])
      want.p[u * k + f] += eta * (e * start.q[i * k + f] - lambda * start.p[u * k + f])
      // |N(u)|^-½ = 1.
      want.y[i * k + f] += eta * (e * 1 * start.q[i * k + f] - lambdaY * start.y[i * k + f])
    }
    let got = Self.solverPass(
      start, user: u, items: [i], ratings: [r], order: [0], lambda: lambda, lambdaImplicit: lambdaY,
      lambdaBias: lambdaB)
    Self.expectClose(got.p, want.p, "p")
    Self.expectClose(got.q, want.q, "q")
    Self.expectClose(got.y, want.y, "y")
    Self.expectClose(got.bu, want.bu, "b_u")
    Self.expectClose(got.bi, want.bi, "b_i")
  }

  /// Without penalties, one rating's step moves every parameter θ by −(η/2) ∂e²/∂θ: the
  /// gradient, taken here by central finite differences of e² in Double (the user has three
  /// items, so the y step carries the |N(u)|^-½ factor; its rating is on the first of them).
  @Test func stepIsTheGradientOfTheSquaredError() {
    let (k, eta) = (Self.k, Self.eta)
    let start = Params.random(users: 1, items: 4, rank: k, seed: 9)
    let n = [0, 1, 3]
    let (u, r) = (0, 2.0)
    // Only the rating on item 1 is run (the order lists the user's entries to visit); the
    // others of N(u) still enter z_u.
    func loss(_ x: Params) -> Double {
      let e = r - x.predict(u, 1, n, k, mean: Self.mean)
      return e * e
    }
    func gradient(_ path: WritableKeyPath<Params, [Double]>, _ index: Int) -> Double {
      let h = 1e-6
      var plus = start
      plus[keyPath: path][index] += h
      var minus = start
      minus[keyPath: path][index] -= h
      return (loss(plus) - loss(minus)) / (2 * h)
    }
    let got = Self.solverPassOne(start, user: u, items: n, rating: r, at: 1)
    let checks: [(WritableKeyPath<Params, [Double]>, String, Int)] = [
      (\.p, "p", k), (\.q, "q", 4 * k), (\.y, "y", 4 * k), (\.bu, "b_u", 1), (\.bi, "b_i", 4),
    ]
    for (path, name, count) in checks {
      let step = (0 ..< count).map { (got[keyPath: path][$0] - start[keyPath: path][$0]) / eta }
      let want = (0 ..< count).map { -0.5 * gradient(path, $0) }
      Self.expectClose(step, want, "\(name) step / η against −½ ∂e²/∂\(name)", tolerance: 2e-3)
    }
  }

  /// One pass over only the rating at position `at` of the user's items (the rest of N(u) in
  /// z_u), with no penalties.
  static func solverPassOne(_ params: Params, user u: Int, items: [Int], rating: Double, at: Int) -> Params {
    var (p, q, y, bu, bi) = params.floats
    // N(u) is all of `items`; `order` names the one entry to run.
    _ = SVDPPSolver.trainUser(
      u, items: items.map { Int32($0) }, ratings: items.map { _ in Float(rating) }, order: [Int32(at)],
      mean: Float(mean), rank: k, p: &p, userBias: &bu, q: &q, itemBias: &bi, y: &y, eta: Float(eta),
      lambda: 0, lambdaImplicit: 0, lambdaBias: 0)
    func d(_ x: [Float]) -> [Double] { x.map(Double.init) }
    return Params(p: d(p), q: d(q), y: d(y), bu: d(bu), bi: d(bi))
  }

  /// A user with several ratings: the pass is the documented batched update — ratings in the
  /// given order with z_u kept current as p_u moves, the y's fixed until the end, then
  /// y_j ← (1 − ηλ_y) y_j + η s_u Σ_r e_r q_i (each q_i before its step) for every j ∈ N(u).
  @Test func userPassIsTheBatchedUpdate() {
    let (k, eta) = (Self.k, Self.eta)
    let start = Params.random(users: 2, items: 6, rank: k, seed: 5)
    let u = 0
    let items = [0, 2, 3, 5]
    let ratings = [5.0, 1.0, 3.0, 4.0]
    let order = [2, 0, 3, 1]
    let (lambda, lambdaY, lambdaB) = (0.05, 0.5, 0.01)
    var want = start
    let s = 1 / Double(items.count).squareRoot()
    let implicit = (0 ..< k).map { f in s * items.reduce(0.0) { $0 + start.y[$1 * k + f] } }
    var g = [Double](repeating: 0, count: k)
    for at in order {
      let i = items[at]
      let z = (0 ..< k).map { want.p[u * k + $0] + implicit[$0] }
      let dot = (0 ..< k).reduce(0.0) { $0 + want.q[i * k + $1] * z[$1] }
      let e = ratings[at] - (Self.mean + want.bu[u] + want.bi[i] + dot)
      want.bu[u] += eta * (e - lambdaB * want.bu[u])
      want.bi[i] += eta * (e - lambdaB * want.bi[i])
      for f in 0 ..< k {
        let (qf, pf) = (want.q[i * k + f], want.p[u * k + f])
        g[f] += e * qf
        want.q[i * k + f] = qf + eta * (e * z[f] - lambda * qf)
        want.p[u * k + f] = pf + eta * (e * qf - lambda * pf)
      }
    }
    for j in items {
      for f in 0 ..< k { want.y[j * k + f] = (1 - eta * lambdaY) * want.y[j * k + f] + eta * s * g[f] }
    }
    let got = Self.solverPass(
      start, user: u, items: items, ratings: ratings, order: order, lambda: lambda,
      lambdaImplicit: lambdaY, lambdaBias: lambdaB)
    Self.expectClose(got.p, want.p, "p")
    Self.expectClose(got.q, want.q, "q")
    Self.expectClose(got.y, want.y, "y")
    Self.expectClose(got.bu, want.bu, "b_u")
    Self.expectClose(got.bi, want.bi, "b_i")
  }

  /// The folded user rows serve SVD++'s prediction: μ + b_u + b_i + q_i·p̃_u equals
  /// μ + b_u + b_i + q_i·(p_u + |N(u)|^-½ Σ y_j) for every user and item, after real passes.
  @Test func foldedUserFactorsGiveTheExplicitPrediction() {
    let k = Self.k
    let (users, items) = (4, 7)
    var params = Params.random(users: users, items: items, rank: k, seed: 17)
    let rows: [[Int]] = [[0, 1, 2], [3], [1, 4, 5, 6], [0, 2, 4, 6, 5]]
    var rng = SeededGenerator(seed: 2)
    for _ in 0 ..< 3 {
      for (u, n) in rows.enumerated() {
        params = Self.solverPass(
          params, user: u, items: n, ratings: n.map { _ in Double(1 + rng.nextIndex(below: 5)) },
          order: Array(0 ..< n.count), lambda: 0.05, lambdaImplicit: 0.5, lambdaBias: 0.01)
      }
    }
    var rowStart = [0]
    for n in rows { rowStart.append(rowStart.last! + n.count) }
    let (p, _, y, _, _) = params.floats
    for threads in [1, 2] {
      let folded = SVDPPSolver.foldImplicitTerm(
        p: p, y: y, rowStart: rowStart, columns: rows.flatMap { $0 }.map { Int32($0) }, rank: k,
        threads: threads)
      for (u, n) in rows.enumerated() {
        for i in 0 ..< items {
          let served = Self.mean + params.bu[u] + params.bi[i]
            + (0 ..< k).reduce(0.0) { $0 + params.q[i * k + $1] * Double(folded[u * k + $1]) }
          let explicit = params.predict(u, i, n, k, mean: Self.mean)
          #expect(abs(served - explicit) < 1e-5, "user \(u) item \(i): \(served) against \(explicit)")
        }
      }
    }
  }

  /// Same seed, one thread: the same model bit for bit; another seed: another model.
  @Test func sameSeedOneThreadIsReproducible() throws {
    let (train, _) = plantedRatings(users: 60, items: 40, rank: 3, density: 0.3, noise: 0.1, seed: 4)
    func fit(_ seed: UInt64) throws -> FactorModel {
      var options = TrainingOptions.defaults(for: .svdpp, rank: 6)
      options.epochs = 8
      options.threads = 1
      options.seed = seed
      return try Trainer.fit(train, options: options).model
    }
    let (a, b, c) = (try fit(7), try fit(7), try fit(8))
    #expect(a.userFactors.values == b.userFactors.values && a.itemFactors.values == b.itemFactors.values)
    #expect(a.userBias == b.userBias && a.itemBias == b.itemBias)
    #expect(a.userFactors.values != c.userFactors.values)
    #expect(a.summary.options.algorithm == .svdpp)
  }

  /// Early stopping restores Y with P, Q and the biases: the kept model's validation RMSE (of
  /// the folded rows, computed at the end) is the one its epoch reported. Without penalties the
  /// fit over-fits, so the kept epoch is an earlier one.
  @Test func earlyStoppingKeepsTheBestEpochsImplicitFactors() throws {
    let (train, test) = plantedRatings(users: 60, items: 40, rank: 3, density: 0.3, noise: 0.5, seed: 6)
    var options = TrainingOptions.defaults(for: .svdpp, rank: 8)
    options.svdpp = SVDPPSettings(
      learningRate: 0.03, learningRateDecay: 1, regularization: 0, implicitRegularization: 0,
      biasRegularization: 0)
    options.epochs = 150
    options.threads = 1
    options.earlyStopPatience = 5
    let result = try Trainer.fit(train, validation: test, options: options)
    let s = result.model.summary
    #expect(s.keptEpoch < s.epochsRun)
    let reported = try #require(result.history[s.keptEpoch - 1].validationRMSE)
    let final = try #require(s.validationRMSE)
    #expect(abs(reported - final) < 1e-9, "epoch \(s.keptEpoch) reported \(reported), the kept model scores \(final)")
  }

  /// A step size too large for the penalty is refused up front, naming the parameter.
  @Test func refusesAShrinkBeyondOne() {
    var options = TrainingOptions.defaults(for: .svdpp)
    options.svdpp?.learningRate = 0.5
    options.svdpp?.implicitRegularization = 3
    #expect(throws: MFError.self) { try options.validate() }
    do { try options.validate() } catch {
      guard case .invalidParameter(let parameter, _) = error else { Issue.record("\(error)"); return }
      #expect(parameter == .implicitRegularization)
    }
  }
}
