import ArgumentParser
import MatrixFactorization
import RatingData

struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generate MovieLens-like ratings from a planted low-rank model (seeded).",
    discussion: """
      Each rating is round(μ + b_u + b_i + p_u·q_i + noise) clamped to 1..5 (or to half stars
      in 0.5..5 with --half-stars), μ = 3.55, with Zipf-distributed user activity and item
      popularity. Every user has at least one rating and at most half the items, so
      --users ≤ --ratings ≤ --users × ⌊--items/2⌋. Shapes:
        MovieLens-like (the default): --ratings N (N/150 users, 8·√N items)
        very sparse:   --ratings 28000 --users 9600 --items 3600 --user-exponent 0.5
                       (median 2 ratings per user, 85% of the items rated < 10 times)
        dense:         --ratings 400000 --users 2000 --items 800 (25% of the cells)
        no biases:     --user-bias-spread 0 --item-bias-spread 0
      The same flags and seed always give the same files.
      """)

  @Option(help: "Number of ratings.") var ratings: Int
  @Option(help: "Users (default: ratings/150, at least 50).") var users: Int?
  @Option(help: "Items (default: 8·√ratings, at least 40).") var items: Int?
  @Option(help: "Rank of the planted model.") var rank: Int = 8
  @Option(help: "Standard deviation of the noise before rounding.") var noise: Double = 0.5
  @Option(help: "Standard deviation of the planted user biases b_u (0: none).")
  var userBiasSpread: Double = 0.35
  @Option(help: "Standard deviation of the planted item biases b_i (0: none).")
  var itemBiasSpread: Double = 0.45
  @Option(help: "Zipf exponent of user activity (0: every user rates about as many items).")
  var userExponent: Double = 0.8
  @Option(help: "Zipf exponent of item popularity (0: items are picked uniformly).")
  var itemExponent: Double = 0.9
  @Flag(help: "Round ratings to half stars in 0.5..5 instead of whole stars in 1..5.")
  var halfStars = false
  @Option(help: "Random seed.") var seed: UInt64 = 1
  @Option(help: "Fraction of ratings written to --test-output.") var testFraction: Double = 0.1
  @Option(help: "Training ratings file (CSV).") var output: String
  @Option(help: "Test ratings file (CSV).") var testOutput: String?
  @Flag(help: "Print one JSON object.") var json = false

  /// The generator's settings for these flags.
  var generatorConfiguration: SyntheticRatings.Configuration {
    var c = SyntheticRatings.Configuration.movieLensLike(ratings: ratings, seed: seed)
    if let users { c.users = users }
    if let items { c.items = items }
    c.rank = rank
    c.noise = noise
    c.userBiasSpread = userBiasSpread
    c.itemBiasSpread = itemBiasSpread
    c.userExponent = userExponent
    c.itemExponent = itemExponent
    c.halfStars = halfStars
    c.testFraction = testOutput == nil ? 0 : testFraction
    return c
  }

  func validate() throws {
    if ratings < 1 { throw ValidationError("--ratings must be at least 1, got \(ratings)") }
    if let users, users < 1 { throw ValidationError("--users must be at least 1, got \(users)") }
    if let items, items < 2 { throw ValidationError("--items must be at least 2, got \(items)") }
    if rank < 1 { throw ValidationError("--rank must be at least 1, got \(rank)") }
    for (flag, value) in [
      ("--noise", noise), ("--user-bias-spread", userBiasSpread),
      ("--item-bias-spread", itemBiasSpread), ("--user-exponent", userExponent),
      ("--item-exponent", itemExponent),
    ] where !(value.isFinite && value >= 0) {
      throw ValidationError("\(flag) must be a finite number ≥ 0, got \(value)")
    }
    if !(testFraction >= 0 && testFraction < 1) {
      throw ValidationError("--test-fraction must be in [0, 1), got \(testFraction)")
    }
    let c = generatorConfiguration
    let usersText =
      users == nil ? "\(c.users) users (the default for --ratings \(ratings))" : "--users \(c.users)"
    let itemsText =
      items == nil ? "\(c.items) items (the default for --ratings \(ratings))" : "--items \(c.items)"
    if c.ratings < c.users {
      throw ValidationError(
        "--ratings \(ratings) is fewer than \(usersText): every user gets at least one rating;"
          + " lower --users or raise --ratings")
    }
    let most = c.users * (c.items / 2)
    if c.ratings > most {
      throw ValidationError(
        "--ratings \(ratings) do not fit \(usersText) × \(itemsText): each user rates at most half"
          + " the items, so at most \(most) ratings; raise --users or --items")
    }
  }

  func run() throws {
    let c = generatorConfiguration
    let generator = try SyntheticRatings(c)
    let counts = try generator.write(trainPath: output, testPath: testOutput)
    if json {
      var object: [String: Any] = [
        "train": counts.train, "test": counts.test, "users": c.users, "items": c.items,
        "output": output, "rank": c.rank, "noise": c.noise, "seed": c.seed,
        "user_bias_spread": c.userBiasSpread, "item_bias_spread": c.itemBiasSpread,
        "user_exponent": c.userExponent, "item_exponent": c.itemExponent, "half_stars": c.halfStars,
        "rating_min": c.ratingRange.lowerBound, "rating_max": c.ratingRange.upperBound,
        "test_fraction": c.testFraction,
      ]
      if let testOutput { object["test_output"] = testOutput }
      try Console.json(object)
    } else {
      let test = testOutput.map { " and \(counts.test) to \($0)" } ?? ""
      let stars = c.halfStars ? ", half stars" : ""
      print(
        "wrote \(counts.train) ratings to \(output)\(test)"
          + " (\(c.users) users, \(c.items) items, planted rank \(c.rank)\(stars))")
    }
  }
}
