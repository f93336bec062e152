#if canImport(Glibc)
  import Glibc
#endif

/// Gives the whole memory pages inside `start ..< start + bytes` back to the operating system,
/// so that the process's resident size drops now rather than when the buffer is freed.
///
/// For a large buffer that a pass reads once from front to back and that nothing reads again:
/// released behind the pass, it shrinks while its successor grows, so the two are never both
/// resident in full (the ratings while SGD's blocked copy of them is built). The buffer must be
/// owned by the caller alone, and must not be read afterwards: on Linux the pages read as zeros
/// (`MADV_DONTNEED` on private anonymous memory). Only pages wholly inside the range are
/// released, so the bytes around it are untouched. Elsewhere this does nothing.
@_spi(Engine) public func releasePages(_ start: UnsafeRawPointer, bytes: Int) {
  #if canImport(Glibc)
    let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
    let first = (UInt(bitPattern: start) + page - 1) & ~(page - 1)
    let end = (UInt(bitPattern: start) + UInt(max(0, bytes))) & ~(page - 1)
    guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
    _ = madvise(pointer, Int(end - first), MADV_DONTNEED)
  #endif
}
