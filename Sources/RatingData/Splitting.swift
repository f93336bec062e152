/// Train/test splits of a rating set.
public enum Splitting {
  /// Holds out a random `fraction` of the ratings (each rating independently, seeded), keeping
  /// both sides over the same id maps.
  public static func holdout(_ ratings: RatingSet, fraction: Double, seed: UInt64)
    throws(RatingDataError) -> (train: RatingSet, test: RatingSet)
  {
    guard fraction > 0 && fraction < 1 else {
      throw .invalidParameter("the holdout fraction must be between 0 and 1 (exclusive), got \(fraction)")
    }
    var rng = SeededGenerator(seed: seed ^ 0x5EED_5B17)
    var train: [Int] = []
    var test: [Int] = []
    train.reserveCapacity(ratings.count)
    for n in 0 ..< ratings.count {
      if rng.nextUnit() < fraction { test.append(n) } else { train.append(n) }
    }
    return (ratings.subset(train), ratings.subset(test))
  }
}
