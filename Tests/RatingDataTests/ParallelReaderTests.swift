@_spi(Engine) import RatingData
import Testing

/// The parallel reader and its fast path change speed, never results: each is checked against
/// the plain one-thread parse of the same bytes, on random files with every feature the reader
/// handles (headers, comments, blank lines, quotes, string and numeric ids, ids with leading
/// zeros, decimal, negative and exponent ratings, timestamps on some or all lines, spaces, the
/// three line endings, a missing final line break).
@Suite struct ParallelReaderTests {
  /// A random rating file; `lineEnding` nil mixes the three endings line by line.
  static func randomFile(seed: UInt64, lines: Int, lineEnding: String?, delimiter: String) -> String {
    var rng = SeededGenerator(seed: seed)
    func pick<T>(_ options: [T]) -> T { options[rng.nextIndex(below: options.count)] }
    let allTimestamps = rng.nextIndex(below: 2) == 0
    var text = rng.nextIndex(below: 2) == 0 ? "user\(delimiter)item\(delimiter)rating\(delimiter)time" : "# ratings"
    for _ in 0 ..< lines {
      let ending = lineEnding ?? pick(["\n", "\r\n", "\r"])
      text += ending
      switch rng.nextIndex(below: 40) {
      case 0: continue  // blank line
      case 1:
        text += "# a comment\(delimiter)with\(delimiter)fields"
        continue
      default: break
      }
      let user: String =
        switch rng.nextIndex(below: 10) {
        case 0: "u\(rng.nextIndex(below: 50))"
        case 1: "00\(rng.nextIndex(below: 50))"
        case 2: "\"q\(rng.nextIndex(below: 5))\""
        default: "\(rng.nextIndex(below: 300))"
        }
      let item: String =
        switch rng.nextIndex(below: 12) {
        case 0: "film \(rng.nextIndex(below: 20))"
        case 1: "\(rng.nextIndex(below: 2_000_000) + 1_000_000_000)"
        default: "\(rng.nextIndex(below: 500))"
        }
      let rating: String =
        switch rng.nextIndex(below: 8) {
        case 0: "\(rng.nextIndex(below: 10)).5"
        case 1: "-\(rng.nextIndex(below: 3))"
        case 2: "2.5e0"
        case 3: "\(rng.nextIndex(below: 5)).123456789"
        default: "\(rng.nextIndex(below: 5) + 1)"
        }
      let space = rng.nextIndex(below: 30) == 0 ? " " : ""
      text += space + user + delimiter + item + delimiter + rating
      if allTimestamps || rng.nextIndex(below: 3) == 0 {
        text += delimiter + "\(881_250_000 + rng.nextIndex(below: 1_000_000))"
      }
      text += space
    }
    if rng.nextIndex(below: 2) == 0 { text += lineEnding ?? "\n" }
    return text
  }

  static func serialOptions() -> RatingFileOptions {
    var options = RatingFileOptions(threads: 1)
    options.minimumChunkBytes = Int.max
    return options
  }

  /// Everything a read returns, for comparison (values bit for bit).
  static func digest(_ r: RatingSet, _ report: RatingFileReport) -> [String] {
    [
      r.users.ids.joined(separator: "|"), r.items.ids.joined(separator: "|"),
      r.userIndices.map(String.init).joined(separator: ","),
      r.itemIndices.map(String.init).joined(separator: ","),
      r.values.map { String($0.bitPattern) }.joined(separator: ","),
      r.timestamps.map(String.init).joined(separator: ","),
      "\(report.delimiter) \(report.hadHeader) \(report.skippedLines) \(report.firstSkipped) \(report.bytes)",
    ]
  }

  @Test(arguments: ["\n", "\r\n", "\r", nil] as [String?])
  func parallelReadEqualsSerialRead(lineEnding: String?) throws {
    for seed in 0 ..< 12 as Range<UInt64> {
      let delimiter = [",", "\t", "::", ";"][Int(seed) % 4]
      let text = Self.randomFile(
        seed: seed, lines: 50 + Int(seed) * 40, lineEnding: lineEnding, delimiter: delimiter)
      let bytes = Array(text.utf8)
      let serial = try RatingFileReader.parse(bytes, path: "f", options: Self.serialOptions())
      let expected = Self.digest(serial.ratings, serial.report)
      for threads in 1 ... 4 {
        for chunkBytes in [1, 7, 64, 500] {
          var options = RatingFileOptions(threads: threads)
          options.minimumChunkBytes = chunkBytes
          let parallel = try RatingFileReader.parse(bytes, path: "f", options: options)
          #expect(
            Self.digest(parallel.ratings, parallel.report) == expected,
            "seed \(seed), \(threads) threads, chunks of \(chunkBytes) bytes")
        }
      }
    }
  }

  /// The fast path (canonical numeric ids, plain decimals) gives what the general parser gives.
  @Test func fastPathEqualsGeneralParser() throws {
    for seed in 100 ..< 130 as Range<UInt64> {
      let text = Self.randomFile(seed: seed, lines: 200, lineEnding: nil, delimiter: [",", "\t", "::", "|"][Int(seed) % 4])
      var general = Self.serialOptions()
      general.fastPath = false
      let slow = try RatingFileReader.parse(Array(text.utf8), path: "f", options: general)
      let fast = try RatingFileReader.parse(Array(text.utf8), path: "f", options: Self.serialOptions())
      #expect(Self.digest(fast.ratings, fast.report) == Self.digest(slow.ratings, slow.report), "seed \(seed)")
    }
  }

  /// The fast path reads digit runs eight bytes at a time: ids and timestamps of every length
  /// from 1 to 21 digits (past the 18-digit limit, with leading zeros, followed by letters),
  /// near the end of the buffer or not, read as the general parser reads them.
  @Test func fastPathDigitRunsOfEveryLength() throws {
    var rng = SeededGenerator(seed: 7)
    func digits(_ n: Int) -> String {
      String((0 ..< n).map { _ in Character(String(rng.nextIndex(below: 10))) })
    }
    for trial in 0 ..< 40 {
      var lines: [String] = []
      for _ in 0 ..< 60 {
        let user = digits(1 + rng.nextIndex(below: 21)) + (rng.nextIndex(below: 12) == 0 ? "x" : "")
        let item = digits(1 + rng.nextIndex(below: 12))
        let time = rng.nextIndex(below: 4) == 0 ? "" : "," + digits(1 + rng.nextIndex(below: 21))
        lines.append("\(user),\(item),\(1 + rng.nextIndex(below: 5))\(time)")
      }
      // Every file length: the last line's fields end 0–8 bytes before the buffer does.
      let text = lines.joined(separator: "\n") + String(repeating: "\n", count: trial % 2)
      var general = Self.serialOptions()
      general.fastPath = false
      general.skipInvalid = true
      general.keepTimestamps = true
      var fastOptions = general
      fastOptions.fastPath = true
      let slow = try RatingFileReader.parse(Array(text.utf8), path: "f", options: general)
      let fast = try RatingFileReader.parse(Array(text.utf8), path: "f", options: fastOptions)
      #expect(Self.digest(fast.ratings, fast.report) == Self.digest(slow.ratings, slow.report), "trial \(trial)")
    }
  }

  /// A bad line in a later chunk is reported with its line number in the whole file, whichever
  /// thread read it; with `skipInvalid`, the skipped lines' numbers are the file's too.
  @Test func badLineInALaterChunkKeepsItsLineNumber() throws {
    var lines = (1 ... 2_000).map { "\($0 % 97),\($0 % 89),\($0 % 5 + 1)" }
    lines[1_499] = "7,8,not-a-number"
    lines[1_799] = "7"
    for ending in ["\n", "\r\n", "\r"] {
      let bytes = Array(lines.joined(separator: ending).utf8)
      for threads in 1 ... 4 {
        var options = RatingFileOptions(threads: threads)
        options.minimumChunkBytes = 100
        #expect(throws: RatingDataError.malformedLine(path: "f", line: 1_500, reason: "the rating 'not-a-number' is not a number")) {
          _ = try RatingFileReader.parse(bytes, path: "f", options: options)
        }
        options.skipInvalid = true
        let (r, report) = try RatingFileReader.parse(bytes, path: "f", options: options)
        #expect(r.count == 1_998)
        #expect(report.skippedLines == 2)
        let numbers = report.firstSkipped.compactMap { error -> Int? in
          if case .malformedLine(_, let line, _) = error { return line }
          return nil
        }
        #expect(numbers == [1_500, 1_800], "\(threads) threads")
      }
    }
  }

  /// The first data line decides the header and the delimiter even when blank and comment lines
  /// before it fill more than one chunk.
  @Test func headerAfterLongPreambleIsStillTheHeader() throws {
    let preamble = String(repeating: "# comment line\n\n", count: 200)
    let text = preamble + "user;item;rating\n" + (1 ... 300).map { "\($0);\($0 % 7);3\n" }.joined()
    for threads in 1 ... 4 {
      var options = RatingFileOptions(threads: threads)
      options.minimumChunkBytes = 50
      let (r, report) = try RatingFileReader.parse(Array(text.utf8), path: "f", options: options)
      #expect(report.hadHeader && report.delimiter == .semicolon)
      #expect(r.count == 300 && r.users.ids.first == "1")
    }
  }

  /// Timestamps are dropped when not asked for, and nothing else changes.
  @Test func timestampsOnlyWhenAsked() throws {
    let text = "1,2,3,100\n4,5,1,200\n"
    var options = RatingFileOptions(keepTimestamps: false)
    let (without, _) = try RatingFileReader.parse(Array(text.utf8), path: "f", options: options)
    options.keepTimestamps = true
    let (with, _) = try RatingFileReader.parse(Array(text.utf8), path: "f", options: options)
    #expect(without.timestamps.isEmpty && with.timestamps == [100, 200])
    #expect(without.values == with.values && without.userIndices == with.userIndices)
  }

  /// A numeric id first hashed (too large for the dense table) and later covered by the grown
  /// table keeps its index.
  @Test func idMapKeepsAnIndexWhenItsKeyMovesToTheDenseTable() {
    var map = IDMap()
    let early = map.intern("1500000")  // above 2^20: hashed while the map is small
    for key in 0 ..< 200_000 { map.intern(String(key)) }  // 8 × 200k > 1.5M: the table grows over it
    #expect(map.intern("1500000") == early)
    #expect(map.index(of: "1500000") == early)
    #expect(map.count == 200_001)
    #expect(map.index(of: "199999") == 200_000)
    #expect(map.index(of: "200000") == nil)
  }

  /// A whole file read through the memory map gives what parsing its bytes gives.
  @Test func mappedReadEqualsParse() throws {
    let text = Self.randomFile(seed: 7, lines: 3_000, lineEnding: "\n", delimiter: ",")
    let path = "/tmp/mf-mapped-\(UInt64.random(in: 0 ... .max)).csv"
    var file = try AtomicFileWriter(path: path)
    try file.write(text)
    try file.commit()
    defer { unlink(path) }
    var options = RatingFileOptions(threads: 2)
    options.minimumChunkBytes = 1_000
    let mapped = try RatingFileReader.read(path: path, options: options)
    let parsed = try RatingFileReader.parse(Array(text.utf8), path: path, options: Self.serialOptions())
    #expect(Self.digest(mapped.ratings, mapped.report) == Self.digest(parsed.ratings, parsed.report))
  }
}

#if canImport(Glibc)
  import Glibc
#endif
