import CRatingParser

#if canImport(Glibc)
  import Glibc
#endif

/// The line-by-line state of one parse of one chunk of a rating file.
///
/// A chunk starts at a line boundary; line numbers here count from the chunk's first line and
/// the reader adds the lines of the chunks before it. Only the chunk holding the file's first
/// data line looks for a header (`sawFirstLine` false).
struct LineParser {
  let path: String
  let options: RatingFileOptions
  var delimiter: FieldDelimiter?
  var hadHeader = false
  var sawFirstLine = false
  var users = IDMap()
  var items = IDMap()
  /// Where the ratings go: columns the caller allocated, with room for one rating a line
  /// (`mf_count_lines`). Timestamps are written when the column is there;
  /// they are kept only if every rating had one (`timestamp_count == count`).
  var output: mf_rating_output
  /// Ratings written so far.
  var ratingCount: Int { Int(output.count) }
  /// Ratings whose line had a timestamp.
  var timestampCount: Int { Int(output.timestamp_count) }
  /// Lines seen (the chunk's line count once `run` has finished).
  var lineCount = 0
  var skipped = 0
  /// The first few malformed lines (chunk line number, reason).
  var firstSkipped: [(line: Int, reason: String)] = []
  /// Without `skipInvalid`: the malformed line that stopped the parse.
  var failure: (line: Int, reason: String)?

  init(
    path: String, options: RatingFileOptions, delimiter: FieldDelimiter?, sawFirstLine: Bool,
    output: mf_rating_output
  ) {
    self.output = output
    self.path = path
    self.options = options
    self.delimiter = delimiter
    self.sawFirstLine = sawFirstLine
  }

  /// Parses every line of `buffer` (a whole number of lines). Every `releaseStep` bytes it calls
  /// `release` with the bytes parsed so far (offsets in `buffer`), which it will not read again.
  mutating func run(
    _ buffer: UnsafeBufferPointer<UInt8>, releaseStep: Int = .max, release: (Range<Int>) -> Void = { _ in }
  ) {
    guard let base = buffer.baseAddress else { return }
    var start = 0
    var lineNumber = 0
    let end = buffer.count
    let fast = options.fastPath ? FastLineFormat(delimiter) : nil
    // The next \n at or after `start` (or `end`): found once and reused while lines end at lone
    // \r before it, so a file with no \n at all is scanned once, not once per line.
    var nextNewline = -1
    defer { lineCount = lineNumber }
    var nextRelease = releaseStep
    var (numericPause, numericBackoff) = (0, 1)
    // The ids the C loop adds, handed to the id maps after each call.
    let newKeys = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * Self.newKeysPerCall)
    defer { newKeys.deallocate() }
    while start < end {
      if start >= nextRelease {
        release(0 ..< start)
        nextRelease = start + releaseStep
      }
      if let fast, sawFirstLine {
        if numericPause == 0 {
          // The common numeric line in C, as many as it can read; the line it stops at (if any)
          // goes on to the Swift paths below, which read it the same way or say why not.
          let read = numericLines(base, &start, end, stopAt: nextRelease, fast, newKeys)
          lineNumber += read
          // A file of other lines (string ids, say) would pay a call per line for nothing:
          // after each call that reads none, the next few lines skip it (1, 2, 4, … 256).
          if read == 0 {
            numericPause = numericBackoff
            numericBackoff = min(2 * numericBackoff, 256)
          } else {
            numericBackoff = 1
          }
          if start >= end || start >= nextRelease { continue }
        } else {
          numericPause -= 1
        }
      }
      lineNumber += 1
      if let fast, sawFirstLine, let next = parseFast(base, start, end, fast) {
        start = next
        continue
      }
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
        if !options.skipInvalid {
          failure = (lineNumber, problem)
          return
        }
        skipped += 1
        if firstSkipped.count < 5 { firstSkipped.append((lineNumber, problem)) }
      }
    }
  }

  /// The common line — `user<d>item<d>rating[<d>timestamp]` with unquoted ids, a plain decimal
  /// rating and an integer timestamp, ended by \n, \r\n, \r or the end — parsed in one pass over
  /// the bytes with no field splitting and no string (canonical decimal ids below the ``IDMap``
  /// dense limit are array lookups; other ids are hashed as bytes). Returns the next line's
  /// start, or `nil` when the line is anything else (header, quotes, spaces, other number forms,
  /// errors): the general parser then reads it, so the fast path changes speed, never results. Its rating is
  /// computed as ``NumberParsing/parseDouble(_:)`` computes it (Clinger's exact fast path).
  @inline(__always)
  private mutating func parseFast(
    _ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ format: FastLineFormat
  ) -> Int? {
    var p = start
    if base[p] == UInt8(ascii: "#") { return nil }  // a comment line
    guard let user = Self.idField(base, &p, end, format), Self.skip(format, base, &p, end),
      let item = Self.idField(base, &p, end, format), Self.skip(format, base, &p, end)
    else { return nil }
    // Rating: [-]digits[.digits], at most 15 digits in all (so the mantissa is exact).
    var negative = false
    if p < end && base[p] == UInt8(ascii: "-") {
      negative = true
      p += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    while p < end, case let d = base[p] &- UInt8(ascii: "0"), d <= 9 {
      mantissa = mantissa &* 10 &+ UInt64(d)
      digits += 1
      p += 1
    }
    var fractionDigits = 0
    if p < end && base[p] == UInt8(ascii: ".") {
      p += 1
      while p < end, case let d = base[p] &- UInt8(ascii: "0"), d <= 9 {
        mantissa = mantissa &* 10 &+ UInt64(d)
        fractionDigits += 1
        p += 1
      }
    }
    if digits + fractionDigits == 0 || digits + fractionDigits > 15 { return nil }
    var rating = Double(mantissa)
    if fractionDigits > 0 { rating /= FastLineFormat.powersOfTen[fractionDigits] }
    if negative { rating = -rating }
    // Optional timestamp, then the line's end.
    var timestamp: Int64? = nil
    if p < end && base[p] != UInt8(ascii: "\n") && base[p] != UInt8(ascii: "\r") {
      guard Self.skip(format, base, &p, end) else { return nil }
      var timeNegative = false
      if p < end && base[p] == UInt8(ascii: "-") {
        timeNegative = true
        p += 1
      }
      let (digits, count) = Self.digitRun(base, &p, end)
      if count == 0 || count > 18 { return nil }
      let value = Int64(digits)
      timestamp = timeNegative ? -value : value
    }
    let next: Int
    if p == end {
      next = end
    } else if base[p] == UInt8(ascii: "\n") {
      next = p + 1
    } else if base[p] == UInt8(ascii: "\r") {
      next = p + 1 < end && base[p + 1] == UInt8(ascii: "\n") ? p + 2 : p + 1
    } else {
      return nil
    }
    // At the id limit (or a new id that is not UTF-8) the general parser reads the line and
    // says why.
    guard users.count < Self.maximumIDs, items.count < Self.maximumIDs,
      let userIndex = Self.intern(&users, user, base), let itemIndex = Self.intern(&items, item, base)
    else { return nil }
    emit(userIndex, itemIndex, Float(rating), timestamp)
    return next
  }

  /// Ids the C loop may add in one call, per side.
  static let newKeysPerCall = 4096

  /// Runs the C loop (`mf_parse_numeric_lines`) from `start` on the id maps' direct-address
  /// tables; moves `start` past the lines it read and returns how many.
  private mutating func numericLines(
    _ base: UnsafePointer<UInt8>, _ start: inout Int, _ end: Int, stopAt: Int, _ format: FastLineFormat,
    _ newKeys: UnsafeMutablePointer<Int64>
  ) -> Int {
    var position = Int64(start)
    let read = users.withNumericTable(newKeys: newKeys, capacity: Self.newKeysPerCall, limit: Self.maximumIDs) {
      userTable in
      items.withNumericTable(
        newKeys: newKeys + Self.newKeysPerCall, capacity: Self.newKeysPerCall, limit: Self.maximumIDs
      ) { itemTable in
        mf_parse_numeric_lines(
          base, &position, Int64(end), Int64(stopAt), format.first, format.second ?? 0, &userTable,
          &itemTable, &output)
      }
    }
    start = Int(position)
    return Int(read)
  }

  /// Writes one rating to the output columns.
  @inline(__always)
  private mutating func emit(_ user: Int32, _ item: Int32, _ value: Float, _ timestamp: Int64?) {
    let n = Int(output.count)
    // The columns have room for one rating a line (mf_count_lines): more is a bug here.
    precondition(n < output.capacity, "the rating columns are full")
    output.users[n] = user
    output.items[n] = item
    output.values[n] = value
    if let timestamp {
      output.timestamps?[n] = timestamp
      output.timestamp_count += 1
    }
    output.count += 1
  }

  /// An id field at `p` for the fast path: non-empty, up to the delimiter, with no byte the
  /// general parser treats specially (quote, space, tab, line break). A canonical decimal
  /// (``IDMap/numericKey(_:)``: 1–18 digits, no leading zero) comes with its value.
  @inline(__always)
  private static func idField(
    _ base: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int, _ format: FastLineFormat
  ) -> FastID? {
    let first = p
    // The common id, a canonical decimal right before the delimiter, by whole words.
    let (number, digits) = digitRun(base, &p, end)
    if digits > 0 && digits <= 18 && p < end && base[p] == format.first
      && (digits == 1 || base[first] != UInt8(ascii: "0"))
    {
      return FastID(start: first, count: digits, numeric: Int(number))
    }
    p = first
    var value = 0
    var digitsOnly = true
    while p < end {
      let b = base[p]
      if b == format.first { break }
      if b == UInt8(ascii: "\"") || b == 32 || b == 9 || b == 10 || b == 13 { return nil }
      let d = b &- UInt8(ascii: "0")
      if d <= 9 { value = value &* 10 &+ Int(d) } else { digitsOnly = false }
      p += 1
    }
    let n = p - first
    if n == 0 { return nil }
    let canonical = digitsOnly && n <= 18 && (n == 1 || base[first] != UInt8(ascii: "0"))
    return FastID(start: first, count: n, numeric: canonical ? value : nil)
  }

  /// The run of ASCII digits at `p`, which it moves past: its value (wrapping beyond 19 digits;
  /// callers reject runs that long) and its length. Eight bytes at a time while eight are there
  /// to read: a word's non-digit bytes are those whose high nibble is not 3 or whose low nibble
  /// plus 6 carries out of it, and the first of them ends the run; its digits are then combined
  /// in three multiplications (the SWAR conversion of Lemire, "Faster integer parsing", 2018),
  /// after shifting them to the top so the bytes below read as leading zeros. A 10-digit Unix
  /// timestamp costs two words instead of ten byte steps.
  @inline(__always)
  static func digitRun(_ base: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int) -> (value: UInt64, count: Int) {
    var value: UInt64 = 0
    var count = 0
    while end - p >= 8 {
      let digits = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self).littleEndian ^ 0x3030_3030_3030_3030
      let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
      let nonDigit = (digits & highNibbles) | (((digits & 0x0F0F_0F0F_0F0F_0F0F) &+ 0x0606_0606_0606_0606) & highNibbles)
      let n = nonDigit == 0 ? 8 : nonDigit.trailingZeroBitCount >> 3
      if n > 0 {
        var word = (digits & 0x0F0F_0F0F_0F0F_0F0F) << UInt64(8 * (8 - n))
        word = (word &* 2561) >> 8
        word = ((word & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        word = ((word & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        value = value &* Self.powerOfTen(n) &+ word
        count += n
        p += n
      }
      if n < 8 { return (value, count) }
    }
    while p < end, case let d = base[p] &- UInt8(ascii: "0"), d <= 9 {
      value = value &* 10 &+ UInt64(d)
      count += 1
      p += 1
    }
    return (value, count)
  }

  /// 10ⁿ for n in 1 … 8 (a constant table, no lazy global in the hot loop).
  @inline(__always)
  private static func powerOfTen(_ n: Int) -> UInt64 {
    switch n {
    case 1: 10
    case 2: 100
    case 3: 1_000
    case 4: 10_000
    case 5: 100_000
    case 6: 1_000_000
    case 7: 10_000_000
    default: 100_000_000
    }
  }

  /// The dense index of a fast-path id (`nil`: a new id whose bytes are not UTF-8).
  @inline(__always)
  private static func intern(_ map: inout IDMap, _ id: FastID, _ base: UnsafePointer<UInt8>) -> Int32? {
    if let key = id.numeric { return map.internNumeric(key, spelling: nil) }
    return map.internString(UnsafeBufferPointer(start: base + id.start, count: id.count))
  }

  /// Steps over the delimiter at `p`, if it is there.
  @inline(__always)
  private static func skip(
    _ format: FastLineFormat, _ base: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int
  ) -> Bool {
    guard p < end && base[p] == format.first else { return false }
    if let second = format.second {
      guard p + 1 < end && base[p + 1] == second else { return false }
      p += 2
    } else {
      p += 1
    }
    return true
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
    // Timestamps are kept only if every line has one (checked after the read).
    emit(user, item, rating, timestamp)
    return nil
  }

  /// The most distinct users (or items) a file may hold: indices are Int32.
  static let maximumIDs = Int(Int32.max) - 1

  private static func intern(_ map: inout IDMap, _ field: Field) -> Int32? {
    if let unescaped = field.unescaped {
      return unescaped.withUnsafeBufferPointer { map.intern(bytes: $0) }
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


/// Where an id field lies in the line, and its value when it is a canonical decimal.
struct FastID {
  var start: Int
  var count: Int
  var numeric: Int?
}

/// The delimiter bytes of a file the fast path can read (one or two bytes, not whitespace).
struct FastLineFormat {
  let first: UInt8
  let second: UInt8?

  init?(_ delimiter: FieldDelimiter?) {
    switch delimiter {
    case .comma: (first, second) = (UInt8(ascii: ","), nil)
    case .tab: (first, second) = (9, nil)
    case .semicolon: (first, second) = (UInt8(ascii: ";"), nil)
    case .pipe: (first, second) = (UInt8(ascii: "|"), nil)
    case .doubleColon: (first, second) = (UInt8(ascii: ":"), UInt8(ascii: ":"))
    case .whitespace, nil: return nil
    }
  }

  /// 10^0 … 10^15, exact in `Double`.
  static let powersOfTen: [Double] = (0 ... 15).map { p in
    var x = 1.0
    for _ in 0 ..< p { x *= 10 }
    return x
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
