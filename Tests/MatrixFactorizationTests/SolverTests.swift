import Foundation
import MatrixFactorization
import Testing

@Suite struct SolverTests {
  /// Both solvers recover a planted rank-3 model to near the noise level (σ = 0.1): a model
  /// that learned nothing scores about the baseline RMSE (> 1).
  @Test(arguments: [Algorithm.sgd, .als])
  func recoversPlantedLowRankModel(algorithm: Algorithm) throws {
    let (train, test) = plantedRatings(users: 150, items: 120, rank: 3, density: 0.35, noise: 0.1, seed: 11)
    var options = TrainingOptions.defaults(for: algorithm, rank: 3)
    options.threads = 2
    if algorithm == .sgd {
      options.epochs = 150
      options.sgd = SGDSettings(
        learningRate: 0.02, learningRateDecay: 0.98, regularization: 0.01, biasRegularization: 0.001,
        initScale: 1)
    } else {
      options.epochs = 30
      options.als = ALSSettings(regularization: 0.001, biasRegularization: 0.001)
    }
    let model = try Trainer.fit(train, options: options).model
    let rmse = Evaluation.errors(of: model, on: test).rmse
    let baseline = meanBaselineRMSE(train: train, test: test)
    #expect(baseline > 1)
    #expect(rmse < 0.2, "\(algorithm): test RMSE \(rmse), noise 0.1, baseline \(baseline)")
  }

  /// After an ALS sweep the item side is an exact ridge solution given the user side:
  /// (Σ y yᵀ + n_i·diag(λ,…,λ_b)) [q_i; b_i] = Σ y (r − μ − b_u), with y = [p_u; 1].
  /// Checked in Double against the normal equations built naively.
  @Test func alsItemsSatisfyTheirNormalEquations() throws {
    let (train, _) = plantedRatings(users: 30, items: 20, rank: 2, density: 0.5, noise: 0.3, seed: 5)
    var options = TrainingOptions.defaults(for: .als, rank: 3)
    options.epochs = 3
    options.als = ALSSettings(regularization: 0.05, biasRegularization: 0.02)
    let m = try Trainer.fit(train, options: options).model
    let k = 3
    let d = k + 1
    for i in 0 ..< m.itemCount {
      var a = [Double](repeating: 0, count: d * d)
      var b = [Double](repeating: 0, count: d)
      var n = 0
      for j in 0 ..< train.count where Int(train.itemIndices[j]) == i {
        let u = Int(train.userIndices[j])
        let y = (0 ..< k).map { Double(m.userFactors[u, $0]) } + [1]
        let t = Double(train.values[j]) - Double(m.globalMean) - Double(m.userBias[u])
        for r in 0 ..< d { for c in 0 ..< d { a[r * d + c] += y[r] * y[c] }; b[r] += y[r] * t }
        n += 1
      }
      for f in 0 ..< k { a[f * d + f] += 0.05 * Double(n) }
      a[k * d + k] += 0.02 * Double(n)
      let x = (0 ..< k).map { Double(m.itemFactors[i, $0]) } + [Double(m.itemBias[i])]
      for r in 0 ..< d {
        let lhs = (0 ..< d).reduce(0.0) { $0 + a[r * d + $1] * x[$1] }
        #expect(abs(lhs - b[r]) < 2e-3 * max(1, abs(b[r])), "item \(i) row \(r): \(lhs) vs \(b[r])")
      }
    }
  }

  /// SGD's blocks are conflict-free, so the thread count does not change a single bit.
  @Test func sgdIsBitReproducibleAcrossThreadCounts() throws {
    let (train, _) = plantedRatings(users: 80, items: 60, rank: 3, density: 0.3, noise: 0.2, seed: 2)
    var fits: [FactorModel] = []
    for threads in [1, 2, 4, 1] {
      var options = TrainingOptions.defaults(for: .sgd, rank: 8)
      options.epochs = 5
      options.threads = threads
      fits.append(try Trainer.fit(train, options: options).model)
    }
    for m in fits.dropFirst() {
      #expect(m.userFactors == fits[0].userFactors)
      #expect(m.itemFactors == fits[0].itemFactors)
      #expect(m.userBias == fits[0].userBias && m.itemBias == fits[0].itemBias)
    }
    var other = TrainingOptions.defaults(for: .sgd, rank: 8)
    other.epochs = 5
    other.seed = 43
    #expect(try Trainer.fit(train, options: other).model.userFactors != fits[0].userFactors)
  }

  @Test(arguments: [Algorithm.sgd, .als])
  func trainingRMSEDecreases(algorithm: Algorithm) throws {
    let (train, _) = plantedRatings(users: 60, items: 50, rank: 3, density: 0.4, noise: 0.2, seed: 8)
    var options = TrainingOptions.defaults(for: algorithm, rank: 4)
    options.epochs = 8
    options.convergenceTolerance = nil  // every sweep, to see each one's RMSE
    let history = try Trainer.fit(train, options: options).history.compactMap(\.trainRMSE)
    #expect(history.count == 8)
    #expect(history.last! < history.first!)
    if algorithm == .als {
      // ALS minimizes its objective monotonically; RMSE follows closely at small λ.
      for (a, b) in zip(history, history.dropFirst()) { #expect(b <= a + 1e-3) }
    }
  }

  /// ALS stops once a sweep moves the training RMSE by less than the tolerance, and not before.
  @Test func alsStopsWhenASweepNoLongerMovesTheTrainingRMSE() throws {
    let (train, _) = plantedRatings(users: 60, items: 50, rank: 3, density: 0.4, noise: 0.2, seed: 8)
    var options = TrainingOptions.defaults(for: .als, rank: 4)
    options.epochs = 50
    options.convergenceTolerance = 0.001
    let history = try Trainer.fit(train, options: options).history.compactMap(\.trainRMSE)
    #expect(history.count < 50)
    let last = history.count - 1
    #expect(abs(history[last] - history[last - 1]) < 0.001 * history[last - 1])
    for n in 1 ..< last { #expect(abs(history[n] - history[n - 1]) >= 0.001 * history[n - 1]) }
  }

  @Test func earlyStoppingKeepsTheBestEpoch() throws {
    let (train, test) = plantedRatings(users: 60, items: 50, rank: 3, density: 0.3, noise: 0.5, seed: 4)
    var options = TrainingOptions.defaults(for: .sgd, rank: 16)
    options.epochs = 200
    options.sgd = SGDSettings(
      learningRate: 0.05, learningRateDecay: 1, regularization: 0, initScale: 1)
    options.earlyStopPatience = 3
    let result = try Trainer.fit(train, validation: test, options: options)
    let s = result.model.summary
    #expect(s.epochsRun < 200, "overfitting with λ = 0 must trigger the stop")
    #expect(s.epochsRun == s.keptEpoch + 3)
    let best = result.history.compactMap(\.validationRMSE).min()!
    #expect(abs(s.validationRMSE! - best) < 1e-6)
    #expect(abs(Evaluation.errors(of: result.model, on: test).rmse - best) < 1e-6)
  }

  /// Errors name the library's parameters (never a command-line flag), and validation fails
  /// for each bad value rather than passing when nothing is thrown.
  @Test func invalidOptionsAreNamed() throws {
    var o = TrainingOptions.defaults(for: .sgd)
    o.rank = 0
    #expect(throws: MFError.invalidParameter(.rank, requirement: "must be between 1 and 4096, got 0")) {
      try o.validate()
    }
    o = .defaults(for: .sgd)
    o.sgd?.learningRate = .nan
    let rate = #expect(throws: MFError.self) { try o.validate() }
    guard case .invalidParameter(.learningRate, _) = rate else {
      Issue.record("expected the learning rate to be named, got \(String(describing: rate))")
      return
    }
    #expect(rate?.description.hasPrefix("learningRate must be") == true)
    o = .defaults(for: .als)
    o.als?.regularization = 0
    let ridge = #expect(throws: MFError.self) { try o.validate() }
    guard case .invalidParameter(.regularization, _) = ridge else {
      Issue.record("expected the regularization to be named, got \(String(describing: ridge))")
      return
    }
    #expect(ridge?.description.contains("--") == false)
  }

  /// With retries turned off, a diverging fit stops with an error naming what to change.
  @Test func divergenceIsReportedNotReturned() throws {
    let (train, _) = plantedRatings(users: 30, items: 30, rank: 2, density: 0.5, noise: 0.1, seed: 3)
    var o = TrainingOptions.defaults(for: .sgd, rank: 8)
    o.sgd = SGDSettings(learningRate: 5, learningRateDecay: 1, initScale: 10)
    o.divergenceRetries = 0
    let error = #expect(throws: MFError.self) { try Trainer.fit(train, options: o) }
    guard case .diverged(_, let remedy) = error else {
      Issue.record("expected divergence, got \(String(describing: error))")
      return
    }
    #expect(remedy == Remedy(.learningRate, larger: false))
    #expect(error?.description.contains("try a smaller learningRate") == true)
  }

  /// Divergence heals: the diverged epoch is undone and retried with a halved step, and the fit
  /// ends with a usable model that records what happened.
  @Test(arguments: [StepSchedule.decaying, .adaptive])
  func divergenceHeals(schedule: StepSchedule) throws {
    let (train, test) = plantedRatings(users: 60, items: 50, rank: 3, density: 0.4, noise: 0.2, seed: 8)
    var o = TrainingOptions.defaults(for: .sgd, rank: 8)
    o.sgd = SGDSettings(schedule: schedule, learningRate: 5, learningRateDecay: 1, regularization: 0.05)
    o.epochs = 30
    let result = try Trainer.fit(train, options: o)
    let recoveries = result.model.summary.recoveries
    #expect(!recoveries.isEmpty)
    #expect(recoveries.allSatisfy { $0.contains("diverged") && $0.contains("halved the step size") })
    #expect(result.history.flatMap(\.recoveries).count == recoveries.count)
    #expect(result.model.userFactors.values.allSatisfy { $0.isFinite })
    let rmse = Evaluation.errors(of: result.model, on: test).rmse
    #expect(rmse < 0.8 * meanBaselineRMSE(train: train, test: test), "test RMSE \(rmse)")
    // The record survives the model file.
    #expect(try ModelFile.decode(try ModelFile.encode(result.model)).summary.recoveries == recoveries)
  }

}

/// Starting a fit over (after an epoch diverged twice from the same start) puts back the tables
/// `init` drew, redrawn from the seed rather than kept in a copy.
@Suite struct FactorTableRestartTests {
  @Test(arguments: [FactorInitialization.gaussian(scale: 0.1), .uniform(scale: 0.5)], [false, true])
  func restartRedrawsTheInitialTables(initialization: FactorInitialization, implicitRows: Bool) {
    for threads in [1, 3] {
      let tables = FactorTables(
        users: 1_001, items: 333, rank: 16, initialization: initialization, seed: 9, threads: threads,
        implicitItemFactors: implicitRows)
      let initial = tables.snapshot()
      // Trained away from the start: every table changed.
      var moved = initial
      moved.p = moved.p.map { $0 * 3 + 1 }
      moved.q = moved.q.map { $0 - 2 }
      moved.userBias = moved.userBias.map { $0 + 0.5 }
      moved.itemBias = moved.itemBias.map { $0 - 0.5 }
      moved.y = moved.y.map { $0 + 7 }
      tables.restore(moved)
      #expect(tables.snapshot() != initial)
      tables.restart()
      #expect(tables.snapshot() == initial, "\(initialization), \(threads) threads")
      // The same start whatever the thread count.
      let single = FactorTables(
        users: 1_001, items: 333, rank: 16, initialization: initialization, seed: 9, threads: 1,
        implicitItemFactors: implicitRows)
      #expect(single.snapshot() == initial)
    }
  }
}
