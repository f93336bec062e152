import Dispatch
import Synchronization

/// Work split across threads.
@_spi(Engine) public enum Parallel {
  /// Runs `body(chunk)` for `chunk` in `0 ..< count` on at most `threads` threads and waits.
  ///
  /// Workers take the next chunk from a shared atomic counter (dynamic scheduling), so uneven
  /// chunks still balance. With `threads <= 1` (or a single chunk) it runs inline, in order,
  /// free of dispatch overhead.
  public static func forEach(
    _ count: Int, threads: Int, _ body: @Sendable (Int) -> Void
  ) {
    if count <= 0 { return }
    if threads <= 1 || count == 1 {
      for i in 0 ..< count { body(i) }
      return
    }
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
      while true {
        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if i >= count { break }
        body(i)
      }
    }
  }

  /// Splits rows `0 ..< offsets.count − 1` of a compressed-row structure into about `parts`
  /// contiguous ranges of similar entry counts (a heavy row costs as much as many light ones),
  /// for dynamic scheduling over ``forEach(_:threads:_:)``.
  public static func balancedRanges(_ offsets: [Int], parts: Int) -> [Range<Int>] {
    let rows = offsets.count - 1
    if rows <= 0 { return [] }
    let parts = max(1, min(parts, rows))
    let total = offsets[rows]
    var ranges: [Range<Int>] = []
    var lo = 0
    for part in 1 ... parts {
      let goal = total * part / parts
      var hi = lo
      while hi < rows && (offsets[hi + 1] <= goal || hi == lo) { hi += 1 }
      if part == parts { hi = rows }
      if hi > lo { ranges.append(lo ..< hi) }
      lo = hi
      if lo >= rows { break }
    }
    return ranges
  }

  /// All cores, the default thread count.
  public static var defaultThreads: Int { availableCores }

  /// The number of cores the process may use.
  public static var availableCores: Int {
    max(1, sysconfThreads())
  }
}

#if canImport(Glibc)
  import Glibc
  private func sysconfThreads() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#else
  import Foundation
  private func sysconfThreads() -> Int { ProcessInfo.processInfo.activeProcessorCount }
#endif
