import Dispatch

// The reader and the sparse-matrix builders split their loops over threads with these. They
// are RatingData's own small versions of LinearAlgebra's `SharedPointer` and `Parallel`: this
// module does not depend on the linear-algebra layer (a rating file needs no BLAS).

extension CompressedRows {
  /// `body(c)` for c in 0..<chunks, on threads when there is more than one chunk.
  static func concurrent(_ chunks: Int, _ body: (Int) -> Void) {
    if chunks == 1 {
      body(0)
    } else {
      withoutActuallyEscaping(body) { body in
        let shared = Unchecked(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in shared.value(c) }
      }
    }
  }
}

/// A pointer read (never written) by several threads at once.
struct ReadOnly<T>: @unchecked Sendable {
  let base: UnsafePointer<T>?
  init(_ base: UnsafePointer<T>?) { self.base = base }
}

/// A pointer several threads write through, each to its own elements.
struct Writable<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>
  init(_ base: UnsafeMutablePointer<T>) { self.base = base }
  /// A buffer's start; for an empty buffer (no address), a non-null pointer never written.
  init(_ buffer: UnsafeMutableBufferPointer<T>) {
    base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<T>.alignment)!
  }
}

/// A value handed to threads that only use it in ways that are safe (a closure whose captures
/// are the pointers above and chunk-indexed state).
struct Unchecked<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
