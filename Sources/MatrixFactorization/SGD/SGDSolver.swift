import LinearAlgebra
import RatingData

/// Biased matrix factorization by SGD over a blocked, shuffled rating matrix.
///
/// **Blocking** (the scheme of LIBMF, Chin et al. 2015, and DSGD, Gemulla et al. 2011): users
/// and items are split into B random groups each, giving B×B blocks. Blocks on one "diagonal"
/// {(a, σ(a+s)) : a} share no user and no item, so threads update them at once without locks and
/// without races; and a block's factor rows are few enough to stay in cache. Each epoch visits
/// the B diagonals in a random order, with fresh random relabelings of the groups.
///
/// **Reproducibility**: what each block computes does not depend on which thread runs it or
/// when, so for a given seed and block count the result is the same bit for bit whatever
/// `--threads` is (B is chosen from the data size, and is at least 4 and at least the thread
/// count).
struct SGDSolver {
  let options: TrainingOptions
  let buffers: FactorBuffers
  let mean: Float
  let blockCount: Int
  /// Ratings grouped by block, shuffled within each block.
  private var entries: [RatingEntry]
  /// `blockStart[a * B + b] ..< blockStart[a * B + b + 1]` are block (a, b)'s entries.
  private var blockStart: [Int]
  private var rng: SeededGenerator

  init(ratings: RatingSet, mean: Float, options: TrainingOptions, buffers: FactorBuffers) {
    self.options = options
    self.buffers = buffers
    self.mean = mean
    let k = options.rank
    var rng = SeededGenerator(seed: options.seed ^ 0x56D0_0001)
    // Choose B so that one block's user rows plus item rows take about 256 KiB.
    let factorBytes = Double((ratings.users.count + ratings.items.count) * k * 4)
    let cacheBlocks = Int((factorBytes / 262_144).rounded(.up))
    let b = min(256, max(4, options.threads, cacheBlocks))
    blockCount = b
    func groups(_ n: Int) -> [Int32] {
      var order = Array(0 ..< n)
      order.shuffle(using: &rng)
      var group = [Int32](repeating: 0, count: n)
      for (position, index) in order.enumerated() { group[index] = Int32(position * b / max(n, 1)) }
      return group
    }
    let userGroup = groups(ratings.users.count)
    let itemGroup = groups(ratings.items.count)
    // Shuffle once, then bucket stably: the order within a block is a random order.
    var order = Array(0 ..< ratings.count)
    order.shuffle(using: &rng)
    var start = [Int](repeating: 0, count: b * b + 1)
    var blockOf = [Int32](repeating: 0, count: ratings.count)
    for n in 0 ..< ratings.count {
      let block = userGroup[Int(ratings.userIndices[n])] * Int32(b) + itemGroup[Int(ratings.itemIndices[n])]
      blockOf[n] = block
      start[Int(block) + 1] += 1
    }
    for j in 0 ..< b * b { start[j + 1] += start[j] }
    var next = start
    var entries = [RatingEntry](repeating: RatingEntry(user: 0, item: 0, rating: 0), count: ratings.count)
    for n in order {
      let block = Int(blockOf[n])
      entries[next[block]] = RatingEntry(
        user: ratings.userIndices[n], item: ratings.itemIndices[n], rating: ratings.values[n])
      next[block] += 1
    }
    self.entries = entries
    self.blockStart = start
    self.rng = rng
  }

  /// One epoch at step size `η·decay^epoch`; returns the RMSE of the errors seen during the
  /// epoch (each taken just before its update).
  mutating func runEpoch(_ epoch: Int) -> Double {
    let b = blockCount
    var rowLabels = Array(0 ..< b)
    var columnLabels = Array(0 ..< b)
    var diagonals = Array(0 ..< b)
    rowLabels.shuffle(using: &rng)
    columnLabels.shuffle(using: &rng)
    diagonals.shuffle(using: &rng)
    var rate = options.learningRate
    for _ in 0 ..< epoch { rate *= options.learningRateDecay }
    let lr = rate
    let rows = rowLabels
    let columns = columnLabels
    let k = options.rank
    let mean = self.mean
    let reg = options.regularization
    let regBias = options.biasRegularization
    let buffers = self.buffers
    let threads = options.threads
    let starts = blockStart
    var total = 0.0
    entries.withUnsafeBufferPointer { all in
      let base = SharedPointer(UnsafeMutablePointer(mutating: all.baseAddress!))
      var blockSSE = [Double](repeating: 0, count: b)
      for s in diagonals {
        blockSSE.withUnsafeMutableBufferPointer { sseBuffer in
          let sse = SharedPointer(sseBuffer.baseAddress!)
          Parallel.forEach(b, threads: threads) { a in
            let block = rows[a] * b + columns[(a + s) % b]
            let lo = starts[block]
            let hi = starts[block + 1]
            sse.base[a] = SGDKernel.run(
              entries: base.base + lo, count: hi - lo, p: buffers.p, q: buffers.q,
              userBias: buffers.userBias, itemBias: buffers.itemBias, rank: k, mean: mean,
              learningRate: lr, regularization: reg, biasRegularization: regBias)
          }
        }
        for a in 0 ..< b { total += blockSSE[a] }
      }
    }
    return (total / Double(max(1, entries.count))).squareRoot()
  }
}
