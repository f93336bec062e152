import MatrixFactorization

/// Ratings drawn from a planted biased low-rank model with Gaussian noise (not rounded):
/// r = 3 + b_u + b_i + p_u·q_i + ε, ε ~ N(0, noise²). Returns a train and a test set over the
/// same id maps; every user and item appears in training.
func plantedRatings(
  users: Int, items: Int, rank: Int, density: Double, noise: Double, seed: UInt64
) -> (train: RatingSet, test: RatingSet) {
  var rng = SeededGenerator(seed: seed)
  var userMap = IDMap()
  var itemMap = IDMap()
  for u in 0 ..< users { userMap.intern("u\(u)") }
  for i in 0 ..< items { itemMap.intern("i\(i)") }
  let bu = (0 ..< users).map { _ in 0.5 * rng.nextGaussian() }
  let bi = (0 ..< items).map { _ in 0.5 * rng.nextGaussian() }
  let p = (0 ..< users * rank).map { _ in rng.nextGaussian() / Double(rank).squareRoot() }
  let q = (0 ..< items * rank).map { _ in rng.nextGaussian() }
  var train: ([Int32], [Int32], [Float]) = ([], [], [])
  var test: ([Int32], [Int32], [Float]) = ([], [], [])
  for u in 0 ..< users {
    for i in 0 ..< items {
      let forced = i == u % items || u == i % users  // every user and item in training
      guard forced || rng.nextUnit() < density else { continue }
      var r = 3 + bu[u] + bi[i] + noise * rng.nextGaussian()
      for f in 0 ..< rank { r += p[u * rank + f] * q[i * rank + f] }
      if !forced && rng.nextUnit() < 0.2 {
        test.0.append(Int32(u)); test.1.append(Int32(i)); test.2.append(Float(r))
      } else {
        train.0.append(Int32(u)); train.1.append(Int32(i)); train.2.append(Float(r))
      }
    }
  }
  return (
    RatingSet(users: userMap, items: itemMap, userIndices: train.0, itemIndices: train.1, values: train.2),
    RatingSet(users: userMap, items: itemMap, userIndices: test.0, itemIndices: test.1, values: test.2)
  )
}

/// A small trained model for serving and persistence tests.
func smallModel(algorithm: Algorithm = .sgd, rank: Int = 4, seed: UInt64 = 1) throws -> FactorModel {
  let (train, _) = plantedRatings(users: 40, items: 30, rank: 3, density: 0.3, noise: 0.1, seed: seed)
  var options = TrainingOptions.defaults(for: algorithm, rank: rank)
  options.epochs = 10
  options.threads = 1
  return try Trainer.fit(train, options: options).model
}

/// RMSE of always predicting the training mean: the bar a model must clear.
func meanBaselineRMSE(train: RatingSet, test: RatingSet) -> Double {
  let mu = train.mean
  let s = test.values.reduce(0.0) { $0 + (Double($1) - mu) * (Double($1) - mu) }
  return (s / Double(test.count)).squareRoot()
}
