@_spi(Engine) import LinearAlgebra
import RatingData
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Biased matrix factorization by SGD over a blocked, shuffled rating matrix.
///
/// **Blocking** (the scheme of LIBMF, Chin et al. 2015, and DSGD, Gemulla et al. 2011): users
/// and items are split into B random groups each, giving B×B blocks. Blocks on one "diagonal"
/// {(a, σ(a+s)) : a} share no user and no item, so threads update them at once without locks and
/// without races; and a block's factor rows are few enough to stay in cache. Each epoch visits
/// the B diagonals in a random order, with fresh random relabelings of the groups.
///
/// **Layout**: the solver trains a private copy of P, Q and the biases in which the rows are
/// renumbered ("slots") so that each group's rows are contiguous, as in LIBMF's grid: a block
/// then reads two compact slabs (~4,096 rows together) instead of rows strewn over all of P
/// and Q, which costs fewer TLB entries and lets the hardware prefetcher help (8% less CPU per
/// epoch on the 10M set, rank 32). The copy is loaded from the loop's ``FactorTables`` at the
/// start of every epoch and written back at its end, so those are always the truth between
/// epochs.
///
/// **Scheduling**: no barrier between diagonals; a block waits only for the two blocks before
/// it in its row and its column (see `runEpoch`).
///
/// **Reproducibility**: what each block computes does not depend on which thread runs it or
/// when, so for a given seed and block count the result is the same bit for bit whatever
/// the thread count is (B is chosen from the data size, and is at least 4 and at least the thread
/// count).
package struct SGDSolver: FactorSolver {
  let context: TrainingContext
  private(set) var settings: SGDSettings
  let mean: Float
  let blockCount: Int
  /// The parameters in slot order, trained during an epoch.
  private let work: SlotFactors
  /// Ratings grouped by block, shuffled within each block; `user` and `item` are slots.
  private var entries: [RatingEntry]
  /// `blockStart[a * B + b] ..< blockStart[a * B + b + 1]` are block (a, b)'s entries.
  private var blockStart: [Int]
  /// The first slot of each user group and each item group (B + 1 each): an entry's rows count
  /// from its block's group starts.
  private let userGroupStart: [Int]
  private let itemGroupStart: [Int]
  private var rng: SeededGenerator
  /// The adaptive step's estimate of E[e²]: the last epoch's, or the ratings' variance before
  /// the first.
  private var lastMeanSquaredError: Double
  /// The adaptive state at the start of the running epoch, put back if the loop undoes it.
  private var meanSquaredErrorAtEpochStart: Double = 0

  init(data: TrainingData, context: TrainingContext, settings: SGDSettings) {
    // The solver reads the ratings only here, to build its blocked copy of them: when the caller
    // handed them over they are taken, and released while that copy is built (see `bucket`).
    let handedOver = data.takeRatings()
    let ratings = handedOver ?? data.ratings
    self.context = context
    self.settings = settings
    self.mean = data.mean
    var rng = SeededGenerator(seed: context.seed ^ 0x56D0_0001)
    let b = Self.blockCount(
      users: ratings.users.count, items: ratings.items.count, ratings: ratings.count,
      threads: context.threads)
    blockCount = b
    /// A random renumbering of `n` rows: `slot[index]` and its inverse `atSlot[slot]`. Group g
    /// is the slots g·n/B ..< (g+1)·n/B, so groups are random and of (almost) equal size.
    func slots(_ n: Int) -> (slot: [Int32], atSlot: [Int32]) {
      var order = (0 ..< n).map { Int32($0) }
      order.shuffle(using: &rng)
      var slot = [Int32](repeating: 0, count: n)
      for (position, index) in order.enumerated() { slot[Int(index)] = Int32(position) }
      return (slot, order)
    }
    let users = slots(ratings.users.count)
    let items = slots(ratings.items.count)
    let work = SlotFactors(
      factors: context.factors, userAtSlot: users.atSlot, itemAtSlot: items.atSlot,
      schedule: settings.schedule, threads: context.threads)
    self.work = work
    let shuffleSeed = SeededGenerator(seed: rng.next())
    self.rng = rng
    lastMeanSquaredError = data.meanSquaredDeviation
    if settings.schedule == .adaptive {
      work.countRatings(data.seen, userSlot: users.slot, itemSlot: items.slot, threads: context.threads)
    }
    userGroupStart = Self.groupStarts(rows: ratings.users.count, groups: b)
    itemGroupStart = Self.groupStarts(rows: ratings.items.count, groups: b)
    (entries, blockStart) = Self.bucket(
      consume ratings, releasing: handedOver != nil, blockCount: b, userSlot: users.slot,
      itemSlot: items.slot, userGroupStart: userGroupStart, itemGroupStart: itemGroupStart,
      shuffleSeed: shuffleSeed, threads: context.threads)
  }

  /// The number B of user groups (and of item groups) for a data set of this size.
  ///
  /// One block should hold about 4,096 rows of users plus items (512 KiB at rank 32, half of a
  /// current server core's L2; the rows are contiguous slabs, see Layout), but there should be
  /// no more blocks than leave each row about 5 ratings per block: a block pays to bring its rows
  /// in, so fewer, bigger blocks reuse each row more, at the price of a coarser order. The reuse
  /// matters more than fitting L2 exactly, so rows, not bytes, are counted. Measured, 1 thread,
  /// kernel CPU per epoch: 10M set (92k rows) rank 32, B = 12–16 ~0.15–0.16 s, 23 ~0.17 s,
  /// 32–45 ~0.17–0.19 s; rank 64, B = 16–45 flat at ~0.25 s; rank 128, B = 12–23 ~0.52–0.55 s,
  /// 45 0.58 s, 90 0.63 s; 25M set (207k rows) rank 32, B = 23–25 ~0.47–0.52 s, 32 0.51 s, 51
  /// ~0.57 s. Test RMSE after 20 epochs at rank 32 on the 10M set over three seeds: B = 23
  /// 0.66892, B = 15 0.66908. B is at least 4 and at least the thread count, and enough that no
  /// group holds more than 65,536 rows (an entry's rows are 16-bit offsets into its groups),
  /// which only matters past 16.7 million users or items.
  package static func blockCount(users: Int, items: Int, ratings: Int, threads: Int) -> Int {
    let rows = Double(max(1, users + items))
    let cacheBlocks = Int((rows / 4096).rounded(.up))
    let reuseBlocks = Int((Double(ratings) / (5 * rows)).rounded(.up))
    let sixteenBitGroups = (max(users, items) + 65_535) / 65_536
    return max(sixteenBitGroups, min(256, max(4, threads, min(cacheBlocks, reuseBlocks))))
  }

  /// The first slot of each of `groups` groups of `rows` slots, and `rows` at the end: slot s is
  /// in group ⌊s·B/n⌋ (as the blocking places it), whose first slot is ⌈g·n/B⌉.
  private static func groupStarts(rows: Int, groups b: Int) -> [Int] {
    let n = max(1, rows)
    return (0 ... b).map { g in g == b ? rows : min(rows, (g * n + b - 1) / b) }
  }

  /// Where a row's ratings go: its slot counted from its group's first slot, and its group's
  /// offset in the block index (a rating's block is the user's offset plus the item's).
  private struct Placement {
    var slot: UInt16
    var blockOffset: Int32
  }

  /// The ratings grouped by block, each block in a random order, and the blocks' bounds.
  ///
  /// A counting sort by block (stable, so the grouping alone is deterministic), then a
  /// Fisher–Yates shuffle inside each block with a generator derived from the block's index.
  /// Both passes split across threads without changing the result: each chunk of ratings
  /// scatters to offsets counted in advance, and each block's shuffle depends only on its own
  /// generator. Shuffling a block (a few thousand entries, in L2) instead of the whole rating
  /// list (120 MB at 10M ratings) is what keeps this pass short; the order within a block is
  /// uniformly random either way.
  ///
  /// With `releasing`, the ratings are this function's alone (handed over by the caller) and are
  /// not read after the scatter: each thread gives their pages back behind it as it goes (see
  /// ``releasePages(_:bytes:)``), so the ratings' 12 bytes and the entries' 12 bytes per rating
  /// are never both resident in full. Nothing else changes: the entries are the same.
  private static func bucket(
    _ ratings: consuming RatingSet, releasing: Bool, blockCount b: Int, userSlot: [Int32],
    itemSlot: [Int32], userGroupStart userStart: [Int], itemGroupStart itemStart: [Int],
    shuffleSeed: SeededGenerator, threads: Int
  ) -> (entries: [RatingEntry], blockStart: [Int]) {
    let n = ratings.count
    let blocks = b * b
    // Block (group(u), group(i)) is index group(u)·B + group(i).
    let userCount = max(1, userSlot.count)
    let itemCount = max(1, itemSlot.count)
    let userPlacement = userSlot.map {
      let group = Int($0) * b / userCount
      return Placement(slot: UInt16(Int($0) - userStart[group]), blockOffset: Int32(group * b))
    }
    let itemPlacement = itemSlot.map {
      let group = Int($0) * b / itemCount
      return Placement(slot: UInt16(Int($0) - itemStart[group]), blockOffset: Int32(group))
    }
    let chunks = max(1, min(threads, n / 65_536))
    var (userColumn, itemColumn, valueColumn) = (ratings.userIndices, ratings.itemIndices, ratings.values)
    // The columns are now held here alone when they were handed over (`ratings` ends).
    _ = consume ratings

    return withColumns(&userColumn, &itemColumn, &valueColumn, writable: releasing) { users, items, values in
      /// Runs `pass(c, counters)` for chunk c on the threads: the chunks are contiguous runs of
      /// ratings, each of its own counters.
      func forEachChunk(_ counts: inout [Int], _ pass: @Sendable (Int, UnsafeMutablePointer<Int>) -> Void) {
        counts.withSharedPointer { counts in
          Parallel.forEach(chunks, threads: threads) { c in pass(c, counts.base + c * blocks) }
        }
      }
      // The loops over the ratings are written out in each pass, not shared through a closure
      // called per rating: that indirect call cost more than the pass's own work.
      // Pass 1: chunk c's count of each block.
      var counts = [Int](repeating: 0, count: chunks * blocks)
      withSharedReadPointers(userPlacement, itemPlacement) { userAt, itemAt in
        forEachChunk(&counts) { c, own in
          for m in c * n / chunks ..< (c + 1) * n / chunks {
            own[Int(userAt[Int(users[m])].blockOffset + itemAt[Int(items[m])].blockOffset)] += 1
          }
        }
      }
      // Chunk c's entries of block j go after those of chunks 0..<c: the stable order.
      let start =
        counts.withUnsafeMutableBufferPointer {
          CompressedRows.exclusiveOffsets($0.baseAddress!, keyCount: blocks, chunks: chunks)
        } + [n]

      // n > 0: a fit has ratings (an empty array here would set the shared empty storage's count).
      let entries = [RatingEntry](unsafeUninitializedCapacity: n) { buffer, initialized in
        guard let base = buffer.baseAddress else { return }
        let out = SharedPointer(base)
        // Pass 2: scatter every rating to the next free place of its block, in segments of 2^20
        // ratings; with `releasing`, each segment's ratings are released once it is done.
        withSharedReadPointers(userPlacement, itemPlacement) { userAt, itemAt in
          forEachChunk(&counts) { c, next in
            let end = (c + 1) * n / chunks
            var segment = c * n / chunks
            while segment < end {
              let stop = min(end, segment + (1 << 20))
              for m in segment ..< stop {
                let (u, i) = (userAt[Int(users[m])], itemAt[Int(items[m])])
                let block = Int(u.blockOffset + i.blockOffset)
                (out.base + next[block]).initialize(to: RatingEntry(user: u.slot, item: i.slot, rating: values[m]))
                next[block] += 1
              }
              if releasing {
                releasePages(users.base + segment, bytes: (stop - segment) * 4)
                releasePages(items.base + segment, bytes: (stop - segment) * 4)
                releasePages(values.base + segment, bytes: (stop - segment) * 4)
              }
              segment = stop
            }
          }
        }
        // Pass 3: shuffle each block with its own generator.
        start.withSharedReadPointer { bounds in
          Parallel.forEach(blocks, threads: threads) { j in
            var generator = shuffleSeed.split(j)
            // The block was written long ago (by the scatter) and is out of cache; read in
            // random order, each of its lines would be a miss the prefetcher cannot foresee.
            // Asked for front to back first, it streams into L2 (a block is ~200 KB at the
            // 10M set's B = 23), where the random swaps then hit.
            let count = bounds[j + 1] - bounds[j]
            Self.touch(UnsafeRawPointer(out.base + bounds[j]), bytes: count * MemoryLayout<RatingEntry>.stride)
            Self.shuffle(out.base + bounds[j], count: count, using: &generator)
          }
        }
        initialized = n
      }
      return (entries, start)
    }
  }

  /// Reads one word of every 64-byte line of `bytes` at `start`, front to back, so that the hardware
  /// prefetcher streams them into cache. (Returns nothing; the loads are kept by `touchSink`.)
  @inline(never)
  static func touch(_ start: UnsafeRawPointer, bytes: Int) {
    var sum: UInt64 = 0
    var offset = 0
    while offset + 8 <= bytes {
      sum &+= start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      offset += 64
    }
    touchSink.store(sum, ordering: .relaxed)
  }
  private static let touchSink = Atomic<UInt64>(0)

  /// A uniformly random permutation of `count` elements in place: Fisher–Yates with two swaps
  /// per 64-bit draw (Lemire's multiply-shift on each 32-bit half; bias below count/2³², under
  /// 10⁻⁵ for any block).
  package static func shuffle<T>(_ first: UnsafeMutablePointer<T>, count: Int, using generator: inout SeededGenerator) {
    var last = count - 1
    var bits: UInt64 = 0
    var halves = 0
    while last > 0 {
      if halves == 0 { (bits, halves) = (generator.next(), 2) }
      let other = Int(((bits & 0xFFFF_FFFF) &* UInt64(last + 1)) >> 32)
      (bits, halves) = (bits >> 32, halves - 1)
      let element = first[last]
      first[last] = first[other]
      first[other] = element
      last -= 1
    }
  }

  /// Runs `body` with the three rating columns pinned; `writable` pins them through mutable
  /// buffers, which makes each the array's own storage (copied first if it was shared), so that
  /// `body` may release its pages without touching anyone else's copy.
  private static func withColumns<R>(
    _ users: inout [Int32], _ items: inout [Int32], _ values: inout [Float], writable: Bool,
    _ body: (SharedReadPointer<Int32>, SharedReadPointer<Int32>, SharedReadPointer<Float>) -> R
  ) -> R {
    guard writable else { return withSharedReadPointers(users, items, values, body) }
    return users.withSharedPointer { u in
      items.withSharedPointer { i in values.withSharedPointer { v in body(u.readOnly, i.readOnly, v.readOnly) } }
    }
  }

  /// One scheduled block: its entries and the column position it occupies.
  private struct BlockTask {
    var start: Int
    var end: Int
    var column: Int
    /// The first slots of the block's user and item groups.
    var userBase: Int
    var itemBase: Int
  }

  /// One epoch at step size `η·decay^epoch`; measures the RMSE of the errors seen during the
  /// epoch (each taken just before its update).
  ///
  /// The B diagonals run in a random order, diagonal d's block in row a being task d·B + a.
  /// Threads take tasks in that order but need no barrier between diagonals: a task starts as
  /// soon as the previous diagonal's blocks in its row and in its column are done (one each;
  /// counted per row and per column). Its rows and columns are then exactly as a sequential run
  /// would leave them, so the result is the same bit for bit for any thread count, while a thread
  /// that finishes early (or whose partner is descheduled by a busy machine) goes on into the
  /// next diagonal instead of waiting for the whole diagonal to drain. Tasks are handed out in
  /// order and only wait for earlier ones, so the earliest unfinished task can always run: no
  /// deadlock.
  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome {
    let b = blockCount
    var rowLabels = Array(0 ..< b)
    var columnLabels = Array(0 ..< b)
    var diagonals = Array(0 ..< b)
    rowLabels.shuffle(using: &rng)
    columnLabels.shuffle(using: &rng)
    diagonals.shuffle(using: &rng)
    var rate = settings.learningRate
    for _ in 0 ..< epoch { rate *= settings.learningRateDecay }
    let work = self.work
    let threads = context.threads
    work.load(from: context.factors, threads: threads)
    defer { work.store(to: context.factors, threads: threads) }
    let outcome: EpochOutcome
    switch settings.schedule {
    case .decaying:
      outcome = run(
        DecayingStep(
          mean: mean, learningRate: rate, regularization: settings.regularization,
          biasRegularization: settings.biasRegularization),
        rowLabels: rowLabels, columnLabels: columnLabels, diagonals: diagonals)
    case .adaptive:
      meanSquaredErrorAtEpochStart = lastMeanSquaredError
      work.saveAdaptiveState()
      work.setAdaptiveSteps(learningRate: rate, meanSquaredError: Float(lastMeanSquaredError))
      outcome = run(
        AdaptiveStep(
          mean: mean, regularization: settings.regularization,
          biasRegularization: settings.biasRegularization),
        rowLabels: rowLabels, columnLabels: columnLabels, diagonals: diagonals)
    }
    if let rmse = outcome.inEpochRMSE, rmse.isFinite { lastMeanSquaredError = rmse * rmse }
    return outcome
  }

  mutating func backOff() -> String? {
    // The failed attempt's growth of the adaptive state, and its error estimate, are undone too.
    if settings.schedule == .adaptive {
      lastMeanSquaredError = meanSquaredErrorAtEpochStart
      work.restoreAdaptiveState()
    }
    settings.learningRate *= 0.5
    return "halved the step size (η = \(settings.learningRate))"
  }

  /// Σ (clamp(r̂) − r)² over the blocked entries, block by block on the threads and summed in
  /// block order (so the same for any thread count), from the factors loaded into slot order:
  /// a block's rows are in cache together, where a pass in file order misses on most ratings.
  func trainingRMSE(range: ClosedRange<Float>) -> Double? {
    let threads = context.threads
    work.load(from: context.factors, threads: threads)
    let (k, stride, mean) = (context.rank, work.biasStride, self.mean)
    let (low, high) = (range.lowerBound, range.upperBound)
    let (p, q) = (work.p.readOnly, work.q.readOnly)
    let (userBias, itemBias) = (work.userBias.readOnly, work.itemBias.readOnly)
    let (b, blocks) = (blockCount, blockCount * blockCount)
    let (userStarts, itemStarts) = (userGroupStart, itemGroupStart)
    var blockSquares = [Double](repeating: 0, count: blocks)
    withSharedReadPointers(entries, blockStart) { entries, bounds in
      blockSquares.withSharedPointer { out in
        Parallel.forEach(blocks, threads: threads) { j in
          var squares: Double = 0
          let (start, end) = (bounds[j], bounds[j + 1])
          // The block's rows count from its groups' first slots.
          let (userBase, itemBase) = (userStarts[j / b], itemStarts[j % b])
          let (p, q) = (p.base + userBase * k, q.base + itemBase * k)
          let (userBias, itemBias) = (userBias.base + userBase * stride, itemBias.base + itemBase * stride)
          if let wide = SGDKernel.wideSquaredErrors(
            entries.base + start, end - start, p: p, q: q, userBias: userBias,
            itemBias: itemBias, biasStride: stride, k: k, mean: mean, range: low ... high)
          {
            out[j] = wide
            return
          }
          for n in start ..< end {
            if n &+ 8 < end {
              let ahead = entries[n &+ 8]
              Prefetch.read(p + Int(ahead.user) &* k, bytes: k &* 4)
              Prefetch.read(q + Int(ahead.item) &* k, bytes: k &* 4)
            }
            let entry = entries[n]
            let (u, i) = (Int(entry.user), Int(entry.item))
            let raw = mean + userBias[u &* stride] + itemBias[i &* stride]
              + RowKernels.dot(k, p + u &* k, q + i &* k)
            let e = min(max(raw, low), high) - entry.rating
            squares += Double(e * e)
          }
          out[j] = squares
        }
      }
    }
    return (blockSquares.reduce(0, +) / Double(max(1, entries.count))).squareRoot()
  }

  /// The epoch's blocks in the schedule described at ``runEpoch(_:)``, each run with `step`.
  private func run<Step: SGDStep>(
    _ step: Step, rowLabels: [Int], columnLabels: [Int], diagonals: [Int]
  ) -> EpochOutcome {
    let b = blockCount
    let k = context.rank
    let work = self.work
    let threads = context.threads
    var tasks = [BlockTask](
      repeating: BlockTask(start: 0, end: 0, column: 0, userBase: 0, itemBase: 0), count: b * b)
    for (d, s) in diagonals.enumerated() {
      for a in 0 ..< b {
        let column = (a + s) % b
        let block = rowLabels[a] * b + columnLabels[column]
        tasks[d * b + a] = BlockTask(
          start: blockStart[block], end: blockStart[block + 1], column: column,
          userBase: userGroupStart[rowLabels[a]], itemBase: itemGroupStart[columnLabels[column]])
      }
    }
    let stride = work.biasStride
    let progress = BlockProgress(count: 2 * b)
    defer { progress.release() }
    let p = work.p.mutable
    let q = work.q.mutable
    let userBias = work.userBias.mutable
    let itemBias = work.itemBias.mutable
    var taskSSE = [Double](repeating: 0, count: b * b)
    withSharedReadPointers(entries, tasks) { entries, tasks in
      taskSSE.withSharedPointer { sse in
        Parallel.forEach(b * b, threads: threads) { t in
          let (d, a) = t.quotientAndRemainder(dividingBy: b)
          let task = tasks[t]
          let rowCounter = a
          let columnCounter = b + task.column
          progress.wait(rowCounter, reaches: d)
          progress.wait(columnCounter, reaches: d)
          // P, Q and the biases from the block's groups' first rows: the entries' rows count from there.
          sse[t] = SGDKernel.run(
            entries: entries.base + task.start, count: task.end - task.start,
            p: p.base + task.userBase * k, q: q.base + task.itemBase * k,
            userBias: userBias.base + task.userBase * stride, itemBias: itemBias.base + task.itemBase * stride,
            rank: k, step: step)
          progress.increment(rowCounter)
          progress.increment(columnCounter)
        }
      }
    }
    // Summed in task order, so the reported RMSE does not depend on the thread count either.
    let total = taskSSE.reduce(0, +)
    return EpochOutcome(inEpochRMSE: (total / Double(max(1, entries.count))).squareRoot())
  }
}

/// P, Q and the biases with rows in slot order (see ``SGDSolver``'s Layout).
private final class SlotFactors: @unchecked Sendable {
  let rank: Int
  let p: RowTable
  let q: RowTable
  /// The biases, one record of `biasStride` floats per slot: the bias, then the step rule's
  /// per-row state (``SGDStep/biasStride``; the adaptive rule's accumulators start at 1 and
  /// live here, in slot order, for the whole fit).
  let userBias: RowTable
  let itemBias: RowTable
  let biasStride: Int
  /// The user (item) index whose row is at each slot.
  let userAtSlot: [Int32]
  let itemAtSlot: [Int32]

  init(factors: FactorTables, userAtSlot: [Int32], itemAtSlot: [Int32], schedule: StepSchedule, threads: Int) {
    rank = factors.rank
    self.userAtSlot = userAtSlot
    self.itemAtSlot = itemAtSlot
    // Zeros until every epoch's start loads the factors, written by all the threads: the first
    // write to each fresh page is a page fault, which is then shared out too.
    let zeros: RowTable.RangeFill = { range, out in (out + range.lowerBound).initialize(repeating: 0, count: range.count) }
    p = RowTable(rows: userAtSlot.count, width: rank, threads: threads, fillRange: zeros)
    q = RowTable(rows: itemAtSlot.count, width: rank, threads: threads, fillRange: zeros)
    biasStride = schedule == .adaptive ? AdaptiveStep.biasStride : DecayingStep.biasStride
    userBias = RowTable(rows: userAtSlot.count, width: biasStride, repeating: 1)
    itemBias = RowTable(rows: itemAtSlot.count, width: biasStride, repeating: 1)
  }

  /// The adaptive step's state per slot: the ratings of the row, and the accumulators
  /// (G of the factor row, G of the bias), starting at 1.
  private var ratingCounts: (users: [Float], items: [Float]) = ([], [])
  private var accumulators: (users: [SIMD2<Float>], items: [SIMD2<Float>]) = ([], [])
  private var savedAccumulators: (users: [SIMD2<Float>], items: [SIMD2<Float>]) = ([], [])

  /// Remembers the accumulators (before an epoch grows them).
  func saveAdaptiveState() { savedAccumulators = accumulators }

  /// Puts back what ``saveAdaptiveState()`` remembered (the epoch was undone).
  func restoreAdaptiveState() { accumulators = savedAccumulators }

  /// Counts each slot's ratings (for ``setAdaptiveSteps(learningRate:meanSquaredError:)``): a
  /// user's are its row of the seen-items index, an item's a histogram of that index, taken per
  /// chunk on the threads and added (counts: exact in any order).
  func countRatings(_ seen: InteractionIndex, userSlot: [Int32], itemSlot: [Int32], threads: Int) {
    var userCounts = [Float](repeating: 0, count: userAtSlot.count)
    for u in 0 ..< userSlot.count { userCounts[Int(userSlot[u])] = Float(seen.rowStart[u + 1] - seen.rowStart[u]) }
    let itemCount = itemAtSlot.count
    let n = seen.items.count
    let chunks = max(1, min(threads, n / 1_048_576))
    var partial = [Int32](repeating: 0, count: chunks * itemCount)
    seen.items.withSharedReadPointer { items in
      partial.withSharedPointer { counts in
        Parallel.forEach(chunks, threads: threads) { c in
          let own = counts.base + c * itemCount
          for m in c * n / chunks ..< (c + 1) * n / chunks { own[Int(items[m])] += 1 }
        }
      }
    }
    var itemCounts = [Float](repeating: 0, count: itemCount)
    for i in 0 ..< itemCount {
      var total: Int32 = 0
      for c in 0 ..< chunks { total += partial[c * itemCount + i] }
      itemCounts[Int(itemSlot[i])] = Float(total)
    }
    ratingCounts = (userCounts, itemCounts)
    accumulators = (
      [SIMD2<Float>](repeating: SIMD2(1, 1), count: userAtSlot.count),
      [SIMD2<Float>](repeating: SIMD2(1, 1), count: itemAtSlot.count)
    )
  }

  /// Writes each slot's steps for the coming epoch into its bias record (see ``AdaptiveStep``):
  /// the accumulators grow by the epoch's expected squared gradients, n·E[e²]·(mean squared
  /// entry of the other side's rows) for the factor row and n·E[e²] for the bias, and the step
  /// is η/√G at the middle of the epoch.
  func setAdaptiveSteps(learningRate eta: Float, meanSquaredError mse: Float) {
    // Over the rows that have ratings: rows without any (users outside a tuning sample) keep
    // their start and would dilute the mean.
    func meanSquaredEntry(_ table: RowTable, _ counts: [Float]) -> Float {
      let rows = table.readOnly
      var sum = 0.0
      var used = 0
      for slot in 0 ..< counts.count where counts[slot] > 0 {
        let row = rows.row(slot)
        for f in 0 ..< table.width { sum += Double(row[f] * row[f]) }
        used += table.width
      }
      return Float(sum / Double(max(1, used)))
    }
    // A finite estimate even after a blow-up (an infinite accumulator would freeze training).
    let mse = min(mse, 1e6)
    let fromItems = mse * meanSquaredEntry(q, ratingCounts.items)
    let fromUsers = mse * meanSquaredEntry(p, ratingCounts.users)
    let stride = AdaptiveStep.biasStride
    func update(_ records: RowTable, _ counts: [Float], _ state: inout [SIMD2<Float>], _ factorGrowth: Float) {
      let r = records.mutable
      for slot in 0 ..< counts.count {
        let growth = counts[slot] * SIMD2(factorGrowth, mse)
        let middle = state[slot] + 0.5 * growth
        state[slot] += growth
        r[slot &* stride &+ 1] = eta / middle[0].squareRoot()
        r[slot &* stride &+ 2] = eta / middle[1].squareRoot()
      }
    }
    update(userBias, ratingCounts.users, &accumulators.users, fromItems)
    update(itemBias, ratingCounts.items, &accumulators.items, fromUsers)
  }

  /// Copies every row from `factors` into its slot.
  func load(from factors: FactorTables, threads: Int) {
    copy(factors, toSlots: true, threads: threads)
  }

  /// Copies every slot back to its row of `factors`.
  func store(to factors: FactorTables, threads: Int) {
    copy(factors, toSlots: false, threads: threads)
  }

  private func copy(_ factors: FactorTables, toSlots: Bool, threads: Int) {
    let k = rank
    let stride = biasStride
    let users = userAtSlot.count
    let items = itemAtSlot.count
    // Chunks of slots, users' then items'; a row copy is a short memcpy.
    let chunk = 4096
    let userChunks = (users + chunk - 1) / chunk
    let itemChunks = (items + chunk - 1) / chunk
    let slotTables = (p: p.mutable, q: q.mutable, userBias: userBias.mutable, itemBias: itemBias.mutable)
    let rowTables = (
      p: factors.p.mutable, q: factors.q.mutable, userBias: factors.userBias.mutable,
      itemBias: factors.itemBias.mutable
    )
    withSharedReadPointers(userAtSlot, itemAtSlot) { userAt, itemAt in
      Parallel.forEach(userChunks + itemChunks, threads: threads) { c in
        let isUser = c < userChunks
        let first = (isUser ? c : c - userChunks) * chunk
        let last = min(first + chunk, isUser ? users : items)
        let slotRows = isUser ? slotTables.p : slotTables.q
        let slotBias = isUser ? slotTables.userBias : slotTables.itemBias
        let rows = isUser ? rowTables.p : rowTables.q
        let bias = isUser ? rowTables.userBias : rowTables.itemBias
        let at = isUser ? userAt : itemAt
        for slot in first ..< last {
          let index = Int(at[slot])
          if toSlots {
            slotRows.row(slot).update(from: rows.row(index), count: k)
            slotBias[slot &* stride] = bias[index]
          } else {
            rows.row(index).update(from: slotRows.row(slot), count: k)
            bias[index] = slotBias[slot &* stride]
          }
        }
      }
    }
  }
}

/// Per-row and per-column counts of finished blocks, shared by the epoch's threads.
///
/// The increment is a release and the wait an acquire, so a block's updates to P, Q and the
/// biases are visible to the thread that runs the next block in the same row or column.
private struct BlockProgress: @unchecked Sendable {
  let counters: UnsafeMutablePointer<Atomic<Int>>
  let count: Int

  init(count: Int) {
    self.count = count
    counters = .allocate(capacity: count)
    for j in 0 ..< count { (counters + j).initialize(to: Atomic(0)) }
  }

  func release() {
    counters.deinitialize(count: count)
    counters.deallocate()
  }

  func increment(_ j: Int) {
    counters[j].wrappingAdd(1, ordering: .releasing)
  }

  /// Returns once counter `j` is at least `target`. Waits are short (one block, a few
  /// milliseconds at most), so it spins, yielding the core between checks in case the thread
  /// it waits for is the one that needs it.
  func wait(_ j: Int, reaches target: Int) {
    var spins = 0
    while counters[j].load(ordering: .acquiring) < target {
      spins += 1
      if spins > 64 { yieldCore() }
    }
  }
}

#if canImport(Glibc) || canImport(Darwin)
  /// Gives the core to another runnable thread, if any.
  private func yieldCore() { sched_yield() }
#else
  private func yieldCore() {}
#endif
