#if canImport(Glibc)
  import Glibc
#endif

/// A file's bytes, memory-mapped read-only when it is a regular file, else read into memory.
///
/// Mapping saves the copy that `read(2)` makes into a buffer (a 200 MB rating file is 200 MB
/// less to allocate and touch), and the pages are released by `unmap()` as soon as parsing
/// is done, before training allocates its own tables. Pipes, `/dev/stdin` and empty files,
/// which cannot be mapped, are read with ``RatingFileReader/readWholeFile(path:)``.
final class MappedFile {
  private var mapping: UnsafeMutableRawPointer?
  private var length: Int
  private var fallback: [UInt8]

  /// Opens and maps (or reads) `path`.
  init(path: String) throws(RatingDataError) {
    mapping = nil
    length = 0
    fallback = []
    let (fd, info) = try RatingFileReader.openForReading(path)
    defer { close(fd) }
    let size = Int(info.st_size)
    if (info.st_mode & S_IFMT) == S_IFREG && size > 0 {
      if let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED {
        // Read front to back by each parsing thread: let the kernel read ahead.
        _ = madvise(pointer, size, MADV_SEQUENTIAL)
        mapping = pointer
        length = size
        return
      }
    }
    fallback = try RatingFileReader.readWholeFile(path: path)
  }

  deinit { unmap() }

  /// Number of bytes.
  var count: Int { mapping != nil ? length : fallback.count }

  /// Calls `body` with the bytes (valid only inside `body`).
  func withBytes<R, E: Error>(
    _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R
  ) throws(E) -> R {
    if let mapping {
      return try body(
        UnsafeBufferPointer(start: mapping.assumingMemoryBound(to: UInt8.self), count: length))
    }
    let result: Result<R, E> = fallback.withUnsafeBufferPointer { buffer in
      do throws(E) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
  }

  /// Drops the pages wholly inside `range` from this process's memory (the file's pages stay in
  /// the page cache; touching them again maps them again). Parsers call it behind themselves, so
  /// a read never holds more than a few megabytes of the file per thread: reading a 500 MB file
  /// does not add 500 MB to the command's peak memory.
  func release(_ range: Range<Int>) {
    guard let mapping else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let lo = (range.lowerBound + page - 1) / page * page
    let hi = range.upperBound / page * page
    if hi > lo { _ = madvise(mapping + lo, hi - lo, MADV_DONTNEED) }
  }

  /// Releases the bytes now rather than at deinit.
  func unmap() {
    if let mapping {
      munmap(mapping, length)
      self.mapping = nil
    }
    fallback = []
  }
}
