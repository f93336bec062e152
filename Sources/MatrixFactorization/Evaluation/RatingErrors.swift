@_spi(Engine) import LinearAlgebra
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

/// Ratings re-indexed to a model's dense indices; `-1` marks an id the model does not know.
public struct AlignedRatings: Sendable {
  /// The model's user index of each rating (-1: unknown user).
  public var users: [Int32]
  /// The model's item index of each rating (-1: unknown item).
  public var items: [Int32]
  /// The ratings.
  public var values: [Float]

  /// `ratings` (over their own id maps) translated into the id space of `users` and `items`.
  public init(_ ratings: RatingSet, users: IDMap, items: IDMap) {
    let userMap = ratings.users.ids.map { users.index(of: $0) ?? -1 }
    let itemMap = ratings.items.ids.map { items.index(of: $0) ?? -1 }
    self.users = ratings.userIndices.map { userMap[Int($0)] }
    self.items = ratings.itemIndices.map { itemMap[Int($0)] }
    self.values = ratings.values
  }

  /// `ratings` in their own index space (no id lookups: every id is known).
  public init(own ratings: RatingSet) {
    users = ratings.userIndices
    items = ratings.itemIndices
    values = ratings.values
  }

  /// Number of ratings.
  public var count: Int { values.count }
}
