#if MF_NO_PREFETCH
  /// Sanitizer builds (`Scripts/sanitize.sh` defines MF_NO_PREFETCH): ThreadSanitizer and
  /// AddressSanitizer make this call an `invoke`, which LLVM refuses for an intrinsic ("Cannot
  /// invoke an intrinsic", a compiler crash). A prefetch is only a hint, so leaving it out
  /// changes no result.
  @inlinable @inline(__always)
  func llvmPrefetchIntrinsic(
    _ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32
  ) {}
#else
  /// LLVM's prefetch intrinsic (`prefetcht0` on x86-64, `prfm pldl1keep` on arm64): a hint that
  /// costs one instruction and never faults. Swift has no public spelling for it.
  @_silgen_name("llvm.prefetch.p0") @usableFromInline
  func llvmPrefetchIntrinsic(
    _ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)
#endif

/// Cache prefetch hints for loops that touch rows by index, where each row's first touch is a
/// cache miss: asking for row n + d while working on row n overlaps the misses.
@_spi(Engine) public enum Prefetch {
  /// Brings the `bytes` starting at `address` towards L1 for reading, one hint per 64-byte line.
  @inlinable @inline(__always)
  public static func read(_ address: UnsafeRawPointer, bytes: Int) {
    var offset = 0
    while offset < bytes {
      // The intrinsic's flags must be compile-time constants: read (0), keep in all levels (3),
      // data cache (1).
      llvmPrefetchIntrinsic(address + offset, 0, 3, 1)
      offset &+= 64
    }
  }

  /// Brings the cache line holding `address` into L1 for writing (the line is about to be
  /// updated, so it is fetched in exclusive state).
  @inlinable @inline(__always)
  public static func write(_ address: UnsafeRawPointer) {
    // Flags as above, but write (1).
    llvmPrefetchIntrinsic(address, 1, 3, 1)
  }
}
