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

  /// Options; by default the delimiter is detected, bad lines stop the read, ratings are required.
  public init(delimiter: FieldDelimiter? = nil, skipInvalid: Bool = false, requireRating: Bool = true)
  {
    self.delimiter = delimiter
    self.skipInvalid = skipInvalid
    self.requireRating = requireRating
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
public enum RatingFileReader {
  /// Reads the file at `path`.
  public static func read(path: String, options: RatingFileOptions = .init())
    throws(RatingDataError) -> (ratings: RatingSet, report: RatingFileReport)
  {
    let bytes = try readWholeFile(path: path)
    return try parse(bytes, path: path, options: options)
  }

  /// Parses file contents `bytes`; `path` is used in error messages only.
  public static func parse(_ bytes: [UInt8], path: String, options: RatingFileOptions = .init())
    throws(RatingDataError) -> (ratings: RatingSet, report: RatingFileReport)
  {
    var parser = LineParser(path: path, options: options)
    do {
      try bytes.withUnsafeBufferPointer { buffer throws(RatingDataError) in
        try parser.run(buffer)
      }
    }
    if parser.values.isEmpty {
      if let first = parser.firstSkipped.first, !options.skipInvalid { throw first }
      throw .empty(path: path)
    }
    let hasTimes = parser.timestampCount == parser.values.count
    let ratings = RatingSet(
      users: parser.users, items: parser.items, userIndices: parser.userIndices,
      itemIndices: parser.itemIndices, values: parser.values,
      timestamps: hasTimes ? parser.timestamps : [])
    let report = RatingFileReport(
      delimiter: parser.delimiter ?? .comma, hadHeader: parser.hadHeader,
      skippedLines: parser.skipped, firstSkipped: parser.firstSkipped, bytes: bytes.count)
    return (ratings, report)
  }

  /// The whole file as bytes, with a readable error for a missing or unreadable file.
  public static func readWholeFile(path: String) throws(RatingDataError) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    if fd < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) != 0 {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw .unreadable(path: path, reason: "it is a directory")
    }
    // The whole file is held in memory while it is parsed: refuse one larger than the memory
    // the process may use, before allocating, rather than be killed halfway through.
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

/// The line-by-line state of one parse.
private struct LineParser {
  let path: String
  let options: RatingFileOptions
  var delimiter: FieldDelimiter?
  var hadHeader = false
  var sawFirstLine = false
  var users = IDMap()
  var items = IDMap()
  var userIndices: [Int32] = []
  var itemIndices: [Int32] = []
  var values: [Float] = []
  var timestamps: [Int64] = []
  var timestampCount = 0
  var skipped = 0
  var firstSkipped: [RatingDataError] = []
  var scratch: [UInt8] = []

  init(path: String, options: RatingFileOptions) {
    self.path = path
    self.options = options
    self.delimiter = options.delimiter
  }

  mutating func run(_ buffer: UnsafeBufferPointer<UInt8>) throws(RatingDataError) {
    guard let base = buffer.baseAddress else { return }
    let estimate = buffer.count / 20
    userIndices.reserveCapacity(estimate)
    itemIndices.reserveCapacity(estimate)
    values.reserveCapacity(estimate)
    var start = 0
    // A UTF-8 byte-order mark (EF BB BF), which Windows tools put at the start of a file, is
    // skipped: it is not part of the first user id (nor a reason to call the line a header).
    if buffer.count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { start = 3 }
    var lineNumber = 0
    let end = buffer.count
    // The next \n at or after `start` (or `end`): found once and reused while lines end at lone
    // \r before it, so a file with no \n at all is scanned once, not once per line.
    var nextNewline = -1
    while start < end {
      lineNumber += 1
      if nextNewline < start {
        let found = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start)
        nextNewline = found.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? end
      }
      var stop = nextNewline
      var lineEnd = stop
      // Lines end at \n, \r\n, or a lone \r (old Mac files): a \r before the \n that is not
      // the \n's own ends the line there.
      if let cr = memchr(base + start, Int32(UInt8(ascii: "\r")), stop - start) {
        let at = UnsafePointer<UInt8>(cr.assumingMemoryBound(to: UInt8.self)) - base
        lineEnd = at
        if !(at == stop - 1 && stop < end) { stop = at }
      }
      let line = UnsafeBufferPointer(start: base + start, count: lineEnd - start)
      start = stop + 1
      if let problem = parseLine(line) {
        let error = RatingDataError.malformedLine(path: path, line: lineNumber, reason: problem)
        if !options.skipInvalid { throw error }
        skipped += 1
        if firstSkipped.count < 5 { firstSkipped.append(error) }
      }
    }
  }

  /// Parses one line into the arrays; returns the reason when the line is malformed.
  mutating func parseLine(_ rawLine: UnsafeBufferPointer<UInt8>) -> String? {
    let line = trim(rawLine)
    if line.isEmpty || line[0] == UInt8(ascii: "#") { return nil }
    let delimiter: FieldDelimiter
    if let known = self.delimiter {
      delimiter = known
    } else {
      delimiter = FieldDelimiter.detect(in: line)
      self.delimiter = delimiter
    }
    let isFirst = !sawFirstLine
    sawFirstLine = true

    var fields = FieldCursor(line: line, delimiter: delimiter)
    let userField = fields.next()
    let itemField = fields.next()
    let ratingField = fields.next()
    let timeField = fields.next()
    if fields.malformedQuote { return "a quoted field is not closed" }
    guard let userField else { return "the line is empty" }
    guard let itemField else {
      return "missing the item field (expected user\(delimiter.spoken)item\(delimiter.spoken)rating)"
    }

    var rating: Float = 1
    if let ratingField {
      guard let parsed = NumberParsing.parseDouble(ratingField.bytes) else {
        if isFirst {
          hadHeader = true
          return nil
        }
        return "the rating '\(ratingField.text)' is not a number"
      }
      guard parsed.isFinite, Float(parsed).isFinite else {
        return "the rating '\(ratingField.text)' is not a finite number"
      }
      rating = Float(parsed)
    } else if options.requireRating {
      return "missing the rating field (expected user\(delimiter.spoken)item\(delimiter.spoken)rating)"
    }
    if userField.bytes.isEmpty { return "the user id is empty" }
    if itemField.bytes.isEmpty { return "the item id is empty" }
    var timestamp: Int64? = nil
    if let timeField, !timeField.bytes.isEmpty {
      if let t = NumberParsing.parseInt64(timeField.bytes) {
        timestamp = t
      } else if let t = NumberParsing.parseDouble(timeField.bytes), t.isFinite, abs(t) < 9e18 {
        timestamp = Int64(t.rounded(.down))
      } else {
        if isFirst && ratingField != nil && timeField.text.first?.isLetter == true {
          hadHeader = true
          return nil
        }
        return "the timestamp '\(timeField.text)' is not a number"
      }
    }
    // Dense indices are Int32: stop before an id that would not fit (checked per line, not per
    // new id, which is stricter by at most one id and costs two compares).
    if users.count >= Self.maximumIDs || items.count >= Self.maximumIDs {
      return "too many distinct \(users.count >= Self.maximumIDs ? "users" : "items") (mf indexes at most \(Self.maximumIDs))"
    }
    guard let user = Self.intern(&users, userField),
      let item = Self.intern(&items, itemField)
    else { return "an id is not valid UTF-8" }
    userIndices.append(user)
    itemIndices.append(item)
    values.append(rating)
    if let timestamp {
      // Timestamps are kept only if every line has one (checked after the read).
      if timestamps.count == values.count - 1 { timestamps.append(timestamp) }
      timestampCount += 1
    }
    return nil
  }

  /// The most distinct users (or items) a file may hold: indices are Int32.
  static let maximumIDs = Int(Int32.max) - 1

  private static func intern(_ map: inout IDMap, _ field: Field) -> Int32? {
    if let unescaped = field.unescaped {
      guard let text = String(validating: unescaped, as: UTF8.self) else { return nil }
      return map.intern(text)
    }
    if IDMap.numericKey(field.bytes) == nil,
      String(validating: field.bytes, as: UTF8.self) == nil
    {
      return nil
    }
    return map.intern(bytes: field.bytes)
  }

  private func trim(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    var lo = 0
    var hi = b.count
    while lo < hi && (b[lo] == 32 || b[lo] == 9) { lo += 1 }
    while hi > lo && (b[hi - 1] == 32 || b[hi - 1] == 9) { hi -= 1 }
    return UnsafeBufferPointer(rebasing: b[lo ..< hi])
  }
}

/// One field of a line: its bytes, and for a quoted field with `""` escapes, the unescaped text.
private struct Field {
  var bytes: UnsafeBufferPointer<UInt8>
  var unescaped: [UInt8]?
  var text: String { String(decoding: unescaped ?? Array(bytes), as: UTF8.self) }
}

/// Splits a line into fields by a delimiter, honouring double quotes.
private struct FieldCursor {
  let line: UnsafeBufferPointer<UInt8>
  let delimiter: FieldDelimiter
  var position = 0
  var finished = false
  var malformedQuote = false

  init(line: UnsafeBufferPointer<UInt8>, delimiter: FieldDelimiter) {
    self.line = line
    self.delimiter = delimiter
  }

  mutating func next() -> Field? {
    if finished { return nil }
    let n = line.count
    var i = position
    if delimiter == .whitespace {
      while i < n && (line[i] == 32 || line[i] == 9) { i += 1 }
      if i >= n {
        finished = true
        return nil
      }
    } else {
      while i < n && line[i] == 32 { i += 1 }
    }
    if i < n && line[i] == UInt8(ascii: "\"") {
      return quoted(from: i)
    }
    let start = i
    while i < n && !isDelimiter(at: i) { i += 1 }
    var stop = i
    while stop > start && line[stop - 1] == 32 { stop -= 1 }
    advance(pastDelimiterAt: i)
    return Field(bytes: UnsafeBufferPointer(rebasing: line[start ..< stop]), unescaped: nil)
  }

  private mutating func quoted(from open: Int) -> Field? {
    let n = line.count
    var i = open + 1
    var text: [UInt8] = []
    var escaped = false
    while i < n {
      if line[i] == UInt8(ascii: "\"") {
        if i + 1 < n && line[i + 1] == UInt8(ascii: "\"") {
          text.append(UInt8(ascii: "\""))
          escaped = true
          i += 2
          continue
        }
        break
      }
      text.append(line[i])
      i += 1
    }
    if i >= n {
      malformedQuote = true
      finished = true
      return nil
    }
    let contents = UnsafeBufferPointer(rebasing: line[(open + 1) ..< i])
    i += 1  // closing quote
    while i < n && line[i] == 32 { i += 1 }
    if i < n && !isDelimiter(at: i) {
      malformedQuote = true
      finished = true
      return nil
    }
    advance(pastDelimiterAt: i)
    return Field(bytes: contents, unescaped: escaped ? text : nil)
  }

  @inline(__always)
  private func isDelimiter(at i: Int) -> Bool {
    switch delimiter {
    case .comma: line[i] == UInt8(ascii: ",")
    case .tab: line[i] == 9
    case .semicolon: line[i] == UInt8(ascii: ";")
    case .pipe: line[i] == UInt8(ascii: "|")
    case .whitespace: line[i] == 32 || line[i] == 9
    case .doubleColon:
      line[i] == UInt8(ascii: ":") && i + 1 < line.count && line[i + 1] == UInt8(ascii: ":")
    }
  }

  private mutating func advance(pastDelimiterAt i: Int) {
    if i >= line.count {
      finished = true
      position = i
    } else {
      position = i + (delimiter == .doubleColon ? 2 : 1)
    }
  }
}

extension FieldDelimiter {
  /// How the delimiter reads in a message.
  var spoken: String {
    switch self {
    case .tab: "<tab>"
    case .whitespace: " "
    default: rawValue
    }
  }
}
