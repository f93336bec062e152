@_spi(Engine) import LinearAlgebra
import RatingData

/// Which items each user interacted with in training, as compressed rows of item indices.
/// Serving uses it to leave already-rated items out of recommendations.
public struct InteractionIndex: Sendable, Equatable {
  /// Offsets into `items`; `rowStart.count == users + 1`.
  public var rowStart: [Int]
  /// Item indices of each user's row: ascending when the fit built rows by user (ALS, implicit
  /// ALS, BPR), in file order otherwise (SGD, which needs no sorted rows; nothing reading the
  /// index relies on the order).
  public var items: [Int32]

  /// An index over CSR offsets and the item indices they delimit.
  public init(rowStart: [Int], items: [Int32]) {
    self.rowStart = rowStart
    self.items = items
  }

  /// The index of a CSR rating matrix (values dropped).
  public init(_ matrix: SparseRatingMatrix) {
    self.init(rowStart: matrix.rowStart, items: matrix.columns)
  }

  /// The items of `user`.
  public func items(of user: Int) -> ArraySlice<Int32> { items[rowStart[user] ..< rowStart[user + 1]] }
}

/// What a fit did, stored with the model and shown by `mf info`.
public struct TrainingSummary: Sendable, Equatable, Codable {
  /// The options used.
  public var options: TrainingOptions
  /// Epochs actually run (fewer than `options.epochs` after an early stop).
  public var epochsRun: Int
  /// The epoch whose model was kept (the best one after an early stop, else the last).
  public var keptEpoch: Int
  /// Number of training ratings (after duplicate removal).
  public var trainingRatings: Int
  /// Rating models: RMSE of the kept model on the training ratings (`nil` for ranking models).
  public var trainRMSE: Double?
  /// RMSE of the kept model on the validation ratings, if there were any.
  public var validationRMSE: Double?
  /// Wall-clock seconds of the fit.
  public var seconds: Double
  /// Implicit ALS: the final loss (HKV eq. 3).
  public var trainLoss: Double?
  /// What self-tuning tried and chose, when the settings were chosen from the data.
  public var tuning: TuningReport? = nil
  /// How training recovered from epochs that diverged (empty when none did).
  public var recoveries: [String] = []
  /// Bayesian MF: the posterior mean of the noise precision α over the kept samples (the
  /// model's noise standard deviation is about 1/√α).
  public var noisePrecision: Double? = nil
  /// Bayesian MF: the users' prior over rows [p; b], its means and precisions averaged over the
  /// kept samples (folding in a new user draws on it).
  public var userPrior: PriorSummary? = nil

  /// A summary; `trainRMSE` is `nil` for ranking models, `trainLoss` for all but implicit ALS.
  public init(
    options: TrainingOptions, epochsRun: Int, keptEpoch: Int, trainingRatings: Int,
    trainRMSE: Double?, validationRMSE: Double?, trainLoss: Double? = nil, seconds: Double,
    recoveries: [String] = []
  ) {
    self.recoveries = recoveries
    self.options = options
    self.epochsRun = epochsRun
    self.keptEpoch = keptEpoch
    self.trainingRatings = trainingRatings
    self.trainRMSE = trainRMSE
    self.validationRMSE = validationRMSE
    self.trainLoss = trainLoss
    self.seconds = seconds
  }
}

extension TrainingSummary {
  private enum Key: String, CodingKey {
    case options, epochsRun, keptEpoch, trainingRatings, trainRMSE, validationRMSE, seconds, trainLoss
    case tuning, recoveries, noisePrecision, userPrior
  }

  /// Reads a summary written by any version so far (later fields may be absent).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    self.init(
      options: try c.decode(TrainingOptions.self, forKey: .options),
      epochsRun: try c.decode(Int.self, forKey: .epochsRun),
      keptEpoch: try c.decode(Int.self, forKey: .keptEpoch),
      trainingRatings: try c.decode(Int.self, forKey: .trainingRatings),
      trainRMSE: try c.decodeIfPresent(Double.self, forKey: .trainRMSE),
      validationRMSE: try c.decodeIfPresent(Double.self, forKey: .validationRMSE),
      trainLoss: try c.decodeIfPresent(Double.self, forKey: .trainLoss),
      seconds: try c.decode(Double.self, forKey: .seconds),
      recoveries: try c.decodeIfPresent([String].self, forKey: .recoveries) ?? [])
    tuning = try c.decodeIfPresent(TuningReport.self, forKey: .tuning)
    noisePrecision = try c.decodeIfPresent(Double.self, forKey: .noisePrecision)
    userPrior = try c.decodeIfPresent(PriorSummary.self, forKey: .userPrior)
  }

  /// Writes the summary; a ranking model's absent training RMSE is written as 0, the value
  /// format-version-1 readers (which require the key) expect, and read back as `nil`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(options, forKey: .options)
    try c.encode(epochsRun, forKey: .epochsRun)
    try c.encode(keptEpoch, forKey: .keptEpoch)
    try c.encode(trainingRatings, forKey: .trainingRatings)
    try c.encode(trainRMSE ?? 0, forKey: .trainRMSE)
    try c.encodeIfPresent(validationRMSE, forKey: .validationRMSE)
    try c.encode(seconds, forKey: .seconds)
    try c.encodeIfPresent(trainLoss, forKey: .trainLoss)
    try c.encodeIfPresent(tuning, forKey: .tuning)
    if !recoveries.isEmpty { try c.encode(recoveries, forKey: .recoveries) }
    try c.encodeIfPresent(noisePrecision, forKey: .noisePrecision)
    try c.encodeIfPresent(userPrior, forKey: .userPrior)
  }
}

/// A Gaussian prior over rows [p; b] with a mean and a precision per coordinate (k + 1 each).
public struct PriorSummary: Sendable, Equatable, Codable {
  /// m_f.
  public var mean: [Float]
  /// λ_f.
  public var precision: [Float]

  /// A prior of means `mean` and precisions `precision`.
  public init(mean: [Float], precision: [Float]) {
    self.mean = mean
    self.precision = precision
  }
}

/// What a Bayesian model keeps besides its serving tables: how many samples its wide tables hold
/// and the posterior means of the embeddings.
///
/// A Bayesian model's ``FactorModel/userFactors`` and ``FactorModel/itemFactors`` are the kept
/// samples side by side, each scaled by 1/√S (row u = [p_u⁽¹⁾ … p_u⁽ˢ⁾]/√S), so their inner
/// product is the average of the samples' inner products and the score is the posterior average
/// r̂ = (1/S) Σ_s (μ + b_u⁽ˢ⁾ + b_i⁽ˢ⁾ + p_u⁽ˢ⁾·q_i⁽ˢ⁾). That is the right quantity to predict and to
/// rank by, but not an embedding: the average of p_u⁽ˢ⁾·q_i⁽ˢ⁾ is not p̄_u·q̄_i, and similarity
/// between users or items, or an export, wants one vector per row. Those use the means here.
public struct PosteriorSummary: Sendable, Equatable {
  /// S, the number of kept samples in the wide tables.
  public var samples: Int
  /// P̄: the user embeddings averaged over the kept samples (users × k).
  public var userMeans: Matrix
  /// Q̄: the item embeddings averaged over the kept samples (items × k).
  public var itemMeans: Matrix
  /// A model with implicit feedback (``BayesSettings/implicitFeedback``): the items' implicit
  /// rows ȳ_j = [y_j; w_j] (items × (k + 1)) averaged over the kept samples, the term a user's
  /// rated items add to their prior mean, |N(u)|^-½ Σ_{j∈N(u)} ȳ_j (folding in a new user draws
  /// on it); `nil` for a model without.
  public var implicitItemRows: Matrix?

  /// A summary of `samples` kept samples with their mean embeddings.
  public init(samples: Int, userMeans: Matrix, itemMeans: Matrix, implicitItemRows: Matrix? = nil) {
    self.samples = samples
    self.userMeans = userMeans
    self.itemMeans = itemMeans
    self.implicitItemRows = implicitItemRows
  }

  /// k, the embedding dimension of one sample.
  public var rank: Int { userMeans.columns }
}

/// A trained biased matrix-factorization model,
///
///     r̂(u, i) = μ + b_u + b_i + p_u · q_i,
///
/// with its id maps. Row `u` of `userFactors` is user `u`'s embedding p_u; row `i` of
/// `itemFactors` is item `i`'s embedding q_i (both `rank` long).
public struct FactorModel: Sendable {
  /// What the scores mean: predicted ratings, or ranking scores on no fixed scale (μ = b_u = 0).
  public var kind: ModelKind
  /// The global mean μ of the training ratings.
  public var globalMean: Float
  /// b_u by user index.
  public var userBias: [Float]
  /// b_i by item index.
  public var itemBias: [Float]
  /// P: one row per user.
  public var userFactors: Matrix
  /// Q: one row per item.
  public var itemFactors: Matrix
  /// Raw user ids ↔ indices.
  public var users: IDMap
  /// Raw item ids ↔ indices.
  public var items: IDMap
  /// Smallest and largest training rating; predictions are clamped to it.
  public var ratingRange: ClosedRange<Float>
  /// Training interactions by user (for excluding seen items).
  public var seen: InteractionIndex
  /// How the model was trained.
  public var summary: TrainingSummary
  /// Bayesian models: the number of kept samples and the posterior-mean embeddings (`nil` for
  /// every other model). See ``PosteriorSummary``.
  public var posterior: PosteriorSummary?

  /// Whether the model ranks items (learned from implicit feedback) rather than predicting
  /// ratings: no clamping to a rating scale, ranking metrics instead of RMSE.
  public var isImplicit: Bool { kind == .ranking }

  /// The width of the scoring tables P and Q: the embedding dimension k, or S·k for a Bayesian
  /// model (its kept samples side by side; see ``embeddingRank``).
  public var rank: Int { userFactors.columns }
  /// The embedding dimension k (of one posterior sample, for a Bayesian model).
  public var embeddingRank: Int { posterior?.rank ?? rank }
  /// The user embeddings: P, or the posterior means P̄ of a Bayesian model (for similarity and
  /// export; scores use ``userFactors``).
  public var userEmbeddings: Matrix { posterior?.userMeans ?? userFactors }
  /// The item embeddings: Q, or the posterior means Q̄ of a Bayesian model.
  public var itemEmbeddings: Matrix { posterior?.itemMeans ?? itemFactors }
  /// Number of users.
  public var userCount: Int { userFactors.rows }
  /// Number of items.
  public var itemCount: Int { itemFactors.rows }

  /// A model from its parts; the tables' shapes must agree with the id maps and each other.
  public init(
    kind: ModelKind, globalMean: Float, userBias: [Float], itemBias: [Float], userFactors: Matrix,
    itemFactors: Matrix, users: IDMap, items: IDMap, ratingRange: ClosedRange<Float>,
    seen: InteractionIndex, summary: TrainingSummary, posterior: PosteriorSummary? = nil
  ) {
    precondition(userBias.count == userFactors.rows && users.count == userFactors.rows)
    precondition(itemBias.count == itemFactors.rows && items.count == itemFactors.rows)
    precondition(userFactors.columns == itemFactors.columns)
    precondition(seen.rowStart.count == userFactors.rows + 1)
    if let posterior {
      precondition(posterior.samples >= 1 && userFactors.columns == posterior.samples * posterior.rank)
      precondition(posterior.userMeans.rows == userFactors.rows && posterior.itemMeans.rows == itemFactors.rows)
      precondition(posterior.itemMeans.columns == posterior.rank)
    }
    self.kind = kind
    self.globalMean = globalMean
    self.userBias = userBias
    self.itemBias = itemBias
    self.userFactors = userFactors
    self.itemFactors = itemFactors
    self.users = users
    self.items = items
    self.ratingRange = ratingRange
    self.seen = seen
    self.summary = summary
    self.posterior = posterior
  }
}
