import Foundation
import MatrixFactorization

/// Implicit interactions from a planted model: user u's items are the top of
/// β·p_u·q_i + Gumbel noise, so u picks item i with probability ∝ exp(β·p_u·q_i) (the Gumbel-max
/// trick), without replacement. The first `perUser` picks go to training, the next
/// `testPerUser` to the test set. Values are 1.
func plantedInteractions(
  users: Int, items: Int, rank: Int, perUser: Int, testPerUser: Int, sharpness: Double = 3,
  seed: UInt64
) -> (train: RatingSet, test: RatingSet) {
  var rng = SeededGenerator(seed: seed)
  var userMap = IDMap()
  var itemMap = IDMap()
  for u in 0 ..< users { userMap.intern("u\(u)") }
  for i in 0 ..< items { itemMap.intern("i\(i)") }
  let p = (0 ..< users * rank).map { _ in rng.nextGaussian() / Double(rank).squareRoot() }
  let q = (0 ..< items * rank).map { _ in rng.nextGaussian() }
  var train: ([Int32], [Int32]) = ([], [])
  var test: ([Int32], [Int32]) = ([], [])
  for u in 0 ..< users {
    var keyed: [(Double, Int)] = []
    for i in 0 ..< items {
      var s = 0.0
      for f in 0 ..< rank { s += p[u * rank + f] * q[i * rank + f] }
      let gumbel = -log(-log(max(1e-300, rng.nextUnit())))
      keyed.append((sharpness * s + gumbel, i))
    }
    keyed.sort { $0.0 > $1.0 }
    for (n, (_, i)) in keyed.prefix(perUser + testPerUser).enumerated() {
      if n < perUser {
        train.0.append(Int32(u)); train.1.append(Int32(i))
      } else {
        test.0.append(Int32(u)); test.1.append(Int32(i))
      }
    }
  }
  let ones = { (n: Int) in [Float](repeating: 1, count: n) }
  return (
    RatingSet(users: userMap, items: itemMap, userIndices: train.0, itemIndices: train.1, values: ones(train.0.count)),
    RatingSet(users: userMap, items: itemMap, userIndices: test.0, itemIndices: test.1, values: ones(test.0.count))
  )
}

/// Implicit-training options for tests: one thread, so runs are reproducible.
func implicitOptions(_ algorithm: Algorithm = .implicitALS, rank: Int = 8, epochs: Int = 10) -> TrainingOptions {
  var o = TrainingOptions.defaults(for: algorithm, rank: rank)
  o.epochs = epochs
  o.threads = 1
  return o
}

/// Solves the symmetric positive-definite system A·x = b in Double by Gaussian elimination with
/// partial pivoting: an independent reference for the LAPACK solves.
func naiveSolve(_ a: [[Double]], _ b: [Double]) -> [Double] {
  var a = a
  var b = b
  let n = b.count
  for c in 0 ..< n {
    var pivot = c
    for r in c + 1 ..< n where abs(a[r][c]) > abs(a[pivot][c]) { pivot = r }
    a.swapAt(c, pivot)
    b.swapAt(c, pivot)
    for r in c + 1 ..< n {
      let f = a[r][c] / a[c][c]
      for j in c ..< n { a[r][j] -= f * a[c][j] }
      b[r] -= f * b[c]
    }
  }
  var x = [Double](repeating: 0, count: n)
  for r in stride(from: n - 1, through: 0, by: -1) {
    var s = b[r]
    for j in r + 1 ..< n { s -= a[r][j] * x[j] }
    x[r] = s / a[r][r]
  }
  return x
}
