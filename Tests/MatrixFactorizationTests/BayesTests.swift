import Foundation
@_spi(Engine) import MatrixFactorization
import Testing

/// Bayesian MF by Gibbs sampling: the row conditional against its closed form, the posterior
/// average the model stores, reproducibility and the version-2 model file. (Planted recovery,
/// same-seed bits, finiteness, the round trip and seen-item exclusion run in the conformance
/// suite, which has a Bayesian case.)
@Suite struct BayesTests {
  // MARK: - The row conditional

  /// The closed form, naively in Double: A = diag(λ) + α Σ y yᵀ, c = λ∘m + α Σ y t, mean A⁻¹c,
  /// covariance A⁻¹ (Gauss–Jordan on [A | I]).
  static func closedForm(
    fixed: [Float], fixedBias: [Float], ratings: [Float], mean mu: Float, alpha: Double,
    priorMean: [Float], priorPrecision: [Float]
  ) -> (mean: [Double], covariance: [[Double]]) {
    let order = priorMean.count
    let k = order - 1
    var a = [[Double]](repeating: [Double](repeating: 0, count: order), count: order)
    var c = [Double](repeating: 0, count: order)
    for f in 0 ..< order {
      a[f][f] = Double(priorPrecision[f])
      c[f] = Double(priorPrecision[f]) * Double(priorMean[f])
    }
    for j in 0 ..< ratings.count {
      var y = (0 ..< k).map { Double(fixed[j * k + $0]) }
      y.append(1)
      let t = Double(ratings[j]) - Double(mu) - Double(fixedBias[j])
      for f in 0 ..< order {
        c[f] += alpha * y[f] * t
        for g in 0 ..< order { a[f][g] += alpha * y[f] * y[g] }
      }
    }
    // Inverse by Gauss–Jordan (A is symmetric positive definite: no pivoting needed).
    var m = a
    var inverse = (0 ..< order).map { f in (0 ..< order).map { $0 == f ? 1.0 : 0.0 } }
    for p in 0 ..< order {
      let d = m[p][p]
      for g in 0 ..< order {
        m[p][g] /= d
        inverse[p][g] /= d
      }
      for r in 0 ..< order where r != p {
        let factor = m[r][p]
        for g in 0 ..< order {
          m[r][g] -= factor * m[p][g]
          inverse[r][g] -= factor * inverse[p][g]
        }
      }
    }
    let mean = (0 ..< order).map { f in (0 ..< order).reduce(0.0) { $0 + inverse[f][$1] * c[$1] } }
    return (mean, inverse)
  }

  /// One Gibbs row update: its mean against the closed form, and the sample mean and covariance
  /// of 20,000 draws against the closed-form Gaussian, within Monte Carlo error (fixed seed).
  @Test func rowConditionalMatchesTheClosedForm() throws {
    var rng = SeededGenerator(seed: 5)
    let k = 3
    let n = 7
    let fixed = (0 ..< n * k).map { _ in Float(rng.nextGaussian()) }
    let fixedBias = (0 ..< n).map { _ in Float(0.3 * rng.nextGaussian()) }
    let ratings = (0 ..< n).map { _ in Float(1 + rng.nextIndex(below: 5)) }
    let priorMean: [Float] = [0.2, -0.1, 0.05, 0.3]
    let priorPrecision: [Float] = [2, 5, 1.5, 4]
    let alpha: Float = 1.7
    let exact = Self.closedForm(
      fixed: fixed, fixedBias: fixedBias, ratings: ratings, mean: 3.4, alpha: Double(alpha),
      priorMean: priorMean, priorPrecision: priorPrecision)
    let count = 20_000
    let result = try GibbsConditional.draws(
      fixed: fixed, fixedBias: fixedBias, ratings: ratings, mean: 3.4, noisePrecision: alpha,
      priorMean: priorMean, priorPrecision: priorPrecision, count: count, seed: 11)
    let order = k + 1
    for f in 0 ..< order {
      #expect(abs(Double(result.mean[f]) - exact.mean[f]) < 1e-4 * max(1, abs(exact.mean[f])),
              "mean[\(f)] \(result.mean[f]) against \(exact.mean[f])")
    }
    // Sample moments in Double.
    var average = [Double](repeating: 0, count: order)
    for x in result.draws { for f in 0 ..< order { average[f] += Double(x[f]) / Double(count) } }
    var covariance = [[Double]](repeating: [Double](repeating: 0, count: order), count: order)
    for x in result.draws {
      for f in 0 ..< order {
        for g in 0 ..< order {
          covariance[f][g] += (Double(x[f]) - average[f]) * (Double(x[g]) - average[g]) / Double(count - 1)
        }
      }
    }
    for f in 0 ..< order {
      // The sample mean's standard error is √(Σ_ff / N): allow 4 of them.
      let se = (exact.covariance[f][f] / Double(count)).squareRoot()
      #expect(abs(average[f] - exact.mean[f]) < 4 * se, "draws' mean[\(f)] \(average[f]) against \(exact.mean[f]) (se \(se))")
      for g in 0 ..< order {
        // A sample covariance's standard error is √((Σ_ff Σ_gg + Σ_fg²) / N): allow 4.
        let scale = exact.covariance[f][f] * exact.covariance[g][g] + exact.covariance[f][g] * exact.covariance[f][g]
        let tolerance = 4 * (scale / Double(count)).squareRoot()
        #expect(abs(covariance[f][g] - exact.covariance[f][g]) < tolerance,
                "covariance[\(f)][\(g)] \(covariance[f][g]) against \(exact.covariance[f][g]) (± \(tolerance))")
      }
    }
  }

  /// A row with no entries is drawn from its prior: mean m, covariance diag(1/λ).
  @Test func rowWithoutEntriesIsDrawnFromItsPrior() throws {
    let result = try GibbsConditional.draws(
      fixed: [], fixedBias: [], ratings: [], mean: 3, noisePrecision: 2, priorMean: [0.5, -1],
      priorPrecision: [4, 0.25], count: 10_000, seed: 3)
    #expect(result.mean == [0.5, -1])
    for (f, variance) in [0.25, 4.0].enumerated() {
      let values = result.draws.map { Double($0[f]) }
      let m = values.reduce(0, +) / Double(values.count)
      let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
      #expect(abs(v - variance) < 4 * variance * (2.0 / Double(values.count)).squareRoot(), "variance[\(f)] \(v)")
    }
  }

  // MARK: - Implicit feedback

  /// One pass of the implicit rows' draw: the first item's y is drawn from its conditional
  /// given the users' rows and the other items' starting y's, computed here from the model
  /// (x̃_u ~ N(m + |N(u)|^-½ Σ_{j∈N(u)} y_j, diag(1/λ)), y_j ~ N(m_y, diag(1/λ_y))) in Double:
  /// per dimension, precision λ_y + λ Σ_u c_u² and mean (λ_y m_y + λ Σ_u c_u (x̃_u − m −
  /// c_u Σ_{j≠0} y_j)) / precision over the users u of item 0, c_u = |N(u)|^-½. The draws' mean
  /// and variance match it within Monte Carlo error, and every pass leaves s_u equal to
  /// |N(u)|^-½ Σ y_j recomputed from its final y's.
  @Test func implicitRowsAreDrawnFromTheirConditional() throws {
    var rng = SeededGenerator(seed: 9)
    let items = [[0, 1], [0, 2], [1], [0, 1, 2], []]
    let (users, itemCount, order) = (items.count, 3, 3)
    let userRows = (0 ..< users * order).map { _ in Float(rng.nextGaussian()) }
    let start = (0 ..< itemCount * order).map { _ in Float(0.5 * rng.nextGaussian()) }
    let priorMean: [Float] = [0.1, -0.2, 0.3]
    let priorPrecision: [Float] = [2, 0.5, 3]
    let implicitMean: [Float] = [0.05, 0, -0.1]
    let implicitPrecision: [Float] = [4, 1.5, 0.8]
    let count = 20_000
    let passes = GibbsConditional.implicitDraws(
      items: items, itemCount: itemCount, userRows: userRows, priorMean: priorMean,
      priorPrecision: priorPrecision, implicitMean: implicitMean,
      implicitPrecision: implicitPrecision, start: start, count: count, seed: 4)
    for f in 0 ..< order {
      let lambda = Double(priorPrecision[f])
      var precision = Double(implicitPrecision[f])
      var weighted = Double(implicitPrecision[f]) * Double(implicitMean[f])
      for (u, list) in items.enumerated() where list.contains(0) {
        let c = 1 / Double(list.count).squareRoot()
        let others = list.filter { $0 != 0 }.reduce(0.0) { $0 + Double(start[$1 * order + f]) }
        precision += lambda * c * c
        weighted += lambda * c * (Double(userRows[u * order + f]) - Double(priorMean[f]) - c * others)
      }
      let mean = weighted / precision
      let draws = passes.map { Double($0.features[f]) }
      let average = draws.reduce(0, +) / Double(count)
      let variance = draws.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(count - 1)
      let se = (1 / precision / Double(count)).squareRoot()
      #expect(abs(average - mean) < 4 * se, "y_0[\(f)]: mean \(average) against \(mean) (se \(se))")
      #expect(abs(variance - 1 / precision) < 4 * (1 / precision) * (2.0 / Double(count)).squareRoot(),
              "y_0[\(f)]: variance \(variance) against \(1 / precision)")
    }
    for pass in passes.prefix(20) {
      for (u, list) in items.enumerated() {
        for f in 0 ..< order {
          let c = list.isEmpty ? 0 : 1 / Double(list.count).squareRoot()
          let sum = c * list.reduce(0.0) { $0 + Double(pass.features[$1 * order + f]) }
          #expect(abs(Double(pass.sums[u * order + f]) - sum) < 1e-5, "s_\(u)[\(f)]")
        }
      }
    }
  }

  /// Implicit feedback is on by default, recorded in the options and optional: with it the model
  /// keeps the averaged implicit rows (items × (k + 1)) and its chain differs; without it, none.
  /// (The posterior-average, fold-in and file tests below run with it.)
  @Test func implicitFeedbackIsRecordedAndOptional() throws {
    let with = try Self.fit().model
    let without = try Self.fit(implicitFeedback: false).model
    #expect(with.summary.options.bayes?.implicitFeedback == true)
    #expect(without.summary.options.bayes?.implicitFeedback == false)
    #expect(with.posterior?.implicitItemRows?.rows == with.itemCount)
    #expect(with.posterior?.implicitItemRows?.columns == 5)
    #expect(without.posterior?.implicitItemRows == nil)
    #expect(with.userFactors != without.userFactors)
  }

  // MARK: - The posterior average

  /// The fixture's 150 users and 100 items, or (`transposed`) 100 users and 150 items: the kept
  /// samples store the users' conditional means in the first shape (more user rows) and the
  /// items' in the second.
  static func fit(
    samples: Int = 6, burnIn: Int = 20, thinning: Int = 3, threads: Int = 2, seed: UInt64 = 42,
    validation: RatingSet? = nil, implicitFeedback: Bool = true, transposed: Bool = false,
    conditionalMeans: ConditionalMeansSide = .auto
  ) throws -> FitResult {
    let train = transposed ? Self.transpose(ConformanceCase.plantedRatingSets.train) : ConformanceCase.plantedRatingSets.train
    var options = TrainingOptions.defaults(for: .bayes, rank: 4)
    options.bayes = BayesSettings(
      samples: samples, burnIn: burnIn, thinning: thinning, implicitFeedback: implicitFeedback)
    options.bayes!.conditionalMeans = conditionalMeans
    options.epochs = options.bayes!.sweeps
    options.threads = threads
    options.seed = seed
    return try Trainer.fit(train, validation: validation, options: options)
  }

  /// The model's score is the average of the stored samples' predictions, computed here one
  /// sample at a time from the wide tables (block s of a row, times √S, is sample s); the
  /// posterior-mean embeddings are the blocks' averages; `similar` ranks by them.
  @Test func scoreIsTheAverageOfTheStoredSamples() throws {
    let model = try Self.fit().model
    let posterior = try #require(model.posterior)
    let (s, k) = (posterior.samples, posterior.rank)
    #expect(s == 6 && k == 4 && model.rank == s * k && model.embeddingRank == k)
    let root = Double(s).squareRoot()
    func block(_ table: Matrix, _ row: Int, _ sample: Int) -> [Double] {
      (0 ..< k).map { Double(table[row, sample * k + $0]) * root }
    }
    for (u, i) in [(0, 0), (3, 7), (17, 42), (model.userCount - 1, model.itemCount - 1)] {
      var total = 0.0
      for t in 0 ..< s {
        let p = block(model.userFactors, u, t)
        let q = block(model.itemFactors, i, t)
        total += zip(p, q).reduce(0) { $0 + $1.0 * $1.1 }
      }
      let explicit = Double(model.globalMean) + Double(model.userBias[u]) + Double(model.itemBias[i]) + total / Double(s)
      #expect(abs(Double(model.score(user: u, item: i)) - explicit) < 1e-4, "(\(u), \(i))")
    }
    for i in [0, 5, model.itemCount - 1] {
      for f in 0 ..< k {
        let average = (0 ..< s).map { block(model.itemFactors, i, $0)[f] }.reduce(0, +) / Double(s)
        #expect(abs(Double(posterior.itemMeans[i, f]) - average) < 1e-5)
      }
    }
    let similar = model.similarItems(to: 3, count: 5)
    let norms = posterior.itemMeans.rowNorms()
    let expected = (0 ..< model.itemCount).filter { $0 != 3 }.map { j -> (Int, Float) in
      let dot = (0 ..< k).reduce(Float(0)) { $0 + posterior.itemMeans[3, $1] * posterior.itemMeans[j, $1] }
      return (j, dot / (norms[3] * norms[j]))
    }.sorted { $0.1 > $1.1 }.prefix(5).map(\.0)
    #expect(similar.map(\.index) == Array(expected))
  }

  /// Users and items swapped.
  static func transpose(_ r: RatingSet) -> RatingSet {
    RatingSet(users: r.items, items: r.users, userIndices: r.itemIndices, itemIndices: r.userIndices, values: r.values)
  }

  /// The running average the progress reports after the last sweep, accumulated sweep by sweep
  /// from the live samples, is the final model's validation RMSE, computed from its wide tables;
  /// with either side's conditional means stored.
  @Test(arguments: [false, true]) func runningAverageIsTheModelsPrediction(transposed: Bool) throws {
    let test = transposed ? Self.transpose(ConformanceCase.plantedRatingSets.test) : ConformanceCase.plantedRatingSets.test
    let result = try Self.fit(validation: test, transposed: transposed)
    let last = try #require(result.history.last?.validationRMSE)
    let model = try #require(result.model.summary.validationRMSE)
    #expect(abs(last - model) < 1e-5, "running average \(last), model \(model)")
    #expect(abs(Evaluation.errors(of: result.model, on: test).rmse - model) < 1e-5)
    // The average of the kept samples beats a single sample (the burn-in's last, by the same
    // progress), as averaging should.
    let burnedIn = try #require(result.history[19].validationRMSE)
    #expect(model < burnedIn, "average \(model) against one sample \(burnedIn)")
  }

  /// Folding a training user back in from their own ratings, one conditional-mean solve per kept
  /// sample, gives nearly the scores the chain learned for them.
  @Test func foldInRecoversATrainedUser() throws {
    let (train, _) = ConformanceCase.plantedRatingSets
    let model = try Self.fit().model
    for u in [0, 7, 30] {
      let rows = (0 ..< train.count).filter { Int(train.userIndices[$0]) == u }
      let folded = try model.foldIn(
        items: rows.map { Int(train.itemIndices[$0]) }, values: rows.map { train.values[$0] })
      #expect(folded.factors.count == model.rank)
      var squares = 0.0
      for i in 0 ..< model.itemCount {
        let dot = (0 ..< model.rank).reduce(Float(0)) { $0 + folded.factors[$1] * model.itemFactors[i, $1] }
        let score = model.globalMean + folded.bias + model.itemBias[i] + dot
        let e = Double(score - model.score(user: u, item: i))
        squares += e * e
      }
      let rms = (squares / Double(model.itemCount)).squareRoot()
      print("Bayesian fold-in of user \(u): RMS difference \(rms) from the trained scores")
      #expect(rms < 0.05, "user \(u): folded-in scores differ from the trained ones by \(rms) RMS")
    }
  }

  /// `auto` keeps the conditional means of the side with more rows (users in the fixture, items
  /// in its transpose), the same chain bit for bit as naming that side, and a different model from
  /// naming the other; the choice survives the model file.
  @Test(arguments: [false, true]) func conditionalMeansSideFollowsTheShape(transposed: Bool) throws {
    let auto = try Self.fit(transposed: transposed).model
    let more = try Self.fit(transposed: transposed, conditionalMeans: transposed ? .items : .users).model
    let fewer = try Self.fit(transposed: transposed, conditionalMeans: transposed ? .users : .items).model
    var a = auto
    a.summary = more.summary
    #expect(differences(a, more).isEmpty, "\(differences(a, more))")
    #expect(fewer.userFactors != auto.userFactors)
    let read = try ModelFile.decode(try ModelFile.encode(fewer))
    #expect(read.summary.options.bayes?.conditionalMeans == (transposed ? .users : .items))
    #expect(try ModelFile.decode(try ModelFile.encode(auto)).summary.options.bayes?.conditionalMeans == .auto)
  }

  /// The chain is the same for every thread count: each row's noise has its own stream, sums
  /// over rows are taken in row order.
  @Test(arguments: [false, true]) func threadCountDoesNotChangeTheChain(transposed: Bool) throws {
    let one = try Self.fit(threads: 1, transposed: transposed).model
    let three = try Self.fit(threads: 3, transposed: transposed).model
    var a = one
    a.summary = three.summary
    #expect(differences(a, three).isEmpty, "\(differences(a, three))")
    let other = try Self.fit(seed: 43, transposed: transposed).model
    #expect(other.userFactors != one.userFactors)
  }

  /// The options check their Bayesian settings and refuse what does not apply to a sampler.
  @Test func settingsAreChecked() throws {
    var options = TrainingOptions.defaults(for: .bayes, rank: 4)
    #expect(options.epochs == 8 + 32 * 6)
    options.epochs = 10
    #expect(throws: MFError.self) { try options.validate() }
    options = .defaults(for: .bayes, rank: 4)
    options.bayes?.samples = 0
    options.epochs = options.bayes!.sweeps
    do {
      try options.validate()
      Issue.record("samples 0 was accepted")
    } catch {
      #expect(error == .invalidParameter(.samples, requirement: "must be between 1 and 1000, got 0"))
    }
    options = .defaults(for: .bayes, rank: 4)
    options.earlyStopPatience = 3
    #expect(throws: MFError.self) { try options.validate() }
  }

  // MARK: - The model file

  /// A Bayesian model is written as version 3 with implicit feedback (its averaged implicit rows
  /// in the file), as version 2 without (the layout and summary of the builds before version
  /// 3: no implicit-feedback key), and read back whole; other models stay version 1.
  @Test(arguments: [true, false]) func versionTwoAndThreeRoundTrip(implicit: Bool) throws {
    let model = try Self.fit(implicitFeedback: implicit).model
    let bytes = try ModelFile.encode(model)
    let version: UInt8 = implicit ? 3 : 2
    #expect(bytes[8] == version && ModelFile.version(of: model) == UInt32(version))
    let summary = String(decoding: try JSONEncoder().encode(model.summary), as: UTF8.self)
    #expect(summary.contains("implicitFeedback") == implicit)
    let back = try ModelFile.decode(bytes)
    #expect(differences(back, model).isEmpty, "\(differences(back, model))")
    #expect(back.posterior == model.posterior && back.summary.noisePrecision == model.summary.noisePrecision)
    #expect(try ModelFile.encode(smallModel())[8] == 1)
    // Damage anywhere in the version-2 layout is caught.
    for position in stride(from: 0, to: bytes.count, by: 97) {
      var damaged = bytes
      damaged[position] ^= 0x5A
      #expect(ModelFileReason.check(damaged) != nil, "flip at \(position) was accepted")
    }
    for length in stride(from: 0, to: bytes.count, by: 101) {
      #expect(ModelFileReason.check(Array(bytes[0 ..< length])) != nil, "length \(length) was accepted")
    }
  }

  /// A NaN anywhere in a Bayesian model, the mean embeddings included, is refused by the writer.
  @Test func nonFiniteMeansAreRefused() throws {
    var model = try Self.fit().model
    model.posterior!.itemMeans.values[3] = .nan
    #expect(throws: (any Error).self) { try ModelFile.encode(model) }
  }

  /// A version-1 file written by mf before this format change (0dcb581: `mf fit tiny.csv
  /// --rank 2 --no-tune --epochs 3 --threads 1` on three users and items) still reads, and
  /// predicts what that build predicted (3.35879 for ann, film3).
  @Test func versionOneFileStillReads() throws {
    let base64 = """
      TUZNT0RFTAABAAAAAQAAAAMAAAAAAAAAAwAAAAAAAAACAAAAAAAAAFVVVUAAAIA/AACgQAYAAAAAAAAASwEAAAAAAAB7InRyYWlu\
      Uk1TRSI6MS40NTE4NjQ2NDY2NTk3MjIzLCJvcHRpb25zIjp7ImVwb2NocyI6MywicmVndWxhcml6YXRpb24iOjAuMSwiYmlhc1Jl\
      Z3VsYXJpemF0aW9uIjowLjA1LCJsZWFybmluZ1JhdGUiOjAuMDEsInNlZWQiOjQyLCJhbGdvcml0aG0iOiJzZ2QiLCJsZWFybmlu\
      Z1JhdGVEZWNheSI6MC45ODUsInNjaGVkdWxlIjoiZGVjYXlpbmciLCJ0aHJlYWRzIjoxLCJyZWd1bGFyaXphdGlvbkV4cG9uZW50\
      IjoxLCJpbml0U2NhbGUiOjAuMSwicmFuayI6Mn0sImtlcHRFcG9jaCI6Mywic2Vjb25kcyI6Ny43ODU2ZS0wNSwidHJhaW5pbmdS\
      YXRpbmdzIjo2LCJlcG9jaHNSdW4iOjN9sowdPY03Sr0LOCE8pIGLPZbjSb2B+aK8nuFivcT8FD32eSI6gRn4PSePrbxs05c7xKqt\
      PQ87wL0ALwi9RtqtvQ+Nkb2UHKY9AgAAAAIAAAACAAAAAAAAAAEAAAAAAAAAAgAAAAEAAAACAAAAAwAAAGFubgMAAABib2IDAAAA\
      Y2F0BQAAAGZpbG0xBQAAAGZpbG0yBQAAAGZpbG0zBkz3KQ==
      """
    let bytes = try #require(Data(base64Encoded: base64))
    #expect(bytes[8] == 1)
    let model = try ModelFile.decode(Array(bytes))
    #expect(model.posterior == nil && model.rank == 2 && model.summary.options.algorithm == .sgd)
    #expect(model.users.ids == ["ann", "bob", "cat"] && model.items.ids == ["film1", "film2", "film3"])
    #expect(abs(model.predict(userID: "ann", itemID: "film3").value - 3.35879) < 1e-5)
    // Written again, it is the same version-1 bytes but for the checksum-covered summary, which
    // this build writes in its own key order.
    #expect(try ModelFile.encode(model)[8] == 1)
  }
}
