import Dispatch
import LinearAlgebra
import RatingData

/// Fits a ``FactorModel`` to implicit feedback (interactions with optional counts) by
/// implicit-feedback ALS or BPR. ``Trainer/fit(_:validation:options:measureTrainRMSE:progress:)``
/// sends implicit options here.
///
/// The model it returns scores an item for a user as p_u·q_i (+ b_i for BPR): μ and b_u are 0,
/// so the usual r̂ = μ + b_u + b_i + p_u·q_i is the ranking score and serving code is shared.
public enum ImplicitTrainer {
  /// Trains on `interactions`; each value r is a count or strength (1 for `user,item` lines).
  ///
  /// Repeated (user, item) pairs are summed. Values must be ≥ 0.
  ///
  /// - Parameters:
  ///   - measureLoss: compute the implicit-ALS loss after every epoch (one pass over the data).
  ///   - progress: called after every epoch.
  public static func fit(
    _ interactions: RatingSet, options: TrainingOptions, measureLoss: Bool = true,
    progress: (EpochReport) -> Void = { _ in }
  ) throws(MFError) -> FitResult {
    try options.validate()
    guard options.algorithm.isImplicit, let settings = options.implicit else {
      throw .invalidOption("implicit training needs --implicit options")
    }
    let start = DispatchTime.now()
    let (train, merged) = interactions.summingDuplicates()
    guard train.count > 0 else { throw .invalidOption("there are no training interactions") }
    if let bad = train.values.firstIndex(where: { !($0 >= 0) }) {
      throw .invalidOption(
        "implicit feedback needs values ≥ 0 (counts or strengths), but user '\(train.users.ids[Int(train.userIndices[bad])])'"
          + " has \(train.values[bad]) for item '\(train.items.ids[Int(train.itemIndices[bad])])'")
    }
    let confidences = train.values.map {
      settings.confidence.confidence($0, alpha: settings.alpha, epsilon: settings.epsilon)
    }
    let byUser = SparseRatingMatrix(
      rowCount: train.users.count, columnCount: train.items.count, rows: train.userIndices,
      columns: train.itemIndices, values: confidences)
    let buffers = FactorBuffers(
      users: train.users.count, items: train.items.count, rank: options.rank,
      scale: options.initScale, seed: options.seed)

    if options.algorithm == .implicitALS {
      // Small positive uniform factors U[0, initScale), as `implicit` starts (on ML-100K the
      // ranking quality was the same as with Gaussian starts, within seed noise).
      // Separate streams for P and Q, so Q's start does not depend on the number of users:
      // the first half-step overwrites P, and two fits that differ by a few users then start
      // from the same item table (which is what folding in a user relies on).
      let root = SeededGenerator(seed: options.seed ^ 0x1A17_FAC7)
      var userStream = root.split(0)
      var itemStream = root.split(1)
      let scale = Double(options.initScale)
      for j in 0 ..< train.users.count * options.rank { buffers.p[j] = Float(scale * userStream.nextUnit()) }
      for j in 0 ..< train.items.count * options.rank { buffers.q[j] = Float(scale * itemStream.nextUnit()) }
    }
    var als: ImplicitALSSolver? = nil
    var bpr: BPRSolver? = nil
    if options.algorithm == .implicitALS {
      let byItem = SparseRatingMatrix(
        rowCount: train.items.count, columnCount: train.users.count, rows: train.itemIndices,
        columns: train.userIndices, values: confidences)
      als = ImplicitALSSolver(byUser: byUser, byItem: byItem, options: options, buffers: buffers)
    } else {
      bpr = BPRSolver(byUser: byUser, options: options, buffers: buffers)
    }

    var history: [EpochReport] = []
    var lastLoss: Double? = nil
    try BLAS.withThreads(1) { () throws(MFError) in
      for epoch in 0 ..< options.epochs {
        let epochStart = DispatchTime.now()
        var sampledAUC: Double? = nil
        if let als { try als.runEpoch() } else { sampledAUC = bpr!.runEpoch(epoch) }
        let epochSeconds = seconds(since: epochStart)
        guard buffers.allFinite() else {
          throw .diverged(
            epoch: epoch + 1,
            hint: options.algorithm == .bpr ? "try a smaller --learning-rate" : "try a larger --regularization")
        }
        let loss = measureLoss ? als?.loss() : nil
        if loss != nil { lastLoss = loss }
        let report = EpochReport(
          epoch: epoch + 1, epochs: options.epochs, trainRMSE: nil, validationRMSE: nil,
          epochSeconds: epochSeconds, elapsedSeconds: seconds(since: start), loss: loss,
          sampledAUC: sampledAUC)
        history.append(report)
        progress(report)
      }
    }
    let kept = buffers.snapshot()
    let k = options.rank
    if let als, lastLoss == nil { lastLoss = als.loss() }
    var model = FactorModel(
      globalMean: 0, userBias: [Float](repeating: 0, count: train.users.count),
      itemBias: kept.itemBias,
      userFactors: Matrix(rows: train.users.count, columns: k, values: kept.p),
      itemFactors: Matrix(rows: train.items.count, columns: k, values: kept.q),
      users: train.users, items: train.items, ratingRange: train.valueRange,
      seen: InteractionIndex(byUser),
      summary: TrainingSummary(
        options: options, epochsRun: options.epochs, keptEpoch: options.epochs,
        trainingRatings: train.count, trainRMSE: 0, validationRMSE: nil, seconds: 0))
    model.summary.trainLoss = lastLoss
    model.summary.seconds = seconds(since: start)
    return FitResult(model: model, duplicatesDropped: merged, history: history)
  }
}

extension FactorModel {
  /// Whether the model was trained on implicit feedback: its scores rank items and are not
  /// ratings (no clamping to a rating scale, ranking metrics instead of RMSE).
  public var isImplicit: Bool { summary.options.algorithm.isImplicit }
}
