#if canImport(Glibc)
  import Glibc
#endif

/// How much memory this process may use, so that a job too large for the machine is refused up
/// front with the size it would need, instead of being killed by the OOM killer (or trapping on
/// a failed allocation) halfway through.
///
/// The budget is the smallest of: the physical memory, the cgroup's `memory.max` (a container's
/// limit), and the address-space and data-segment limits (`ulimit -v`, `ulimit -d`).
public enum MemoryBudget {
  /// The bytes this process may use, by the smallest of the limits above.
  public static var availableBytes: Int {
    var budget = Int.max
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let pageSize = sysconf(Int32(_SC_PAGESIZE))
    if pages > 0 && pageSize > 0 {
      budget = min(budget, pages.multipliedReportingOverflow(by: pageSize).overflow ? Int.max : pages * pageSize)
    }
    for resource in [RLIMIT_AS, RLIMIT_DATA] {
      var limit = rlimit()
      if getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0 && limit.rlim_cur != rlim_t.max  // RLIM_INFINITY
        && limit.rlim_cur < UInt64(Int.max)
      {
        budget = min(budget, Int(limit.rlim_cur))
      }
    }
    if let cgroup = cgroupLimit() { budget = min(budget, cgroup) }
    return budget
  }

  /// The cgroup v2 memory limit of this process, if there is one ("max" means none).
  static func cgroupLimit() -> Int? {
    guard let text = smallFile("/sys/fs/cgroup/memory.max") else { return nil }
    let trimmed = text.filter { !$0.isWhitespace }
    return Int(trimmed)
  }

  private static func smallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 64)
    let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return nil }
    return String(decoding: bytes[0 ..< n], as: UTF8.self)
  }

  /// `bytes` in words: "1.5 GiB", "300.0 MiB", "12 KiB".
  public static func describe(_ bytes: Int) -> String {
    let b = Double(bytes)
    if b >= 1_073_741_824 { return "\(rounded(b / 1_073_741_824)) GiB" }
    if b >= 1_048_576 { return "\(rounded(b / 1_048_576)) MiB" }
    return "\(Int((b / 1024).rounded(.up))) KiB"
  }

  private static func rounded(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }
}
