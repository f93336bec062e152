@_spi(Engine) import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// The learning algorithm.
public enum Algorithm: String, Sendable, CaseIterable, Codable {
  /// Biased stochastic gradient descent (Funk 2006; Koren, Bell & Volinsky 2009).
  case sgd
  /// Alternating least squares with biases and weighted-λ regularization (Zhou et al. 2008).
  case als
  /// Implicit-feedback ALS: confidence-weighted preferences (Hu, Koren & Volinsky 2008).
  case implicitALS = "implicit-als"
  /// Bayesian personalized ranking: SGD on sampled (user, positive, negative) triples
  /// (Rendle et al. 2009).
  case bpr
  /// Bayesian matrix factorization with biases, sampled by Gibbs sweeps (Salakhutdinov & Mnih
  /// 2008); the model predicts the posterior average over kept samples.
  case bayes
  /// SVD++ (Koren 2008): biased MF whose user vector adds |N(u)|^-½ Σ_{j∈N(u)} y_j over the items
  /// the user rated, trained by SGD user by user; the model stores the folded user vectors.
  case svdpp

  /// What the algorithm's model does: predict ratings or rank items.
  public var kind: ModelKind { self == .implicitALS || self == .bpr ? .ranking : .rating }

  /// Whether the algorithm learns from implicit feedback (interactions, not star ratings):
  /// its scores rank items and are not ratings.
  public var isImplicit: Bool { kind == .ranking }
}

/// What a model's scores mean.
public enum ModelKind: String, Sendable, Codable {
  /// Scores are predicted ratings r̂ = μ + b_u + b_i + p_u·q_i, clamped to the training scale;
  /// learned from explicit ratings, judged by RMSE.
  case rating
  /// Scores rank items for a user and are on no fixed scale; learned from implicit feedback
  /// (clicks, plays), judged by ranking metrics.
  case ranking
}

/// How an interaction's value r (a count, a rating, or 1) becomes the confidence c of
/// implicit-feedback ALS (Hu, Koren & Volinsky 2008, eqs. 2 and 6).
public enum ConfidenceScaling: String, Sendable, Codable, CaseIterable {
  /// c = 1 + α·r.
  case linear
  /// c = 1 + α·log(1 + r/ε), which damps heavy counts.
  case log

  /// The confidence of a value `r`.
  public func confidence(_ r: Float, alpha: Float, epsilon: Float) -> Float {
    switch self {
    case .linear: 1 + alpha * r
    case .log: 1 + alpha * Float(log1p(Double(max(0, r)) / Double(epsilon)))
    }
  }
}

/// The linear system solver of implicit-feedback ALS.
public enum ImplicitSolver: String, Sendable, Codable, CaseIterable {
  /// A few conjugate-gradient steps per row from the previous solution (Takács, Pilászy & Tikk
  /// 2011): O(n_u·k + k²) per step instead of O(k³).
  case cg
  /// The exact solve by Cholesky factorization (LAPACK `sposv`).
  case cholesky
}

// MARK: - Per-algorithm settings

/// How SGD chooses its step size.
public enum StepSchedule: String, Sendable, Codable, CaseIterable {
  /// One step η·decay^t for every rating of epoch t (Koren et al. 2009).
  case decaying
  /// A step per row, η/√G with G the row's accumulated squared gradients (AdaGrad per row, as
  /// LIBMF: Chin, Zhuang, Juan & Lin 2015), times decay^t.
  case adaptive
}

/// The settings of biased SGD (see ``Algorithm/sgd``). Defaults chosen on MovieLens-100K.
public struct SGDSettings: Sendable, Equatable {
  /// How the step size is chosen.
  public var schedule: StepSchedule
  /// Step size η at epoch 0 (with the adaptive schedule, before the per-row scaling).
  public var learningRate: Float
  /// Multiplicative step decay per epoch: η_t = η·decay^t.
  public var learningRateDecay: Float
  /// λ on the factors: each rating's update shrinks p_u and q_i by ηλ.
  public var regularization: Float
  /// λ_b on the biases, in the same sense.
  public var biasRegularization: Float
  /// Initial factors ~ N(0, (initScale/√k)²).
  public var initScale: Float

  /// SGD settings; the defaults are mf's.
  public init(
    schedule: StepSchedule = .decaying, learningRate: Float = 0.01,
    learningRateDecay: Float = 0.985, regularization: Float = 0.1,
    biasRegularization: Float = 0.05, initScale: Float = 0.1
  ) {
    self.schedule = schedule
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.regularization = regularization
    self.biasRegularization = biasRegularization
    self.initScale = initScale
  }

  /// Epochs when none are given.
  public static let defaultEpochs = 120

  /// Where self-tuning starts for SGD (``SelfTuning``): the adaptive schedule, whose one step
  /// size serves data of any density, and λ = 0.05 (λ_b = λ/2) as the first point of the search.
  public static let selfTuningStart = SGDSettings(
    schedule: .adaptive, learningRate: 0.05, learningRateDecay: 1, regularization: 0.05,
    biasRegularization: 0.025)

  func validate() throws(MFError) {
    try checkStep(learningRate, learningRateDecay)
    try checkNonNegative(regularization, .regularization)
    try checkNonNegative(biasRegularization, .biasRegularization)
    try checkNonNegative(initScale, .initScale)
  }
}

/// The settings of biased ALS (see ``Algorithm/als``).
public struct ALSSettings: Sendable, Equatable {
  /// λ on the factors; a row with n ratings is penalized λ·n^exponent (weighted-λ).
  public var regularization: Float
  /// λ_b on the biases, weighted the same way.
  public var biasRegularization: Float
  /// The penalty of a row with n ratings is λ·n^exponent: 1 is ALS-WR's weighted-λ (Zhou et al.
  /// 2008, Spark's choice); 0 is a plain ridge penalty.
  public var regularizationExponent: Float
  /// Initial factors ~ N(0, (initScale/√k)²). The default 1 gives rows of about unit norm,
  /// as Spark starts ALS: from tiny rows the first sweeps are spent growing them (ML-100K u1,
  /// 5 sweeps: test RMSE 0.9319 from 0.1, 0.9285 from 1; 50 sweeps: 0.9259 either way).
  public var initScale: Float

  /// ALS settings; the defaults are mf's.
  public init(
    regularization: Float = 0.15, biasRegularization: Float = 0.05,
    regularizationExponent: Float = 1, initScale: Float = 1
  ) {
    self.regularization = regularization
    self.biasRegularization = biasRegularization
    self.regularizationExponent = regularizationExponent
    self.initScale = initScale
  }

  /// Sweeps when none are given.
  public static let defaultEpochs = 15

  func validate() throws(MFError) {
    try checkPositiveRidge(regularization)
    try checkNonNegative(biasRegularization, .biasRegularization)
    try checkExponent(regularizationExponent)
    try checkNonNegative(initScale, .initScale)
  }
}

/// The settings of implicit-feedback ALS (see ``Algorithm/implicitALS``). Defaults as the
/// `implicit` library's (λ = 0.01, 15 iterations), with α = 10 for 0/1 data: the confidence of an
/// observed pair is then 11 against 1 for every unobserved one.
public struct ImplicitALSSettings: Sendable, Equatable {
  /// λ of the ridge penalty λ(Σ‖x_u‖² + Σ‖y_i‖²) (HKV eq. 3; not weighted by counts).
  public var regularization: Float
  /// α in the confidence c = 1 + α·r.
  public var alpha: Float
  /// How r becomes c.
  public var confidence: ConfidenceScaling
  /// ε of the log scaling.
  public var epsilon: Float
  /// The per-row linear solver.
  public var solver: ImplicitSolver
  /// Conjugate-gradient steps per row and sweep (with ``ImplicitSolver/cg``).
  public var cgSteps: Int
  /// Initial factors ~ U[0, initScale), as `implicit` starts.
  public var initScale: Float

  /// Implicit-ALS settings; the defaults are mf's.
  public init(
    regularization: Float = 0.01, alpha: Float = 10, confidence: ConfidenceScaling = .linear,
    epsilon: Float = 1, solver: ImplicitSolver = .cg, cgSteps: Int = 3, initScale: Float = 0.01
  ) {
    self.regularization = regularization
    self.alpha = alpha
    self.confidence = confidence
    self.epsilon = epsilon
    self.solver = solver
    self.cgSteps = cgSteps
    self.initScale = initScale
  }

  /// Sweeps when none are given.
  public static let defaultEpochs = 15

  /// The confidence of an interaction of value `r`.
  public func confidence(of r: Float) -> Float {
    confidence.confidence(r, alpha: alpha, epsilon: epsilon)
  }

  func validate() throws(MFError) {
    try checkPositiveRidge(regularization)
    try checkNonNegative(alpha, .alpha)
    guard epsilon.isFinite && epsilon > 0 else {
      throw .invalidParameter(.epsilon, requirement: "must be a finite number > 0, got \(epsilon)")
    }
    guard cgSteps >= 1 && cgSteps <= 1000 else {
      throw .invalidParameter(.cgSteps, requirement: "must be between 1 and 1000, got \(cgSteps)")
    }
    try checkNonNegative(initScale, .initScale)
  }
}

/// The settings of BPR (see ``Algorithm/bpr``).
public struct BPRSettings: Sendable, Equatable {
  /// Step size η at epoch 0.
  public var learningRate: Float
  /// Multiplicative step decay per epoch.
  public var learningRateDecay: Float
  /// λ on the factors.
  public var regularization: Float
  /// λ_b on the item biases.
  public var biasRegularization: Float
  /// Initial factors ~ N(0, (initScale/√k)²).
  public var initScale: Float

  /// BPR settings; the defaults are mf's.
  public init(
    learningRate: Float = 0.05, learningRateDecay: Float = 1, regularization: Float = 0.01,
    biasRegularization: Float = 0.01, initScale: Float = 0.1
  ) {
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.regularization = regularization
    self.biasRegularization = biasRegularization
    self.initScale = initScale
  }

  /// Epochs when none are given.
  public static let defaultEpochs = 100

  func validate() throws(MFError) {
    try checkStep(learningRate, learningRateDecay)
    try checkNonNegative(regularization, .regularization)
    try checkNonNegative(biasRegularization, .biasRegularization)
    try checkNonNegative(initScale, .initScale)
  }
}

/// The settings of SVD++ (see ``Algorithm/svdpp``): SGD with one step size, λ on the factors
/// p_u and q_i, λ_y on the implicit item factors y_j, and λ_b on the biases.
public struct SVDPPSettings: Sendable, Equatable {
  /// Step size η at epoch 0.
  public var learningRate: Float
  /// Multiplicative step decay per epoch: η_t = η·decay^t.
  public var learningRateDecay: Float
  /// λ on p_u and q_i, per rating, as biased SGD.
  public var regularization: Float
  /// λ_y on each y_j, once per user who rated j and per epoch: the penalty is
  /// λ_y Σ_j |R(j)|·‖y_j‖², weighted by the item's ratings as q_i's is (see `SVDPPSolver` for
  /// why not eq. 15's per-rating penalty).
  public var implicitRegularization: Float
  /// λ_b on the biases.
  public var biasRegularization: Float
  /// Initial p and q ~ N(0, (initScale/√k)²); the y's start at 0, so the first steps are those
  /// of biased MF.
  public var initScale: Float

  /// SVD++ settings; the defaults are mf's, chosen on the ML-100K folds (README, "SVD++").
  public init(
    learningRate: Float = SVDPPSettings.defaultLearningRate,
    learningRateDecay: Float = SVDPPSettings.defaultLearningRateDecay,
    regularization: Float = SVDPPSettings.defaultRegularization,
    implicitRegularization: Float = SVDPPSettings.defaultImplicitRegularization,
    biasRegularization: Float = SVDPPSettings.defaultBiasRegularization, initScale: Float = 0.1
  ) {
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.regularization = regularization
    self.implicitRegularization = implicitRegularization
    self.biasRegularization = biasRegularization
    self.initScale = initScale
  }

  /// η when none is given.
  public static let defaultLearningRate: Float = 0.007
  /// The step decay when none is given.
  public static let defaultLearningRateDecay: Float = 0.98
  /// λ when none is given.
  public static let defaultRegularization: Float = 0.05
  /// λ_y when none is given.
  public static let defaultImplicitRegularization: Float = 0.5
  /// λ_b when none is given.
  public static let defaultBiasRegularization: Float = 0.01
  /// Epochs when none are given.
  public static let defaultEpochs = 60

  func validate() throws(MFError) {
    try checkStep(learningRate, learningRateDecay)
    try checkNonNegative(regularization, .regularization)
    try checkNonNegative(implicitRegularization, .implicitRegularization)
    try checkNonNegative(biasRegularization, .biasRegularization)
    try checkNonNegative(initScale, .initScale)
    // Each step multiplies a factor by 1 − ηλ: at ηλ ≥ 1 it would flip its sign.
    for (lambda, parameter) in [
      (regularization, Parameter.regularization), (implicitRegularization, .implicitRegularization),
      (biasRegularization, .biasRegularization),
    ] where learningRate * lambda >= 1 {
      throw .invalidParameter(
        parameter,
        requirement: "times the learning rate must be below 1 for SVD++ (each step shrinks by 1 − ηλ), got \(lambda) with η = \(learningRate)")
    }
  }
}

private func checkNonNegative(_ x: Float, _ parameter: Parameter) throws(MFError) {
  guard x.isFinite && x >= 0 else {
    throw .invalidParameter(parameter, requirement: "must be a finite number ≥ 0, got \(x)")
  }
}

private func checkPositiveRidge(_ lambda: Float) throws(MFError) {
  guard lambda.isFinite && lambda > 0 else {
    throw .invalidParameter(
      .regularization,
      requirement: "must be a finite number > 0 for ALS, so that every ridge system is positive definite, got \(lambda)")
  }
}

private func checkExponent(_ e: Float) throws(MFError) {
  guard e.isFinite && e >= 0 && e <= 2 else {
    throw .invalidParameter(.regularizationExponent, requirement: "must be in [0, 2], got \(e)")
  }
}

private func checkStep(_ rate: Float, _ decay: Float) throws(MFError) {
  guard rate.isFinite && rate > 0 && rate < 10 else {
    throw .invalidParameter(.learningRate, requirement: "must be a number in (0, 10), got \(rate)")
  }
  guard decay.isFinite && decay > 0 && decay <= 1 else {
    throw .invalidParameter(.learningRateDecay, requirement: "must be in (0, 1], got \(decay)")
  }
}

/// The algorithm and its own settings.
public enum SolverSettings: Sendable, Equatable {
  /// Biased SGD.
  case sgd(SGDSettings)
  /// Biased ALS.
  case als(ALSSettings)
  /// Implicit-feedback ALS.
  case implicitALS(ImplicitALSSettings)
  /// BPR.
  case bpr(BPRSettings)
  /// Bayesian MF by Gibbs sampling.
  case bayes(BayesSettings)
  /// SVD++ by SGD.
  case svdpp(SVDPPSettings)

  /// The algorithm these settings are for.
  public var algorithm: Algorithm {
    switch self {
    case .sgd: .sgd
    case .als: .als
    case .implicitALS: .implicitALS
    case .bpr: .bpr
    case .bayes: .bayes
    case .svdpp: .svdpp
    }
  }

  /// The default settings of `algorithm`.
  public static func defaults(for algorithm: Algorithm) -> SolverSettings {
    switch algorithm {
    case .sgd: .sgd(SGDSettings())
    case .als: .als(ALSSettings())
    case .implicitALS: .implicitALS(ImplicitALSSettings())
    case .bpr: .bpr(BPRSettings())
    case .bayes: .bayes(BayesSettings())
    case .svdpp: .svdpp(SVDPPSettings())
    }
  }

  /// The number of epochs (or sweeps) used when none is given.
  public var defaultEpochs: Int {
    switch self {
    case .sgd: SGDSettings.defaultEpochs
    case .als: ALSSettings.defaultEpochs
    case .implicitALS: ImplicitALSSettings.defaultEpochs
    case .bpr: BPRSettings.defaultEpochs
    case .bayes(let s): s.sweeps
    case .svdpp: SVDPPSettings.defaultEpochs
    }
  }

  func validate() throws(MFError) {
    switch self {
    case .sgd(let s): try s.validate()
    case .als(let s): try s.validate()
    case .implicitALS(let s): try s.validate()
    case .bpr(let s): try s.validate()
    case .bayes(let s): try s.validate()
    case .svdpp(let s): try s.validate()
    }
  }
}

/// The settings of Bayesian MF (see ``Algorithm/bayes``): how long the Gibbs chain runs and which
/// of its samples the model keeps. Nothing here is a regularization weight: the priors' precisions
/// and the noise precision are resampled every sweep (see `GibbsSampler`).
///
/// The chain runs ``burnIn`` sweeps, then keeps one sample every ``thinning`` sweeps until it
/// holds ``samples``: ``sweeps`` = burnIn + samples × thinning in all. The model's predictor is
/// the exact average of the kept samples' predictions; the model file stores them side by side
/// (`samples × rank` floats per user and per item), so ``samples`` sets the model's size.
/// The side of a Bayesian model whose rows a kept sample stores as conditional means.
public enum ConditionalMeansSide: String, Sendable, Codable, CaseIterable {
  /// The side whose rows have fewer ratings on average (more rows; items on a tie).
  case auto
  case users
  case items
}

public struct BayesSettings: Sendable, Equatable {
  /// Kept samples S, averaged by the predictor and stored in the model.
  public var samples: Int
  /// Sweeps before the first kept sample (the chain forgets its start).
  public var burnIn: Int
  /// Sweeps from one kept sample to the next (1: keep consecutive samples).
  public var thinning: Int
  /// Initial factors ~ N(0, (initScale/√k)²), biases 0.
  public var initScale: Float
  /// Implicit feedback: a user's row has the implicit term |N(u)|^-½ Σ_{j∈N(u)} y_j of the items
  /// N(u) they rated, as in SVD++, and an item's row likewise the term of the users who rated it
  /// (Bayesian SVD++ on both sides, see `ImplicitFeedback`). It changes the model, not the file:
  /// the stored samples are the rows with their implicit terms added.
  public var implicitFeedback: Bool
  /// Which side a kept sample stores as conditional means given the other side's draw (the
  /// Rao–Blackwellized side, see `GibbsSampler`); `.auto` takes the side whose rows have fewer
  /// ratings on average.
  public var conditionalMeans: ConditionalMeansSide = .auto

  /// Bayesian-MF settings; the defaults are mf's: 200 sweeps, 8 of burn-in, then 32 samples kept
  /// 6 sweeps apart, from N(0, (0.566/√k)²) (std 0.1 at rank 32, myFM's start). Chosen on the
  /// ML-100K folds and the accuracy suite's 1M-rating set (README, "Bayesian MF"): from smaller
  /// factors (init 0.3) the chain sat in a bias-only state for ~30 sweeps on the 1M set (test RMSE
  /// 0.6027 against 0.5979) for no gain on ML-100K (0.8994 against 0.8997); from unit-norm rows
  /// (init 1) ML-100K gave 0.9013. 64 samples 3 apart make a model twice the size, a little more
  /// accurate; 16 samples 12 apart a little less (README table). Implicit feedback is on here:
  /// on validation splits of u1–u3.base (10% held out) it lowered the RMSE by 0.010–0.016, and
  /// the five test folds gave 0.8922 against 0.8997 without it. It costs accuracy where who
  /// rates what says nothing about the ratings (the suite's generated sets), so `mf fit`, given
  /// neither `--implicit-feedback` nor `--no-implicit-feedback`, chooses it per data set
  /// (``TuningPlan/implicitFeedback``).
  public init(
    samples: Int = 32, burnIn: Int = 8, thinning: Int = 6, initScale: Float = 0.566,
    implicitFeedback: Bool = true
  ) {
    self.implicitFeedback = implicitFeedback
    self.samples = samples
    self.burnIn = burnIn
    self.thinning = thinning
    self.initScale = initScale
  }

  /// Gibbs sweeps in all: burnIn + samples × thinning.
  public var sweeps: Int { burnIn + samples * thinning }

  /// Whether sweep `sweep` (0-based) ends with a kept sample.
  func keeps(sweep: Int) -> Bool {
    sweep >= burnIn && (sweep - burnIn + 1) % thinning == 0 && (sweep - burnIn + 1) / thinning <= samples
  }

  func validate() throws(MFError) {
    guard samples >= 1 && samples <= 1000 else {
      throw .invalidParameter(.samples, requirement: "must be between 1 and 1000, got \(samples)")
    }
    guard burnIn >= 0 && burnIn <= 100_000 else {
      throw .invalidParameter(.burnIn, requirement: "must be between 0 and 100000, got \(burnIn)")
    }
    guard thinning >= 1 && thinning <= 1000 else {
      throw .invalidParameter(.thinning, requirement: "must be between 1 and 1000, got \(thinning)")
    }
    try checkNonNegative(initScale, .initScale)
  }
}

// MARK: - The options of a fit

/// Every setting of a fit: what every algorithm has (rank, epochs, threads, seed, early
/// stopping) and the chosen algorithm's own settings in ``solver``.
public struct TrainingOptions: Sendable, Equatable {
  /// The algorithm and its settings.
  public var solver: SolverSettings
  /// The embedding dimension `k`.
  public var rank: Int
  /// Passes over the data (SGD epochs or ALS sweeps).
  public var epochs: Int
  /// Worker threads.
  public var threads: Int
  /// Seed of every random choice.
  public var seed: UInt64
  /// Stop after this many epochs without a better validation RMSE (`nil`: never). Rating
  /// models only.
  public var earlyStopPatience: Int?
  /// Stop once an epoch changes the training RMSE by less than this fraction of it (`nil`:
  /// never): ALS is done when a sweep no longer moves it. Rating models only.
  public var convergenceTolerance: Double? = nil
  /// How many times a fit may undo a diverged epoch and retry it more gently (halving the SGD
  /// or BPR step, raising ALS's ridge) before it gives up with ``MFError/diverged(epoch:remedy:)``.
  public var divergenceRetries: Int = 8

  /// Options for `solver`; `epochs` defaults to the algorithm's, `threads` to all cores.
  public init(
    solver: SolverSettings, rank: Int = 32, epochs: Int? = nil,
    threads: Int? = nil, seed: UInt64 = 42, earlyStopPatience: Int? = nil
  ) {
    self.solver = solver
    self.rank = rank
    self.epochs = epochs ?? solver.defaultEpochs
    self.threads = threads ?? Parallel.availableCores
    self.seed = seed
    self.earlyStopPatience = earlyStopPatience
  }

  /// The defaults for `algorithm` (chosen on MovieLens-100K, see the README), with `rank`.
  public static func defaults(for algorithm: Algorithm, rank: Int = 32) -> TrainingOptions {
    var options = TrainingOptions(solver: .defaults(for: algorithm), rank: rank)
    // ALS stops when a sweep moves the training RMSE by less than 0.1%: from unit-norm rows it
    // gets there in a few sweeps (ML-100K u1: 5 sweeps within 0.3% of 50 sweeps' test RMSE).
    if algorithm == .als { options.convergenceTolerance = 0.001 }
    return options
  }

  /// The algorithm.
  public var algorithm: Algorithm { solver.algorithm }

  /// The SGD settings, when the algorithm is SGD (setting it switches the algorithm to SGD).
  public var sgd: SGDSettings? {
    get { if case .sgd(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .sgd(newValue) } }
  }

  /// The ALS settings, when the algorithm is ALS (setting it switches the algorithm to ALS).
  public var als: ALSSettings? {
    get { if case .als(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .als(newValue) } }
  }

  /// The implicit-ALS settings, when the algorithm is implicit ALS.
  public var implicitALS: ImplicitALSSettings? {
    get { if case .implicitALS(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .implicitALS(newValue) } }
  }

  /// The BPR settings, when the algorithm is BPR.
  public var bpr: BPRSettings? {
    get { if case .bpr(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .bpr(newValue) } }
  }

  /// The Bayesian-MF settings, when the algorithm is Bayesian MF.
  public var bayes: BayesSettings? {
    get { if case .bayes(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .bayes(newValue) } }
  }

  /// The SVD++ settings, when the algorithm is SVD++.
  public var svdpp: SVDPPSettings? {
    get { if case .svdpp(let s) = solver { s } else { nil } }
    set { if let newValue { solver = .svdpp(newValue) } }
  }

  /// Checks every setting, naming the first bad one.
  public func validate() throws(MFError) {
    guard rank >= 1 && rank <= 4096 else {
      throw .invalidParameter(.rank, requirement: "must be between 1 and 4096, got \(rank)")
    }
    guard epochs >= 1 && epochs <= 100_000 else {
      throw .invalidParameter(.epochs, requirement: "must be between 1 and 100000, got \(epochs)")
    }
    guard threads >= 1 && threads <= 1024 else {
      throw .invalidParameter(.threads, requirement: "must be between 1 and 1024, got \(threads)")
    }
    if let t = convergenceTolerance {
      guard algorithm.kind == .rating else {
        throw .invalidParameter(
          .convergenceTolerance, requirement: "does not apply: ranking models have no training RMSE to watch")
      }
      guard t.isFinite, t >= 0 else {
        throw .invalidParameter(.convergenceTolerance, requirement: "must be a finite number ≥ 0, got \(t)")
      }
    }
    guard divergenceRetries >= 0 else {
      throw .invalidParameter(.divergenceRetries, requirement: "must be at least 0, got \(divergenceRetries)")
    }
    if let p = earlyStopPatience {
      guard algorithm.kind == .rating else {
        throw .invalidParameter(
          .earlyStopPatience,
          requirement: "does not apply: early stopping is by validation RMSE, which ranking models do not have")
      }
      guard p >= 1 else {
        throw .invalidParameter(.earlyStopPatience, requirement: "must be at least 1, got \(p)")
      }
    }
    try solver.validate()
    if let b = bayes {
      // A sampler's length is its burn-in and kept samples; it does not stop on a criterion.
      guard epochs == b.sweeps else {
        throw .invalidParameter(
          .epochs,
          requirement: "for Bayesian MF is burn-in + samples × thinning = \(b.burnIn) + \(b.samples) × \(b.thinning) = \(b.sweeps) sweeps; set those instead, got \(epochs)")
      }
      if earlyStopPatience != nil {
        throw .invalidParameter(
          .earlyStopPatience,
          requirement: "does not apply to Bayesian MF: its model averages the kept samples, it does not pick one")
      }
      if convergenceTolerance != nil {
        throw .invalidParameter(
          .convergenceTolerance,
          requirement: "does not apply to Bayesian MF: a sampled chain's training RMSE does not settle to a point")
      }
    }
  }
}

// MARK: - The stored form

/// A model file stores the options as JSON in one flat object (format version 1's layout,
/// kept so that files stay readable in both directions): `algorithm`, the common fields,
/// every per-algorithm field (with 0 or 1 where the algorithm has no such setting) and an
/// `implicit` object for the implicit algorithms.
extension TrainingOptions: Codable {
  private enum Key: String, CodingKey {
    case algorithm, rank, epochs, threads, seed, earlyStopPatience
    case learningRate, learningRateDecay, regularization, biasRegularization
    case regularizationExponent, initScale, implicit, schedule, convergenceTolerance
    case divergenceRetries, bayes, implicitRegularization
  }

  private struct BayesFields: Codable {
    var samples: Int
    var burnIn: Int
    var thinning: Int
    /// Absent in files written before implicit feedback existed: those models have none.
    var implicitFeedback: Bool?
    var conditionalMeans: ConditionalMeansSide?
  }

  private struct ImplicitFields: Codable {
    var alpha: Float
    var confidence: ConfidenceScaling
    var epsilon: Float
    var solver: ImplicitSolver
    var cgSteps: Int
  }

  /// Writes the flat stored form.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(algorithm, forKey: .algorithm)
    try c.encode(rank, forKey: .rank)
    try c.encode(epochs, forKey: .epochs)
    try c.encode(threads, forKey: .threads)
    try c.encode(seed, forKey: .seed)
    try c.encodeIfPresent(earlyStopPatience, forKey: .earlyStopPatience)
    try c.encodeIfPresent(convergenceTolerance, forKey: .convergenceTolerance)
    if divergenceRetries != 8 { try c.encode(divergenceRetries, forKey: .divergenceRetries) }
    var learningRate: Float = 0
    var decay: Float = 1
    var regularization: Float
    var biasRegularization: Float = 0
    var exponent: Float = 1
    let initScale: Float
    var implicit: ImplicitFields? = nil
    switch solver {
    case .sgd(let s):
      (learningRate, decay, regularization) = (s.learningRate, s.learningRateDecay, s.regularization)
      (biasRegularization, initScale) = (s.biasRegularization, s.initScale)
      try c.encode(s.schedule, forKey: .schedule)
    case .als(let s):
      (regularization, biasRegularization) = (s.regularization, s.biasRegularization)
      (exponent, initScale) = (s.regularizationExponent, s.initScale)
    case .implicitALS(let s):
      (regularization, exponent, initScale) = (s.regularization, 0, s.initScale)
      implicit = ImplicitFields(
        alpha: s.alpha, confidence: s.confidence, epsilon: s.epsilon, solver: s.solver,
        cgSteps: s.cgSteps)
    case .bpr(let s):
      (learningRate, decay, regularization) = (s.learningRate, s.learningRateDecay, s.regularization)
      (biasRegularization, exponent, initScale) = (s.biasRegularization, 0, s.initScale)
      // Version-1 files carried implicit settings for BPR too (unused by it).
      implicit = ImplicitFields(alpha: 1, confidence: .linear, epsilon: 1, solver: .cg, cgSteps: 3)
    case .bayes(let s):
      // No λ: the priors' precisions are sampled (format version 2 only).
      (regularization, initScale) = (0, s.initScale)
      try c.encode(
        BayesFields(
          samples: s.samples, burnIn: s.burnIn, thinning: s.thinning,
          implicitFeedback: s.implicitFeedback ? true : nil,
          conditionalMeans: s.conditionalMeans == .auto ? nil : s.conditionalMeans),
        forKey: .bayes)
    case .svdpp(let s):
      (learningRate, decay, regularization) = (s.learningRate, s.learningRateDecay, s.regularization)
      (biasRegularization, exponent, initScale) = (s.biasRegularization, 0, s.initScale)
      try c.encode(s.implicitRegularization, forKey: .implicitRegularization)
    }
    try c.encode(learningRate, forKey: .learningRate)
    try c.encode(decay, forKey: .learningRateDecay)
    try c.encode(regularization, forKey: .regularization)
    try c.encode(biasRegularization, forKey: .biasRegularization)
    try c.encode(exponent, forKey: .regularizationExponent)
    try c.encode(initScale, forKey: .initScale)
    try c.encodeIfPresent(implicit, forKey: .implicit)
  }

  /// Reads the flat stored form (files of every version so far).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    let algorithm = try c.decode(Algorithm.self, forKey: .algorithm)
    let regularization = try c.decode(Float.self, forKey: .regularization)
    let biasRegularization = try c.decode(Float.self, forKey: .biasRegularization)
    let initScale = try c.decode(Float.self, forKey: .initScale)
    let learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? 0
    let decay = try c.decodeIfPresent(Float.self, forKey: .learningRateDecay) ?? 1
    let solver: SolverSettings
    switch algorithm {
    case .sgd:
      solver = .sgd(
        SGDSettings(
          schedule: try c.decodeIfPresent(StepSchedule.self, forKey: .schedule) ?? .decaying,
          learningRate: learningRate, learningRateDecay: decay, regularization: regularization,
          biasRegularization: biasRegularization, initScale: initScale))
    case .als:
      solver = .als(
        ALSSettings(
          regularization: regularization, biasRegularization: biasRegularization,
          regularizationExponent: try c.decodeIfPresent(Float.self, forKey: .regularizationExponent) ?? 1,
          initScale: initScale))
    case .implicitALS:
      let f = try c.decode(ImplicitFields.self, forKey: .implicit)
      solver = .implicitALS(
        ImplicitALSSettings(
          regularization: regularization, alpha: f.alpha, confidence: f.confidence,
          epsilon: f.epsilon, solver: f.solver, cgSteps: f.cgSteps, initScale: initScale))
    case .bpr:
      solver = .bpr(
        BPRSettings(
          learningRate: learningRate, learningRateDecay: decay, regularization: regularization,
          biasRegularization: biasRegularization, initScale: initScale))
    case .bayes:
      let f = try c.decode(BayesFields.self, forKey: .bayes)
      var settings = BayesSettings(
        samples: f.samples, burnIn: f.burnIn, thinning: f.thinning, initScale: initScale,
        implicitFeedback: f.implicitFeedback ?? false)
      settings.conditionalMeans = f.conditionalMeans ?? .auto
      solver = .bayes(settings)
    case .svdpp:
      solver = .svdpp(
        SVDPPSettings(
          learningRate: learningRate, learningRateDecay: decay, regularization: regularization,
          implicitRegularization: try c.decode(Float.self, forKey: .implicitRegularization),
          biasRegularization: biasRegularization, initScale: initScale))
    }
    self.init(
      solver: solver, rank: try c.decode(Int.self, forKey: .rank),
      epochs: try c.decode(Int.self, forKey: .epochs), threads: try c.decode(Int.self, forKey: .threads),
      seed: try c.decode(UInt64.self, forKey: .seed),
      earlyStopPatience: try c.decodeIfPresent(Int.self, forKey: .earlyStopPatience))
    convergenceTolerance = try c.decodeIfPresent(Double.self, forKey: .convergenceTolerance)
    divergenceRetries = try c.decodeIfPresent(Int.self, forKey: .divergenceRetries) ?? 8
  }
}
