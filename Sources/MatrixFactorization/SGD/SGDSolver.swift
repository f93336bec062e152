import LinearAlgebra
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
/// epoch on the 10M set, rank 32). The copy is loaded from `buffers` at the start of every
/// epoch and written back at its end, so `buffers` is always the truth between epochs.
///
/// **Scheduling**: no barrier between diagonals; a block waits only for the two blocks before
/// it in its row and its column (see `runEpoch`).
///
/// **Reproducibility**: what each block computes does not depend on which thread runs it or
/// when, so for a given seed and block count the result is the same bit for bit whatever
/// `--threads` is (B is chosen from the data size, and is at least 4 and at least the thread
/// count).
package struct SGDSolver {
  let options: TrainingOptions
  let buffers: FactorBuffers
  let mean: Float
  let blockCount: Int
  /// The parameters in slot order, trained during an epoch.
  private let work: SlotFactors
  /// Ratings grouped by block, shuffled within each block; `user` and `item` are slots.
  private var entries: [RatingEntry]
  /// `blockStart[a * B + b] ..< blockStart[a * B + b + 1]` are block (a, b)'s entries.
  private var blockStart: [Int]
  private var rng: SeededGenerator

  init(ratings: RatingSet, mean: Float, options: TrainingOptions, buffers: FactorBuffers) {
    self.options = options
    self.buffers = buffers
    self.mean = mean
    var rng = SeededGenerator(seed: options.seed ^ 0x56D0_0001)
    let b = Self.blockCount(
      users: ratings.users.count, items: ratings.items.count, ratings: ratings.count,
      threads: options.threads)
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
    work = SlotFactors(buffers: buffers, userAtSlot: users.atSlot, itemAtSlot: items.atSlot)
    let shuffleSeed = SeededGenerator(seed: rng.next())
    (entries, blockStart) = Self.bucket(
      ratings, blockCount: b, userSlot: users.slot, itemSlot: items.slot, shuffleSeed: shuffleSeed,
      threads: options.threads)
    self.rng = rng
  }

  /// The number of groups B per side (B×B blocks) for `ratings` ratings over `users` users and
  /// `items` items trained with `threads` threads: at least 4 and at least `threads`, at most 256.
  ///
  /// B is chosen so that one block holds about 4,096 rows of users plus items (512 KiB at rank
  /// 32, half of a current server core's L2; the rows are contiguous slabs, see Layout), but
  /// no more blocks than leave each row about 5 ratings per block: a block pays to bring its
  /// rows in, so fewer, bigger blocks reuse each row more, at the price of a coarser order.
  /// The reuse matters more than fitting L2 exactly, so rows, not bytes, are counted.
  /// Measured, 1 thread, kernel CPU per epoch: 10M set (92k rows) rank 32, B = 12–16
  /// ~0.15–0.16 s, 23 ~0.17 s, 32–45 ~0.17–0.19 s; rank 64, B = 16–45 flat at ~0.25 s;
  /// rank 128, B = 12–23 ~0.52–0.55 s, 45 0.58 s, 90 0.63 s; 25M set (207k rows) rank 32,
  /// B = 23–25 ~0.47–0.52 s, 32 0.51 s, 51 ~0.57 s. Test RMSE after 20 epochs at rank 32 on
  /// the 10M set over three seeds: B = 23 0.66892, B = 15 0.66908.
  ///
  /// `package` (and so is the type) only so that the tests can check the choice.
  package static func blockCount(users: Int, items: Int, ratings: Int, threads: Int) -> Int {
    let rows = Double(max(1, users + items))
    let cacheBlocks = Int((rows / 4096).rounded(.up))
    let reuseBlocks = Int((Double(ratings) / (5 * rows)).rounded(.up))
    return min(256, max(4, threads, min(cacheBlocks, reuseBlocks)))
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
  private static func bucket(
    _ ratings: RatingSet, blockCount b: Int, userSlot: [Int32], itemSlot: [Int32],
    shuffleSeed: SeededGenerator, threads: Int
  ) -> (entries: [RatingEntry], blockStart: [Int]) {
    let n = ratings.count
    let blocks = b * b
    // A rating's block is userRow[u] + itemColumn[i] = group(u)·B + group(i).
    let userCount = max(1, userSlot.count)
    let itemCount = max(1, itemSlot.count)
    let userRow = userSlot.map { Int32(Int($0) * b / userCount * b) }
    let itemColumn = itemSlot.map { Int32(Int($0) * b / itemCount) }
    let chunks = max(1, min(threads, n / 65_536))
    var counts = [Int](repeating: 0, count: chunks * blocks)
    ratings.userIndices.withUnsafeBufferPointer { users in
      ratings.itemIndices.withUnsafeBufferPointer { items in
        userRow.withUnsafeBufferPointer { row in
          itemColumn.withUnsafeBufferPointer { column in
            counts.withUnsafeMutableBufferPointer { countBuffer in
              let users = SharedPointer(UnsafeMutablePointer(mutating: users.baseAddress!))
              let items = SharedPointer(UnsafeMutablePointer(mutating: items.baseAddress!))
              let row = SharedPointer(UnsafeMutablePointer(mutating: row.baseAddress!))
              let column = SharedPointer(UnsafeMutablePointer(mutating: column.baseAddress!))
              let countPointer = SharedPointer(countBuffer.baseAddress!)
              Parallel.forEach(chunks, threads: threads) { c in
                let own = countPointer.base + c * blocks
                for m in c * n / chunks ..< (c + 1) * n / chunks {
                  own[Int(row.base[Int(users.base[m])] + column.base[Int(items.base[m])])] += 1
                }
              }
            }
          }
        }
      }
    }
    // Chunk c's entries of block j go after those of chunks 0..<c: the stable order.
    var start = [Int](repeating: 0, count: blocks + 1)
    var running = 0
    for j in 0 ..< blocks {
      start[j] = running
      for c in 0 ..< chunks {
        let size = counts[c * blocks + j]
        counts[c * blocks + j] = running
        running += size
      }
    }
    start[blocks] = running
    let entries = [RatingEntry](unsafeUninitializedCapacity: n) { buffer, initialized in
      let out = SharedPointer(buffer.baseAddress!)
      ratings.userIndices.withUnsafeBufferPointer { users in
        ratings.itemIndices.withUnsafeBufferPointer { items in
          ratings.values.withUnsafeBufferPointer { values in
            userSlot.withUnsafeBufferPointer { userSlotBuffer in
            itemSlot.withUnsafeBufferPointer { itemSlotBuffer in
            userRow.withUnsafeBufferPointer { row in
              itemColumn.withUnsafeBufferPointer { column in
                counts.withUnsafeMutableBufferPointer { countBuffer in
                  let users = SharedPointer(UnsafeMutablePointer(mutating: users.baseAddress!))
                  let items = SharedPointer(UnsafeMutablePointer(mutating: items.baseAddress!))
                  let values = SharedPointer(UnsafeMutablePointer(mutating: values.baseAddress!))
                  let userSlot = SharedPointer(UnsafeMutablePointer(mutating: userSlotBuffer.baseAddress!))
                  let itemSlot = SharedPointer(UnsafeMutablePointer(mutating: itemSlotBuffer.baseAddress!))
                  let row = SharedPointer(UnsafeMutablePointer(mutating: row.baseAddress!))
                  let column = SharedPointer(UnsafeMutablePointer(mutating: column.baseAddress!))
                  let next = SharedPointer(countBuffer.baseAddress!)
                  Parallel.forEach(chunks, threads: threads) { c in
                    let own = next.base + c * blocks
                    for m in c * n / chunks ..< (c + 1) * n / chunks {
                      let u = users.base[m]
                      let i = items.base[m]
                      let block = Int(row.base[Int(u)] + column.base[Int(i)])
                      (out.base + own[block]).initialize(
                        to: RatingEntry(
                          user: userSlot.base[Int(u)], item: itemSlot.base[Int(i)], rating: values.base[m]))
                      own[block] += 1
                    }
                  }
                }
              }
            }
            }
            }
          }
        }
      }
      start.withUnsafeBufferPointer { bounds in
        let bounds = SharedPointer(UnsafeMutablePointer(mutating: bounds.baseAddress!))
        Parallel.forEach(blocks, threads: threads) { j in
          var generator = shuffleSeed.split(j)
          let first = out.base + bounds.base[j]
          var last = bounds.base[j + 1] - bounds.base[j] - 1
          while last > 0 {
            let other = generator.nextIndex(below: last + 1)
            let entry = first[last]
            first[last] = first[other]
            first[other] = entry
            last -= 1
          }
        }
      }
      initialized = n
    }
    return (entries, start)
  }

  /// One epoch at step size `η·decay^epoch`; returns the RMSE of the errors seen during the
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
    let k = options.rank
    let mean = self.mean
    let reg = options.regularization
    let regBias = options.biasRegularization
    let work = self.work
    let threads = options.threads
    work.load(from: buffers, threads: threads)
    defer { work.store(to: buffers, threads: threads) }
    // Task d·B + a: its block's entries and the column position it occupies.
    var taskStart = [Int](repeating: 0, count: b * b)
    var taskEnd = [Int](repeating: 0, count: b * b)
    var taskColumn = [Int](repeating: 0, count: b * b)
    for (d, s) in diagonals.enumerated() {
      for a in 0 ..< b {
        let column = (a + s) % b
        let block = rowLabels[a] * b + columnLabels[column]
        taskStart[d * b + a] = blockStart[block]
        taskEnd[d * b + a] = blockStart[block + 1]
        taskColumn[d * b + a] = column
      }
    }
    let progress = BlockProgress(count: 2 * b)
    defer { progress.release() }
    var taskSSE = [Double](repeating: 0, count: b * b)
    entries.withUnsafeBufferPointer { all in
      taskSSE.withUnsafeMutableBufferPointer { sseBuffer in
        taskStart.withUnsafeBufferPointer { starts in
          taskEnd.withUnsafeBufferPointer { ends in
            taskColumn.withUnsafeBufferPointer { columns in
              let base = SharedPointer(UnsafeMutablePointer(mutating: all.baseAddress!))
              let sse = SharedPointer(sseBuffer.baseAddress!)
              let starts = SharedPointer(UnsafeMutablePointer(mutating: starts.baseAddress!))
              let ends = SharedPointer(UnsafeMutablePointer(mutating: ends.baseAddress!))
              let columns = SharedPointer(UnsafeMutablePointer(mutating: columns.baseAddress!))
              Parallel.forEach(b * b, threads: threads) { task in
                let (d, a) = task.quotientAndRemainder(dividingBy: b)
                let rowCounter = a
                let columnCounter = b + columns.base[task]
                progress.wait(rowCounter, reaches: d)
                progress.wait(columnCounter, reaches: d)
                let lo = starts.base[task]
                sse.base[task] = SGDKernel.run(
                  entries: base.base + lo, count: ends.base[task] - lo, p: work.p, q: work.q,
                  userBias: work.userBias, itemBias: work.itemBias, rank: k, mean: mean,
                  learningRate: lr, regularization: reg, biasRegularization: regBias)
                progress.increment(rowCounter)
                progress.increment(columnCounter)
              }
            }
          }
        }
      }
    }
    // Summed in task order, so the reported RMSE does not depend on the thread count either.
    let total = taskSSE.reduce(0, +)
    return (total / Double(max(1, entries.count))).squareRoot()
  }
}

/// P, Q and the biases with rows in slot order (see ``SGDSolver``'s Layout).
private final class SlotFactors: @unchecked Sendable {
  let rank: Int
  let p: UnsafeMutablePointer<Float>
  let q: UnsafeMutablePointer<Float>
  let userBias: UnsafeMutablePointer<Float>
  let itemBias: UnsafeMutablePointer<Float>
  /// The user (item) index whose row is at each slot.
  let userAtSlot: [Int32]
  let itemAtSlot: [Int32]

  init(buffers: FactorBuffers, userAtSlot: [Int32], itemAtSlot: [Int32]) {
    rank = buffers.rank
    self.userAtSlot = userAtSlot
    self.itemAtSlot = itemAtSlot
    p = allocateRows(max(1, userAtSlot.count * rank))
    q = allocateRows(max(1, itemAtSlot.count * rank))
    userBias = allocateRows(max(1, userAtSlot.count))
    itemBias = allocateRows(max(1, itemAtSlot.count))
  }

  deinit {
    deallocateRows(p)
    deallocateRows(q)
    deallocateRows(userBias)
    deallocateRows(itemBias)
  }

  /// Copies every row from `buffers` into its slot.
  func load(from buffers: FactorBuffers, threads: Int) {
    copy(buffers, toSlots: true, threads: threads)
  }

  /// Copies every slot back to its row of `buffers`.
  func store(to buffers: FactorBuffers, threads: Int) {
    copy(buffers, toSlots: false, threads: threads)
  }

  private func copy(_ buffers: FactorBuffers, toSlots: Bool, threads: Int) {
    let k = rank
    let users = userAtSlot.count
    let items = itemAtSlot.count
    // Chunks of slots, users' then items'; a row copy is a short memcpy.
    let chunk = 4096
    let userChunks = (users + chunk - 1) / chunk
    let itemChunks = (items + chunk - 1) / chunk
    userAtSlot.withUnsafeBufferPointer { userAt in
      itemAtSlot.withUnsafeBufferPointer { itemAt in
        let userAt = SharedPointer(UnsafeMutablePointer(mutating: userAt.baseAddress!))
        let itemAt = SharedPointer(UnsafeMutablePointer(mutating: itemAt.baseAddress!))
        Parallel.forEach(userChunks + itemChunks, threads: threads) { c in
          let isUser = c < userChunks
          let first = (isUser ? c : c - userChunks) * chunk
          let last = min(first + chunk, isUser ? users : items)
          let slotRows = isUser ? self.p : self.q
          let slotBias = isUser ? self.userBias : self.itemBias
          let rows = isUser ? buffers.p : buffers.q
          let bias = isUser ? buffers.userBias : buffers.itemBias
          let at = isUser ? userAt.base : itemAt.base
          for slot in first ..< last {
            let index = Int(at[slot])
            if toSlots {
              (slotRows + slot * k).update(from: rows + index * k, count: k)
              slotBias[slot] = bias[index]
            } else {
              (rows + index * k).update(from: slotRows + slot * k, count: k)
              bias[index] = slotBias[slot]
            }
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
