import MatrixFactorization
import RatingData
import Testing

/// The SGD engine's scheduling and kernels, through the public API.
@Suite struct SGDTests {
  /// The blocks' shuffle is a uniform permutation: over 40,000 shuffles of 8 elements, the
  /// 8 × 8 table of (element, position) counts passes a χ² test against 1/8 each (49 degrees of
  /// freedom, 0.999 quantile 85.35; fixed seed). A shuffle that always swapped with the same
  /// place (as one did for a commit, through `>>` binding tighter than `&*`) fails it by far.
  @Test func blockShuffleIsUniform() {
    var generator = SeededGenerator(seed: 11)
    let (n, trials) = (8, 40_000)
    var counts = [Int](repeating: 0, count: n * n)
    var values = [Int](repeating: 0, count: n)
    for _ in 0 ..< trials {
      for k in 0 ..< n { values[k] = k }
      values.withUnsafeMutableBufferPointer { SGDSolver.shuffle($0.baseAddress!, count: n, using: &generator) }
      for (position, value) in values.enumerated() { counts[value * n + position] += 1 }
    }
    let expected = Double(trials) / Double(n)
    let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    #expect(chiSquare < 85.35, "χ² = \(chiSquare)")
  }

  /// `count` ratings of random (user, item) pairs over `users` × `items`, values 1…5, in a
  /// RatingSet whose ids are the indices (repeated pairs are left for the trainer to merge).
  static func randomRatings(users: Int, items: Int, count: Int, seed: UInt64) -> RatingSet {
    var rng = SeededGenerator(seed: seed)
    var userMap = IDMap()
    var itemMap = IDMap()
    for u in 0 ..< users { userMap.intern("u\(u)") }
    for i in 0 ..< items { itemMap.intern("i\(i)") }
    var userIndices: [Int32] = []
    var itemIndices: [Int32] = []
    var values: [Float] = []
    // Every user and item at least once, so the id maps and the trained model agree.
    for n in 0 ..< max(count, users, items) {
      let u = n < users ? n : rng.nextIndex(below: users)
      let i = n < items ? n : rng.nextIndex(below: items)
      userIndices.append(Int32(u))
      itemIndices.append(Int32(i))
      // A rating with some structure (user and item effects), so that SGD has work to do.
      values.append(Float(1 + (u % 5 + i % 3 + rng.nextIndex(below: 2)) % 5))
    }
    return RatingSet(
      users: userMap, items: itemMap, userIndices: userIndices, itemIndices: itemIndices,
      values: values)
  }

  /// B = 5 blocks per side (asserted below: 18,000 users plus items need 5 slabs of 4,096 rows,
  /// and 398,154 distinct ratings, 22 per row, allow ⌈22 / 5⌉ = 5 blocks by the reuse rule), so
  /// the barrier-free schedule really overlaps diagonals, and neither 3 nor 4 threads divide
  /// the 25 blocks evenly. Every rank kernel (a specialized one and the generic loop with a
  /// scalar tail) must give the same bits whatever the thread count.
  @Test(arguments: [8, 13, 32])
  func manyBlocksAreBitReproducibleAcrossThreadCounts(rank: Int) throws {
    let ratings = Self.randomRatings(users: 15_000, items: 3_000, count: 400_000, seed: 9)
    let distinct = ratings.removingDuplicates().ratings.count
    var fits: [FactorModel] = []
    for threads in [1, 3, 4] {
      let blocks = SGDSolver.blockCount(
        users: ratings.users.count, items: ratings.items.count, ratings: distinct, threads: threads)
      #expect(blocks == 5, "\(distinct) distinct ratings, \(threads) threads: B = \(blocks)")
      var options = TrainingOptions.defaults(for: .sgd, rank: rank)
      options.epochs = 3
      options.threads = threads
      fits.append(try Trainer.fit(ratings, options: options).model)
    }
    for m in fits.dropFirst() {
      #expect(m.userFactors == fits[0].userFactors)
      #expect(m.itemFactors == fits[0].itemFactors)
      #expect(m.userBias == fits[0].userBias && m.itemBias == fits[0].itemBias)
    }
  }

  /// Ratings handed over to the fit (``Trainer/fit(handingOver:validation:options:measureTrainRMSE:progress:)``)
  /// are released while SGD builds its blocked copy; the model must be the one the ordinary
  /// call gives, bit for bit, with repeated pairs (merged into new columns first) or without
  /// (the caller's own columns), for both step schedules and one or two threads. And a caller
  /// that hands over ratings it still holds must find them intact afterwards.
  @Test(arguments: [StepSchedule.adaptive, .decaying], [1, 2])
  func handedOverRatingsGiveTheSameModelAndSpareTheCallersCopy(schedule: StepSchedule, threads: Int) throws {
    var options = TrainingOptions.defaults(for: .sgd, rank: 8)
    var settings = SGDSettings.selfTuningStart
    settings.schedule = schedule
    options.solver = .sgd(settings)
    options.epochs = 3
    options.threads = threads
    func ratings(distinct: Bool) -> RatingSet {
      let r = Self.randomRatings(users: 3_000, items: 800, count: 300_000, seed: 4)
      return distinct ? r.removingDuplicates().ratings : r
    }
    for distinct in [false, true] {
      let ordinary = try Trainer.fit(ratings(distinct: distinct), options: options).model
      let handedOver = try Trainer.fit(handingOver: ratings(distinct: distinct), options: options).model
      let found = differences(ordinary, handedOver).filter { !$0.hasPrefix("summary") }
      #expect(found.isEmpty, "distinct \(distinct): \(found)")
      #expect(handedOver.summary.trainingRatings == ordinary.summary.trainingRatings)
      #expect(handedOver.summary.trainRMSE == ordinary.summary.trainRMSE)

      let kept = ratings(distinct: distinct)
      let again = try Trainer.fit(handingOver: kept, options: options).model
      #expect(differences(again, handedOver).filter { !$0.hasPrefix("summary") }.isEmpty)
      let fresh = ratings(distinct: distinct)
      #expect(kept.userIndices == fresh.userIndices && kept.itemIndices == fresh.itemIndices)
      #expect(kept.values == fresh.values)
    }
  }

  /// ALS and implicit ALS drop handed-over ratings once the rows by user are built, and take
  /// the rows by item as their transpose: the factors must be those of the ordinary call, bit for
  /// bit, and ALS's final training RMSE (then summed over the rows, not the ratings) the same
  /// figure to rounding.
  @Test(arguments: [Algorithm.als, .implicitALS], [1, 2])
  func handedOverRatingsGiveTheSameAlternatingModels(algorithm: Algorithm, threads: Int) throws {
    var options = TrainingOptions.defaults(for: algorithm, rank: 8)
    options.epochs = 3
    options.threads = threads
    let ratings = { Self.randomRatings(users: 2_000, items: 600, count: 120_000, seed: 6) }
    let ordinary = try Trainer.fit(ratings(), options: options).model
    let handedOver = try Trainer.fit(handingOver: ratings(), options: options).model
    let found = differences(ordinary, handedOver).filter { !$0.hasPrefix("summary") }
    #expect(found.isEmpty, "\(found)")
    if algorithm == .als {
      let (a, b) = (try #require(ordinary.summary.trainRMSE), try #require(handedOver.summary.trainRMSE))
      #expect(abs(a - b) <= 1e-9 * a, "\(a) against \(b)")
    }
  }

  /// The block count: one slab per 4,096 rows of users plus items, but no more blocks than
  /// leave about 5 ratings per row and block; at least 4 and the thread count, at most 256.
  /// (Expected values worked out by hand from that rule.)
  @Test func blockCountFollowsTheDataSize() {
    // Tiny sets: the floor of 4, or the thread count above it.
    #expect(SGDSolver.blockCount(users: 10, items: 10, ratings: 50, threads: 1) == 4)
    #expect(SGDSolver.blockCount(users: 10, items: 10, ratings: 50, threads: 7) == 7)
    #expect(SGDSolver.blockCount(users: 0, items: 0, ratings: 0, threads: 1) == 4)
    // 18,000 rows: 5 slabs; 120,000 ratings allow ⌈120,000 / 90,000⌉ = 2 → the floor, 4;
    // 360,000 allow exactly 4; one more allows 5.
    #expect(SGDSolver.blockCount(users: 15_000, items: 3_000, ratings: 120_000, threads: 4) == 4)
    #expect(SGDSolver.blockCount(users: 15_000, items: 3_000, ratings: 360_000, threads: 4) == 4)
    #expect(SGDSolver.blockCount(users: 15_000, items: 3_000, ratings: 360_001, threads: 4) == 5)
    // MovieLens-10M-like: 69,878 + 10,677 rows → ⌈19.7⌉ = 20 slabs; 10M ratings allow
    // ⌈24.8⌉ = 25; cache-bound, 20.
    #expect(SGDSolver.blockCount(users: 69_878, items: 10_677, ratings: 10_000_054, threads: 2) == 20)
    // Many rows and few ratings per row: reuse-bound. 200k + 200k rows → 98 slabs; 10M ratings
    // allow ⌈5⌉ = 5 (groups of 40,000 rows: within 16 bits).
    #expect(SGDSolver.blockCount(users: 200_000, items: 200_000, ratings: 10_000_000, threads: 2) == 5)
    // The same shape at 1M + 1M rows and 50M ratings allows 5 too, but groups of 200,000 rows
    // would not fit an entry's 16-bit rows: ⌈1,000,000 / 65,536⌉ = 16 groups.
    #expect(SGDSolver.blockCount(users: 1_000_000, items: 1_000_000, ratings: 50_000_000, threads: 2) == 16)
    // Past the cap as well: 20M users need ⌈20,000,000 / 65,536⌉ = 306 groups.
    #expect(SGDSolver.blockCount(users: 20_000_000, items: 1_000, ratings: 100_000_000, threads: 2) == 306)
    // Huge and dense: capped at 256, also against a larger thread count.
    #expect(SGDSolver.blockCount(users: 2_000_000, items: 2_000_000, ratings: 10_000_000_000, threads: 2) == 256)
    #expect(SGDSolver.blockCount(users: 10, items: 10, ratings: 50, threads: 1000) == 256)
  }

  /// Ratings over ids "u0"… and "i0"… given by index.
  static func ratingSet(users: Int, items: Int, _ triples: [(user: Int, item: Int, value: Float)]) -> RatingSet {
    var userMap = IDMap()
    var itemMap = IDMap()
    for u in 0 ..< users { userMap.intern("u\(u)") }
    for i in 0 ..< items { itemMap.intern("i\(i)") }
    return RatingSet(
      users: userMap, items: itemMap, userIndices: triples.map { Int32($0.user) },
      itemIndices: triples.map { Int32($0.item) }, values: triples.map(\.value))
  }

  /// An SGD fit of rank `rank`, 2 threads, step 0.05.
  static func fit(_ ratings: RatingSet, rank: Int, epochs: Int) throws -> FactorModel {
    var options = TrainingOptions.defaults(for: .sgd, rank: rank)
    options.epochs = epochs
    options.sgd?.learningRate = 0.05
    options.threads = 2
    return try Trainer.fit(ratings, options: options).model
  }

  /// The mean bias of each of 5 classes (row r in class r mod 5), and how many rows' biases lie
  /// nearer another class's mean than their own.
  static func classes(of biases: [Float]) -> (means: [Double], misplaced: Int) {
    var sums = [Double](repeating: 0, count: 5)
    var counts = [Double](repeating: 0, count: 5)
    for (r, bias) in biases.enumerated() {
      sums[r % 5] += Double(bias)
      counts[r % 5] += 1
    }
    let means = (0 ..< 5).map { sums[$0] / counts[$0] }
    var misplaced = 0
    for (r, bias) in biases.enumerated() {
      let nearest = (0 ..< 5).min { abs(means[$0] - Double(bias)) < abs(means[$1] - Double(bias)) }!
      if nearest != r % 5 { misplaced += 1 }
    }
    return (means, misplaced)
  }

  /// The slot-ordered working copy must come back to the right rows: a model trained on
  /// ratings that depend only on the item (r = 1 + i mod 5) must rank each item's bias by
  /// its value, which fails if rows are returned to the wrong indices.
  @Test func trainedRowsReturnToTheirOwnIndices() throws {
    let users = 9_000
    let items = 8_000
    var rng = SeededGenerator(seed: 4)
    let triples = (0 ..< 200_000).map { n in
      let u = n < users ? n : rng.nextIndex(below: users)
      let i = n < items ? n : rng.nextIndex(below: items)
      return (user: u, item: i, value: Float(1 + i % 5))
    }
    let model = try Self.fit(Self.ratingSet(users: users, items: items, triples), rank: 16, epochs: 20)
    // Mean bias per item class i mod 5 must increase with the class, and each item sit nearer
    // its own class than the neighbouring ones.
    let (means, misplaced) = Self.classes(of: Array(model.itemBias))
    for c in 1 ..< 5 { #expect(means[c] > means[c - 1] + 0.5, "class means \(means)") }
    #expect(misplaced < items / 50, "\(misplaced) of \(items) item biases nearer another class")
  }

  /// Groups of exactly 65,536 rows, the most an entry's 16-bit rows can address: 262,144 users in
  /// B = 4 groups, so some entries hold row 65,535 of their group. Ratings depend only on the
  /// user (r = 1 + u mod 5): the class means must order, and the users' biases land nearest
  /// their own class, which fails if entries reached the wrong rows (or traps if an offset did
  /// not fit).
  @Test func groupsOfSixteenBitRowsReachEveryRow() throws {
    let users = 4 * 65_536
    let items = 8
    #expect(SGDSolver.blockCount(users: users, items: items, ratings: 3 * users, threads: 2) == 4)
    var triples: [(user: Int, item: Int, value: Float)] = []
    for u in 0 ..< users {
      for i in Set([u % items, (u / items) % items, (u / 64) % items]).sorted() {
        triples.append((u, i, Float(1 + u % 5)))
      }
    }
    let model = try Self.fit(Self.ratingSet(users: users, items: items, triples), rank: 8, epochs: 15)
    let (means, misplaced) = Self.classes(of: Array(model.userBias))
    for c in 1 ..< 5 { #expect(means[c] > means[c - 1] + 0.3, "class means \(means)") }
    // Three ratings a user leave some biases between classes (about 6% here); an entry that
    // reached the wrong row would leave its user's bias anywhere.
    #expect(misplaced < users / 8, "\(misplaced) of \(users) user biases nearer another class")
  }
}
