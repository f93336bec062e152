import Dispatch
import LinearAlgebra
import RatingData

/// One line of training progress.
public struct EpochReport: Sendable {
  /// 1-based epoch number.
  public var epoch: Int
  /// Epochs planned.
  public var epochs: Int
  /// RMSE on the training ratings after this epoch (computed only when progress is wanted).
  public var trainRMSE: Double?
  /// RMSE on the validation ratings after this epoch, when there are any.
  public var validationRMSE: Double?
  /// Seconds this epoch took (the update pass only).
  public var epochSeconds: Double
  /// Seconds since the fit started.
  public var elapsedSeconds: Double
  /// Implicit ALS: the loss of HKV eq. 3 after this epoch (computed only when progress is wanted).
  public var loss: Double? = nil
  /// BPR: the fraction of this epoch's sampled triples ranked correctly before their update.
  public var sampledAUC: Double? = nil
}

/// The result of a fit.
public struct FitResult: Sendable {
  /// The trained model.
  public var model: FactorModel
  /// Repeated (user, item) pairs dropped before training (the last occurrence is kept).
  public var duplicatesDropped: Int
  /// One report per epoch run.
  public var history: [EpochReport]
}

/// Fits a ``FactorModel`` to ratings with SGD or ALS.
public enum Trainer {
  /// Trains on `ratings`.
  ///
  /// - Parameters:
  ///   - validation: ratings to score after each epoch (ids unknown to training fall back to
  ///     the baseline); needed for early stopping.
  ///   - measureTrainRMSE: compute the exact training RMSE after every epoch (costs a pass over
  ///     the data; the benchmark turns it off).
  ///   - progress: called after every epoch.
  public static func fit(
    _ ratings: RatingSet, validation: RatingSet? = nil, options: TrainingOptions,
    measureTrainRMSE: Bool = true, progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try options.validate()
    if options.algorithm.isImplicit {
      return try ImplicitTrainer.fit(
        ratings, options: options, measureLoss: measureTrainRMSE, progress: progress)
    }
    if options.earlyStopPatience != nil && validation == nil {
      throw .invalidOption("--early-stop needs validation ratings (--validation FILE or --holdout F)")
    }
    let start = DispatchTime.now()
    let (train, dropped) = ratings.removingDuplicates()
    guard train.count > 0 else { throw .invalidOption("there are no training ratings") }
    let mean = Float(train.mean)
    let range = train.valueRange
    // Row access by user is kept in the model (seen items); ALS also needs access by item.
    let byUser = SparseRatingMatrix(
      rowCount: train.users.count, columnCount: train.items.count, rows: train.userIndices,
      columns: train.itemIndices, values: train.values)
    let buffers = FactorBuffers(
      users: train.users.count, items: train.items.count, rank: options.rank,
      scale: options.initScale, seed: options.seed)
    let trainAligned = AlignedRatings(own: train)
    let validAligned = validation.map { AlignedRatings($0, users: train.users, items: train.items) }

    // Solvers share one loop; OpenBLAS runs single-threaded under the solvers' own threads.
    var sgd: SGDSolver? = nil
    var als: ALSSolver? = nil
    switch options.algorithm {
    case .sgd: sgd = SGDSolver(ratings: train, mean: mean, options: options, buffers: buffers)
    case .als:
      let byItem = SparseRatingMatrix(
        rowCount: train.items.count, columnCount: train.users.count, rows: train.itemIndices,
        columns: train.userIndices, values: train.values)
      als = ALSSolver(byUser: byUser, byItem: byItem, mean: mean, options: options, buffers: buffers)
    case .implicitALS, .bpr: preconditionFailure("implicit training returned above")
    }
    var history: [EpochReport] = []
    var best: (rmse: Double, epoch: Int, snapshot: FactorBuffers.Snapshot)? = nil
    var epochsRun = 0
    try BLAS.withThreads(1) { () throws(MFError) in
      for epoch in 0 ..< options.epochs {
        let epochStart = DispatchTime.now()
        if sgd != nil {
          let inEpochRMSE = sgd!.runEpoch(epoch)
          if !inEpochRMSE.isFinite {
            throw .diverged(epoch: epoch + 1, hint: "try a smaller --learning-rate")
          }
        } else {
          try als!.runEpoch(epoch)
        }
        let epochSeconds = seconds(since: epochStart)
        epochsRun = epoch + 1
        guard buffers.allFinite() else {
          throw .diverged(
            epoch: epoch + 1,
            hint: options.algorithm == .sgd ? "try a smaller --learning-rate" : "try a larger --regularization")
        }
        let state = Scorer(buffers: buffers, mean: mean, range: range)
        let trainRMSE = measureTrainRMSE ? state.errors(trainAligned).rmse : nil
        let validRMSE = validAligned.map { state.errors($0).rmse }
        let report = EpochReport(
          epoch: epoch + 1, epochs: options.epochs, trainRMSE: trainRMSE, validationRMSE: validRMSE,
          epochSeconds: epochSeconds, elapsedSeconds: seconds(since: start))
        history.append(report)
        progress(report)
        if let patience = options.earlyStopPatience, let validRMSE {
          if best == nil || validRMSE < best!.rmse {
            best = (validRMSE, epoch + 1, buffers.snapshot())
          } else if epoch + 1 - best!.epoch >= patience {
            break
          }
        }
      }
    }
    if let best { buffers.restore(best.snapshot) }
    // Final errors from the live buffers (pointer loop), before they are copied out.
    let finalScorer = Scorer(buffers: buffers, mean: mean, range: range)
    let finalTrainRMSE = finalScorer.errors(trainAligned).rmse
    let finalValidRMSE = validAligned.map { finalScorer.errors($0).rmse }
    let kept = buffers.snapshot()
    let k = options.rank
    var model = FactorModel(
      globalMean: mean, userBias: kept.userBias, itemBias: kept.itemBias,
      userFactors: Matrix(rows: train.users.count, columns: k, values: kept.p),
      itemFactors: Matrix(rows: train.items.count, columns: k, values: kept.q),
      users: train.users, items: train.items, ratingRange: range,
      seen: InteractionIndex(byUser),
      summary: TrainingSummary(
        options: options, epochsRun: epochsRun, keptEpoch: best?.epoch ?? epochsRun,
        trainingRatings: train.count, trainRMSE: 0, validationRMSE: nil, seconds: 0))
    model.summary.trainRMSE = finalTrainRMSE
    model.summary.validationRMSE = finalValidRMSE
    model.summary.seconds = seconds(since: start)
    return FitResult(model: model, duplicatesDropped: dropped, history: history)
  }
}

func seconds(since start: DispatchTime) -> Double {
  Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// Scores aligned ratings against the live training buffers.
struct Scorer {
  let buffers: FactorBuffers
  let mean: Float
  let range: ClosedRange<Float>

  func errors(_ ratings: AlignedRatings) -> ErrorSummary {
    let k = buffers.rank
    return Evaluation.errors(count: ratings.count) { n in
      let u = Int(ratings.users[n])
      let i = Int(ratings.items[n])
      var raw = mean
      if u >= 0 { raw += buffers.userBias[u] }
      if i >= 0 { raw += buffers.itemBias[i] }
      if u >= 0 && i >= 0 { raw += Kernels.dot(k, buffers.p + u * k, buffers.q + i * k) }
      let predicted = min(max(raw, range.lowerBound), range.upperBound)
      return (predicted - ratings.values[n], u < 0 || i < 0)
    }
  }
}
