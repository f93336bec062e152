import LinearAlgebra
import RatingData

#if canImport(Glibc)
  import Glibc
#endif

/// The mutable parameters during training: P, Q, b_u, b_i in manually allocated memory.
///
/// The solvers' hot loops take raw pointers out of this once per epoch and hand disjoint rows
/// to threads; holding the memory outside Swift arrays keeps exclusivity checks, retain/release
/// and copy-on-write checks out of those loops.
final class FactorBuffers: @unchecked Sendable {
  let userCount: Int
  let itemCount: Int
  let rank: Int
  let p: UnsafeMutablePointer<Float>
  let q: UnsafeMutablePointer<Float>
  let userBias: UnsafeMutablePointer<Float>
  let itemBias: UnsafeMutablePointer<Float>

  /// Gaussian factors N(0, (scale/√k)²) and zero biases, drawn from `seed`.
  init(users: Int, items: Int, rank: Int, scale: Float, seed: UInt64) {
    userCount = users
    itemCount = items
    self.rank = rank
    p = allocateRows(max(1, users * rank))
    q = allocateRows(max(1, items * rank))
    userBias = .allocate(capacity: max(1, users))
    itemBias = .allocate(capacity: max(1, items))
    userBias.initialize(repeating: 0, count: max(1, users))
    itemBias.initialize(repeating: 0, count: max(1, items))
    var rng = SeededGenerator(seed: seed ^ 0x1A17_FAC7)
    let sigma = Double(scale) / Double(rank).squareRoot()
    for j in 0 ..< users * rank { (p + j).initialize(to: Float(sigma * rng.nextGaussian())) }
    for j in 0 ..< items * rank { (q + j).initialize(to: Float(sigma * rng.nextGaussian())) }
  }

  deinit {
    deallocateRows(p)
    deallocateRows(q)
    userBias.deallocate()
    itemBias.deallocate()
  }

  /// A copy of the parameters.
  struct Snapshot {
    var p: [Float]
    var q: [Float]
    var userBias: [Float]
    var itemBias: [Float]
  }

  /// Puts a snapshot's parameters back.
  func restore(_ s: Snapshot) {
    p.update(from: s.p, count: userCount * rank)
    q.update(from: s.q, count: itemCount * rank)
    userBias.update(from: s.userBias, count: userCount)
    itemBias.update(from: s.itemBias, count: itemCount)
  }

  func snapshot() -> Snapshot {
    Snapshot(
      p: Array(UnsafeBufferPointer(start: p, count: userCount * rank)),
      q: Array(UnsafeBufferPointer(start: q, count: itemCount * rank)),
      userBias: Array(UnsafeBufferPointer(start: userBias, count: userCount)),
      itemBias: Array(UnsafeBufferPointer(start: itemBias, count: itemCount)))
  }

  /// Whether every parameter is finite (a diverged SGD run shows up as NaN or ±inf).
  func allFinite() -> Bool {
    func check(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
      // NaN·0 and inf·0 are NaN, and a NaN stays NaN through the sums. Eight independent
      // lanes, because a single running sum is a chain of dependent adds (~4 ms per check of
      // a 10M-rating model's P and Q, paid after every epoch).
      var lanes = SIMD8<Float>()
      let raw = UnsafeRawPointer(x)
      var j = 0
      while j + 8 <= n {
        lanes += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * 0
        j += 8
      }
      var acc = lanes.sum()
      while j < n {
        acc += x[j] * 0
        j += 1
      }
      return !acc.isNaN
    }
    return check(p, userCount * rank) && check(q, itemCount * rank)
      && check(userBias, userCount) && check(itemBias, itemCount)
  }
}

/// `count` floats starting on a 64-byte cache-line boundary, so that a rank-32 row (128 bytes)
/// spans exactly two lines rather than three: the SGD loop's cost is mostly the lines it waits for.
///
/// On Linux, tables of 2 MiB and more are also aligned to 2 MiB and advised into transparent huge
/// pages: SGD touches rows all over P and Q, and with 4 KiB pages nearly every row is a TLB miss
/// (a 10M-rating set's P alone spans ~2,000 pages; with 2 MiB pages, 5).
func allocateRows(_ count: Int) -> UnsafeMutablePointer<Float> {
  let bytes = count * MemoryLayout<Float>.stride
  #if canImport(Glibc)
    let hugePage = 2 << 20
    let large = bytes >= hugePage
    var memory: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&memory, large ? hugePage : 64, bytes) == 0, let memory else {
      fatalError("out of memory allocating \(bytes) bytes of factors")
    }
    if large { _ = madvise(memory, bytes, Int32(MADV_HUGEPAGE)) }
    return memory.bindMemory(to: Float.self, capacity: count)
  #else
    return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
      .bindMemory(to: Float.self, capacity: count)
  #endif
}

/// Frees what `allocateRows` returned.
func deallocateRows(_ rows: UnsafeMutablePointer<Float>) {
  #if canImport(Glibc)
    free(rows)
  #else
    UnsafeMutableRawPointer(rows).deallocate()
  #endif
}

/// Ratings re-indexed to a model's dense indices; `-1` marks an id the model does not know.
public struct AlignedRatings: Sendable {
  public var users: [Int32]
  public var items: [Int32]
  public var values: [Float]

  /// `ratings` (over their own id maps) translated into the id space of `users` and `items`.
  public init(_ ratings: RatingSet, users: IDMap, items: IDMap) {
    let userMap = ratings.users.ids.map { users.index(of: $0) ?? -1 }
    let itemMap = ratings.items.ids.map { items.index(of: $0) ?? -1 }
    self.users = ratings.userIndices.map { userMap[Int($0)] }
    self.items = ratings.itemIndices.map { itemMap[Int($0)] }
    self.values = ratings.values
  }

  /// `ratings` in their own index space (no id lookups: every id is known).
  public init(own ratings: RatingSet) {
    users = ratings.userIndices
    items = ratings.itemIndices
    values = ratings.values
  }

  public var count: Int { values.count }
}
