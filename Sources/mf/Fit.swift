import ArgumentParser
import Dispatch
import MatrixFactorization

struct Fit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model on a rating file and write it (default: model.mf).")

  @Argument(help: "Ratings: user,item,rating[,timestamp] as CSV, TSV or '::'-separated (with --implicit: user,item[,count]).")
  var ratings: String

  @Flag(help: "Implicit feedback (clicks, plays, purchases): learn to rank items, not to predict ratings.")
  var implicit = false

  @Option(help: "Embedding dimension k (default 32).")
  var rank: Int?

  @Option(help: "sgd, als, bayes or svdpp (default sgd); with --implicit: als or bpr (default als).")
  var algorithm: String?

  @Option(help: "Bayesian MF: kept Gibbs samples, averaged by the model and stored in it (default 32).")
  var samples: Int?

  @Option(help: "Bayesian MF: sweeps before the first kept sample (default 8).")
  var burnIn: Int?

  @Option(help: "Bayesian MF: sweeps from one kept sample to the next (default 6).")
  var thinning: Int?

  @Flag(
    inversion: .prefixedNo,
    help: "Bayesian MF: implicit feedback, the items a user rated and the users who rated an item as extra features (Bayesian SVD++). Default: on or off, whichever a short chain of each validates better on 10% of the training ratings.")
  var implicitFeedback: Bool?

  @Option(help: "Bayesian MF: the side whose rows a kept sample stores as conditional means given the other side's draw: auto (default: the side with fewer ratings per row), users or items.")
  var conditionalMeans: String?

  @Flag(help: "Implicit: count every line as one interaction (value 1), ignoring a value column.")
  var binary = false

  @Option(help: "Implicit: confidence c = 1 + α·r for an interaction of value r (default 10).")
  var alpha: Float?

  @Option(help: "Implicit ALS: confidence scaling, linear (1 + α·r, default) or log (1 + α·log(1 + r/ε)).")
  var confidence: String?

  @Option(help: "Implicit ALS: ε of the log confidence scaling (default 1).")
  var epsilon: Float?

  @Option(help: "Implicit ALS solver: cg (conjugate gradient, default) or cholesky (exact).")
  var solver: String?

  @Option(help: "Implicit ALS with cg: conjugate-gradient steps per row and sweep (default 3).")
  var cgSteps: Int?

  @Option(help: "Start from the settings tuned on a data set: ml100k (rank 256 SGD / tuned ALS).")
  var preset: String?

  @Option(help: "Epochs (SGD, SVD++) or, at most, sweeps (ALS). Default: chosen from the data; with --no-tune 120 (SGD), 15 (ALS); SVD++ 60.")
  var epochs: Int?

  @Option(help: "SGD step size: decaying (η·decay^t) or adaptive (η/√G per row, AdaGrad as LIBMF).")
  var schedule: String?

  @Option(help: "SGD step size at the first epoch (default: 0.05 adaptive, 0.01 decaying; SVD++ 0.007).")
  var learningRate: Float?

  @Option(help: "SGD step decay per epoch: η_t = η·decay^t (default: 1 adaptive, 0.985 decaying; SVD++ 0.98).")
  var learningRateDecay: Float?

  @Option(help: "λ on the factors (default: chosen from the data; with --no-tune 0.1 SGD, 0.15 ALS; SVD++ 0.05, on p and q).")
  var regularization: Float?

  @Option(help: "λ on the biases (default: SGD 0.025 adaptive, 0.05 decaying; ALS 0.05; SVD++ 0.01; scaled with λ while λ is chosen; kept when given).")
  var biasRegularization: Float?

  @Option(help: "SVD++: λ_y on the implicit item factors y_j, once per user who rated j (default 0.5).")
  var implicitRegularization: Float?

  @Option(help: "ALS: penalty λ·n^e for a row with n ratings (1 = ALS-WR weighted-λ, 0 = plain ridge).")
  var regularizationExponent: Float?

  @Option(help: "Stop once a sweep changes the training RMSE by less than this fraction (ALS default 0.001; 0: never).")
  var convergenceTolerance: Double?

  @Option(help: "Initial factors ~ N(0, (scale/√k)²) (default 0.1; ALS 1; Bayesian MF 0.566).")
  var initScale: Float?

  @Option(help: "Worker threads (default: all cores).")
  var threads: Int?

  @Option(help: "Random seed.")
  var seed: UInt64 = 42

  @Option(help: "Validation ratings, scored after every epoch.")
  var validation: String?

  @Option(help: "Hold out this fraction of the ratings for validation instead.")
  var holdout: Double?

  @Flag(help: "Stop when validation RMSE has not improved for --patience epochs; keep the best.")
  var earlyStop = false

  @Option(help: "Epochs without improvement before --early-stop stops.")
  var patience: Int = 3

  @Option(help: "Where to write the model.")
  var model: String = "model.mf"

  @OptionGroup var input: InputOptions

  @Flag(help: "Train with the algorithm's fixed defaults instead of choosing λ and the epochs (Bayesian MF: implicit feedback, then on) from the data.")
  var noTune = false

  @Flag(help: "No progress on stderr.")
  var quiet = false

  @Flag(help: "Print one JSON object.")
  var json = false

  func validate() throws {
    if validation != nil && holdout != nil {
      throw ValidationError("give either --validation or --holdout, not both")
    }
    if earlyStop && validation == nil && holdout == nil {
      throw ValidationError("--early-stop needs --validation FILE or --holdout FRACTION")
    }
  }

  func run() throws {
    let options = try trainingOptions()
    let algorithm = options.algorithm
    let showProgress = !quiet
    if showProgress { Console.progress("reading \(ratings)") }
    let readStart = DispatchTime.now()
    var (train, report) = try input.read(ratings, requireRating: !implicit, threads: threads)
    if binary { train.values = [Float](repeating: 1, count: train.count) }
    let readSeconds = Double(DispatchTime.now().uptimeNanoseconds - readStart.uptimeNanoseconds) / 1e9
    var validationSet: RatingSet? = nil
    if let validation {
      validationSet = try input.read(validation).0
    } else if let holdout {
      (train, validationSet) = try Splitting.holdout(train, fraction: holdout, seed: seed)
    }
    if showProgress {
      Console.progress(
        "\(train.count) ratings, \(train.users.count) users, \(train.items.count) items"
          + (report.hadHeader ? " (header skipped)" : "")
          + "; training \(implicit ? "implicit " + (algorithm == .bpr ? "BPR" : "ALS") : algorithmName(algorithm)) rank \(options.rank), "
          + (tuningPlan(for: algorithm)?.epochs == true
            ? "epochs chosen from the data"
            : options.bayes.map {
              "\($0.sweeps) Gibbs sweeps (\($0.burnIn) burn-in, then \($0.samples) kept samples \($0.thinning) sweeps apart"
                + (tuningPlan(for: algorithm)?.implicitFeedback == true
                  ? ", implicit feedback on or off as chosen" : $0.implicitFeedback ? ", implicit feedback" : "") + ")"
            }
              ?? "\(options.epochs) epochs")
          + ", \(options.threads) thread(s)")
    }
    let plan = tuningPlan(for: algorithm)
    let printEpoch = { (r: EpochReport) in
      // A diverged epoch that was undone and retried is always said (progress or not).
      for recovery in r.recoveries { Console.note(recovery) }
      // Every epoch up to 20 epochs; beyond that about 20 lines, always the first and last.
      let every = max(1, (r.epochs + 19) / 20)
      guard showProgress, r.epoch == 1 || r.epoch == r.epochs || r.epoch % every == 0 else { return }
      var line = (algorithm == .bayes ? "sweep" : "epoch") + " \(r.epoch)/\(r.epochs)"
      if let l = r.loss { line += "  loss \(formatted(l, 2))" }
      if let a = r.sampledAUC { line += "  sampled AUC \(formatted(a))" }
      if let t = r.trainRMSE { line += (algorithm == .bayes ? "  sample train RMSE " : "  train RMSE ") + formatted(t) }
      if let v = r.validationRMSE {
        // A sampler's validation RMSE is of the running posterior average once samples are kept.
        let averaged = options.bayes.map { r.epoch > $0.burnIn + $0.thinning - 1 } ?? false
        line += (averaged ? "  validation RMSE (average) " : "  validation RMSE ") + formatted(v)
      }
      line += "  \(formatted(r.epochSeconds, 3)) s  (total \(formatted(r.elapsedSeconds, 2)) s)"
      Console.progress(line)
    }
    let result: FitResult
    if let plan, plan.implicitFeedback {
      // Bayesian MF: implicit feedback on or off, from a short chain of each on a sample held
      // out of the training ratings; the final chain then shows its progress (and the
      // validation ratings', if given) as without the choice.
      if showProgress {
        let chain = plan.implicitFeedbackChain
        Console.progress(
          "choosing implicit feedback (on or off) by a \(chain.sweeps)-sweep chain of each, validated on"
            + " \(Int(plan.validationFraction * 100))% of each user's ratings held out")
      }
      let trainingRatings = train.count
      result = try SelfTuning.fit(
        handingOver: train.moved(), validation: validationSet, options: options, plan: plan,
        trialDone: { t in
          guard showProgress else { return }
          Console.progress(
            "  implicit feedback \(t.implicitFeedback == true ? "on" : "off"): validation RMSE \(formatted(t.bestRMSE))"
              + " after \(t.bestEpoch) sweeps  (\(formatted(t.seconds, 2)) s)")
        }, progress: printEpoch)
      if showProgress, let t = result.model.summary.tuning {
        Console.progress(
          "chose implicit feedback \(t.implicitFeedback == true ? "on" : "off") (search \(formatted(t.seconds, 2)) s);"
            + " final chain on all \(trainingRatings) ratings")
      }
    } else if let plan {
      if showProgress {
        Console.progress(
          "choosing " + [
            plan.alternatives.isEmpty || train.count > plan.smallDataRatings
              ? nil : "the algorithm (" + ([algorithm] + plan.alternatives).map(algorithmName).joined(separator: " or ") + ")",
            plan.regularization ? "λ" : nil, plan.alpha ? "α" : nil, plan.epochs ? "the epochs" : nil,
          ].compactMap { $0 }.joinedAsList + " on \(Int(plan.validationFraction * 100))% of each user's "
            + (implicit ? "interactions held out, by NDCG@\(plan.rankingLength)" : "ratings held out"))
      }
      let trainingRatings = train.count
      result = try SelfTuning.fit(
        handingOver: train.moved(), options: options, plan: plan,
        trialDone: { t in
          guard showProgress else { return }
          if let ndcg = t.ndcg {
            Console.progress(
              "  λ \(formatted(t.regularization, 4)), α \(formatted(t.alpha ?? 0, 2)): validation NDCG@\(plan.rankingLength)"
                + " \(formatted(ndcg))  (\(formatted(t.seconds, 2)) s)")
            return
          }
          Console.progress(
            "  " + (plan.alternatives.isEmpty ? "" : t.algorithm.map { algorithmName($0) + " " } ?? "")
              + "λ \(formatted(t.regularization, 4)) (λ_b \(formatted(t.biasRegularization, 4))): validation RMSE"
              + " \(formatted(t.bestRMSE)) at epoch \(t.bestEpoch) of \(t.validationCurve.count)  (\(formatted(t.seconds, 2)) s)")
        }, progress: printEpoch)
      if showProgress, let t = result.model.summary.tuning, let alpha = t.alpha {
        Console.progress(
          "chose λ \(formatted(t.regularization, 4)), α \(formatted(alpha, 2)) (search \(formatted(t.seconds, 2)) s);"
            + " final fit on all \(trainingRatings) interactions")
      } else if showProgress, let t = result.model.summary.tuning {
        Console.progress(
          "chose " + (t.choseAlgorithm ? t.algorithm.map { algorithmName($0) + ", " } ?? "" : "")
            + "λ \(formatted(t.regularization, 4)), λ_b \(formatted(t.biasRegularization, 4)), \(t.epochs) epochs"
            + " (search \(formatted(t.seconds, 2)) s); final fit on all \(trainingRatings) ratings")
      }
    } else {
      // Handed over: the fit may free the ratings as soon as it no longer reads them.
      result = try Trainer.fit(
        handingOver: train.moved(), validation: validationSet, options: options, measureTrainRMSE: showProgress,
        progress: printEpoch)
    }
    let m = result.model
    try ModelFile.write(m, to: model)
    let duplicates = result.duplicates
    if duplicates.count > 0 {
      switch duplicates.policy {
      case .keepLast:
        Console.note("\(duplicates.count) repeated (user, item) pair(s): kept the last rating of each")
      case .sum:
        Console.note("\(duplicates.count) repeated (user, item) line(s) merged: their values were summed")
      }
    }
    let s = m.summary
    if implicit {
      try reportImplicit(m, result: result, readSeconds: readSeconds, report: report)
      return
    }
    if json {
      var object: [String: Any] = [
        "model": model, "algorithm": s.options.algorithm.rawValue, "rank": m.embeddingRank, "users": m.userCount,
        "items": m.itemCount, "ratings": s.trainingRatings, "duplicates_dropped": duplicates.count,
        "skipped_lines": report.skippedLines, "epochs_run": s.epochsRun, "kept_epoch": s.keptEpoch,
        "train_rmse": (s.trainRMSE ?? .nan).json, "seconds": s.seconds.json,
        "read_seconds": readSeconds.json, "input_bytes": report.bytes, "peak_rss_mib": peakResidentMiB().json,
        "sgd_kernel": SGDKernel.instructionSet,
        "history": result.history.map { r -> [String: Any] in
          var e: [String: Any] = [
            "epoch": r.epoch, "seconds": r.epochSeconds.json, "elapsed_seconds": r.elapsedSeconds.json,
          ]
          if let t = r.trainRMSE { e["train_rmse"] = t.json }
          if let v = r.validationRMSE { e["validation_rmse"] = v.json }
          return e
        },
      ]
      if let v = s.validationRMSE { object["validation_rmse"] = v.json }
      if let t = s.tuning { object["tuning"] = t.jsonObject }
      if let posterior = m.posterior { object["kept_samples"] = posterior.samples }
      if let a = s.noisePrecision { object["noise_precision"] = a.json }
      try Console.json(object)
    } else {
      var line = "trained \(algorithmName(s.options.algorithm)) rank \(m.embeddingRank) on \(s.trainingRatings) ratings"
        + " (\(m.userCount) users, \(m.itemCount) items) in \(formatted(s.seconds, 2)) s"
        + "; train RMSE \(formatted(s.trainRMSE ?? .nan))"
      if let v = s.validationRMSE { line += ", validation RMSE \(formatted(v))" }
      if s.keptEpoch != s.epochsRun { line += "; kept epoch \(s.keptEpoch) of \(s.epochsRun)" }
      if let posterior = m.posterior { line += "; predicts the average of \(posterior.samples) kept samples" }
      print(line)
      print("model written to \(model)")
    }
  }

  /// The training options the flags ask for: the algorithm's defaults (or the preset), then
  /// every flag given. A flag that the algorithm has no use for is named in a note.
  func trainingOptions() throws -> TrainingOptions {
    let algorithm = try chosenAlgorithm()
    if !implicit {
      let implicitOnly: [(String, Bool)] = [
        ("--alpha", alpha != nil), ("--binary", binary), ("--confidence", confidence != nil),
        ("--epsilon", epsilon != nil), ("--solver", solver != nil), ("--cg-steps", cgSteps != nil),
      ]
      if let (flag, _) = implicitOnly.first(where: \.1) {
        throw ValidationError("\(flag) applies to implicit feedback; add --implicit")
      }
    } else {
      if preset != nil { throw ValidationError("--preset tunes rating prediction; it does not apply to --implicit") }
      if validation != nil || holdout != nil {
        throw ValidationError("--validation and --holdout score RMSE; for implicit models use 'mf split' and 'mf evaluate'")
      }
    }
    var options = TrainingOptions.defaults(for: algorithm, rank: rank ?? 32)
    if let preset {
      guard preset.lowercased() == "ml100k" else {
        throw ValidationError("unknown --preset '\(preset)'; the one preset is ml100k")
      }
      options = TunedSettings.movieLens100K(algorithm)
      if let rank { options.rank = rank }
    }
    // SGD uses the adaptive step unless the fixed defaults are asked for (--no-tune, a preset);
    // --schedule chooses either, and the step size and decay default to the schedule's.
    if algorithm == .sgd && !noTune && preset == nil { options.sgd = .selfTuningStart }
    // Flags given, and whether this algorithm uses each.
    var unused: [String] = []
    func note(_ flag: String, _ given: Bool) { if given { unused.append(flag) } }
    switch options.solver {
    case .sgd(var s):
      if let schedule {
        guard let value = StepSchedule(rawValue: schedule.lowercased()) else {
          throw ValidationError("unknown --schedule '\(schedule)'; use decaying or adaptive")
        }
        if value != s.schedule {
          // The other schedule's own defaults (step, decay, λ, λ_b); flags below still win.
          s = value == .adaptive ? SGDSettings.selfTuningStart : SGDSettings()
        }
        s.schedule = value
      }
      if let learningRate { s.learningRate = learningRate }
      if let learningRateDecay { s.learningRateDecay = learningRateDecay }
      if let regularization { s.regularization = regularization }
      if let biasRegularization { s.biasRegularization = biasRegularization }
      if let initScale { s.initScale = initScale }
      note("--regularization-exponent", regularizationExponent != nil)
      options.solver = .sgd(s)
    case .als(var s):
      if let regularization { s.regularization = regularization }
      if let biasRegularization { s.biasRegularization = biasRegularization }
      if let regularizationExponent { s.regularizationExponent = regularizationExponent }
      if let initScale { s.initScale = initScale }
      note("--learning-rate", learningRate != nil)
      note("--learning-rate-decay", learningRateDecay != nil)
      note("--schedule", schedule != nil)
      options.solver = .als(s)
    case .implicitALS(var s):
      if let regularization { s.regularization = regularization }
      if let alpha { s.alpha = alpha }
      if let confidence {
        guard let scaling = ConfidenceScaling(rawValue: confidence.lowercased()) else {
          throw ValidationError("unknown --confidence '\(confidence)'; use linear or log")
        }
        s.confidence = scaling
      }
      if let epsilon { s.epsilon = epsilon }
      if let solver {
        guard let linearSolver = ImplicitSolver(rawValue: solver.lowercased()) else {
          throw ValidationError("unknown --solver '\(solver)'; use cg or cholesky")
        }
        s.solver = linearSolver
      }
      if let cgSteps { s.cgSteps = cgSteps }
      if let initScale { s.initScale = initScale }
      note("--learning-rate", learningRate != nil)
      note("--learning-rate-decay", learningRateDecay != nil)
      note("--bias-regularization", biasRegularization != nil)
      note("--regularization-exponent", regularizationExponent != nil)
      note("--schedule", schedule != nil)
      options.solver = .implicitALS(s)
    case .bpr(var s):
      if let learningRate { s.learningRate = learningRate }
      if let learningRateDecay { s.learningRateDecay = learningRateDecay }
      if let regularization { s.regularization = regularization }
      if let biasRegularization { s.biasRegularization = biasRegularization }
      if let initScale { s.initScale = initScale }
      note("--regularization-exponent", regularizationExponent != nil)
      note("--schedule", schedule != nil)
      for (flag, given) in [
        ("--alpha", alpha != nil), ("--confidence", confidence != nil), ("--epsilon", epsilon != nil),
        ("--solver", solver != nil), ("--cg-steps", cgSteps != nil),
      ] { note(flag, given) }
      options.solver = .bpr(s)
    case .bayes(var s):
      if let samples { s.samples = samples }
      if let burnIn { s.burnIn = burnIn }
      if let thinning { s.thinning = thinning }
      if let implicitFeedback { s.implicitFeedback = implicitFeedback }
      if let conditionalMeans {
        guard let side = ConditionalMeansSide(rawValue: conditionalMeans.lowercased()) else {
          throw ValidationError("--conditional-means must be auto, users or items, not '\(conditionalMeans)'")
        }
        s.conditionalMeans = side
      }
      if let initScale { s.initScale = initScale }
      if epochs != nil {
        throw ValidationError("--epochs does not apply to Bayesian MF: its sweeps are --burn-in + --samples × --thinning")
      }
      if earlyStop {
        throw ValidationError("--early-stop does not apply to Bayesian MF: the model averages its kept samples rather than picking one")
      }
      for (flag, given) in [
        ("--learning-rate", learningRate != nil), ("--learning-rate-decay", learningRateDecay != nil),
        ("--regularization", regularization != nil), ("--bias-regularization", biasRegularization != nil),
        ("--regularization-exponent", regularizationExponent != nil), ("--schedule", schedule != nil),
        ("--convergence-tolerance", convergenceTolerance != nil),
      ] { note(flag, given) }
      options.solver = .bayes(s)
      options.epochs = s.sweeps
    case .svdpp(var s):
      if let learningRate { s.learningRate = learningRate }
      if let learningRateDecay { s.learningRateDecay = learningRateDecay }
      if let regularization { s.regularization = regularization }
      if let biasRegularization { s.biasRegularization = biasRegularization }
      if let implicitRegularization { s.implicitRegularization = implicitRegularization }
      if let initScale { s.initScale = initScale }
      note("--regularization-exponent", regularizationExponent != nil)
      note("--schedule", schedule != nil)
      options.solver = .svdpp(s)
    }
    if options.algorithm != .svdpp { note("--implicit-regularization", implicitRegularization != nil) }
    if options.algorithm != .bayes {
      for (flag, given) in [
        ("--samples", samples != nil), ("--burn-in", burnIn != nil), ("--thinning", thinning != nil),
        ("--[no-]implicit-feedback", implicitFeedback != nil), ("--conditional-means", conditionalMeans != nil),
      ] {
        note(flag, given)
      }
    }
    if !unused.isEmpty {
      Console.note("\(unused.joined(separator: ", ")) do\(unused.count == 1 ? "es" : "") not apply to \(algorithmName(algorithm)); ignored")
    }
    if let epochs { options.epochs = epochs }
    if let convergenceTolerance, algorithm != .bayes {
      // 0: never stop early; anything else must be a valid tolerance (validated below).
      options.convergenceTolerance = convergenceTolerance == 0 ? nil : convergenceTolerance
    }
    if let threads { options.threads = threads }
    options.seed = seed
    options.earlyStopPatience = earlyStop ? patience : nil
    try options.validate()
    return options
  }

  /// What to choose from the data: λ unless given, the epochs unless given; nothing with
  /// --no-tune, a preset, the user's own validation (--validation, --holdout, --early-stop),
  /// or an implicit model. Bayesian MF: implicit feedback unless --[no-]implicit-feedback was
  /// given (with or without the user's validation ratings, which it never reads).
  func tuningPlan(for algorithm: Algorithm) -> TuningPlan? {
    guard !noTune, preset == nil else { return nil }
    if algorithm == .bayes && !implicit {
      // Whether what a user rated carries signal depends on the data (it pays on MovieLens, it
      // costs on data whose observation pattern is independent of the ratings): chosen on a
      // split of the training ratings, as SGD's λ is; an explicit flag wins.
      guard implicitFeedback == nil else { return nil }
      var plan = TuningPlan(regularization: false, epochs: false)
      plan.implicitFeedback = true
      return plan
    }
    guard validation == nil, holdout == nil, !earlyStop else { return nil }
    if implicit {
      // Implicit ALS: λ and α by NDCG@10 on held-out interactions (the linear confidence's α;
      // the log scaling's α is left as given). BPR is not tuned.
      guard algorithm == .implicitALS else { return nil }
      var plan = TuningPlan(regularization: regularization == nil, epochs: false)
      plan.alpha = alpha == nil && confidence == nil
      return plan.isEmpty ? nil : plan
    }
    // SVD++ runs its fixed defaults, chosen on ML-100K (README, "SVD++"); flags change them.
    if algorithm == .svdpp { return nil }
    var plan = TuningPlan(regularization: regularization == nil, epochs: epochs == nil)
    plan.keepsBiasRegularization = biasRegularization != nil
    // With no algorithm and no setting of one given, small data may get SVD++ instead of SGD
    // when it validates better (README, "How the defaults choose their settings").
    let givesSettings = [learningRate, learningRateDecay, initScale].contains { $0 != nil } || schedule != nil
    if self.algorithm == nil && !givesSettings { plan.alternatives = [.svdpp] }
    if algorithm == .als {
      // ALS from unit-norm rows settles in a few sweeps: shorter trials.
      plan.maxEpochs = 30
      plan.patience = 2
    }
    return plan.isEmpty ? nil : plan
  }

  func algorithmName(_ algorithm: Algorithm) -> String {
    switch algorithm {
    case .sgd: "SGD"
    case .als: "ALS"
    case .implicitALS: "implicit ALS"
    case .bpr: "BPR"
    case .bayes: "Bayesian MF"
    case .svdpp: "SVD++"
    }
  }

  /// The algorithm named by --algorithm and --implicit.
  func chosenAlgorithm() throws -> Algorithm {
    let name = (algorithm ?? (implicit ? "als" : "sgd")).lowercased()
    switch (implicit, name) {
    case (false, "sgd"): return .sgd
    case (false, "als"): return .als
    case (false, "bayes"), (false, "bpmf"): return .bayes
    case (false, "svdpp"), (false, "svd++"): return .svdpp
    case (true, "als"), (true, "implicit-als"): return .implicitALS
    case (true, "bpr"), (false, "bpr"):
      if !implicit { throw ValidationError("BPR learns from implicit feedback; add --implicit") }
      return .bpr
    default:
      throw ValidationError(
        "unknown --algorithm '\(name)'; use " + (implicit ? "als or bpr with --implicit" : "sgd, als, bayes or svdpp"))
    }
  }

  func reportImplicit(
    _ m: FactorModel, result: FitResult, readSeconds: Double, report: RatingFileReport
  ) throws {
    let s = m.summary
    if json {
      var object: [String: Any] = [
        "model": model, "algorithm": s.options.algorithm.rawValue, "implicit": true, "rank": m.rank,
        "users": m.userCount, "items": m.itemCount, "interactions": s.trainingRatings,
        "duplicates_merged": result.duplicates.count, "skipped_lines": report.skippedLines,
        "epochs_run": s.epochsRun, "seconds": s.seconds.json, "read_seconds": readSeconds.json,
        "input_bytes": report.bytes, "peak_rss_mib": peakResidentMiB().json,
        "history": result.history.map { r -> [String: Any] in
          var e: [String: Any] = [
            "epoch": r.epoch, "seconds": r.epochSeconds.json, "elapsed_seconds": r.elapsedSeconds.json,
          ]
          if let l = r.loss { e["loss"] = l.json }
          if let a = r.sampledAUC { e["sampled_auc"] = a.json }
          return e
        },
      ]
      if let settings = s.options.implicitALS {
        object["solver"] = settings.solver.rawValue
        object["alpha"] = settings.alpha.json
        object["confidence"] = settings.confidence.rawValue
      }
      if let l = s.trainLoss { object["train_loss"] = l.json }
      if let t = s.tuning { object["tuning"] = t.jsonObject }
      try Console.json(object)
    } else {
      var line = "trained implicit \(s.options.algorithm == .bpr ? "BPR" : "ALS") rank \(m.rank) on"
        + " \(s.trainingInteractionsDescription) (\(m.userCount) users, \(m.itemCount) items) in \(formatted(s.seconds, 2)) s"
      if let l = s.trainLoss { line += "; loss \(formatted(l, 2))" }
      print(line)
      print("model written to \(model)")
    }
  }
}

extension TrainingSummary {
  var trainingInteractionsDescription: String { "\(trainingRatings) interactions" }
}

extension RatingSet {
  /// The ratings, moved out of this variable (which is left with the id maps and no ratings), so
  /// that the value returned is their columns' only holder and a fit they are handed over to
  /// can free them.
  fileprivate mutating func moved() -> RatingSet {
    let ratings = self
    self = RatingSet(users: users, items: items, userIndices: [], itemIndices: [], values: [])
    return ratings
  }
}
