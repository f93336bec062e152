import Dispatch
@_spi(Engine) import LinearAlgebra
import RatingData

/// What self-tuning may choose, and how it searches.
public struct TuningPlan: Sendable, Equatable {
  /// Choose λ (with λ_b in the base settings' ratio to λ, unless ``keepsBiasRegularization``).
  public var regularization: Bool
  /// Keep λ_b as the base settings give it while λ is searched (it was given explicitly).
  public var keepsBiasRegularization: Bool = false
  /// Choose the number of epochs (or sweeps) by early stopping on the validation sample.
  public var epochs: Bool
  /// The share of each user's ratings held out for validation.
  public var validationFraction: Double
  /// The most epochs a trial runs.
  public var maxEpochs: Int
  /// Epochs without a better validation RMSE before a trial stops.
  public var patience: Int
  /// The most trials (λ values) the search runs.
  public var maxTrials: Int
  /// Above this many ratings the search runs on a random sample of users holding about this
  /// many ratings (the final fit always uses every rating).
  public var sampleRatings: Int

  public init(
    regularization: Bool = true, epochs: Bool = true, validationFraction: Double = 0.1,
    maxEpochs: Int = 60, patience: Int = 3, maxTrials: Int = 6, sampleRatings: Int = 1_000_000
  ) {
    self.regularization = regularization
    self.epochs = epochs
    self.validationFraction = validationFraction
    self.maxEpochs = maxEpochs
    self.patience = patience
    self.maxTrials = maxTrials
    self.sampleRatings = sampleRatings
  }

  /// Whether there is anything to choose.
  public var isEmpty: Bool { !regularization && !epochs }
}

/// One setting tried by the search.
public struct TuningTrial: Sendable, Equatable, Codable {
  /// λ on the factors.
  public var regularization: Float
  /// λ_b on the biases.
  public var biasRegularization: Float
  /// Validation RMSE after each epoch run.
  public var validationCurve: [Double]
  /// The epoch (1-based) with the lowest validation RMSE.
  public var bestEpoch: Int
  /// That RMSE.
  public var bestRMSE: Double
  /// Seconds the trial took.
  public var seconds: Double
}

/// What self-tuning tried and chose; stored in the model's summary.
public struct TuningReport: Sendable, Equatable, Codable {
  /// The trials, in the order run.
  public var trials: [TuningTrial]
  /// The chosen λ, λ_b and epochs (the final fit's).
  public var regularization: Float
  public var biasRegularization: Float
  public var epochs: Int
  /// Whether λ and the epochs were chosen (else they were given).
  public var tunedRegularization: Bool
  public var tunedEpochs: Bool
  /// Ratings the search trained on and validated on.
  public var searchRatings: Int
  public var validationRatings: Int
  /// Seconds the search took (before the final fit).
  public var seconds: Double
}

/// Fits with settings chosen from the data ("self-tuning defaults").
///
/// 1. A validation sample is held out of each user's ratings (``Splitting/perUserSample(_:fraction:seed:)``,
///    seeded; the test data of an evaluation is never seen: only the ratings given).
/// 2. Each trial trains on the rest with early stopping on the sample: its best epoch is the
///    epoch count that trial would choose. λ is searched on a log₂ grid from the base setting:
///    one step up, then on in whichever direction improved, until the validation RMSE stops
///    improving or ``TuningPlan/maxTrials`` is reached; a trial's cost is one early-stopped fit,
///    so the search costs a bounded multiple (typically 3–4) of one fit — on at most
///    ``TuningPlan/sampleRatings`` ratings.
/// 3. The final model trains on all the ratings with the best trial's λ and epochs.
public enum SelfTuning {
  /// Self-tunes the rating algorithm of `options` (SGD or ALS) on `ratings` per `plan`, then
  /// fits the final model; `options` gives everything else and the starting λ.
  ///
  /// - Parameters:
  ///   - trialDone: called after each trial (for progress).
  ///   - progress: called after every epoch of the final fit.
  public static func fit(
    _ ratings: RatingSet, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void = { _ in },
    progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(ratings, options: options, plan: plan, trialDone: trialDone, progress: progress, handedOver: false)
  }

  /// The same, for a caller that hands its ratings over and keeps no other copy: the final fit
  /// may free them as it goes (see ``Trainer/fit(handingOver:validation:options:measureTrainRMSE:progress:)``).
  public static func fit(
    handingOver ratings: consuming RatingSet, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void = { _ in },
    progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(consume ratings, options: options, plan: plan, trialDone: trialDone, progress: progress, handedOver: true)
  }

  private static func fit(
    _ ratings: consuming RatingSet, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void, progress: (EpochReport) -> Void, handedOver: Bool
  ) throws(MFError) -> FitResult {
    /// The final fit, on all the ratings.
    func finalFit(_ ratings: consuming RatingSet, _ options: TrainingOptions) throws(MFError) -> FitResult {
      try Trainer.fit(
        consume ratings, validation: nil, options: options, measureTrainRMSE: true, progress: progress,
        stopAfter: { _ in false }, handedOver: handedOver)
    }
    try options.validate()
    guard plan.maxEpochs >= 1, plan.maxTrials >= 1, plan.patience >= 1,
      plan.validationFraction > 0, plan.validationFraction < 1
    else {
      throw .invalidParameter(
        .validation,
        requirement: "needs a tuning plan with maxEpochs, maxTrials and patience ≥ 1 and a validation fraction in (0, 1)")
    }
    // The search does its own early stopping; the final fit has no validation ratings.
    var options = options
    options.earlyStopPatience = nil
    guard options.algorithm.kind == .rating else {
      throw .invalidParameter(
        .validation, requirement: "does not apply: self-tuning scores RMSE, which ranking models do not have")
    }
    // Bayesian MF has no λ or epoch count to choose: its priors are sampled, its length is set.
    if plan.isEmpty || options.algorithm == .bayes {
      return try finalFit(consume ratings, options)
    }
    // The final fit's tables are the largest: refuse up front rather than after the search.
    try Limits.checkFactorTables(users: ratings.users.count, items: ratings.items.count, options: options)
    let start = DispatchTime.now()
    let sample = Splitting.userSample(ratings, ratings: plan.sampleRatings, seed: options.seed)
    let (train, validation): (RatingSet, RatingSet)
    do {
      (train, validation) = try Splitting.perUserSample(
        sample, fraction: plan.validationFraction, seed: options.seed)
    } catch { throw .ratings(error) }
    // The sample may share the ratings' columns (all users taken): it is not needed again.
    _ = consume sample
    guard validation.count > 0 else {
      // Too few ratings to hold any out: nothing to choose with.
      return try finalFit(consume ratings, options)
    }

    var trials: [TuningTrial] = []
    func trial(_ lambda: Float) throws(MFError) -> TuningTrial {
      var o = options.withRegularization(lambda, keepingBias: plan.keepsBiasRegularization)
      if plan.epochs {
        o.epochs = plan.maxEpochs
        o.earlyStopPatience = plan.patience
      }
      let trialStart = DispatchTime.now()
      // A trial that has run twice as many epochs as the best one needed and still trails it
      // cannot be chosen soon: it is stopped (its best epoch so far is kept as its result).
      let leader = trials.min { $0.bestRMSE < $1.bestRMSE }
      let result = try Trainer.fit(
        train, validation: validation, options: o, measureTrainRMSE: false, progress: { _ in },
        stopAfter: { report in
          guard plan.epochs, let leader, let rmse = report.validationRMSE else { return false }
          return report.epoch >= 2 * leader.bestEpoch + plan.patience && rmse > leader.bestRMSE
        })
      let curve = result.history.compactMap(\.validationRMSE)
      let best = plan.epochs ? result.model.summary.keptEpoch : curve.count
      let done = TuningTrial(
        regularization: o.regularization, biasRegularization: o.biasRegularization,
        validationCurve: curve, bestEpoch: best, bestRMSE: curve[best - 1],
        seconds: seconds(since: trialStart))
      trialDone(done)
      return done
    }

    let base = options.regularization
    trials.append(try trial(base))
    if plan.regularization && plan.maxTrials >= 2 {
      // Up one step; then keep going the way that improved.
      let up = try trial(base * 2)
      trials.append(up)
      let factor: Float = up.bestRMSE < trials[0].bestRMSE ? 2 : 0.5
      var best = min(up.bestRMSE, trials[0].bestRMSE)
      var lambda = factor == 2 ? base * 2 : base
      while trials.count < plan.maxTrials {
        lambda *= factor
        let next = try trial(lambda)
        trials.append(next)
        if next.bestRMSE < best { best = next.bestRMSE } else { break }
      }
    }
    let chosen = trials.min { $0.bestRMSE < $1.bestRMSE }!
    var final = options.withRegularization(chosen.regularization, keepingBias: plan.keepsBiasRegularization)
    if plan.epochs { final.epochs = chosen.bestEpoch }
    let report = TuningReport(
      trials: trials, regularization: final.regularization,
      biasRegularization: final.biasRegularization, epochs: final.epochs,
      tunedRegularization: plan.regularization, tunedEpochs: plan.epochs,
      searchRatings: train.count, validationRatings: validation.count,
      seconds: seconds(since: start))
    var result = try finalFit(consume ratings, final)
    result.model.summary.tuning = report
    result.model.summary.seconds = seconds(since: start)
    return result
  }
}

extension TrainingOptions {
  /// λ on the factors of the rating algorithms (SGD, ALS); 0 for the others.
  var regularization: Float {
    switch solver {
    case .sgd(let s): s.regularization
    case .als(let s): s.regularization
    case .implicitALS(let s): s.regularization
    case .bpr(let s): s.regularization
    case .bayes: 0
    case .svdpp(let s): s.regularization
    }
  }

  /// λ_b on the biases.
  var biasRegularization: Float {
    switch solver {
    case .sgd(let s): s.biasRegularization
    case .als(let s): s.biasRegularization
    case .implicitALS: 0
    case .bpr(let s): s.biasRegularization
    case .bayes: 0
    case .svdpp(let s): s.biasRegularization
    }
  }

  /// The options with λ set to `lambda` and λ_b scaled with it (their ratio kept), or left as
  /// it is when `keepingBias`.
  func withRegularization(_ lambda: Float, keepingBias: Bool = false) -> TrainingOptions {
    var o = self
    let ratio = keepingBias ? 0 : regularization > 0 ? biasRegularization / regularization : 0.5
    let bias = { (old: Float) in keepingBias ? old : lambda * ratio }
    switch solver {
    case .sgd(var s):
      s.regularization = lambda
      s.biasRegularization = bias(s.biasRegularization)
      o.solver = .sgd(s)
    case .als(var s):
      s.regularization = lambda
      s.biasRegularization = bias(s.biasRegularization)
      o.solver = .als(s)
    case .svdpp(var s):
      s.regularization = lambda
      s.biasRegularization = bias(s.biasRegularization)
      o.solver = .svdpp(s)
    case .implicitALS, .bpr, .bayes:
      break
    }
    return o
  }
}
