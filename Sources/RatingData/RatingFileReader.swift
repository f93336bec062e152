import CRatingParser

#if canImport(Glibc)
  import Glibc
#endif

/// The field separator of a rating file.
public enum FieldDelimiter: String, Sendable, CaseIterable {
  /// `,` (CSV, e.g. MovieLens `ratings.csv`).
  case comma = ","
  /// A tab (MovieLens-100K `u.data`).
  case tab = "\t"
  /// `::` (MovieLens-1M/10M `ratings.dat`).
  case doubleColon = "::"
  /// `;`.
  case semicolon = ";"
  /// `|`.
  case pipe = "|"
  /// Runs of spaces and tabs.
  case whitespace = " "

  /// Parses a command-line spelling: `,` `comma` `\t` `tab` `::` `;` `|` `space` `whitespace`.
  public init?(name: String) {
    switch name {
    case ",", "comma", "csv": self = .comma
    case "\t", "\\t", "tab", "tsv": self = .tab
    case "::", "colons", "dat": self = .doubleColon
    case ";", "semicolon": self = .semicolon
    case "|", "pipe": self = .pipe
    case " ", "space", "whitespace": self = .whitespace
    default: return nil
    }
  }

  /// The delimiter a line uses: `::` if present, else tab, comma, semicolon, pipe, whitespace.
  static func detect(in line: UnsafeBufferPointer<UInt8>) -> FieldDelimiter {
    var sawTab = false
    var sawComma = false
    var sawSemicolon = false
    var sawPipe = false
    var previousColon = false
    for b in line {
      switch b {
      case UInt8(ascii: ":"):
        if previousColon { return .doubleColon }
        previousColon = true
        continue
      case UInt8(ascii: "\t"): sawTab = true
      case UInt8(ascii: ","): sawComma = true
      case UInt8(ascii: ";"): sawSemicolon = true
      case UInt8(ascii: "|"): sawPipe = true
      default: break
      }
      previousColon = false
    }
    if sawTab { return .tab }
    if sawComma { return .comma }
    if sawSemicolon { return .semicolon }
    if sawPipe { return .pipe }
    return .whitespace
  }
}

/// How to read a rating file.
public struct RatingFileOptions: Sendable {
  /// The separator; `nil` detects it from the first line.
  public var delimiter: FieldDelimiter?
  /// Skip malformed lines (and count them) instead of stopping at the first one.
  public var skipInvalid: Bool
  /// Whether a rating field is required. When false (implicit feedback), `user,item` lines get
  /// the value 1.
  public var requireRating: Bool
  /// Whether to keep the timestamp column. Only time-ordered splits need it; without it a
  /// read keeps 8 bytes a rating less.
  public var keepTimestamps: Bool
  /// Threads that parse the file, each its own byte range (`nil`: all cores). The result is the
  /// same for every thread count.
  public var threads: Int?
  /// The smallest byte range worth a thread of its own (tests lower it to cut small files).
  @_spi(Engine) public var minimumChunkBytes = 1 << 20
  /// Whether the common all-numeric line takes the fast path (tests turn it off to compare).
  @_spi(Engine) public var fastPath = true
  /// How many bytes a parser reads between releasing the mapped pages behind it (tests lower it
  /// to make the C loop stop and resume often).
  @_spi(Engine) public var releaseStepBytes = 1 << 24
  /// The memory the read may take for its rating columns (`nil`: ``MemoryBudget/availableBytes``;
  /// tests lower it).
  @_spi(Engine) public var memoryBudget: Int? = nil

  /// Options; by default the delimiter is detected, bad lines stop the read, ratings are
  /// required, timestamps are kept and every core parses.
  public init(
    delimiter: FieldDelimiter? = nil, skipInvalid: Bool = false, requireRating: Bool = true,
    keepTimestamps: Bool = true, threads: Int? = nil
  ) {
    self.delimiter = delimiter
    self.skipInvalid = skipInvalid
    self.requireRating = requireRating
    self.keepTimestamps = keepTimestamps
    self.threads = threads
  }
}

/// What the reader found besides the ratings.
public struct RatingFileReport: Sendable {
  /// The delimiter used (detected or given).
  public var delimiter: FieldDelimiter
  /// Whether the first line was a header and was skipped.
  public var hadHeader: Bool
  /// Number of malformed lines skipped (only with `skipInvalid`).
  public var skippedLines: Int
  /// The first few skipped lines' errors, for the user to see.
  public var firstSkipped: [RatingDataError]
  /// Number of bytes read.
  public var bytes: Int
}

/// Reads explicit or implicit ratings from delimited text.
///
/// Format: one rating per line, `user<sep>item<sep>rating[<sep>timestamp]`; fields after the
/// fourth are ignored. Ids are arbitrary strings (a field may be double-quoted). Blank lines and
/// lines starting with `#` are skipped. The first line is a header when its rating field (or,
/// for implicit data, its item field followed by a non-numeric third field) is not a number —
/// concretely: a first line whose rating field does not parse is taken as a header and skipped.
/// A malformed line stops the read with its line number, unless `skipInvalid` is set.
///
/// Large files are parsed in parallel: the file is memory-mapped and cut at line boundaries
/// into one byte range per thread; each range is parsed with its own id maps, then the maps are
/// merged in file order, which numbers every id by its first appearance in the file exactly as
/// a single pass would. The ratings, their order, the indices, the report and the first bad
/// line's number are the same for every thread count.
public enum RatingFileReader {
  /// Reads the file at `path`.
  public static func read(path: String, options: RatingFileOptions = .init())
    throws(RatingDataError) -> (ratings: RatingSet, report: RatingFileReport)
  {
    let file = try MappedFile(path: path)
    defer { file.unmap() }
    return try file.withBytes { (bytes) throws(RatingDataError) in
      try parse(bytes, path: path, options: options, file: file)
    }
  }

  /// Parses file contents `bytes`; `path` is used in error messages only.
  public static func parse(_ bytes: [UInt8], path: String, options: RatingFileOptions = .init())
    throws(RatingDataError) -> (ratings: RatingSet, report: RatingFileReport)
  {
    try bytes.withUnsafeBufferPointer { (buffer) throws(RatingDataError) in
      try parse(buffer, path: path, options: options)
    }
  }

  /// Parses `bytes` in chunks, one per thread, and merges them.
  ///
  /// Two passes over the bytes, both in parallel: the first counts each chunk's lines (a line
  /// holds at most one rating), so that the result's columns are allocated once, at their final
  /// size, and each chunk's parser writes straight into its own stretch of them; the second
  /// parses. The merge then only closes the gaps left by lines without a rating (a header,
  /// blank lines, comments) and renumbers the later chunks' ids: no chunk is copied into a
  /// second set of columns.
  static func parse(
    _ bytes: UnsafeBufferPointer<UInt8>, path: String, options: RatingFileOptions,
    file: MappedFile? = nil
  ) throws(RatingDataError) -> (ratings: RatingSet, report: RatingFileReport) {
    // A UTF-8 byte-order mark (EF BB BF), which Windows tools put at the start of a file, is
    // skipped: it is not part of the first user id (nor a reason to call the line a header).
    let skip = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    let fileBytes = bytes
    let bytes = UnsafeBufferPointer(rebasing: fileBytes[skip...])
    let first = firstDataLine(bytes)
    let delimiter = options.delimiter ?? first.map { FieldDelimiter.detect(in: $0.line) }
    let ranges = chunkRanges(
      bytes, after: first?.end ?? bytes.count, options: options)
    // Each pass drops the mapped pages behind it every 16 MB.
    let mapped = Unchecked(file)
    let shared = Unchecked(bytes)
    @Sendable func release(_ k: Int) -> (Range<Int>) -> Void {
      let first = ranges[k].lowerBound
      return { done in mapped.value?.release(skip + first + done.lowerBound ..< skip + first + done.upperBound) }
    }
    var lineCounts = [Int](repeating: 0, count: ranges.count)
    lineCounts.withUnsafeMutableBufferPointer { counts in
      let counts = Writable(counts)
      CompressedRows.concurrent(ranges.count) { k in
        counts.base[k] = countLines(
          UnsafeBufferPointer(rebasing: shared.value[ranges[k]]), step: options.releaseStepBytes, release: release(k))
      }
    }
    var starts = [0]
    for k in 0 ..< ranges.count { starts.append(starts[k] + lineCounts[k]) }
    try checkColumnsFit(lines: starts[ranges.count], path: path, options: options)
    var outcome: Result<(RatingFileReport, IDMap, IDMap), RatingDataError> = .failure(.empty(path: path))
    let columns = RatingColumns.make(capacity: starts[ranges.count], timestamps: options.keepTimestamps) {
      output in
      let slots = ChunkSlots(
        ranges.indices.map { k in
          var chunkOutput = output
          chunkOutput.users += starts[k]
          chunkOutput.items += starts[k]
          chunkOutput.values += starts[k]
          chunkOutput.timestamps = output.timestamps.map { $0 + starts[k] }
          chunkOutput.capacity = Int64(lineCounts[k])
          return LineParser(
            path: path, options: options, delimiter: delimiter, sawFirstLine: k > 0, output: chunkOutput)
        })
      CompressedRows.concurrent(ranges.count) { k in
        slots.run(k, UnsafeBufferPointer(rebasing: shared.value[ranges[k]]), releaseStep: options.releaseStepBytes, release: release(k))
      }
      do throws(RatingDataError) {
        let merged = try merge(
          slots, into: output, starts: starts, path: path, byteCount: fileBytes.count, options: options)
        outcome = .success((merged.report, merged.users, merged.items))
        return (merged.count, merged.keepTimestamps)
      } catch {
        outcome = .failure(error)
        return (0, false)
      }
    }
    let (report, users, items) = try outcome.get()
    let ratings = RatingSet(
      users: users, items: items, userIndices: columns.users, itemIndices: columns.items,
      values: columns.values, timestamps: columns.timestamps)
    return (ratings, report)
  }

  /// Refuses, before allocating them, rating columns for `lines` lines (12 bytes a line, 20 with
  /// timestamps) larger than the memory the process may use: a clear error instead of a failed
  /// allocation halfway through.
  static func checkColumnsFit(lines: Int, path: String, options: RatingFileOptions) throws(RatingDataError) {
    let perLine = 12 + (options.keepTimestamps ? 8 : 0)
    let (needed, overflow) = lines.multipliedReportingOverflow(by: perLine)
    let budget = options.memoryBudget ?? MemoryBudget.availableBytes
    if overflow || needed > budget {
      throw .unreadable(
        path: path,
        reason: "its \(lines) lines need \(MemoryBudget.describe(overflow ? Int.max : needed)) for their ratings, more than the \(MemoryBudget.describe(budget)) of memory this process may use")
    }
  }

  /// The lines of `bytes` (``mf_count_lines``), counted about `step` bytes at a time, each
  /// piece's pages released behind the count. A piece ends just after a \n (or at the end), so
  /// no \r\n is split between two pieces (a file with no \n at all is one piece).
  @_spi(Engine) public static func countLines(
    _ bytes: UnsafeBufferPointer<UInt8>, step: Int = 1 << 24, release: (Range<Int>) -> Void = { _ in }
  ) -> Int {
    guard let base = bytes.baseAddress else { return 0 }
    var start = 0
    var lines = 0
    while start < bytes.count {
      var stop = min(start + step, bytes.count)
      if stop < bytes.count,
        let newline = memchr(base + stop, Int32(UInt8(ascii: "\n")), bytes.count - stop)
      {
        stop = UnsafePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self)) - base + 1
      } else {
        stop = bytes.count
      }
      lines += Int(mf_count_lines(base + start, Int64(stop - start)))
      release(0 ..< stop)
      start = stop
    }
    return lines
  }

  /// The first line that is neither blank nor a comment (trimmed, without its line break), and
  /// the offset where it ends: the chunk holding it decides the header and the delimiter.
  static func firstDataLine(_ bytes: UnsafeBufferPointer<UInt8>)
    -> (line: UnsafeBufferPointer<UInt8>, end: Int)?
  {
    var start = 0
    while start < bytes.count {
      var stop = start
      while stop < bytes.count && bytes[stop] != 10 && bytes[stop] != 13 { stop += 1 }
      var lo = start
      var hi = stop
      while lo < hi && (bytes[lo] == 32 || bytes[lo] == 9) { lo += 1 }
      while hi > lo && (bytes[hi - 1] == 32 || bytes[hi - 1] == 9) { hi -= 1 }
      if lo < hi && bytes[lo] != UInt8(ascii: "#") {
        return (UnsafeBufferPointer(rebasing: bytes[lo ..< hi]), stop)
      }
      start = stop + 1
    }
    return nil
  }

  /// Byte ranges of about equal size, each a whole number of lines; the first holds the first
  /// data line. A range ends just after a \n, after a \r not followed by \n, or at the end, so
  /// every chunk's lines are the lines a single pass would see.
  private static func chunkRanges(
    _ bytes: UnsafeBufferPointer<UInt8>, after firstLineEnd: Int, options: RatingFileOptions
  ) -> [Range<Int>] {
    let n = bytes.count
    let threads = max(1, options.threads ?? defaultThreads)
    let chunks = max(1, min(threads, n / max(1, options.minimumChunkBytes)))
    let cuts = lineCuts(bytes, after: firstLineEnd, parts: chunks)
    return (0 ..< chunks).map { cuts[$0] ..< cuts[$0 + 1] }.filter { !$0.isEmpty }
  }

  /// `parts + 1` offsets from 0 to `bytes.count`, non-decreasing, each just after a line break
  /// (after a \n, after a \r not followed by \n, or at the end) and the first cut after the
  /// first data line, which ends at `firstLineEnd`: part p is `cuts[p] ..< cuts[p + 1]`, about
  /// `bytes.count / parts` bytes of whole lines, possibly none.
  static func lineCuts(_ bytes: UnsafeBufferPointer<UInt8>, after firstLineEnd: Int, parts: Int) -> [Int] {
    let n = bytes.count
    var cuts = [0]
    for k in 1 ..< max(1, parts) {
      var cut = max(n * k / parts, firstLineEnd, cuts[k - 1])
      while cut < n && bytes[cut] != 10 && bytes[cut] != 13 { cut += 1 }
      if cut < n {
        cut += (bytes[cut] == 13 && cut + 1 < n && bytes[cut + 1] == 10) ? 2 : 1
      }
      cuts.append(min(cut, n))
    }
    cuts.append(n)
    return cuts
  }

  /// One rating set from the chunks, in the columns they were parsed into: each chunk's ratings
  /// moved down to follow the previous chunk's (closing the room left for lines that held no
  /// rating), the id maps merged in chunk order (so indices follow first appearance in the
  /// file), the later chunks' indices renumbered in place, line numbers offset.
  private static func merge(
    _ slots: ChunkSlots, into output: mf_rating_output, starts: [Int], path: String, byteCount: Int,
    options: RatingFileOptions
  ) throws(RatingDataError) -> (report: RatingFileReport, users: IDMap, items: IDMap, count: Int, keepTimestamps: Bool) {
    var linesBefore = 0
    var firstSkipped: [RatingDataError] = []
    var counts: [Int] = []
    var skipped = 0
    var keepTimes = options.keepTimestamps
    for k in 0 ..< slots.count {
      let summary = slots.summary(k)
      if let failure = summary.failure {
        throw .malformedLine(path: path, line: linesBefore + failure.line, reason: failure.reason)
      }
      for bad in summary.firstSkipped where firstSkipped.count < 5 {
        firstSkipped.append(
          .malformedLine(path: path, line: linesBefore + bad.line, reason: bad.reason))
      }
      linesBefore += summary.lineCount
      counts.append(summary.ratings)
      skipped += summary.skipped
      keepTimes = keepTimes && summary.timestampCount == summary.ratings
    }
    let total = counts.reduce(0, +)
    if total == 0 {
      if let first = firstSkipped.first, !options.skipInvalid { throw first }
      throw .empty(path: path)
    }
    let head = slots.summary(0)
    let report = RatingFileReport(
      delimiter: head.delimiter ?? .comma, hadHeader: head.hadHeader, skippedLines: skipped,
      firstSkipped: firstSkipped, bytes: byteCount)
    var (users, items) = slots.idMaps(0)
    if slots.count == 1 { return (report, users, items, total, keepTimes) }
    // Global maps: chunk 0's as they are, then each later chunk's ids in its own order of first
    // appearance — which is the file's order of first appearance.
    var translations: [(users: [Int32], items: [Int32])] = [([], [])]
    for k in 1 ..< slots.count {
      let (chunkUsers, chunkItems) = slots.idMaps(k)
      // Each chunk stayed under the limit on its own; together they may not.
      guard users.count + chunkUsers.count <= LineParser.maximumIDs,
        items.count + chunkItems.count <= LineParser.maximumIDs
      else {
        throw .unreadable(
          path: path, reason: "it holds too many distinct users or items (mf indexes at most \(LineParser.maximumIDs))")
      }
      translations.append(
        (chunkUsers.ids.map { users.intern($0) }, chunkItems.ids.map { items.intern($0) }))
    }
    // Chunk k's ratings start at starts[k] (the lines before it) and move to `at` (the ratings
    // before it), which is never later: moves in chunk order never overwrite what is still to move.
    var at = counts[0]
    var pieces: [(from: Int, count: Int, chunk: Int)] = []
    for k in 1 ..< slots.count {
      let from = starts[k]
      let n = counts[k]
      if at != from {
        memmove(output.users + at, output.users + from, n * MemoryLayout<Int32>.stride)
        memmove(output.items + at, output.items + from, n * MemoryLayout<Int32>.stride)
        memmove(output.values + at, output.values + from, n * MemoryLayout<Float>.stride)
        if let times = output.timestamps, keepTimes {
          memmove(times + at, times + from, n * MemoryLayout<Int64>.stride)
        }
      }
      // Renumbered by all threads, in pieces of about a million ratings.
      let pieceCount = max(1, n >> 20)
      for p in 0 ..< pieceCount {
        let lo = at + n * p / pieceCount
        pieces.append((lo, at + n * (p + 1) / pieceCount - lo, k))
      }
      at += n
    }
    let (work, maps, out) = (pieces, translations, Unchecked(output))
    CompressedRows.concurrent(work.count) { p in
      let (from, n, k) = work[p]
      maps[k].users.withUnsafeBufferPointer { userMap in
        maps[k].items.withUnsafeBufferPointer { itemMap in
          let (u, i) = (out.value.users + from, out.value.items + from)
          for j in 0 ..< n {
            u[j] = userMap[Int(u[j])]
            i[j] = itemMap[Int(i[j])]
          }
        }
      }
    }
    return (report, users, items, total, keepTimes)
  }

  /// An open descriptor and its status, or a readable error (missing, unreadable, a folder).
  static func openForReading(_ path: String) throws(RatingDataError) -> (Int32, stat) {
    let fd = open(path, O_RDONLY)
    if fd < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    var info = stat()
    if fstat(fd, &info) != 0 {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw .unreadable(path: path, reason: reason)
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw .unreadable(path: path, reason: "it is a directory")
    }
    return (fd, info)
  }

  /// All cores.
  private static var defaultThreads: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// The whole file as bytes, with a readable error for a missing or unreadable file.
  public static func readWholeFile(path: String) throws(RatingDataError) -> [UInt8] {
    let (fd, info) = try openForReading(path)
    defer { close(fd) }
    // The whole file is held in memory while it is parsed (this path serves pipes and other
    // files that cannot be mapped): refuse one larger than the memory the process may use,
    // before allocating, rather than be killed halfway through.
    let budget = MemoryBudget.availableBytes
    if Int(info.st_size) > budget {
      throw .unreadable(
        path: path,
        reason: "it is \(MemoryBudget.describe(Int(info.st_size))), more than the \(MemoryBudget.describe(budget)) of memory this process may use")
    }
    var result = [UInt8]()
    var capacity = max(Int(info.st_size), 0) + 1
    result.reserveCapacity(capacity)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if got < 0 {
        if errno == EINTR { continue }
        throw .unreadable(path: path, reason: String(cString: strerror(errno)))
      }
      if got == 0 { break }
      if result.count + got > capacity {
        capacity = (result.count + got) * 2
        result.reserveCapacity(capacity)
      }
      result.append(contentsOf: chunk[0 ..< got])
    }
    return result
  }
}


/// The per-chunk parsers, each run and later taken by one thread: slots in raw memory, so that
/// threads working on different slots share nothing (no array copy-on-write check between them).
private final class ChunkSlots: @unchecked Sendable {
  let count: Int
  private let slots: UnsafeMutablePointer<LineParser?>

  init(_ parsers: [LineParser]) {
    count = parsers.count
    slots = .allocate(capacity: count)
    for (k, parser) in parsers.enumerated() { (slots + k).initialize(to: parser) }
  }

  deinit {
    slots.deinitialize(count: count)
    slots.deallocate()
  }

  func run(
    _ k: Int, _ bytes: UnsafeBufferPointer<UInt8>, releaseStep: Int, release: (Range<Int>) -> Void
  ) {
    slots[k]!.run(bytes, releaseStep: releaseStep, release: release)
  }

  /// What the merge needs to know of chunk `k` before copying anything.
  func summary(_ k: Int) -> ChunkSummary {
    let p = slots[k]!
    return ChunkSummary(
      failure: p.failure, firstSkipped: p.firstSkipped, lineCount: p.lineCount,
      ratings: p.ratingCount, skipped: p.skipped, timestampCount: p.timestampCount,
      delimiter: p.delimiter, hadHeader: p.hadHeader)
  }

  func idMaps(_ k: Int) -> (IDMap, IDMap) { (slots[k]!.users, slots[k]!.items) }
}

private struct ChunkSummary {
  var failure: (line: Int, reason: String)?
  var firstSkipped: [(line: Int, reason: String)]
  var lineCount: Int
  var ratings: Int
  var skipped: Int
  var timestampCount: Int
  var delimiter: FieldDelimiter?
  var hadHeader: Bool
}

/// The columns of a read, allocated once at their final capacity and filled through pointers.
struct RatingColumns {
  var users: [Int32]
  var items: [Int32]
  var values: [Float]
  var timestamps: [Int64]

  /// Columns with room for `capacity` ratings (and a timestamp column if `timestamps`), left
  /// unwritten: `fill` writes them through `mf_rating_output` pointers (from any number of
  /// threads, each to its own stretch) and returns how many ratings the columns hold and
  /// whether the timestamps are kept. Pages are touched only where ratings are written.
  static func make(
    capacity: Int, timestamps: Bool, _ fill: (mf_rating_output) -> (count: Int, keepTimestamps: Bool)
  ) -> RatingColumns {
    // At least one entry: with capacity 0 the unsafe initializer hands out the shared empty-array
    // storage, and setting its count writes to that global (ThreadSanitizer caught two threads
    // doing it at once).
    let capacity = max(1, capacity)
    var items: [Int32] = []
    var values: [Float] = []
    var times: [Int64] = []
    var kept = false
    var filled = 0
    let users = [Int32](unsafeUninitializedCapacity: capacity) { userColumn, userCount in
      items = [Int32](unsafeUninitializedCapacity: capacity) { itemColumn, itemCount in
        values = [Float](unsafeUninitializedCapacity: capacity) { valueColumn, valueCount in
          func run(_ timeColumn: UnsafeMutablePointer<Int64>?) {
            let (count, keep) = fill(
              mf_rating_output(
                users: userColumn.baseAddress!, items: itemColumn.baseAddress!, values: valueColumn.baseAddress!,
                timestamps: timeColumn, count: 0, capacity: Int64(capacity), timestamp_count: 0))
            kept = keep && timeColumn != nil
            filled = count
          }
          if timestamps {
            times = [Int64](unsafeUninitializedCapacity: capacity) { timeColumn, timeCount in
              run(timeColumn.baseAddress!)
              timeCount = kept ? filled : 0
            }
          } else {
            run(nil)
          }
          valueCount = filled
          itemCount = filled
        }
        userCount = filled
      }
    }
    return RatingColumns(users: users, items: items, values: values, timestamps: kept ? times : [])
  }
}
