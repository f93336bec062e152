@_spi(Engine) import LinearAlgebra
import RatingData

/// Which part of the model a prediction used.
public enum PredictionSource: String, Sendable, Codable {
  /// μ + b_u + b_i + p_u·q_i: both user and item are known.
  case model
  /// μ + b_i: the user is unknown.
  case itemBaseline = "item-baseline"
  /// μ + b_u: the item is unknown.
  case userBaseline = "user-baseline"
  /// μ: neither is known.
  case globalMean = "global-mean"

  /// Whether the prediction fell back to a baseline.
  public var isFallback: Bool { self != .model }
}

/// A predicted rating and what it was computed from.
public struct Prediction: Sendable, Equatable {
  /// The prediction, clamped to the training rating range.
  public var value: Float
  /// Which terms were available.
  public var source: PredictionSource
}

extension FactorModel {
  /// The raw score μ + b_u + b_i + p_u·q_i for known indices (not clamped).
  ///
  /// The indices must be the model's (`0 ..< userCount`, `0 ..< itemCount`); anything else stops
  /// with a message rather than reading outside the tables.
  public func score(user: Int, item: Int) -> Float {
    checkUser(user)
    checkItem(item)
    let k = rank
    let dot = withSharedReadPointers(userFactors.values, itemFactors.values) { p, q in
      RowKernels.dot(k, p.base + user * k, q.base + item * k)
    }
    return globalMean + userBias[user] + itemBias[item] + dot
  }

  /// The prediction for dense indices, either of which may be unknown (`nil`): an unknown side
  /// drops its bias and the dot product, leaving the part of the baseline that is known.
  public func predict(user: Int?, item: Int?) -> Prediction {
    let raw: Float
    let source: PredictionSource
    switch (user, item) {
    case (let u?, let i?):
      raw = score(user: u, item: i)
      source = .model
    case (nil, let i?):
      checkItem(i)
      raw = globalMean + itemBias[i]
      source = .itemBaseline
    case (let u?, nil):
      checkUser(u)
      raw = globalMean + userBias[u]
      source = .userBaseline
    case (nil, nil):
      raw = globalMean
      source = .globalMean
    }
    return Prediction(value: clampToRange(raw), source: source)
  }

  /// The prediction for raw ids.
  public func predict(userID: String, itemID: String) -> Prediction {
    predict(user: users.index(of: userID).map(Int.init), item: items.index(of: itemID).map(Int.init))
  }

  /// `x` clamped to the training rating range (NaN stays NaN). Implicit models' scores are
  /// preferences on no fixed scale and are returned as they are.
  @inlinable
  public func clampToRange(_ x: Float) -> Float {
    if isImplicit { return x }
    return min(max(x, ratingRange.lowerBound), ratingRange.upperBound)
  }
}
