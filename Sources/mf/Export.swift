import ArgumentParser
import MatrixFactorization

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the user and item embedding tables and biases, with each row's id.")

  @Option(help: "csv or npy.") var format: String = "csv"
  @Option(help: "Output folder (created if missing).") var output: String
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    guard let format = ExportFormat(rawValue: format.lowercased()) else {
      throw ValidationError("unknown --format '\(self.format)'; use csv or npy")
    }
    let model = try modelOptions.load()
    let files = try EmbeddingExport.write(model, format: format, to: output)
    if json {
      try Console.json(["format": format.rawValue, "files": files, "users": model.userCount, "items": model.itemCount, "rank": model.embeddingRank])
    } else {
      for f in files { print(f) }
    }
  }
}

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Describe a model.")

  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    let m = try modelOptions.load()
    let s = m.summary
    let o = s.options
    var options: [String: Any] = [
      "algorithm": o.algorithm.rawValue, "rank": o.rank, "epochs": o.epochs, "threads": o.threads,
      "seed": o.seed,
    ]
    if let p = o.earlyStopPatience { options["early_stop_patience"] = p }
    if let t = o.convergenceTolerance { options["convergence_tolerance"] = t.json }
    switch o.solver {
    case .sgd(let s):
      options["schedule"] = s.schedule.rawValue
      options["learning_rate"] = s.learningRate.json
      options["learning_rate_decay"] = s.learningRateDecay.json
      options["regularization"] = s.regularization.json
      options["bias_regularization"] = s.biasRegularization.json
      options["init_scale"] = s.initScale.json
    case .als(let s):
      options["regularization"] = s.regularization.json
      options["bias_regularization"] = s.biasRegularization.json
      options["regularization_exponent"] = s.regularizationExponent.json
      options["init_scale"] = s.initScale.json
    case .implicitALS(let s):
      options["regularization"] = s.regularization.json
      options["alpha"] = s.alpha.json
      options["confidence"] = s.confidence.rawValue
      if s.confidence == .log { options["epsilon"] = s.epsilon.json }
      options["solver"] = s.solver.rawValue
      if s.solver == .cg { options["cg_steps"] = s.cgSteps }
      options["init_scale"] = s.initScale.json
    case .bpr(let s):
      options["learning_rate"] = s.learningRate.json
      options["learning_rate_decay"] = s.learningRateDecay.json
      options["regularization"] = s.regularization.json
      options["bias_regularization"] = s.biasRegularization.json
      options["init_scale"] = s.initScale.json
    case .svdpp(let s):
      options["learning_rate"] = s.learningRate.json
      options["learning_rate_decay"] = s.learningRateDecay.json
      options["regularization"] = s.regularization.json
      options["implicit_regularization"] = s.implicitRegularization.json
      options["bias_regularization"] = s.biasRegularization.json
      options["init_scale"] = s.initScale.json
    case .bayes(let s):
      options["samples"] = s.samples
      options["burn_in"] = s.burnIn
      options["thinning"] = s.thinning
      options["implicit_feedback"] = s.implicitFeedback
      options["conditional_means"] = s.conditionalMeans.rawValue
      options["init_scale"] = s.initScale.json
    }
    let version = ModelFile.version(of: m)
    /// What self-tuning tried and chose, one line per trial.
    func printTuning() {
      guard let t = s.tuning else { return }
      for (n, line) in t.lines.enumerated() { print((n == 0 ? "self-tuning   " : "              ") + line) }
    }
    if json {
      var object: [String: Any] = [
        "model": modelOptions.model, "format_version": Int(version), "users": m.userCount,
        "items": m.itemCount, "rank": m.embeddingRank, "global_mean": m.globalMean.json,
        "rating_min": m.ratingRange.lowerBound.json, "rating_max": m.ratingRange.upperBound.json,
        "training_ratings": s.trainingRatings, "epochs_run": s.epochsRun, "kept_epoch": s.keptEpoch,
        "seconds": s.seconds.json, "options": options, "kind": m.kind.rawValue,
      ]
      if let t = s.trainRMSE { object["train_rmse"] = t.json }
      if let v = s.validationRMSE { object["validation_rmse"] = v.json }
      if let t = s.tuning { object["tuning"] = t.jsonObject }
      if !s.recoveries.isEmpty { object["recoveries"] = s.recoveries }
      if let posterior = m.posterior {
        object["kept_samples"] = posterior.samples
        object["scoring_width"] = m.rank
      }
      if let a = s.noisePrecision { object["noise_precision"] = a.json }
      if m.isImplicit {
        object["implicit"] = true
        object.removeValue(forKey: "global_mean")
        if let l = s.trainLoss { object["train_loss"] = l.json }
      }
      try Console.json(object)
    } else if m.isImplicit {
      print("model         \(modelOptions.model) (format version \(version))")
      print("algorithm     implicit \(o.algorithm == .bpr ? "BPR" : "ALS"), rank \(m.rank)")
      print("users, items  \(m.userCount), \(m.itemCount)")
      print("interactions  \(s.trainingRatings), values in [\(formatted(m.ratingRange.lowerBound, 1)), \(formatted(m.ratingRange.upperBound, 1))]")
      print("epochs        \(s.epochsRun), \(formatted(s.seconds, 2)) s" + (s.trainLoss.map { "; loss \(formatted($0, 2))" } ?? ""))
      printTuning()
      let opts = options.keys.sorted().filter { $0 != "algorithm" && $0 != "rank" }.map { "\($0)=\(options[$0]!)" }
      print("options       " + opts.joined(separator: " "))
    } else {
      print("model         \(modelOptions.model) (format version \(version))")
      print("algorithm     \(o.algorithm == .bayes ? "Bayesian MF (Gibbs sampling)" : o.algorithm == .svdpp ? "svdpp (SVD++, implicit term folded into the user factors)" : o.algorithm.rawValue.uppercased()), rank \(m.embeddingRank)")
      if let posterior = m.posterior {
        print("samples       predicts the average of \(posterior.samples) kept samples (scoring tables \(m.rank) wide);"
          + " similar and export use the posterior-mean embeddings"
          + (s.noisePrecision.map { "; noise σ ≈ \(formatted(1 / $0.squareRoot()))" } ?? ""))
      }
      print("users, items  \(m.userCount), \(m.itemCount)")
      print("ratings       \(s.trainingRatings) in [\(formatted(m.ratingRange.lowerBound, 1)), \(formatted(m.ratingRange.upperBound, 1))], mean μ = \(formatted(m.globalMean))")
      if m.posterior != nil {
        print("sweeps        \(s.epochsRun), \(formatted(s.seconds, 2)) s")
      } else {
        print("epochs        \(s.epochsRun) run, epoch \(s.keptEpoch) kept, \(formatted(s.seconds, 2)) s")
      }
      print("train RMSE    \(s.trainRMSE.map { formatted($0) } ?? "-")" + (s.validationRMSE.map { ", validation RMSE \(formatted($0))" } ?? ""))
      printTuning()
      for (n, line) in s.recoveries.enumerated() { print((n == 0 ? "recovered     " : "              ") + line) }
      let opts = options.keys.sorted().filter { $0 != "algorithm" && $0 != "rank" }.map { "\($0)=\(options[$0]!)" }
      print("options       " + opts.joined(separator: " "))
    }
  }
}
