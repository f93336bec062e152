import Dispatch

/// The compressed-row form of (row, column, value) triplets, built by two stable counting sorts
/// split across threads.
///
/// Sorting by column and then, stably, by row gives rows whose columns ascend, and entries with
/// the same (row, column) in their input order. Each sort is a histogram and a scatter; both
/// passes split the input into contiguous chunks, one per thread, each with its own counters,
/// and chunk c's entries of a key go after chunks 0..<c's, so the result is the same for every
/// thread count. Positions are 32-bit, which halves the memory the permutation moves.
package enum CompressedRows {
  /// Rows below this many entries per thread are sorted on one thread (threads cost more).
  static let entriesPerChunk = 1 << 16

  /// The row offsets, the columns and the values of the CSR form; with `values` nil, the
  /// offsets and columns only (an index of which entries exist), which moves a third less.
  /// Columns ascend within each row; a repeated (row, column) pair's copies sit side by side in
  /// input order.
  static func build(
    rowCount: Int, columnCount: Int, rows: [Int32], columns: [Int32], values: [Float]?, threads: Int
  ) -> (rowStart: [Int], columns: [Int32], values: [Float]) {
    let n = rows.count
    precondition(columns.count == n && (values == nil || values!.count == n) && n <= Int(Int32.max))
    if n == 0 || rowCount == 0 || columnCount == 0 {
      return ([Int](repeating: 0, count: rowCount + 1), [], [])
    }
    // Pass A: the entries grouped by column, in input order within a column; each carries its
    // row and value along, so that pass B reads its input in order. (Carrying a position and
    // gathering row, column and value through it in pass B was 3× slower: three dependent cache
    // misses per entry instead of two independent stores.)
    let byColumn = group(keys: columns, keyCount: columnCount, carrying: rows, values: values, threads: threads)
    // Pass B: pass A's entries, in that order, grouped by row.
    return regroup(
      outerStart: byColumn.start, inner: byColumn.carried, values: byColumn.values,
      withValues: values != nil, innerCount: rowCount, threads: threads)
  }

  /// The entries grouped by `keys` (one stable counting sort): key k's entries are
  /// `start[k] ..< start[k + 1]`, in input order, each with its `carried` value (and its value
  /// from `values`, when given). Grouping by row this is a CSR form whose rows keep the input's
  /// order instead of ascending: half the work of ``build(rowCount:columnCount:rows:columns:values:threads:)``
  /// for a reader that does not need the columns sorted.
  static func group(
    keys: [Int32], keyCount: Int, carrying: [Int32], values: [Float]?, threads: Int
  ) -> (start: [Int], carried: [Int32], values: [Float]) {
    let n = keys.count
    let withValues = values != nil
    let values = values ?? []
    precondition(carrying.count == n && (!withValues || values.count == n) && n <= Int(Int32.max))
    if n == 0 || keyCount == 0 { return ([Int](repeating: 0, count: keyCount + 1), [], []) }
    let chunks = max(1, min(threads, n / entriesPerChunk))
    func chunkRange(_ c: Int) -> Range<Int> { c * n / chunks ..< (c + 1) * n / chunks }
    var next = [Int](repeating: 0, count: chunks * keyCount)
    var start: [Int] = []
    let (outCarried, outValues) = scatterOutputs(n, withValues: withValues) { outCarried, outValues in
      keys.withUnsafeBufferPointer { keyList in
        carrying.withUnsafeBufferPointer { carriedList in
          values.withUnsafeBufferPointer { valueList in
            let (keyList, carriedList, valueList) = (
              ReadOnly(keyList.baseAddress), ReadOnly(carriedList.baseAddress), ReadOnly(valueList.baseAddress)
            )
            next.withUnsafeMutableBufferPointer { next in
              let next = Writable(next.baseAddress!)
              start = countingStarts(keys: keyList, count: n, keyCount: keyCount, chunks: chunks, next: next)
              concurrent(chunks) { c in
                let own = next.base + c * keyCount
                for m in chunkRange(c) {
                  let k = Int(keyList.base![m])
                  let slot = own[k]
                  (outCarried.base + slot).initialize(to: carriedList.base![m])
                  if withValues { (outValues.base + slot).initialize(to: valueList.base![m]) }
                  own[k] = slot + 1
                }
              }
            }
          }
        }
      }
    }
    return (start, outCarried, outValues)
  }

  /// Whether some row of a compressed-row index, its columns in any order, holds a column twice:
  /// each chunk of rows marks a column with the row that last held it, so a mark already equal
  /// to the row is a repeat (one pass; the marks stay in cache for up to ~10⁵ columns).
  package static func hasRepeatedColumn(rowStart: [Int], columns: [Int32], columnCount: Int, threads: Int) -> Bool {
    rowStart.withUnsafeBufferPointer { start in
      columns.withUnsafeBufferPointer { columns in
        let (start, columns) = (ReadOnly(start.baseAddress), ReadOnly(columns.baseAddress))
        let rowCount = rowStart.count - 1
        let chunks = max(1, min(threads, rowStart[rowCount] / entriesPerChunk))
        let found = Writable(UnsafeMutablePointer<Bool>.allocate(capacity: chunks))
        defer { found.base.deallocate() }
        concurrent(chunks) { c in
          let mark = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, columnCount))
          defer { mark.deallocate() }
          mark.initialize(repeating: -1, count: max(1, columnCount))
          var any = false
          for r in c * rowCount / chunks ..< (c + 1) * rowCount / chunks {
            let row = Int32(truncatingIfNeeded: r)
            for j in start.base![r] ..< start.base![r + 1] {
              let column = Int(columns.base![j])
              if mark[column] == row { any = true }
              mark[column] = row
            }
          }
          found.base[c] = any
        }
        return (0 ..< chunks).contains { found.base[$0] }
      }
    }
  }

  /// The transpose of a compressed-row form: entries grouped by `outer` (entries
  /// `outerStart[o] ..< outerStart[o + 1]` belong to outer key o and have inner keys `inner`),
  /// regrouped by inner key, each carrying its outer key (and value) along, in the input's order
  /// within each group. From rows whose columns ascend this gives columns whose rows ascend: the
  /// CSR of the transpose, exactly as ``build(rowCount:columnCount:rows:columns:values:threads:)``
  /// would make it from the triplets, in one counting sort instead of two.
  package static func regroup(
    outerStart columnStart: [Int], inner rowsByColumn: [Int32], values valuesByColumn: [Float],
    withValues: Bool, innerCount rowCount: Int, threads: Int
  ) -> (rowStart: [Int], columns: [Int32], values: [Float]) {
    let n = rowsByColumn.count
    let columnCount = columnStart.count - 1
    if n == 0 || rowCount == 0 || columnCount <= 0 {
      return ([Int](repeating: 0, count: rowCount + 1), [], [])
    }
    let chunks = max(1, min(threads, n / entriesPerChunk))
    func chunkRange(_ c: Int) -> Range<Int> { c * n / chunks ..< (c + 1) * n / chunks }
    var rowNext = [Int](repeating: 0, count: chunks * rowCount)
    var rowStart: [Int] = []
    let (outColumns, outValues) = scatterOutputs(n, withValues: withValues) { outColumns, outValues in
      rowsByColumn.withUnsafeBufferPointer { rowKeys in
        valuesByColumn.withUnsafeBufferPointer { valueList in
          columnStart.withUnsafeBufferPointer { columnStart in
            rowNext.withUnsafeMutableBufferPointer { next in
              let (rowKeys, valueList, columnStart) = (
                ReadOnly(rowKeys.baseAddress), ReadOnly(valueList.baseAddress),
                ReadOnly(columnStart.baseAddress)
              )
              let next = Writable(next.baseAddress!)
              rowStart = countingStarts(keys: rowKeys, count: n, keyCount: rowCount, chunks: chunks, next: next)
              concurrent(chunks) { c in
                let own = next.base + c * rowCount
                let range = chunkRange(c)
                // The column of the chunk's first entry: the last column starting at or
                // before it (empty columns start where the next one does).
                var column = firstColumn(containing: range.lowerBound, columnStart.base!, columnCount)
                for j in range {
                  while columnStart.base![column + 1] <= j { column += 1 }
                  let r = Int(rowKeys.base![j])
                  let slot = own[r]
                  (outColumns.base + slot).initialize(to: Int32(truncatingIfNeeded: column))
                  if withValues { (outValues.base + slot).initialize(to: valueList.base![j]) }
                  own[r] = slot + 1
                }
              }
            }
          }
        }
      }
    }
    return (rowStart, outColumns, outValues)
  }

  /// The column whose entries include position `j` (< the entry count).
  private static func firstColumn(
    containing j: Int, _ columnStart: UnsafePointer<Int>, _ columnCount: Int
  ) -> Int {
    // Largest k with columnStart[k] <= j, by binary search over 0..<columnCount.
    var lo = 0
    var hi = columnCount - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if columnStart[mid] <= j { lo = mid } else { hi = mid - 1 }
    }
    return lo
  }

  /// The counting sort's outputs, `n` carried keys and `n` values (or none): written once, by
  /// `scatter` (every slot exactly once), so there is no zero-fill by one thread first and the
  /// fresh pages are first touched by the threads that scatter.
  private static func scatterOutputs(
    _ n: Int, withValues: Bool, _ scatter: (Writable<Int32>, Writable<Float>) -> Void
  ) -> ([Int32], [Float]) {
    // An output of no entries is `[]`: made by the unsafe initializer with capacity 0 it would be
    // Swift's shared empty-array storage, whose count the initializer writes (ThreadSanitizer
    // caught two fits doing so at once); its scatter gets a pointer it never writes through.
    func uninitialized<T>(_ count: Int, _ fill: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
      guard count > 0 else {
        fill(UnsafeMutableBufferPointer(start: nil, count: 0))
        return []
      }
      return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        fill(buffer)
        initialized = count
      }
    }
    var values: [Float] = []
    let carried: [Int32] = uninitialized(n) { carried in
      values = uninitialized(withValues ? n : 0) { values in
        scatter(Writable(carried), Writable(values))
      }
    }
    return (carried, values)
  }

  /// The counting sort's first pass, shared by ``group`` and ``regroup``: chunk c counts the
  /// keys of its entries (`c·n/chunks ..< (c+1)·n/chunks`) into its own `keyCount` counters of
  /// `next`, which then become each chunk's first slot per key (``exclusiveOffsets``). Returns
  /// the groups' starts, `keyCount + 1` of them, the last `n`.
  private static func countingStarts(
    keys: ReadOnly<Int32>, count n: Int, keyCount: Int, chunks: Int, next: Writable<Int>
  ) -> [Int] {
    concurrent(chunks) { c in
      let own = next.base + c * keyCount
      for m in c * n / chunks ..< (c + 1) * n / chunks { own[Int(keys.base![m])] += 1 }
    }
    return exclusiveOffsets(next.base, keyCount: keyCount, chunks: chunks) + [n]
  }

  /// Turns per-chunk counts `counts[c · keys + k]` into each chunk's first slot for key k (key k's
  /// entries in chunk order, keys in order); returns each key's first slot.
  package static func exclusiveOffsets(
    _ counts: UnsafeMutablePointer<Int>, keyCount: Int, chunks: Int
  ) -> [Int] {
    var keyStart = [Int](repeating: 0, count: keyCount)
    var running = 0
    for k in 0 ..< keyCount {
      keyStart[k] = running
      for c in 0 ..< chunks {
        let size = counts[c * keyCount + k]
        counts[c * keyCount + k] = running
        running += size
      }
    }
    return keyStart
  }
}
