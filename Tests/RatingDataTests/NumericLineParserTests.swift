import CRatingParser
@_spi(Engine) import RatingData
import Testing

/// The C side of the reader: the line count that sizes the columns, and the loop that reads the
/// common all-numeric line. Both are checked against independent references: a byte-by-byte
/// count, and the general (Swift) parser reading the same bytes.
@Suite struct NumericLineParserTests {
  /// The reader's line count, written out the slow way: a line ends at \n, at \r\n, at a lone
  /// \r, or at the end of non-empty bytes.
  static func naiveLineCount(_ bytes: [UInt8]) -> Int {
    var lines = 0
    var i = 0
    while i < bytes.count {
      var j = i
      while j < bytes.count && bytes[j] != 10 && bytes[j] != 13 { j += 1 }
      lines += 1
      if j < bytes.count && bytes[j] == 13 && j + 1 < bytes.count && bytes[j + 1] == 10 { j += 1 }
      i = j + 1
    }
    return lines
  }

  /// Random mixes of text and the three breaks, of lengths around the vector loop's steps (16
  /// bytes) and its counter flush (255 steps), counted whole and in pieces.
  @Test func lineCountMatchesNaiveCount() {
    var rng = SeededGenerator(seed: 11)
    let alphabet: [UInt8] = [UInt8(ascii: "a"), UInt8(ascii: ","), 10, 13]
    for trial in 0 ..< 300 {
      let length = trial < 100 ? trial : [4079, 4080, 4081, 4097, 8161, 9000, 20_000][trial % 7] + trial % 3
      // Some files mostly \r\n, some mostly lone \r, some mixed.
      let weights = [[8, 1, 1, 1], [8, 1, 0, 3], [4, 1, 3, 3]][trial % 3]
      let bytes = (0 ..< length).map { _ -> UInt8 in
        var pick = rng.nextIndex(below: weights.reduce(0, +))
        for (k, w) in weights.enumerated() {
          if pick < w { return alphabet[k] }
          pick -= w
        }
        return alphabet[0]
      }
      let expected = Self.naiveLineCount(bytes)
      bytes.withUnsafeBufferPointer { buffer in
        #expect(Int(mf_count_lines(buffer.baseAddress, Int64(buffer.count))) == expected, "trial \(trial)")
        for step in [1, 5, 64, 1000] {
          #expect(RatingFileReader.countLines(buffer, step: step) == expected, "trial \(trial), step \(step)")
        }
      }
    }
  }

  /// Files the C loop reads almost all of (numeric ids, thousands of new ids in one call, keys
  /// beyond the direct-address table, ids and timestamps at and past their digit limits,
  /// 15- and 16-digit ratings, the three line endings), parsed with the loop and without
  /// (`fastPath` off: the general parser alone), skipping malformed lines, with and without timestamps, on 1–3 threads and
  /// with the loop stopped every few bytes to release pages: every read is the same.
  @Test func numericLoopEqualsGeneralParser() throws {
    var rng = SeededGenerator(seed: 5)
    func digits(_ n: Int) -> String {
      String((0 ..< n).map { k in Character(String(k == 0 ? 1 + rng.nextIndex(below: 9) : rng.nextIndex(below: 10))) })
    }
    for trial in 0 ..< 16 {
      let ending = ["\n", "\r\n", "\r"][trial % 3]
      // The first trials have no line the loop stops at, so one call meets more new ids than
      // it has room for (and must stop and resume there).
      let clean = trial < 3
      var lines: [String] = []
      for n in 0 ..< 6_000 {
        // Mostly new users early on: more than one call's worth (4,096) of new ids.
        let user: String =
          switch clean ? 40 : rng.nextIndex(below: 40) {
          case 0: digits(18)
          case 1: digits(19)
          case 2: "0\(rng.nextIndex(below: 9))"
          case 3: "\(2_000_000 + rng.nextIndex(below: 5_000_000))"  // beyond the table at first
          // The first id makes the table cover a million keys at once, so that no table growth
          // interrupts the loop either.
          default: n == 0 ? "1000000" : "\(n < 5_000 ? n : rng.nextIndex(below: 5_000))"
          }
        let item = "\(rng.nextIndex(below: 3_000))"
        let rating: String =
          switch clean ? 12 : rng.nextIndex(below: 12) {
          case 0: "\(digits(8)).\(digits(7))"  // 15 digits
          case 1: "\(digits(8)).\(digits(8))"  // 16: the general parser's
          case 2: "-\(rng.nextIndex(below: 5)).5"
          case 3: "4."
          default: "\(1 + rng.nextIndex(below: 5))"
          }
        let time: String =
          switch clean ? 10 : rng.nextIndex(below: 10) {
          case 0: ""
          case 1: ",\(digits(18))"
          case 2: ",\(digits(19))"
          case 3: ",-\(digits(9))"
          default: ",\(digits(9))"
          }
        lines.append("\(user),\(item),\(rating)\(time)")
      }
      let bytes = Array((lines.joined(separator: ending) + (trial % 2 == 0 ? ending : "")).utf8)
      for keep in [false, true] {
        var general = ParallelReaderTests.serialOptions()
        general.fastPath = false
        general.keepTimestamps = keep
        general.skipInvalid = true  // 19-digit timestamps past Int64 are malformed lines
        let reference = try RatingFileReader.parse(bytes, path: "f", options: general)
        let expected = ParallelReaderTests.digest(reference.ratings, reference.report)
        for threads in 1 ... 3 {
          for releaseStep in [1 << 24, 97] {
            var options = RatingFileOptions(keepTimestamps: keep, threads: threads)
            options.minimumChunkBytes = 10_000
            options.releaseStepBytes = releaseStep
            options.skipInvalid = true
            let read = try RatingFileReader.parse(bytes, path: "f", options: options)
            #expect(
              ParallelReaderTests.digest(read.ratings, read.report) == expected,
              "trial \(trial), timestamps \(keep), \(threads) threads, release every \(releaseStep) bytes")
          }
        }
      }
    }
  }
}
