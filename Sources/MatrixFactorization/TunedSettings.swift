/// Settings found by grid search on MovieLens-100K (five-fold mean RMSE on u1…u5; see the
/// README's accuracy table). `mf fit` does not use them by default: they are what
/// `mf fit --preset ml100k` starts from (explicit flags still override), and what the accuracy
/// tests check.
public enum TunedSettings {
  /// The best settings found for `algorithm` on MovieLens-100K.
  public static func movieLens100K(_ algorithm: Algorithm) -> TrainingOptions {
    var o = TrainingOptions.defaults(for: algorithm, rank: 32)
    switch algorithm {
    case .sgd:
      // Wider embeddings with a slower, longer schedule: 0.9078 at rank 32, 0.9049 at 128,
      // 0.9042 at 256 (five-fold means, README).
      o.rank = 256
      o.epochs = 200
      o.sgd = SGDSettings(
        schedule: .decaying, learningRate: 0.005, learningRateDecay: 0.99, regularization: 0.07,
        biasRegularization: 0.05)
    case .als:
      // A penalty λ·n^0.6 instead of ALS-WR's λ·n: heavy users are regularized less
      // (0.9160 with λ·n at its best λ; 0.9095 here).
      o.epochs = 20
      o.als = ALSSettings(
        regularization: 0.8, biasRegularization: 0.5, regularizationExponent: 0.6, initScale: 0.1)
      // The preset runs its 20 sweeps whatever the training RMSE does, as when it was tuned.
      o.convergenceTolerance = nil
    case .svdpp:
      // Its defaults were chosen on ML-100K (README, "Accuracy"): they are the tuned setting.
      break
    case .bayes:
      // Nothing to tune: the sampler resamples its priors; its defaults are the tuned setting.
      break
    case .implicitALS, .bpr:
      // Tuned for rating prediction only; implicit models keep their defaults.
      break
    }
    return o
  }
}
