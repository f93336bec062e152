/// Pointers that may cross into `@Sendable` closures, and the one place where arrays are
/// pinned for them.
///
/// The solvers hand disjoint rows of one buffer to different threads; Swift cannot prove the
/// disjointness, so the pointers are wrapped here, with that contract stated: a
/// ``SharedPointer`` is written only at positions no other thread touches during the parallel
/// section, and a ``SharedReadPointer`` is never written through.

/// A mutable pointer shared across threads that write disjoint positions.
@_spi(Engine) public struct SharedPointer<T>: @unchecked Sendable {
  public let base: UnsafeMutablePointer<T>
  @inlinable public init(_ base: UnsafeMutablePointer<T>) { self.base = base }

  /// The same memory, read-only.
  @inlinable public var readOnly: SharedReadPointer<T> { SharedReadPointer(UnsafePointer(base)) }

  @inlinable public subscript(i: Int) -> T {
    get { base[i] }
    nonmutating set { base[i] = newValue }
  }
}

/// A read-only pointer shared across threads.
@_spi(Engine) public struct SharedReadPointer<T>: @unchecked Sendable {
  public let base: UnsafePointer<T>
  @inlinable public init(_ base: UnsafePointer<T>) { self.base = base }

  @inlinable public subscript(i: Int) -> T { base[i] }
}

extension Array {
  /// Runs `body` with the array's elements pinned behind a read-only shared pointer.
  ///
  /// An empty array yields a pointer to a dummy element (never read: there is nothing to read),
  /// so callers need no special case.
  @inlinable
  @_spi(Engine) public func withSharedReadPointer<R, E: Error>(
    _ body: (SharedReadPointer<Element>) throws(E) -> R
  ) throws(E) -> R {
    let result: Result<R, E> = withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else {
        return withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { dummy in
          Result { () throws(E) -> R in try body(SharedReadPointer(UnsafePointer(dummy.baseAddress!))) }
        }
      }
      return Result { () throws(E) -> R in try body(SharedReadPointer(base)) }
    }
    return try result.get()
  }

  /// Runs `body` with the array's elements pinned behind a mutable shared pointer.
  @inlinable
  @_spi(Engine) public mutating func withSharedPointer<R, E: Error>(
    _ body: (SharedPointer<Element>) throws(E) -> R
  ) throws(E) -> R {
    let result: Result<R, E> = withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else {
        return withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { dummy in
          Result { () throws(E) -> R in try body(SharedPointer(dummy.baseAddress!)) }
        }
      }
      return Result { () throws(E) -> R in try body(SharedPointer(base)) }
    }
    return try result.get()
  }
}

/// Pins several arrays at once for a parallel section: one call instead of a pyramid of nested
/// `withUnsafeBufferPointer` closures.
@inlinable
@_spi(Engine) public func withSharedReadPointers<A, B, R>(
  _ a: [A], _ b: [B], _ body: (SharedReadPointer<A>, SharedReadPointer<B>) -> R
) -> R {
  a.withSharedReadPointer { pa in b.withSharedReadPointer { pb in body(pa, pb) } }
}

/// Pins three arrays at once (see the two-array form).
@inlinable
@_spi(Engine) public func withSharedReadPointers<A, B, C, R>(
  _ a: [A], _ b: [B], _ c: [C],
  _ body: (SharedReadPointer<A>, SharedReadPointer<B>, SharedReadPointer<C>) -> R
) -> R {
  a.withSharedReadPointer { pa in
    b.withSharedReadPointer { pb in c.withSharedReadPointer { pc in body(pa, pb, pc) } }
  }
}

/// Pins four arrays at once (see the two-array form).
@inlinable
@_spi(Engine) public func withSharedReadPointers<A, B, C, D, R>(
  _ a: [A], _ b: [B], _ c: [C], _ d: [D],
  _ body: (SharedReadPointer<A>, SharedReadPointer<B>, SharedReadPointer<C>, SharedReadPointer<D>) -> R
) -> R {
  withSharedReadPointers(a, b, c) { pa, pb, pc in d.withSharedReadPointer { pd in body(pa, pb, pc, pd) } }
}
