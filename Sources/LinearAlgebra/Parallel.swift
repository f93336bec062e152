import Dispatch
import Synchronization

/// Work split across threads.
public enum Parallel {
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

/// A raw pointer that may cross into `@Sendable` closures.
///
/// The solvers hand disjoint rows of one buffer to different threads; Swift cannot prove the
/// disjointness, so the pointer is wrapped here, in one place, with that contract stated.
public struct SharedPointer<T>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<T>
  @inlinable public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}
