@_spi(Engine) import LinearAlgebra
import RatingData

/// What one epoch of a solver measured on the way (all optional).
struct EpochOutcome {
  /// The training RMSE as the epoch measured it on the way: SGD, the errors seen during the
  /// epoch, each taken just before its update; ALS, the residuals after the sweep (exact for
  /// the factors the sweep leaves). Reported as the epoch's training RMSE, so progress costs
  /// no extra pass over the data.
  var inEpochRMSE: Double? = nil
  /// BPR: the fraction of sampled triples ranked correctly before their update.
  var sampledAUC: Double? = nil
}

/// What the loop hands every solver besides the data: the factor tables being trained and the
/// settings every algorithm has.
struct TrainingContext {
  /// P, Q, b_u, b_i: the start, and the truth between epochs.
  let factors: FactorTables
  /// The embedding dimension k.
  let rank: Int
  /// Worker threads.
  let threads: Int
  /// The fit's seed (each solver derives its own streams from it).
  let seed: UInt64
}

/// A learning algorithm behind the one training loop (``Trainer``).
///
/// The loop owns everything around the epochs: the duplicate policy and the training data
/// (``TrainingData``), the factors' start (``FactorTables``), OpenBLAS's thread count, the
/// divergence check, validation, early stopping and building the model. A solver only updates
/// the factors, one epoch at a time. Adding an algorithm is a settings type conforming to
/// ``SolverConfiguration`` and a solver conforming to this protocol.
protocol FactorSolver {
  associatedtype Settings: SolverConfiguration

  /// Prepares a fit: `context.factors` hold the start, `data` the ratings; both outlive the
  /// solver.
  init(data: TrainingData, context: TrainingContext, settings: Settings)

  /// One pass over the data (an SGD epoch or an ALS sweep); `epoch` counts from 0.
  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome

  /// The training loss at the current factors, for the algorithms that define one cheaply
  /// (implicit ALS); `nil` otherwise. Only called when progress is wanted.
  func loss() -> Double?

  /// After an epoch diverged (the loop has put the factors back): makes the next attempt gentler
  /// (a halved step size, a larger ridge) and says how, or returns `nil` when it cannot.
  mutating func backOff() -> String?

  /// The training RMSE of the factors as they are now in `context.factors`, predictions clamped
  /// to `range`, when the solver can compute it faster than a pass over the ratings in file
  /// order (SGD: over its blocked entries, whose rows are in cache together); `nil` otherwise.
  func trainingRMSE(range: ClosedRange<Float>) -> Double?

  /// Called after every epoch when there are validation ratings: their RMSE as the solver's
  /// model stands (a sampler: of its running posterior average), or `nil` to let the loop score
  /// the live factors.
  mutating func validationRMSE(_ ratings: AlignedRatings) -> Double?

  /// A sampler's model: the posterior average of its kept samples, which the model serves instead
  /// of the live factors (`nil`: the live factors are the model).
  func posteriorAverage() -> PosteriorAverage?

  /// The user rows the model serves in place of the live P (row-major, `rank` wide), for a
  /// solver whose prediction has a user term beyond p_u (SVD++: p̃_u = p_u + |N(u)|^-½ Σ y_j);
  /// `nil`: P itself.
  func servedUserFactors() -> [Float]?
}

extension FactorSolver {
  func loss() -> Double? { nil }
  mutating func backOff() -> String? { nil }
  func trainingRMSE(range: ClosedRange<Float>) -> Double? { nil }
  mutating func validationRMSE(_ ratings: AlignedRatings) -> Double? { nil }
  func posteriorAverage() -> PosteriorAverage? { nil }
  func servedUserFactors() -> [Float]? { nil }
}

/// The per-algorithm settings types, tied to their solver and to what the loop needs to know.
protocol SolverConfiguration {
  associatedtype Solver: FactorSolver where Solver.Settings == Self
  /// Rating prediction or ranking: decides the duplicate policy, μ and biases, and the metrics.
  static var kind: ModelKind { get }
  /// What to change when the factors stop being finite.
  static var divergenceRemedy: Remedy { get }
  /// How the factors start.
  var initialization: FactorInitialization { get }
  /// What each value becomes before training (`nil`: the value itself).
  var valueTransform: ((Float) -> Float)? { get }
  /// Whether the solver reads the ratings by user (``TrainingData/byUser``); if not, only the
  /// seen-items index is built, without values.
  static var readsRowsByUser: Bool { get }
  /// Whether the solver reads the ratings only through ``TrainingData/byUser`` and
  /// ``TrainingData/byItem`` (and measures its own training RMSE): handed-over ratings are then
  /// dropped once those are built.
  static var readsOnlyRows: Bool { get }
  /// Whether the solver trains implicit item factors Y beside Q (SVD++), which the loop then
  /// keeps in ``FactorTables/y`` (snapshots, undoing a diverged epoch, early stopping).
  static var trainsImplicitItemFactors: Bool { get }
}

extension SolverConfiguration {
  var valueTransform: ((Float) -> Float)? { nil }
  static var readsRowsByUser: Bool { true }
  static var readsOnlyRows: Bool { false }
  static var trainsImplicitItemFactors: Bool { false }
}

extension SGDSettings: SolverConfiguration {
  typealias Solver = SGDSolver
  static var kind: ModelKind { .rating }
  static var readsRowsByUser: Bool { false }
  static var divergenceRemedy: Remedy { Remedy(.learningRate, larger: false) }
  var initialization: FactorInitialization { .gaussian(scale: initScale) }
}

extension ALSSettings: SolverConfiguration {
  typealias Solver = ALSSolver
  static var kind: ModelKind { .rating }
  static var readsOnlyRows: Bool { true }
  static var divergenceRemedy: Remedy { Remedy(.regularization, larger: true) }
  var initialization: FactorInitialization { .gaussian(scale: initScale) }
}

extension ImplicitALSSettings: SolverConfiguration {
  typealias Solver = ImplicitALSSolver
  static var kind: ModelKind { .ranking }
  static var readsOnlyRows: Bool { true }
  static var divergenceRemedy: Remedy { Remedy(.regularization, larger: true) }
  var initialization: FactorInitialization { .uniform(scale: initScale) }
  /// Implicit ALS trains on the confidences c = 1 + α·r (or the log form).
  var valueTransform: ((Float) -> Float)? { { self.confidence(of: $0) } }
}

extension BayesSettings: SolverConfiguration {
  typealias Solver = GibbsSampler
  static var kind: ModelKind { .rating }
  static var divergenceRemedy: Remedy { Remedy(.initScale, larger: false) }
  var initialization: FactorInitialization { .gaussian(scale: initScale) }
}

extension BPRSettings: SolverConfiguration {
  typealias Solver = BPRSolver
  static var kind: ModelKind { .ranking }
  static var divergenceRemedy: Remedy { Remedy(.learningRate, larger: false) }
  var initialization: FactorInitialization { .gaussian(scale: initScale) }
}

extension SVDPPSettings: SolverConfiguration {
  typealias Solver = SVDPPSolver
  static var kind: ModelKind { .rating }
  static var divergenceRemedy: Remedy { Remedy(.learningRate, larger: false) }
  static var trainsImplicitItemFactors: Bool { true }
  var initialization: FactorInitialization { .gaussian(scale: initScale) }
}
