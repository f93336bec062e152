import MatrixFactorization
import Testing

/// The SGD engine's scheduling and kernels, through the public API.
@Suite struct SGDTests {
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

  /// With more than 4 × 4,096 users plus items the solver uses B = 5 blocks per side, so the
  /// barrier-free schedule really overlaps diagonals, and 3 threads do not divide the work
  /// evenly. Every rank kernel (a specialized one and the generic loop with a scalar tail)
  /// must give the same bits whatever the thread count.
  @Test(arguments: [8, 13, 32])
  func manyBlocksAreBitReproducibleAcrossThreadCounts(rank: Int) throws {
    let ratings = Self.randomRatings(users: 15_000, items: 3_000, count: 120_000, seed: 9)
    var fits: [FactorModel] = []
    for threads in [1, 3, 4] {
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

  /// The slot-ordered working copy must come back to the right rows: a model trained on
  /// ratings that depend only on the item (r = 1 + i mod 5) must rank each item's bias by
  /// its value, which fails if rows are returned to the wrong indices.
  @Test func trainedRowsReturnToTheirOwnIndices() throws {
    let users = 9_000
    let items = 8_000
    var rng = SeededGenerator(seed: 4)
    var userMap = IDMap()
    var itemMap = IDMap()
    for u in 0 ..< users { userMap.intern("u\(u)") }
    for i in 0 ..< items { itemMap.intern("i\(i)") }
    var userIndices: [Int32] = []
    var itemIndices: [Int32] = []
    var values: [Float] = []
    for n in 0 ..< 200_000 {
      let u = n < users ? n : rng.nextIndex(below: users)
      let i = n < items ? n : rng.nextIndex(below: items)
      userIndices.append(Int32(u))
      itemIndices.append(Int32(i))
      values.append(Float(1 + i % 5))
    }
    let ratings = RatingSet(
      users: userMap, items: itemMap, userIndices: userIndices, itemIndices: itemIndices,
      values: values)
    var options = TrainingOptions.defaults(for: .sgd, rank: 16)
    options.epochs = 20
    options.sgd?.learningRate = 0.05
    options.threads = 2
    let model = try Trainer.fit(ratings, options: options).model
    // Mean bias per item class i mod 5 must increase with the class.
    var sums = [Double](repeating: 0, count: 5)
    var counts = [Double](repeating: 0, count: 5)
    for i in 0 ..< items {
      sums[i % 5] += Double(model.itemBias[i])
      counts[i % 5] += 1
    }
    let means = (0 ..< 5).map { sums[$0] / counts[$0] }
    for c in 1 ..< 5 { #expect(means[c] > means[c - 1] + 0.5, "class means \(means)") }
    // And each item individually sits nearer its own class than the neighbouring ones.
    var misplaced = 0
    for i in 0 ..< items {
      let nearest = (0 ..< 5).min { abs(means[$0] - Double(model.itemBias[i])) < abs(means[$1] - Double(model.itemBias[i])) }!
      if nearest != i % 5 { misplaced += 1 }
    }
    #expect(misplaced < items / 50, "\(misplaced) of \(items) item biases nearer another class")
  }
}
