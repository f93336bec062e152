import LinearAlgebra
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

  /// Whether the algorithm learns from implicit feedback (interactions, not star ratings):
  /// its scores rank items and are not ratings.
  public var isImplicit: Bool { self == .implicitALS || self == .bpr }
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

/// The settings only implicit-feedback training has.
public struct ImplicitSettings: Sendable, Equatable, Codable {
  /// α in the confidence c = 1 + α·r.
  public var alpha: Float
  /// How r becomes c.
  public var confidence: ConfidenceScaling
  /// ε in the log scaling.
  public var epsilon: Float
  /// ALS: the linear solver.
  public var solver: ImplicitSolver
  /// ALS with CG: steps per row and sweep.
  public var cgSteps: Int

  public init(
    alpha: Float = 1, confidence: ConfidenceScaling = .linear, epsilon: Float = 1,
    solver: ImplicitSolver = .cg, cgSteps: Int = 3
  ) {
    self.alpha = alpha
    self.confidence = confidence
    self.epsilon = epsilon
    self.solver = solver
    self.cgSteps = cgSteps
  }
}

/// Every setting of a fit. Unset (`nil`) settings take the algorithm's defaults, chosen on
/// MovieLens-100K (see the README, "How the defaults were chosen").
public struct TrainingOptions: Sendable, Equatable, Codable {
  /// The algorithm.
  public var algorithm: Algorithm
  /// The embedding dimension `k`.
  public var rank: Int
  /// Passes over the data (SGD epochs or ALS sweeps).
  public var epochs: Int
  /// SGD step size η at epoch 0 (unused by ALS).
  public var learningRate: Float
  /// Multiplicative step decay per epoch: η_t = η·decay^t (unused by ALS).
  public var learningRateDecay: Float
  /// λ on the factors: SGD penalizes λ‖p‖² per rating; ALS uses λ·n_u (weighted-λ).
  public var regularization: Float
  /// λ on the biases, in the same sense.
  public var biasRegularization: Float
  /// ALS only: the ridge penalty of a row with n ratings is λ·n^exponent. 1 is ALS-WR's
  /// weighted-λ (Zhou et al. 2008, Spark's choice); 0 is a plain ridge penalty.
  public var regularizationExponent: Float = 1
  /// Standard deviation of the Gaussian initial factors is `initScale / √k`.
  public var initScale: Float
  /// Worker threads.
  public var threads: Int
  /// Seed of every random choice.
  public var seed: UInt64
  /// Stop after this many epochs without a better validation RMSE (`nil`: never).
  public var earlyStopPatience: Int?
  /// Implicit-feedback settings (present exactly when `algorithm.isImplicit`).
  public var implicit: ImplicitSettings? = nil

  /// The defaults for `algorithm`, with `rank` and everything else as chosen for mf.
  public static func defaults(for algorithm: Algorithm, rank: Int = 32) -> TrainingOptions {
    switch algorithm {
    case .sgd:
      TrainingOptions(
        algorithm: .sgd, rank: rank, epochs: 120, learningRate: 0.01, learningRateDecay: 0.985,
        regularization: 0.1, biasRegularization: 0.05, initScale: 0.1,
        threads: Parallel.defaultThreads, seed: 42, earlyStopPatience: nil)
    case .als:
      TrainingOptions(
        algorithm: .als, rank: rank, epochs: 15, learningRate: 0, learningRateDecay: 1,
        regularization: 0.15, biasRegularization: 0.05, initScale: 0.1,
        threads: Parallel.defaultThreads, seed: 42, earlyStopPatience: nil)
    case .implicitALS:
      // implicit's defaults (λ = 0.01, 15 iterations), with α = 10 for 0/1 data: the
      // confidence of an observed pair is then 11 against 1 for every unobserved one.
      TrainingOptions(
        algorithm: .implicitALS, rank: rank, epochs: 15, learningRate: 0, learningRateDecay: 1,
        regularization: 0.01, biasRegularization: 0, regularizationExponent: 0, initScale: 0.01,
        threads: Parallel.defaultThreads, seed: 42, earlyStopPatience: nil,
        implicit: ImplicitSettings(alpha: 10))
    case .bpr:
      TrainingOptions(
        algorithm: .bpr, rank: rank, epochs: 100, learningRate: 0.05, learningRateDecay: 1,
        regularization: 0.01, biasRegularization: 0.01, regularizationExponent: 0, initScale: 0.1,
        threads: Parallel.defaultThreads, seed: 42, earlyStopPatience: nil,
        implicit: ImplicitSettings())
    }
  }

  /// Checks every setting, naming the first bad one.
  public func validate() throws(MFError) {
    func bad(_ what: String) -> MFError { .invalidOption(what) }
    guard rank >= 1 && rank <= 4096 else { throw bad("--rank must be between 1 and 4096, got \(rank)") }
    guard epochs >= 1 && epochs <= 100_000 else { throw bad("--epochs must be at least 1, got \(epochs)") }
    guard threads >= 1 && threads <= 1024 else { throw bad("--threads must be at least 1, got \(threads)") }
    guard regularization.isFinite && regularization >= 0 else {
      throw bad("--regularization must be a finite number ≥ 0, got \(regularization)")
    }
    guard biasRegularization.isFinite && biasRegularization >= 0 else {
      throw bad("--bias-regularization must be a finite number ≥ 0, got \(biasRegularization)")
    }
    guard initScale.isFinite && initScale >= 0 else {
      throw bad("--init-scale must be a finite number ≥ 0, got \(initScale)")
    }
    if algorithm.isImplicit {
      guard let implicit else { throw bad("implicit training needs its settings (alpha, solver)") }
      guard implicit.alpha.isFinite && implicit.alpha >= 0 else {
        throw bad("--alpha must be a finite number ≥ 0, got \(implicit.alpha)")
      }
      guard implicit.epsilon.isFinite && implicit.epsilon > 0 else {
        throw bad("--epsilon must be a finite number > 0, got \(implicit.epsilon)")
      }
      guard implicit.cgSteps >= 1 && implicit.cgSteps <= 1000 else {
        throw bad("--cg-steps must be between 1 and 1000, got \(implicit.cgSteps)")
      }
      guard earlyStopPatience == nil else {
        throw bad("early stopping is by validation RMSE, which implicit models do not have")
      }
    }
    if algorithm == .sgd || algorithm == .bpr {
      guard learningRate.isFinite && learningRate > 0 && learningRate < 10 else {
        throw bad("--learning-rate must be a number in (0, 10), got \(learningRate)")
      }
      guard learningRateDecay.isFinite && learningRateDecay > 0 && learningRateDecay <= 1 else {
        throw bad("--learning-rate-decay must be in (0, 1], got \(learningRateDecay)")
      }
    } else if (algorithm == .als || algorithm == .implicitALS) && regularization == 0 {
      throw bad("ALS needs --regularization > 0 so that every ridge system is positive definite")
    }
    guard regularizationExponent.isFinite && regularizationExponent >= 0 && regularizationExponent <= 2 else {
      throw bad("--regularization-exponent must be in [0, 2], got \(regularizationExponent)")
    }
    if let p = earlyStopPatience, p < 1 { throw bad("--patience must be at least 1, got \(p)") }
  }
}

extension Parallel {
  /// All cores, the default thread count.
  public static var defaultThreads: Int { availableCores }
}
