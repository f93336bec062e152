#if canImport(Glibc)
  import Glibc
#endif

/// A table of `rows` rows of `width` floats in memory it owns: an embedding table (P, Q) or a
/// bias vector (`width` 1) while it is being trained.
///
/// The solvers' hot loops take raw pointers out of it once per epoch and hand disjoint rows to
/// threads. Keeping the memory outside Swift arrays keeps exclusivity checks, retain/release and
/// copy-on-write checks out of those loops; this type is where that memory is allocated, freed,
/// and lent out, through ``mutable`` (rows written by one thread each) and ``readOnly`` views.
@_spi(Engine) public final class RowTable: @unchecked Sendable {
  public let rows: Int
  public let width: Int
  /// The first entry; row `r` starts at `base + r * width`.
  private let storage: UnsafeMutablePointer<Float>

  /// A table filled with `value`.
  public init(rows: Int, width: Int, repeating value: Float = 0) {
    precondition(rows >= 0 && width >= 1, "a row table needs rows ≥ 0 and width ≥ 1")
    self.rows = rows
    self.width = width
    storage = allocateRows(max(1, rows * width))
    storage.initialize(repeating: value, count: max(1, rows * width))
  }

  /// What writes entries `range` of a table through its first entry (see ``fill(threads:_:)``).
  public typealias RangeFill = @Sendable (Range<Int>, UnsafeMutablePointer<Float>) -> Void

  /// A table whose entries `fillRange` writes, range by range on `threads` threads, as
  /// ``fill(threads:_:)`` does; the memory is written once, first by those threads (no zero-fill
  /// before). `fillRange` must write every entry of the range it is given.
  public init(rows: Int, width: Int, threads: Int, fillRange: RangeFill) {
    precondition(rows >= 0 && width >= 1, "a row table needs rows ≥ 0 and width ≥ 1")
    self.rows = rows
    self.width = width
    storage = allocateRows(max(1, rows * width))
    if rows == 0 { storage.initialize(to: 0) }
    fill(threads: threads, fillRange)
  }

  /// A table holding `values` (row-major, `rows * width` of them).
  public convenience init(rows: Int, width: Int, values: [Float]) {
    precondition(values.count == rows * width, "a row table needs rows * width values")
    self.init(rows: rows, width: width)
    storage.update(from: values, count: values.count)
  }

  deinit { deallocateRows(storage) }

  /// Entries in the table.
  public var count: Int { rows * width }

  /// The table for writing; threads must write disjoint rows.
  public var mutable: MutableRows { MutableRows(base: storage, width: width) }

  /// The table for reading.
  public var readOnly: Rows { Rows(base: UnsafePointer(storage), width: width) }

  /// The entries, row after row, as an array.
  public var values: [Float] { Array(UnsafeBufferPointer(start: storage, count: count)) }

  /// Overwrites every entry from `values` (row-major, `count` of them).
  public func assign(_ values: [Float]) {
    precondition(values.count == count, "assign needs exactly rows * width values")
    storage.update(from: values, count: count)
  }

  /// Overwrites entry `j` (row-major) with `f(j)` for every entry, in order.
  public func fill(_ f: (Int) -> Float) {
    for j in 0 ..< count { storage[j] = f(j) }
  }

  /// Copies the entries into `array`, reusing its storage when it already has `count` entries
  /// (a snapshot taken every epoch then allocates nothing after the first), on `threads` threads.
  public func copy(into array: inout [Float], threads: Int = 1) {
    let n = count
    let chunks = max(1, min(threads, n / 65_536))
    let source = SharedReadPointer(UnsafePointer(storage))
    // Float is trivial: initializing over the old entries overwrites them.
    func copyChunks(to out: SharedPointer<Float>) {
      Parallel.forEach(chunks, threads: threads) { c in
        let range = c * n / chunks ..< (c + 1) * n / chunks
        (out.base + range.lowerBound).initialize(from: source.base + range.lowerBound, count: range.count)
      }
    }
    if array.count == n {
      array.withSharedPointer { copyChunks(to: $0) }
    } else if n == 0 {
      // Not through the unsafe initializer: with capacity 0 it would write the count of Swift's
      // shared empty-array storage.
      array = []
    } else {
      array = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
        if let base = buffer.baseAddress { copyChunks(to: SharedPointer(base)) }
        initialized = n
      }
    }
  }

  /// Sets entries in `chunks` contiguous ranges on `threads` threads: `fillRange(range, entries)`
  /// writes `entries[j]` for each j in `range`. The ranges depend on `count` only, so a fill
  /// whose values depend on j alone gives the same table for any thread count.
  public func fill(threads: Int, _ fillRange: RangeFill) {
    let n = count
    let chunks = max(1, min(64, n / 16_384))
    let out = SharedPointer(storage)
    Parallel.forEach(chunks, threads: threads) { c in
      fillRange(c * n / chunks ..< (c + 1) * n / chunks, out.base)
    }
  }

  /// Whether every entry is finite (a diverged run shows up as NaN or ±inf).
  public func allFinite() -> Bool { RowKernels.allFinite(count, storage) }

  /// Mutable rows, shareable across threads that write disjoint rows.
  public struct MutableRows: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let width: Int
    @inlinable public init(base: UnsafeMutablePointer<Float>, width: Int) {
      self.base = base
      self.width = width
    }
    @inlinable public func row(_ r: Int) -> UnsafeMutablePointer<Float> { base + r &* width }
    @inlinable public subscript(r: Int) -> Float {
      get { base[r] }
      nonmutating set { base[r] = newValue }
    }
    @inlinable public var readOnly: Rows { Rows(base: UnsafePointer(base), width: width) }
  }

  /// Read-only rows, shareable across threads.
  public struct Rows: @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let width: Int
    @inlinable public init(base: UnsafePointer<Float>, width: Int) {
      self.base = base
      self.width = width
    }
    @inlinable public func row(_ r: Int) -> UnsafePointer<Float> { base + r &* width }
    @inlinable public subscript(r: Int) -> Float { base[r] }
  }
}

/// `count` floats starting on a 64-byte cache-line boundary, so that a rank-32 row (128 bytes)
/// spans exactly two lines rather than three: the SGD loop's cost is mostly the lines it waits for.
///
/// On Linux, tables of 2 MiB and more are also aligned to 2 MiB and advised into transparent huge
/// pages: SGD touches rows all over P and Q, and with 4 KiB pages nearly every row is a TLB miss
/// (a 10M-rating set's P alone spans ~2,000 pages; with 2 MiB pages, 5).
@_spi(Engine) public func allocateRows(_ count: Int) -> UnsafeMutablePointer<Float> {
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

/// Frees what ``allocateRows(_:)`` returned.
@_spi(Engine) public func deallocateRows(_ rows: UnsafeMutablePointer<Float>) {
  #if canImport(Glibc)
    free(rows)
  #else
    UnsafeMutableRawPointer(rows).deallocate()
  #endif
}
