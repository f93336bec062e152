import Dispatch
@_spi(Engine) import LinearAlgebra
import RatingData

/// One line of training progress.
public struct EpochReport: Sendable {
  /// 1-based epoch number.
  public var epoch: Int
  /// Epochs planned.
  public var epochs: Int
  /// Rating models: the training RMSE as the epoch measured it on the way, at no extra cost
  /// (SGD: the errors during the epoch, each before its update; ALS: exact, after the sweep).
  public var trainRMSE: Double?
  /// Rating models: RMSE on the validation ratings after this epoch, when there are any.
  public var validationRMSE: Double?
  /// Seconds this epoch took (the update pass only).
  public var epochSeconds: Double
  /// Seconds since the fit started.
  public var elapsedSeconds: Double
  /// Implicit ALS: the loss of HKV eq. 3 after this epoch (computed only when progress is wanted).
  public var loss: Double? = nil
  /// BPR: the fraction of this epoch's sampled triples ranked correctly before their update.
  public var sampledAUC: Double? = nil
  /// What training did to recover before this epoch succeeded, when an attempt diverged.
  public var recoveries: [String] = []
}

/// The result of a fit.
public struct FitResult: Sendable {
  /// The trained model.
  public var model: FactorModel
  /// Repeated (user, item) pairs and what was done with them.
  public var duplicates: DuplicateReport
  /// One report per epoch run.
  public var history: [EpochReport]
}

/// Fits a ``FactorModel``: the one training loop, shared by every algorithm.
///
/// For rating algorithms (SGD, ALS) repeated (user, item) pairs keep their last rating and the
/// model predicts r̂ = μ + b_u + b_i + p_u·q_i; for ranking algorithms (implicit ALS, BPR) they
/// are summed, values must be ≥ 0, and μ = b_u = 0, so the same r̂ is the ranking score and
/// serving code is shared.
public enum Trainer {
  /// Trains on `ratings` (or interactions, for a ranking algorithm) with `options`.
  ///
  /// - Parameters:
  ///   - validation: rating models only: ratings to score after each epoch (ids unknown to
  ///     training fall back to the baseline); needed for early stopping.
  ///   - measureTrainRMSE: compute what costs an extra pass over the data after every epoch:
  ///     implicit ALS's loss (rating solvers measure their training RMSE on the way, free).
  ///     The model is the same bit for bit either way.
  ///   - progress: called after every epoch.
  public static func fit(
    _ ratings: RatingSet, validation: RatingSet? = nil, options: TrainingOptions,
    measureTrainRMSE: Bool = true, progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(ratings, validation: validation, options: options, measureTrainRMSE: measureTrainRMSE,
            progress: progress, stopAfter: { _ in false })
  }

  /// The same, for a caller that hands its ratings over (`Trainer.fit(handingOver: consume
  /// ratings, …)`) and keeps no other copy of them: training may then free them as soon as it
  /// no longer reads them. SGD does, while it builds its blocked copy of the ratings, so a large
  /// fit never holds both in full (at 22.5M ratings, 270 MB less at the peak). The model is the
  /// same bit for bit. A copy kept elsewhere is never changed: the columns are then copied before
  /// they are released, which costs time and memory instead of saving them.
  public static func fit(
    handingOver ratings: consuming RatingSet, validation: RatingSet? = nil, options: TrainingOptions,
    measureTrainRMSE: Bool = true, progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(consume ratings, validation: validation, options: options, measureTrainRMSE: measureTrainRMSE,
            progress: progress, stopAfter: { _ in false }, handedOver: true)
  }

  /// The same, stopping after any epoch for which `stopAfter` says so (self-tuning prunes
  /// trials that have fallen behind); `handedOver` as in ``fit(handingOver:validation:options:measureTrainRMSE:progress:)``.
  static func fit(
    _ ratings: consuming RatingSet, validation: RatingSet?, options: TrainingOptions, measureTrainRMSE: Bool,
    progress: (EpochReport) -> Void, stopAfter: (EpochReport) -> Bool, handedOver: Bool = false
  ) throws(MFError) -> FitResult {
    try options.validate()
    let (m, h) = (measureTrainRMSE, handedOver)
    switch options.solver {
    case .sgd(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    case .als(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    case .implicitALS(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    case .bpr(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    case .bayes(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    case .svdpp(let s): return try fit(s, consume ratings, validation, options, m, progress, stopAfter, h)
    }
  }

  private static func fit<Settings: SolverConfiguration>(
    _ settings: Settings, _ ratings: consuming RatingSet, _ validation: RatingSet?, _ options: TrainingOptions,
    _ measure: Bool, _ progress: (EpochReport) -> Void, _ stopAfter: (EpochReport) -> Bool,
    _ handedOver: Bool
  ) throws(MFError) -> FitResult {
    let kind = Settings.kind
    if validation != nil && kind == .ranking {
      throw .invalidParameter(
        .validation, requirement: "does not apply: validation ratings score RMSE, which ranking models do not have")
    }
    if options.earlyStopPatience != nil && validation == nil {
      throw .invalidParameter(.earlyStopPatience, requirement: "needs validation ratings")
    }
    let start = DispatchTime.now()
    let data = try TrainingData(
      consume ratings, kind: kind, transform: settings.valueTransform,
      rowsByUser: Settings.readsRowsByUser, threads: options.threads, handedOver: handedOver,
      rowsOnly: Settings.readsOnlyRows)
    try Limits.checkFactorTables(users: data.userCount, items: data.itemCount, options: options)
    let factors = FactorTables(
      users: data.userCount, items: data.itemCount, rank: options.rank,
      initialization: settings.initialization, seed: options.seed, threads: options.threads,
      implicitItemFactors: Settings.trainsImplicitItemFactors)
    let scorer = Scorer(factors: factors, mean: data.mean, range: data.range, threads: options.threads)
    let validAligned = validation.map {
      AlignedRatings($0, users: data.ratings.users, items: data.ratings.items)
    }
    let context = TrainingContext(
      factors: factors, rank: options.rank, threads: options.threads, seed: options.seed)
    var solver = Settings.Solver(data: data, context: context, settings: settings)
    // Scored only by solvers that do not measure their own training RMSE; a solver that took
    // the ratings (SGD) measures its own.
    let trainAligned = kind == .rating && !data.ratingsTaken ? AlignedRatings(own: data.ratings) : nil

    var history: [EpochReport] = []
    var best: (rmse: Double, epoch: Int, snapshot: FactorTables.Snapshot)? = nil
    var epochsRun = 0
    var lastLoss: Double? = nil
    var lastTrainRMSE: Double? = nil
    var recoveries: [String] = []
    var pendingRecoveries: [String] = []
    var previousInEpochRMSE: Double? = nil
    var failuresAtThisEpoch = 0
    // The factors each epoch starts from (one buffer, refilled every epoch).
    var startingFactors: FactorTables.Snapshot? = nil
    // OpenBLAS runs single-threaded: the solvers run their own threads over rows.
    try BLAS.withThreads(1) { () throws(MFError) in
      var epoch = 0
      while epoch < options.epochs {
        // Divergence heals: an epoch that blows up (a NaN or infinity, an unsolvable system, or
        // a training RMSE more than doubled) is undone from this copy and run again with the
        // solver's gentler setting (a halved step, a larger ridge), a bounded number of times.
        // The first epoch starts from the initial draw, which `restart()` makes again: no copy.
        let canRetry = options.divergenceRetries > recoveries.count
        if canRetry && epoch > 0 {
          factors.snapshot(into: &startingFactors)
        } else if !canRetry {
          startingFactors = nil
        }
        let epochStart = DispatchTime.now()
        var outcome = EpochOutcome()
        var failure: MFError? = nil
        do throws(MFError) { outcome = try solver.runEpoch(epoch) } catch {
          guard case .numerical = error else { throw error }
          failure = error
        }
        let epochSeconds = seconds(since: epochStart)
        // "Blew up": more than doubled, and by more than 0.05 (a near-perfect fit on tiny data
        // may double a very small RMSE without diverging).
        let jumped = outcome.inEpochRMSE.map { now in
          !now.isFinite || previousInEpochRMSE.map { now > 2 * $0 && now - $0 > 0.05 } == true
        } ?? false
        if failure != nil || jumped || !factors.allFinite() {
          if canRetry, let change = solver.backOff() {
            let what = failure.map { "\($0)" } ?? (jumped ? "its training RMSE blew up" : "a factor became NaN or infinite")
            failuresAtThisEpoch += 1
            let text: String
            if failuresAtThisEpoch >= 2 && epoch > 0 {
              // Twice from the same start: that start is the trouble. Begin the fit again from
              // the initial factors (the epoch before can already have left them far off without
              // being infinite), drawn again rather than kept in a copy.
              factors.restart()
              text = "epoch \(epoch + 1) diverged again (\(what)); started the fit over from its initial factors, \(change)"
              epoch = 0
              // The discarded epochs' recovery notes stay with the next report.
              pendingRecoveries = history.flatMap(\.recoveries) + pendingRecoveries
              history.removeAll()
              best = nil
              previousInEpochRMSE = nil
              lastTrainRMSE = nil
              failuresAtThisEpoch = 0
            } else {
              if let startingFactors, epoch > 0 { factors.restore(startingFactors) } else { factors.restart() }
              text = "epoch \(epoch + 1) diverged (\(what)); restarted it from the factors it began with, \(change)"
            }
            recoveries.append(text)
            pendingRecoveries.append(text)
            continue
          }
          if let failure { throw failure }
          throw .diverged(epoch: epoch + 1, remedy: Settings.divergenceRemedy)
        }
        epochsRun = epoch + 1
        failuresAtThisEpoch = 0
        previousInEpochRMSE = outcome.inEpochRMSE
        defer { epoch += 1 }
        let trainRMSE =
          outcome.inEpochRMSE ?? (measure ? trainAligned.map { scorer.errors($0).rmse } : nil)
        let validRMSE = validAligned.map { solver.validationRMSE($0) ?? scorer.errors($0).rmse }
        let loss = measure ? solver.loss() : nil
        if loss != nil { lastLoss = loss }
        let report = EpochReport(
          epoch: epoch + 1, epochs: options.epochs, trainRMSE: trainRMSE, validationRMSE: validRMSE,
          epochSeconds: epochSeconds, elapsedSeconds: seconds(since: start), loss: loss,
          sampledAUC: outcome.sampledAUC, recoveries: pendingRecoveries)
        pendingRecoveries = []
        history.append(report)
        progress(report)
        // The best epoch is recorded before any stop, so a stop never loses it.
        var patienceRanOut = false
        if let patience = options.earlyStopPatience, let validRMSE {
          if best == nil || validRMSE < best!.rmse {
            best = (validRMSE, epoch + 1, factors.snapshot())
          } else if epoch + 1 - best!.epoch >= patience {
            patienceRanOut = true
          }
        }
        if patienceRanOut || stopAfter(report) { break }
        if let tolerance = options.convergenceTolerance, let now = trainRMSE {
          defer { lastTrainRMSE = now }
          if let before = lastTrainRMSE, abs(before - now) < tolerance * before { break }
        }
      }
    }
    if let best { factors.restore(best.snapshot) }
    // A sampler's model is its posterior average, a factorization of width S·k (see
    // GibbsSampler); every other solver's is the live tables.
    let average = solver.posteriorAverage()
    // SVD++ serves its user vectors with the implicit term folded in (p̃_u), over the live Q and
    // biases, so the model is an ordinary biased factorization.
    let folded = average == nil ? solver.servedUserFactors() : nil
    let modelTables = average.map {
      FactorTables(
        rank: $0.samples * $0.rank, p: $0.p, q: $0.q, userBias: $0.userBias, itemBias: $0.itemBias)
    } ?? folded.map {
      FactorTables(
        rank: options.rank, p: $0, q: factors.q.values, userBias: factors.userBias.values,
        itemBias: factors.itemBias.values)
    }
    let modelScorer = modelTables.map {
      Scorer(factors: $0, mean: data.mean, range: data.range, threads: options.threads)
    } ?? scorer
    // Final figures from the model's tables, before they are copied out (the solver's own pass
    // when it has a faster one for the live tables).
    let solverTrainRMSE =
      modelTables == nil && kind == .rating ? solver.trainingRMSE(range: data.range) : nil
    let finalTrainRMSE = solverTrainRMSE ?? trainAligned.map { modelScorer.errors($0).rmse }
    let finalValidRMSE = validAligned.map { modelScorer.errors($0).rmse }
    let trainLoss = kind == .ranking ? lastLoss ?? solver.loss() : nil
    let kept = (modelTables ?? factors).snapshot()
    let k = modelTables?.rank ?? options.rank
    let posterior = average.map {
      PosteriorSummary(
        samples: $0.samples,
        userMeans: Matrix(rows: data.userCount, columns: $0.rank, values: $0.userMeans),
        itemMeans: Matrix(rows: data.itemCount, columns: $0.rank, values: $0.itemMeans),
        implicitItemRows: $0.implicitItemRows.map {
          Matrix(rows: data.itemCount, columns: options.rank + 1, values: $0)
        })
    }
    var summary = TrainingSummary(
      options: options, epochsRun: epochsRun, keptEpoch: best?.epoch ?? epochsRun,
      trainingRatings: data.ratingCount, trainRMSE: finalTrainRMSE,
      validationRMSE: finalValidRMSE, trainLoss: trainLoss, seconds: seconds(since: start),
      recoveries: recoveries)
    summary.noisePrecision = average?.noisePrecision
    summary.userPrior = average?.userPrior
    let model = FactorModel(
      kind: kind, globalMean: kind == .rating ? data.mean : 0,
      userBias: kind == .rating ? kept.userBias : [Float](repeating: 0, count: data.userCount),
      itemBias: kept.itemBias,
      userFactors: Matrix(rows: data.userCount, columns: k, values: kept.p),
      itemFactors: Matrix(rows: data.itemCount, columns: k, values: kept.q),
      users: data.ratings.users, items: data.ratings.items, ratingRange: data.range,
      seen: data.seen, summary: summary, posterior: posterior)
    return FitResult(model: model, duplicates: data.duplicates, history: history)
  }
}

func seconds(since start: DispatchTime) -> Double {
  Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// Scores aligned ratings against the live factor tables, on the fit's threads.
struct Scorer {
  let factors: FactorTables
  let mean: Float
  let range: ClosedRange<Float>
  let threads: Int

  /// The errors, summed per chunk and then in chunk order; the chunks do not depend on the
  /// thread count, so neither does the result.
  func errors(_ ratings: AlignedRatings) -> ErrorSummary {
    let k = factors.rank
    let p = factors.p.readOnly
    let q = factors.q.readOnly
    let bu = factors.userBias.readOnly
    let bi = factors.itemBias.readOnly
    let (mean, low, high) = (mean, range.lowerBound, range.upperBound)
    let count = ratings.count
    let chunks = max(1, min(64, count / 16_384))
    var partial = [(squares: Double, absolutes: Double, fallbacks: Int)](
      repeating: (0, 0, 0), count: chunks)
    withSharedReadPointers(ratings.users, ratings.items, ratings.values) { users, items, values in
      partial.withSharedPointer { out in
        Parallel.forEach(chunks, threads: threads) { c in
          var sums: (squares: Double, absolutes: Double, fallbacks: Int) = (0, 0, 0)
          let end = (c + 1) * count / chunks
          for n in c * count / chunks ..< end {
            // The rows of the rating 8 ahead are asked for now, so that their cache misses
            // overlap instead of stalling each dot product in turn (as in the SGD loop); the
            // sums, and so the result, are unchanged.
            if n &+ 8 < end {
              let (u8, i8) = (Int(users[n &+ 8]), Int(items[n &+ 8]))
              if u8 >= 0 { Prefetch.read(p.row(u8), bytes: k &* 4) }
              if i8 >= 0 { Prefetch.read(q.row(i8), bytes: k &* 4) }
            }
            let u = Int(users[n])
            let i = Int(items[n])
            var raw = mean
            if u >= 0 { raw += bu[u] }
            if i >= 0 { raw += bi[i] }
            if u >= 0 && i >= 0 { raw += RowKernels.dot(k, p.row(u), q.row(i)) } else { sums.fallbacks += 1 }
            let e = min(max(raw, low), high) - values[n]
            sums.squares += Double(e * e)
            sums.absolutes += Double(abs(e))
          }
          out[c] = sums
        }
      }
    }
    let total = partial.reduce((squares: 0.0, absolutes: 0.0, fallbacks: 0)) {
      ($0.squares + $1.squares, $0.absolutes + $1.absolutes, $0.fallbacks + $1.fallbacks)
    }
    let c = Double(max(count, 1))
    return ErrorSummary(
      rmse: (total.squares / c).squareRoot(), mae: total.absolutes / c, count: count,
      fallbacks: total.fallbacks)
  }
}

