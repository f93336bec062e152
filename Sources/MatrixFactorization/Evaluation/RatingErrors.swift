import LinearAlgebra
import RatingData

/// Error metrics of predictions against known ratings.
public struct ErrorSummary: Sendable, Equatable {
  /// Root mean squared error.
  public var rmse: Double
  /// Mean absolute error.
  public var mae: Double
  /// Number of ratings scored.
  public var count: Int
  /// How many of them fell back to a baseline (unknown user or item).
  public var fallbacks: Int
}

/// RMSE and MAE of a model on test ratings.
public enum Evaluation {
  /// Errors of `model` on `ratings` (raw ids are mapped through the model; unknown ids fall back
  /// to the baseline and are counted).
  public static func errors(of model: FactorModel, on ratings: RatingSet) -> ErrorSummary {
    errors(of: model, on: AlignedRatings(ratings, users: model.users, items: model.items))
  }

  /// Errors of `model` on ratings already in the model's index space.
  public static func errors(of model: FactorModel, on ratings: AlignedRatings) -> ErrorSummary {
    errors(count: ratings.count) { n in
      let u = ratings.users[n]
      let i = ratings.items[n]
      let p = model.predict(user: u >= 0 ? Int(u) : nil, item: i >= 0 ? Int(i) : nil)
      return (p.value - ratings.values[n], p.source.isFallback)
    }
  }

  /// Accumulates squared and absolute errors of `error(n)` for `n` in `0 ..< count`, in `Double`,
  /// in a fixed order (so the result is reproducible).
  static func errors(count: Int, _ error: (Int) -> (Float, Bool)) -> ErrorSummary {
    var squares = 0.0
    var absolutes = 0.0
    var fallbacks = 0
    for n in 0 ..< count {
      let (e, fellBack) = error(n)
      squares += Double(e * e)
      absolutes += Double(abs(e))
      if fellBack { fallbacks += 1 }
    }
    let c = Double(max(count, 1))
    return ErrorSummary(
      rmse: (squares / c).squareRoot(), mae: absolutes / c, count: count, fallbacks: fallbacks)
  }
}
