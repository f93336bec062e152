import LinearAlgebra
import RatingData

/// The learning algorithm.
public enum Algorithm: String, Sendable, CaseIterable, Codable {
  /// Biased stochastic gradient descent (Funk 2006; Koren, Bell & Volinsky 2009).
  case sgd
  /// Alternating least squares with biases and weighted-λ regularization (Zhou et al. 2008).
  case als
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
    if algorithm == .sgd {
      guard learningRate.isFinite && learningRate > 0 && learningRate < 10 else {
        throw bad("--learning-rate must be a number in (0, 10), got \(learningRate)")
      }
      guard learningRateDecay.isFinite && learningRateDecay > 0 && learningRateDecay <= 1 else {
        throw bad("--learning-rate-decay must be in (0, 1], got \(learningRateDecay)")
      }
    } else if regularization == 0 {
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
