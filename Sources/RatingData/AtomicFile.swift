#if canImport(Glibc)
  import Glibc
#endif

/// Writes a file so that readers see either the old file or the complete new one, never a
/// half-written one: data goes to a temporary file in the same folder, is flushed to disk, and
/// is then renamed over the destination (rename(2) is atomic within a file system), and the
/// folder is flushed too, so that the rename itself survives a power cut (POSIX leaves a
/// rename in the folder's own data, which `fsync` of the file does not cover).
public struct AtomicFileWriter: ~Copyable {
  /// The destination path.
  public let path: String
  private let folder: String
  private let name: String
  private let temporaryPath: String
  private var fd: Int32
  private var buffer: [UInt8] = []
  private var committed = false

  /// Opens a temporary file beside `path`.
  public init(path: String) throws(RatingDataError) {
    self.path = path
    var folder = "."
    if let slash = path.lastIndex(of: "/") { folder = String(path[..<slash]) }
    if folder.isEmpty { folder = "/" }
    let name = path.split(separator: "/").last.map(String.init) ?? path
    self.folder = folder
    self.name = name
    temporaryPath = "\(folder)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    if fd < 0 {
      throw .unreadable(path: path, reason: "cannot create a file there: \(String(cString: strerror(errno)))")
    }
    buffer.reserveCapacity(1 << 20)
  }

  /// Appends bytes.
  public mutating func write(_ bytes: some Sequence<UInt8>) throws(RatingDataError) {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 20 { try flush() }
  }

  /// Appends the UTF-8 of `text`.
  public mutating func write(_ text: String) throws(RatingDataError) {
    try write(text.utf8)
  }

  /// Appends raw bytes of a buffer.
  public mutating func write(raw: UnsafeRawBufferPointer) throws(RatingDataError) {
    try flush()
    try writeAll(raw)
  }

  private mutating func flush() throws(RatingDataError) {
    if buffer.isEmpty { return }
    let pending = buffer
    buffer.removeAll(keepingCapacity: true)
    if let failure = pending.withUnsafeBytes({ raw in attempt(raw) }) { throw failure }
  }

  private func writeAll(_ raw: UnsafeRawBufferPointer) throws(RatingDataError) {
    if let failure = attempt(raw) { throw failure }
  }

  private func attempt(_ raw: UnsafeRawBufferPointer) -> RatingDataError? {
    var offset = 0
    while offset < raw.count {
      let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        return .unreadable(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    return nil
  }

  /// Flushes, syncs and renames the temporary file over `path`.
  public consuming func commit() throws(RatingDataError) {
    try flush()
    if fsync(fd) != 0 && errno != EINVAL {
      throw .unreadable(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))")
    }
    close(fd)
    fd = -1
    if rename(temporaryPath, path) != 0 {
      let reason = String(cString: strerror(errno))
      unlink(temporaryPath)
      throw .unreadable(path: path, reason: "cannot replace the file: \(reason)")
    }
    committed = true
    // The new name is on disk only once the folder is: fsync the folder after the rename. A
    // file system that cannot sync a folder (EINVAL) has nothing to flush; any other failure
    // is reported, although the model is already in place for this boot.
    let folderFD = open(folder, O_RDONLY | O_DIRECTORY)
    if folderFD < 0 {
      throw .unreadable(path: path, reason: "the folder cannot be opened to sync the rename: \(String(cString: strerror(errno)))")
    }
    defer { close(folderFD) }
    if fsync(folderFD) != 0 && errno != EINVAL {
      throw .unreadable(path: path, reason: "fsync of the folder failed: \(String(cString: strerror(errno)))")
    }
    removeAbandonedTemporaryFiles()
  }

  /// A writer killed before its rename (SIGKILL, a power cut) leaves its temporary file
  /// behind; the next successful write of the same destination removes those whose process is
  /// gone. The process id is in the name: a live process's file (a concurrent writer, or a
  /// recycled id) is left alone.
  private func removeAbandonedTemporaryFiles() {
    guard let dir = opendir(folder) else { return }
    defer { closedir(dir) }
    let prefix = ".\(name).tmp-"
    // d_name is declared as 256 bytes, but a record is only as long as its name: read the name
    // in place up to its NUL (copying the declared field read past the record's end; found by
    // AddressSanitizer).
    let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    while let entry = readdir(dir) {
      let entryName = String(
        cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
      guard entryName.hasPrefix(prefix) else { continue }
      let rest = entryName.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]) else { continue }
      if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
        unlink("\(folder)/\(entryName)")
      }
    }
  }

  deinit {
    if !committed {
      if fd >= 0 { close(fd) }
      unlink(temporaryPath)
    }
  }
}
