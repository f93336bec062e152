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

extension Splitting {
  /// Holds out about `fraction` of **each user's** ratings, chosen at random (seeded): a user
  /// with n ratings gives round(fraction·n) of them to the test side, at least one when n ≥ 2,
  /// and always keeps at least one in training. Users with a single rating stay in training.
  /// Both sides keep the file order and the same id maps.
  public static func perUserHoldout(_ ratings: RatingSet, fraction: Double, seed: UInt64)
    throws(RatingDataError) -> (train: RatingSet, test: RatingSet)
  {
    guard fraction > 0 && fraction < 1 else {
      throw .invalidParameter("the test fraction must be between 0 and 1 (exclusive), got \(fraction)")
    }
    return holdOutOfEachUser(ratings, seed: seed ^ 0x9E2_05E7) { n, _ in
      max(1, Int((fraction * Double(n)).rounded()))
    }
  }

  /// Leave-last-out: each user's latest `count` ratings by timestamp go to the test side (ties
  /// broken by file order, later lines being later), as long as the user keeps at least one
  /// rating in training. Needs timestamps.
  public static func leaveLastOut(_ ratings: RatingSet, count: Int = 1)
    throws(RatingDataError) -> (train: RatingSet, test: RatingSet)
  {
    guard count >= 1 else { throw .invalidParameter("the leave-last-out count must be at least 1, got \(count)") }
    guard !ratings.timestamps.isEmpty || ratings.count == 0 else {
      throw .invalidParameter("leave-last-out needs timestamps (a fourth column), and the ratings have none")
    }
    var isTest = [Bool](repeating: false, count: ratings.count)
    for row in positionsByUser(ratings) where row.count >= 2 {
      // File order within the row is ascending, so a stable sort by time keeps ties in order.
      let byTime = row.enumerated().sorted {
        (ratings.timestamps[$0.element], $0.offset) < (ratings.timestamps[$1.element], $1.offset)
      }.map(\.element)
      for position in byTime.suffix(min(count, row.count - 1)) { isTest[position] = true }
    }
    return partition(ratings, isTest)
  }

  /// Holds out `wanted(n, rng)` of each user's n ≥ 2 ratings (at most n − 1), chosen uniformly
  /// by a partial Fisher–Yates shuffle of the user's positions.
  static func holdOutOfEachUser(
    _ ratings: RatingSet, seed: UInt64, wanted: (Int, inout SeededGenerator) -> Int
  ) -> (train: RatingSet, test: RatingSet) {
    var rng = SeededGenerator(seed: seed)
    var isTest = [Bool](repeating: false, count: ratings.count)
    for row in positionsByUser(ratings) where row.count >= 2 {
      let count = min(row.count - 1, wanted(row.count, &rng))
      var row = row
      for j in 0 ..< count {
        row.swapAt(j, j + rng.nextIndex(below: row.count - j))
        isTest[row[j]] = true
      }
    }
    return partition(ratings, isTest)
  }

  /// Each user's rating positions, in file order.
  static func positionsByUser(_ ratings: RatingSet) -> [[Int]] {
    var rows = [[Int]](repeating: [], count: ratings.users.count)
    for n in 0 ..< ratings.count { rows[Int(ratings.userIndices[n])].append(n) }
    return rows
  }

  static func partition(_ ratings: RatingSet, _ isTest: [Bool]) -> (train: RatingSet, test: RatingSet) {
    let all = 0 ..< ratings.count
    return (ratings.subset(all.filter { !isTest[$0] }), ratings.subset(all.filter { isTest[$0] }))
  }
}

extension Splitting {
  /// Holds out about `fraction` of each user's ratings at random (seeded), for an internal
  /// validation sample: a user with n ratings gives ⌊fraction·n + U⌋ of them (U uniform in
  /// [0, 1): stochastic rounding, so the expected share is `fraction` for every n, even for
  /// users with two or three ratings, whom ``perUserHoldout(_:fraction:seed:)`` would halve),
  /// and always keeps at least one in training. Both sides keep the file order and the id maps.
  public static func perUserSample(_ ratings: RatingSet, fraction: Double, seed: UInt64)
    throws(RatingDataError) -> (train: RatingSet, test: RatingSet)
  {
    guard fraction > 0 && fraction < 1 else {
      throw .invalidParameter("the validation fraction must be between 0 and 1 (exclusive), got \(fraction)")
    }
    return holdOutOfEachUser(ratings, seed: seed ^ 0x5E1F_7A11) { n, rng in
      Int(fraction * Double(n) + rng.nextUnit())
    }
  }

  /// The ratings of a random subset of users (seeded) holding about `count` ratings in all,
  /// over the same id maps: the sample a search runs on when the whole set is large.
  public static func userSample(_ ratings: RatingSet, ratings count: Int, seed: UInt64) -> RatingSet {
    if ratings.count <= count { return ratings }
    var rng = SeededGenerator(seed: seed ^ 0x05A3_9E1E)
    var perUser = [Int](repeating: 0, count: ratings.users.count)
    for u in ratings.userIndices { perUser[Int(u)] += 1 }
    var order = Array(0 ..< ratings.users.count)
    order.shuffle(using: &rng)
    var chosen = [Bool](repeating: false, count: ratings.users.count)
    var total = 0
    for u in order where total < count {
      chosen[u] = true
      total += perUser[u]
    }
    return ratings.subset((0 ..< ratings.count).filter { chosen[Int(ratings.userIndices[$0])] })
  }
}
