/// A seeded generator of MovieLens-like explicit ratings with a planted model.
///
/// Users' activity and items' popularity follow power laws (a few heavy users and blockbuster
/// items, a long tail of both), like real rating data. Each rating is drawn from a planted
/// biased low-rank model,
///
///     r = round(clamp(μ + b_u + b_i + p_u·q_i + ε, 1, 5)),   ε ~ N(0, noise²),
///
/// with μ = 3.55, b_u ~ N(0, userBiasSpread²), b_i ~ N(0, itemBiasSpread²) and p·q of standard
/// deviation about 0.8, so a factorization of the right rank can recover it to about the noise
/// level (plus the rounding). With `halfStars` the rating is rounded to the nearest half star
/// and clamped to [0.5, 5] instead. This is how benchmarks reach sizes beyond MovieLens, and how
/// the sample in `Data/` was made.
///
/// Shapes: every user has at least one rating and at most half the items, so `users ≤ ratings ≤
/// users · ⌊items/2⌋`. A very sparse set (a median of 2 ratings per user, most items rated
/// fewer than 10 times) takes about a third as many users as ratings, a few thousand items and
/// a flatter activity curve, e.g. 28,000 ratings over 9,600 users and 3,600 items with
/// `userExponent` 0.5 (at 0.8, two thirds of the users would have a single rating); a dense one
/// few users and items, e.g. 400,000 ratings over 2,000 users and 800 items (25% of the cells).
public struct SyntheticRatings: Sendable {
  /// Generator settings.
  public struct Configuration: Sendable {
    /// Number of users.
    public var users: Int
    /// Number of items.
    public var items: Int
    /// Number of ratings (train and test together).
    public var ratings: Int
    /// Rank of the planted model.
    public var rank: Int
    /// Standard deviation of the Gaussian noise before rounding.
    public var noise: Double
    /// Seed of every random choice.
    public var seed: UInt64
    /// Zipf exponent of user activity (0 = uniform).
    public var userExponent: Double
    /// Zipf exponent of item popularity (0 = uniform).
    public var itemExponent: Double
    /// Fraction of each user's ratings written to the test file.
    public var testFraction: Double
    /// Standard deviation of the planted user biases b_u (0 = no user bias).
    public var userBiasSpread: Double
    /// Standard deviation of the planted item biases b_i (0 = no item bias).
    public var itemBiasSpread: Double
    /// Round ratings to half stars in [0.5, 5] instead of whole stars in [1, 5].
    public var halfStars: Bool

    /// A configuration; the defaults give MovieLens-like skew and biases.
    public init(
      users: Int, items: Int, ratings: Int, rank: Int = 8, noise: Double = 0.5, seed: UInt64 = 1,
      userExponent: Double = 0.8, itemExponent: Double = 0.9, testFraction: Double = 0.1,
      userBiasSpread: Double = 0.35, itemBiasSpread: Double = 0.45, halfStars: Bool = false
    ) {
      self.users = users
      self.items = items
      self.ratings = ratings
      self.rank = rank
      self.noise = noise
      self.seed = seed
      self.userExponent = userExponent
      self.itemExponent = itemExponent
      self.testFraction = testFraction
      self.userBiasSpread = userBiasSpread
      self.itemBiasSpread = itemBiasSpread
      self.halfStars = halfStars
    }

    /// The lowest and highest rating the configuration produces.
    public var ratingRange: ClosedRange<Double> { halfStars ? 0.5 ... 5 : 1 ... 5 }

    /// Users and items for a MovieLens-like density at a given rating count.
    public static func movieLensLike(ratings: Int, seed: UInt64 = 1) -> Configuration {
      // MovieLens-25M: 162k users, 59k items. Scale users with the ratings, items sub-linearly.
      let users = max(50, ratings / 150)
      let items = max(40, Int(Double(ratings).squareRoot() * 8))
      return Configuration(users: users, items: min(items, 200_000), ratings: ratings, seed: seed)
    }
  }

  /// The settings.
  public let configuration: Configuration

  /// A generator for `configuration`, which is checked first.
  public init(_ configuration: Configuration) throws(RatingDataError) {
    let c = configuration
    guard c.users > 0, c.items > 0, c.ratings > 0, c.rank > 0 else {
      throw .invalidParameter("synthetic data needs positive users, items, ratings and rank")
    }
    guard c.ratings <= c.users * (c.items / 2) else {
      throw .invalidParameter(
        "\(c.ratings) ratings do not fit \(c.users) users × \(c.items) items at ≤ 50% density")
    }
    // Every user gets at least one rating; fewer ratings than users cannot be distributed.
    guard c.ratings >= c.users else {
      throw .invalidParameter(
        "\(c.ratings) ratings cannot give each of \(c.users) users at least one rating")
    }
    guard c.noise >= 0, c.testFraction >= 0, c.testFraction < 1 else {
      throw .invalidParameter("noise must be ≥ 0 and the test fraction in [0, 1)")
    }
    guard c.userBiasSpread >= 0, c.itemBiasSpread >= 0, c.userBiasSpread.isFinite,
      c.itemBiasSpread.isFinite
    else {
      throw .invalidParameter("the user and item bias spreads must be finite and ≥ 0")
    }
    guard c.userExponent >= 0, c.itemExponent >= 0, c.userExponent.isFinite,
      c.itemExponent.isFinite
    else {
      throw .invalidParameter("the user and item Zipf exponents must be finite and ≥ 0")
    }
    self.configuration = c
  }

  /// Generates the ratings and hands each line's fields to `emit(user, item, rating,
  /// timestamp, isTest)`, user by user. Ids are 1-based integers; ratings are whole stars
  /// (or half stars with `halfStars`), exact in `Double`.
  public func generate(_ emit: (Int, Int, Double, Int64, Bool) throws(RatingDataError) -> Void)
    throws(RatingDataError)
  {
    let c = configuration
    var rng = SeededGenerator(seed: c.seed)
    let k = c.rank
    // Planted model: factor scale s gives p·q a standard deviation of √k·s² ≈ 0.8.
    let s = (0.8 / Double(k).squareRoot()).squareRoot()
    let mu = 3.55
    var userBias = [Double](repeating: 0, count: c.users)
    var itemBias = [Double](repeating: 0, count: c.items)
    var p = [Double](repeating: 0, count: c.users * k)
    var q = [Double](repeating: 0, count: c.items * k)
    // The draws happen whatever the spreads, so a spread changes the biases and nothing else.
    for u in 0 ..< c.users { userBias[u] = c.userBiasSpread * rng.nextGaussian() }
    for i in 0 ..< c.items { itemBias[i] = c.itemBiasSpread * rng.nextGaussian() }
    for j in 0 ..< p.count { p[j] = s * rng.nextGaussian() }
    for j in 0 ..< q.count { q[j] = s * rng.nextGaussian() }

    // Activity: Zipf weights over a random permutation of users.
    let userWeights = zipfWeights(count: c.users, exponent: c.userExponent, rng: &rng)
    let cap = max(1, c.items / 2)
    var perUser = userWeights.map { w in min(cap, max(1, Int((w * Double(c.ratings)).rounded()))) }
    // Fix the total to exactly `ratings` by trimming or topping up round-robin.
    var total = perUser.reduce(0, +)
    var cursor = 0
    while total != c.ratings {
      let u = cursor % c.users
      if total > c.ratings, perUser[u] > 1 {
        perUser[u] -= 1
        total -= 1
      } else if total < c.ratings, perUser[u] < cap {
        perUser[u] += 1
        total += 1
      }
      cursor += 1
    }
    // Popularity: Zipf weights over a random permutation of items, as a cumulative table.
    let itemWeights = zipfWeights(count: c.items, exponent: c.itemExponent, rng: &rng)
    var cumulative = [Double](repeating: 0, count: c.items)
    var running = 0.0
    for i in 0 ..< c.items {
      running += itemWeights[i]
      cumulative[i] = running
    }
    var taken = [Int32](repeating: -1, count: c.items)
    var chosen: [Int] = []
    for u in 0 ..< c.users {
      let n = perUser[u]
      chosen.removeAll(keepingCapacity: true)
      var attempts = 0
      while chosen.count < n {
        attempts += 1
        let item: Int
        if attempts < 20 * n + 100 {
          item = sample(cumulative, rng.nextUnit() * running)
        } else {
          item = rng.nextIndex(below: c.items)  // very heavy user: finish uniformly
        }
        if taken[item] == Int32(u) { continue }
        taken[item] = Int32(u)
        chosen.append(item)
      }
      var time: Int64 = 880_000_000 + Int64(rng.nextIndex(below: 100_000_000))
      for item in chosen {
        var r = mu + userBias[u] + itemBias[item] + c.noise * rng.nextGaussian()
        for f in 0 ..< k { r += p[u * k + f] * q[item * k + f] }
        let rating =
          c.halfStars ? min(5, max(0.5, (2 * r).rounded() / 2)) : min(5, max(1, r.rounded()))
        time += Int64(1 + rng.nextIndex(below: 3600))
        let isTest = c.testFraction > 0 && rng.nextUnit() < c.testFraction
        try emit(u + 1, item + 1, rating, time, isTest)
      }
    }
  }

  /// Writes `train` (and `test`, if given) as CSV `user,item,rating,timestamp`, atomically.
  /// Returns the number of lines written to each.
  @discardableResult
  public func write(trainPath: String, testPath: String?) throws(RatingDataError) -> (
    train: Int, test: Int
  ) {
    var train = try AtomicFileWriter(path: trainPath)
    var test: AtomicFileWriter? = nil
    if let testPath { test = try AtomicFileWriter(path: testPath) }
    let header = Array("user,item,rating,timestamp\n".utf8)
    try train.write(header)
    try test?.write(header)
    var counts = (train: 0, test: 0)
    var line: [UInt8] = []
    line.reserveCapacity(64)
    try generate { (user, item, rating, time, isTest) throws(RatingDataError) in
      line.removeAll(keepingCapacity: true)
      appendDecimal(&line, Int64(user))
      line.append(UInt8(ascii: ","))
      appendDecimal(&line, Int64(item))
      line.append(UInt8(ascii: ","))
      // Whole stars print as integers ("4"), half stars with one decimal ("3.5").
      let whole = rating.rounded(.down)
      appendDecimal(&line, Int64(whole))
      if rating != whole { line.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "5")]) }
      line.append(UInt8(ascii: ","))
      appendDecimal(&line, time)
      line.append(UInt8(ascii: "\n"))
      if isTest && test != nil {
        try test!.write(line)
        counts.test += 1
      } else {
        try train.write(line)
        counts.train += 1
      }
    }
    try train.commit()
    if let t = test.take() { try t.commit() }
    return counts
  }
}

private func zipfWeights(count: Int, exponent: Double, rng: inout SeededGenerator) -> [Double] {
  var order = Array(0 ..< count)
  order.shuffle(using: &rng)
  var weights = [Double](repeating: 0, count: count)
  var sum = 0.0
  for rank in 0 ..< count {
    let w = exponent == 0 ? 1.0 : _exp(-exponent * _log(Double(rank + 1)))
    weights[order[rank]] = w
    sum += w
  }
  return weights.map { $0 / sum }
}

/// The first index whose cumulative weight exceeds `x`.
private func sample(_ cumulative: [Double], _ x: Double) -> Int {
  var lo = 0
  var hi = cumulative.count - 1
  while lo < hi {
    let mid = (lo + hi) / 2
    if cumulative[mid] <= x { lo = mid + 1 } else { hi = mid }
  }
  return lo
}

/// Appends the decimal digits of `value`.
@inline(__always)
func appendDecimal(_ out: inout [UInt8], _ value: Int64) {
  if value < 0 { out.append(UInt8(ascii: "-")) }
  var v = value.magnitude
  var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  var n = 0
  withUnsafeMutableBytes(of: &digits) { d in
    repeat {
      d[n] = UInt8(ascii: "0") + UInt8(v % 10)
      v /= 10
      n += 1
    } while v > 0
    for j in stride(from: n - 1, through: 0, by: -1) { out.append(d[j]) }
  }
}
