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
  /// Other rating algorithms the search may choose instead of the base one (each tried from
  /// its own defaults, the epochs chosen like the base's), on small data only.
  public var alternatives: [Algorithm] = []
  /// Trials per alternative: 1 tries its defaults only; more search its λ like the base's.
  /// One by default: on ML-100K SVD++'s λ search (3 trials) found nothing better than its
  /// default λ and tripled the alternative's cost, and on the suite's other sets SVD++ lost.
  public var alternativeTrials: Int = 1
  /// Data with at most this many ratings is small: there the search also tries the
  /// ``alternatives`` and, once SGD's λ is chosen, searches λ_b on its own. Each costs a few
  /// more trials, cheap at this size and not spent on large data, whose default fit must stay
  /// fast.
  public var smallDataRatings: Int = 200_000
  /// An alternative whose first trial's validation RMSE trails the best so far by more than
  /// this fraction is dropped without a λ search (it would cost a few of its fits to lose).
  /// λ moved SVD++'s validation RMSE by at most 0.08% from its default on ML-100K u1 and the
  /// very sparse suite set, where its first trial trailed SGD's by 0.25% and lost after 6 trials.
  public var alternativeMargin: Double = 0.002
  /// Implicit ALS: choose the confidence scale α (after λ).
  public var alpha: Bool = false
  /// Implicit ALS: the list length of the NDCG the search maximizes.
  public var rankingLength: Int = 10
  /// The most trials of the λ_b search (after λ's): λ_b's effect is small, its search short.
  public var biasTrials: Int = 3
  /// Bayesian MF: choose implicit feedback (``BayesSettings/implicitFeedback``) on or off, by
  /// the validation RMSE of one short chain of each (``implicitFeedbackChain``). Whether what
  /// a user rated carries signal is a property of the data: on MovieLens-100K it lowered the
  /// test RMSE by 0.0075 (five folds), on the suite's generated sets, where who rates what is
  /// drawn independently of the planted factors, it raised it by 0.002–0.018 (README,
  /// "Bayesian MF").
  public var implicitFeedback: Bool = false
  /// The chains of the implicit-feedback choice: 8 burn-in sweeps, then 16 samples 3 apart
  /// (56 sweeps, 28% of the default chain's 200) on the search's 90% of the ratings; the
  /// initial scale is the fit's. Its ``BayesSettings/implicitFeedback`` is set per chain.
  public var implicitFeedbackChain = BayesSettings(samples: 16, burnIn: 8, thinning: 3)

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
  public var isEmpty: Bool { !regularization && !epochs && !alpha && !implicitFeedback }
}

/// One setting tried by the search.
public struct TuningTrial: Sendable, Equatable, Codable {
  /// The algorithm trained (`nil` in models written before the search could choose one: the
  /// model's own).
  public var algorithm: Algorithm? = nil
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
  /// Implicit ALS: the confidence scale α tried.
  public var alpha: Float? = nil
  /// Implicit ALS: NDCG at ``TuningPlan/rankingLength`` on the validation sample (the search
  /// maximizes it; `bestRMSE` is 0 and the curve empty, ranking models have no RMSE).
  public var ndcg: Double? = nil
  /// Bayesian MF: whether the chain had implicit feedback (`bestRMSE` is then the validation
  /// RMSE of its posterior average after its last sweep, `bestEpoch` its sweep count).
  public var implicitFeedback: Bool? = nil

  /// What the search minimizes: the validation RMSE, or minus the NDCG of a ranking model.
  public var objective: Double { ndcg.map { -$0 } ?? bestRMSE }
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
  /// The algorithms the search compared, the one it started from first (`nil` in models
  /// written before it could; one entry when there was no other to try).
  public var algorithms: [Algorithm]? = nil
  /// The algorithm chosen (the final fit's).
  public var algorithm: Algorithm? = nil
  /// Whether λ_b was searched on its own once λ was chosen.
  public var tunedBiasRegularization: Bool? = nil
  /// Implicit ALS: the chosen α, and whether it was chosen.
  public var alpha: Float? = nil
  public var tunedAlpha: Bool? = nil
  /// Bayesian MF: whether implicit feedback was chosen on, and whether it was chosen (`nil` in
  /// models of other algorithms and in files written before the choice existed).
  public var implicitFeedback: Bool? = nil
  public var tunedImplicitFeedback: Bool? = nil

  /// Whether the search chose between algorithms.
  public var choseAlgorithm: Bool { (algorithms?.count ?? 0) > 1 }
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
/// 3. On small data (at most ``TuningPlan/smallDataRatings`` ratings) each of
///    ``TuningPlan/alternatives`` (the CLI's default: SVD++) is tried from its own defaults
///    (``TuningPlan/alternativeTrials`` trials, λ searched when more than one, unless the first
///    is far behind: ``TuningPlan/alternativeMargin``); the algorithm with the lowest validation
///    RMSE wins. If SGD won, λ_b is then searched on its own, at most
///    ``TuningPlan/biasTrials`` more trials, halving first.
/// 4. The final model trains on all the ratings with the best trial's algorithm, λ, λ_b and
///    epochs.
///
/// Worst case on small data: 6 λ trials of the base, one per alternative, plus 3 λ_b trials,
/// each at most ``TuningPlan/maxEpochs`` epochs on 90% of the ratings; on ML-100K 3 SGD trials
/// and one SVD++ trial.
public enum SelfTuning {
  /// Self-tunes the rating algorithm of `options` (SGD, ALS or SVD++; on small data possibly
  /// one of `plan`'s alternatives instead) on `ratings` per `plan`, then fits the final model;
  /// `options` gives everything else and the starting λ.
  ///
  /// - Parameters:
  ///   - trialDone: called after each trial (for progress).
  ///   - progress: called after every epoch of the final fit.
  ///   - validation: ratings the final fit scores after each epoch, for progress only: the
  ///     search never sees them (it holds its own sample out of `ratings`).
  public static func fit(
    _ ratings: RatingSet, validation: RatingSet? = nil, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void = { _ in },
    progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(
      ratings, validation: validation, options: options, plan: plan, trialDone: trialDone, progress: progress,
      handedOver: false)
  }

  /// The same, for a caller that hands its ratings over and keeps no other copy: the final fit
  /// may free them as it goes (see ``Trainer/fit(handingOver:validation:options:measureTrainRMSE:progress:)``).
  public static func fit(
    handingOver ratings: consuming RatingSet, validation: RatingSet? = nil, options: TrainingOptions,
    plan: TuningPlan, trialDone: (TuningTrial) -> Void = { _ in },
    progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try fit(
      consume ratings, validation: validation, options: options, plan: plan, trialDone: trialDone,
      progress: progress, handedOver: true)
  }

  private static func fit(
    _ ratings: consuming RatingSet, validation: RatingSet?, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void, progress: (EpochReport) -> Void, handedOver: Bool
  ) throws(MFError) -> FitResult {
    func finalFit(_ ratings: consuming RatingSet, _ options: TrainingOptions) throws(MFError) -> FitResult {
      try Self.finalFit(consume ratings, options, validation: validation, progress: progress, handedOver: handedOver)
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
    guard options.algorithm.kind == .rating || options.algorithm == .implicitALS else {
      throw .invalidParameter(
        .validation, requirement: "does not apply to BPR: self-tuning covers the rating algorithms and implicit ALS")
    }
    if options.algorithm == .implicitALS {
      return try fitImplicit(
        consume ratings, options: options, plan: plan, trialDone: trialDone, progress: progress,
        handedOver: handedOver)
    }
    // Bayesian MF has no λ or epoch count to choose (its priors are sampled, its length is
    // set); only, when asked, whether to use implicit feedback.
    if options.algorithm == .bayes && plan.implicitFeedback {
      return try fitBayes(
        consume ratings, validation: validation, options: options, plan: plan, trialDone: trialDone,
        progress: progress, handedOver: handedOver)
    }
    if plan.isEmpty || options.algorithm == .bayes {
      return try finalFit(consume ratings, options)
    }
    // The final fit's tables are the largest: refuse up front rather than after the search.
    try Limits.checkFactorTables(users: ratings.users.count, items: ratings.items.count, options: options)
    let start = DispatchTime.now()
    guard let (train, validation) = try searchSplit(ratings, plan: plan, seed: options.seed) else {
      // Too few ratings to hold any out: nothing to choose with.
      return try finalFit(consume ratings, options)
    }

    let small = ratings.count <= plan.smallDataRatings
    var trials: [TuningTrial] = []
    func trial(_ o: TrainingOptions) throws(MFError) -> TuningTrial {
      var o = o
      if plan.epochs {
        o.epochs = plan.maxEpochs
        o.earlyStopPatience = plan.patience
      }
      let trialStart = DispatchTime.now()
      // A trial that has run twice as many epochs as the best one of its algorithm needed and
      // still trails it cannot be chosen soon: it is stopped (its best epoch so far is kept).
      // Not against another algorithm's: SVD++'s decaying step needs several times SGD's epochs.
      let leader = trials.filter { $0.algorithm == o.algorithm }.min { $0.objective < $1.objective }
      let result = try Trainer.fit(
        train, validation: validation, options: o, measureTrainRMSE: false, progress: { _ in },
        stopAfter: { report in
          guard plan.epochs, let leader, let rmse = report.validationRMSE else { return false }
          return report.epoch >= 2 * leader.bestEpoch + plan.patience && rmse > leader.bestRMSE
        })
      let curve = result.history.compactMap(\.validationRMSE)
      let best = plan.epochs ? result.model.summary.keptEpoch : curve.count
      let done = TuningTrial(
        algorithm: o.algorithm, regularization: o.regularization,
        biasRegularization: o.biasRegularization, validationCurve: curve, bestEpoch: best,
        bestRMSE: curve[best - 1], seconds: seconds(since: trialStart))
      trials.append(done)
      trialDone(done)
      return done
    }
    func search(
      _ first: TuningTrial, at start: Float, step: Float, probes: Int, _ options: (Float) -> TrainingOptions
    ) throws(MFError) -> TuningTrial {
      try logSearch(first, at: start, step: step, probes: probes) { value throws(MFError) in try trial(options(value)) }
    }
    /// λ for `base` (its λ_b kept in ratio, or as given): its own trial, then up first. An
    /// alternative whose first trial trails `leader` by more than ``TuningPlan/alternativeMargin``
    /// is not searched further: λ moves the validation RMSE by less than that near its default.
    func searchRegularization(
      _ base: TrainingOptions, against leader: TuningTrial? = nil
    ) throws(MFError) -> (TuningTrial, TrainingOptions) {
      let keep = plan.keepsBiasRegularization
      let lambda = base.regularization
      let first = try trial(base.withRegularization(lambda, keepingBias: keep))
      let behind = leader.map { first.bestRMSE > $0.bestRMSE * (1 + plan.alternativeMargin) } ?? false
      let budget = leader == nil ? plan.maxTrials : plan.alternativeTrials
      let probes = plan.regularization && !behind ? budget - 1 : 0
      let best = try search(first, at: lambda, step: 2, probes: probes) {
        base.withRegularization($0, keepingBias: keep)
      }
      return (best, base.withRegularization(best.regularization, keepingBias: keep))
    }

    // The base algorithm, then each alternative (small data only); the best validation RMSE wins.
    // Alternatives start from their own defaults, so only when nothing of the base was given.
    let switches = small && plan.regularization && plan.epochs && !plan.keepsBiasRegularization
    let candidates = [options] + (switches ? plan.alternatives.filter { $0 != options.algorithm }.map { options.switching(to: $0) } : [])
    var (chosen, final) = try searchRegularization(candidates[0])
    for candidate in candidates.dropFirst() {
      let (best, settings) = try searchRegularization(candidate, against: chosen)
      if best.bestRMSE < chosen.bestRMSE { (chosen, final) = (best, settings) }
    }
    // λ_b on its own, from the chosen λ: sparse data, where the biases carry most of the
    // signal, wants a different ratio than dense data (it won the suite's very sparse set).
    // SGD only: for ALS (ML-100K u1) it found nothing better in two more trials, 40% more
    // search; for SVD++ (ML-100K) 0.0005 of RMSE for three trials of its slower epochs.
    let searchesBias = small && plan.regularization && !plan.keepsBiasRegularization && final.algorithm == .sgd
    if searchesBias && final.biasRegularization > 0 {
      // Down first: the per-rating λ_b that suits the factors over-shrinks rare rows' biases.
      let settings = final
      let bias = try search(chosen, at: final.biasRegularization, step: 0.5, probes: plan.biasTrials) {
        settings.withBiasRegularization($0)
      }
      if bias != chosen {
        chosen = bias
        final = final.withBiasRegularization(bias.biasRegularization)
      }
    }
    if plan.epochs { final.epochs = chosen.bestEpoch }
    let report = TuningReport(
      trials: trials, regularization: final.regularization,
      biasRegularization: final.biasRegularization, epochs: final.epochs,
      tunedRegularization: plan.regularization, tunedEpochs: plan.epochs,
      searchRatings: train.count, validationRatings: validation.count,
      seconds: seconds(since: start), algorithms: candidates.map(\.algorithm), algorithm: final.algorithm,
      tunedBiasRegularization: searchesBias)
    var result = try finalFit(consume ratings, final)
    result.model.summary.tuning = report
    result.model.summary.seconds = seconds(since: start)
    return result
  }

  /// The ratings a search trains on and the validation sample it scores on: about
  /// ``TuningPlan/validationFraction`` of each user's ratings, from a user sample of at most
  /// about ``TuningPlan/sampleRatings``; `nil` when no rating could be held out.
  static func searchSplit(
    _ ratings: RatingSet, plan: TuningPlan, seed: UInt64
  ) throws(MFError) -> (train: RatingSet, validation: RatingSet)? {
    let sample = Splitting.userSample(ratings, ratings: plan.sampleRatings, seed: seed)
    let (train, validation): (RatingSet, RatingSet)
    do {
      (train, validation) = try Splitting.perUserSample(sample, fraction: plan.validationFraction, seed: seed)
    } catch { throw .ratings(error) }
    return validation.count > 0 ? (train, validation) : nil
  }

  /// Searches one value on a log grid around `start`, whose trial `first` has run: one step by
  /// `step` (e.g. ×2 or ×½), on the same way while the trials improve (``TuningTrial/objective``),
  /// else the other way; at most `probes` more trials.
  static func logSearch(
    _ first: TuningTrial, at start: Float, step: Float, probes: Int,
    _ trial: (Float) throws(MFError) -> TuningTrial
  ) throws(MFError) -> TuningTrial {
    var best = first
    var left = probes
    for factor in [step, 1 / step] {
      var value = start
      var improved = false
      while left > 0 {
        value *= factor
        left -= 1
        let next = try trial(value)
        guard next.objective < best.objective else { break }
        (best, improved) = (next, true)
      }
      if improved { break }
    }
    return best
  }

  /// The final fit, on all the ratings (handed over when the caller handed them); the search
  /// has already chosen the epochs, so `validation` (the caller's) only shows progress.
  private static func finalFit(
    _ ratings: consuming RatingSet, _ options: TrainingOptions, validation: RatingSet? = nil,
    progress: (EpochReport) -> Void, handedOver: Bool
  ) throws(MFError) -> FitResult {
    try Trainer.fit(
      consume ratings, validation: validation, options: options, measureTrainRMSE: true, progress: progress,
      stopAfter: { _ in false }, handedOver: handedOver)
  }

  /// Bayesian MF with implicit feedback chosen on or off from the data. The same validation
  /// sample as the other searches (``searchSplit(_:plan:seed:)``: about 10% of each user's
  /// ratings, from the training ratings only) scores the posterior average of one short chain
  /// (``TuningPlan/implicitFeedbackChain``) with implicit feedback and one without, both trained
  /// on the rest from the same seed; the lower validation RMSE wins, the setting given first on
  /// a tie. The final chain (the settings given, with the winner's implicit feedback) then runs
  /// on all the ratings. Short chains suffice because the choice compares two models whose
  /// full-chain test RMSEs differ by 0.0075 (ML-100K) to 0.018 (generated sets) (README, "Bayesian
  /// MF"), not two nearby values of one setting. Cost: 112 sweeps on 90% of the ratings (or of
  /// a user sample of at most ``TuningPlan/sampleRatings``) before the final chain's 200.
  static func fitBayes(
    _ ratings: consuming RatingSet, validation: RatingSet?, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void, progress: (EpochReport) -> Void, handedOver: Bool
  ) throws(MFError) -> FitResult {
    func finalFit(_ ratings: consuming RatingSet, _ options: TrainingOptions) throws(MFError) -> FitResult {
      try Self.finalFit(consume ratings, options, validation: validation, progress: progress, handedOver: handedOver)
    }
    guard let base = options.bayes else { return try finalFit(consume ratings, options) }
    try Limits.checkFactorTables(users: ratings.users.count, items: ratings.items.count, options: options)
    let start = DispatchTime.now()
    guard let (train, held) = try searchSplit(ratings, plan: plan, seed: options.seed) else {
      return try finalFit(consume ratings, options)
    }
    var trials: [TuningTrial] = []
    for implicitFeedback in [base.implicitFeedback, !base.implicitFeedback] {
      let trialStart = DispatchTime.now()
      var chain = plan.implicitFeedbackChain
      chain.initScale = base.initScale
      chain.conditionalMeans = base.conditionalMeans
      chain.implicitFeedback = implicitFeedback
      var o = options
      o.solver = .bayes(chain)
      o.epochs = chain.sweeps
      let result = try Trainer.fit(train, validation: held, options: o, measureTrainRMSE: false)
      let curve = result.history.compactMap(\.validationRMSE)
      let done = TuningTrial(
        algorithm: .bayes, regularization: 0, biasRegularization: 0, validationCurve: curve,
        bestEpoch: result.model.summary.epochsRun,
        bestRMSE: result.model.summary.validationRMSE ?? curve.last ?? .infinity,
        seconds: seconds(since: trialStart), implicitFeedback: implicitFeedback)
      trials.append(done)
      trialDone(done)
    }
    // Strictly lower to switch: on a tie the setting given (the library's default) stays.
    let chosen = trials[1].bestRMSE < trials[0].bestRMSE ? trials[1] : trials[0]
    var settings = base
    settings.implicitFeedback = chosen.implicitFeedback ?? base.implicitFeedback
    var final = options
    final.solver = .bayes(settings)
    final.epochs = settings.sweeps
    let report = TuningReport(
      trials: trials, regularization: 0, biasRegularization: 0, epochs: settings.sweeps,
      tunedRegularization: false, tunedEpochs: false, searchRatings: train.count,
      validationRatings: held.count, seconds: seconds(since: start), algorithms: [.bayes],
      algorithm: .bayes, tunedBiasRegularization: false, implicitFeedback: settings.implicitFeedback,
      tunedImplicitFeedback: true)
    var result = try finalFit(consume ratings, final)
    result.model.summary.tuning = report
    result.model.summary.seconds = seconds(since: start)
    return result
  }

  /// Implicit ALS: λ (×4 steps: its penalty is not scaled by the rows' counts, so its useful
  /// range is wide) and then α (×2 steps) chosen by NDCG@``TuningPlan/rankingLength`` on a
  /// held-out sample of each user's interactions, every item the user has not interacted with in
  /// the rest as a candidate (``RankingEvaluation``); the sweeps stay as given (implicit ALS
  /// converges in its default 15). Then the final fit on every interaction.
  static func fitImplicit(
    _ interactions: consuming RatingSet, options: TrainingOptions, plan: TuningPlan,
    trialDone: (TuningTrial) -> Void, progress: (EpochReport) -> Void, handedOver: Bool = false
  ) throws(MFError) -> FitResult {
    func finalFit(_ interactions: consuming RatingSet, _ options: TrainingOptions) throws(MFError) -> FitResult {
      try Self.finalFit(consume interactions, options, progress: progress, handedOver: handedOver)
    }
    guard plan.regularization || plan.alpha, let base = options.implicitALS else {
      return try finalFit(consume interactions, options)
    }
    try Limits.checkFactorTables(users: interactions.users.count, items: interactions.items.count, options: options)
    let start = DispatchTime.now()
    guard let (train, validation) = try searchSplit(interactions, plan: plan, seed: options.seed) else {
      return try finalFit(consume interactions, options)
    }
    var trials: [TuningTrial] = []
    func trial(_ settings: ImplicitALSSettings) throws(MFError) -> TuningTrial {
      let trialStart = DispatchTime.now()
      var o = options
      o.implicitALS = settings
      let model = try Trainer.fit(train, options: o, measureTrainRMSE: false).model
      let ranking = try RankingEvaluation.evaluate(model, on: validation, k: plan.rankingLength, threads: o.threads)
      let done = TuningTrial(
        algorithm: .implicitALS, regularization: settings.regularization, biasRegularization: 0,
        validationCurve: [], bestEpoch: o.epochs, bestRMSE: 0, seconds: seconds(since: trialStart),
        alpha: settings.alpha, ndcg: ranking.ndcg)
      trials.append(done)
      trialDone(done)
      return done
    }
    var chosen = base
    var best = try trial(chosen)
    if plan.regularization {
      best = try logSearch(best, at: base.regularization, step: 4, probes: plan.maxTrials - 1) { value throws(MFError) in
        var s = chosen
        s.regularization = value
        return try trial(s)
      }
      chosen.regularization = best.regularization
    }
    if plan.alpha {
      let settings = chosen
      best = try logSearch(best, at: base.alpha, step: 2, probes: plan.maxTrials - 1) { value throws(MFError) in
        var s = settings
        s.alpha = value
        return try trial(s)
      }
      chosen.alpha = best.alpha ?? chosen.alpha
    }
    var final = options
    final.implicitALS = chosen
    let report = TuningReport(
      trials: trials, regularization: chosen.regularization, biasRegularization: 0, epochs: final.epochs,
      tunedRegularization: plan.regularization, tunedEpochs: false, searchRatings: train.count,
      validationRatings: validation.count, seconds: seconds(since: start), algorithms: [.implicitALS],
      algorithm: .implicitALS, tunedBiasRegularization: false, alpha: chosen.alpha, tunedAlpha: plan.alpha)
    var result = try finalFit(consume interactions, final)
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

  /// The options with λ_b set to `lambda` (SGD, ALS, SVD++; the others have none).
  func withBiasRegularization(_ lambda: Float) -> TrainingOptions {
    var o = self
    switch solver {
    case .sgd(var s): s.biasRegularization = lambda; o.solver = .sgd(s)
    case .als(var s): s.biasRegularization = lambda; o.solver = .als(s)
    case .svdpp(var s): s.biasRegularization = lambda; o.solver = .svdpp(s)
    case .implicitALS, .bpr, .bayes: break
    }
    return o
  }

  /// The defaults of `algorithm` where self-tuning starts it, with these options' rank,
  /// threads and seed. SVD++ runs on one thread there: its threads update shared item factors
  /// without locks, so only one thread gives the same model for the same seed (and on small
  /// data, where it is tried, one thread is as fast: ML-100K 0.17 s against 0.25 s on two).
  func switching(to algorithm: Algorithm) -> TrainingOptions {
    var o = TrainingOptions.defaults(for: algorithm, rank: rank)
    o.seed = seed
    o.threads = algorithm == .svdpp ? 1 : threads
    o.divergenceRetries = divergenceRetries
    if algorithm == .sgd { o.sgd = .selfTuningStart }
    return o
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
