import Foundation
@_spi(Engine) import RatingData
import Testing

/// Reader errors and edge cases that no other test reaches: each input below used to be
/// untested, so a change that broke its handling would have passed the suite.
@Suite struct ReaderHardeningTests {
  /// The reason of the one malformed line in `bytes`, or nil when they parse.
  func reason(_ bytes: [UInt8]) -> (line: Int, reason: String)? {
    do {
      _ = try RatingFileReader.parse(bytes, path: "t.csv")
      return nil
    } catch {
      guard case .malformedLine(_, let line, let why) = error else {
        Issue.record("expected a malformed line, got \(error)")
        return nil
      }
      return (line, why)
    }
  }

  @Test func emptyItemIDIsNamed() {
    let r = reason(Array("1,2,3\n1,,3\n".utf8))
    #expect(r?.line == 2 && r?.reason == "the item id is empty", "\(String(describing: r))")
    // Quoted and empty is empty too.
    #expect(reason(Array("1,\"\",3\n".utf8))?.reason == "the item id is empty")
  }

  /// Bytes that are not UTF-8 in an id stop the read at their line; in a rating they are just
  /// not a number. Both plain and quoted (escaped) fields are checked.
  @Test(arguments: [
    [UInt8]("u1,i1,3\nu".utf8) + [0xFF] + Array(",i2,4\n".utf8),
    [UInt8]("u1,i1,3\nu2,i".utf8) + [0xC3, 0x28] + Array(",4\n".utf8),
    [UInt8]("u1,i1,3\n\"a\"\"".utf8) + [0xE2, 0x82] + Array("\",i2,4\n".utf8),
  ])
  func invalidUTF8InAnIDIsNamed(bytes: [UInt8]) {
    let r = reason(bytes)
    #expect(r?.line == 2 && r?.reason == "an id is not valid UTF-8", "\(String(describing: r))")
  }

  @Test func aDirectoryIsNotARatingFile() throws {
    let folder = NSTemporaryDirectory() + "mf-dir-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let error = #expect(throws: RatingDataError.self) { try RatingFileReader.read(path: folder) }
    #expect(error == .unreadable(path: folder, reason: "it is a directory"))
    #expect(error?.description == "cannot read '\(folder)': it is a directory")
  }

  /// A UTF-8 byte-order mark at the start of the file is skipped: it is not part of the first
  /// id, and a header after it is still recognized. Anywhere else it is part of the field.
  @Test func byteOrderMarkAtTheStartIsSkipped() throws {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let (plain, _) = try RatingFileReader.parse(bom + Array("7,31,4\n8,31,2\n".utf8), path: "t")
    #expect(plain.users.ids == ["7", "8"])
    #expect(plain.users.index(of: "7") == 0)
    let (headed, report) = try RatingFileReader.parse(
      bom + Array("user,item,rating\nana,x,4\n".utf8), path: "t")
    #expect(report.hadHeader)
    #expect(headed.users.ids == ["ana"])
    // Only the file's start: a mark inside is kept as the id's own bytes.
    let (inside, _) = try RatingFileReader.parse(Array("a,x,1\n".utf8) + bom + Array("b,x,2\n".utf8), path: "t")
    #expect(inside.users.ids == ["a", "\u{FEFF}b"])
    // A file holding only the mark has no ratings.
    #expect(throws: RatingDataError.empty(path: "t")) { try RatingFileReader.parse(bom, path: "t") }
  }

  /// Ids of 19 and more digits do not fit the numeric fast path (18 digits at most): they are
  /// keyed by their spelling, stay distinct from their neighbours and from each other, and come
  /// back spelled as in the file, including values beyond Int64 and UInt64.
  @Test func longNumericIDsStayDistinctAndExact() throws {
    let ids = [
      "999999999999999999",  // 18 digits: numeric key
      "1000000000000000000",  // 19 digits: string key, one more than the above
      "9223372036854775807",  // Int64.max
      "9223372036854775808",  // Int64.max + 1
      "18446744073709551616",  // UInt64.max + 1
      "123456789012345678901234567890",
      "0123456789012345678",  // leading zero
    ]
    let text = ids.enumerated().map { "\($0.element),\($0.offset),\($0.offset + 1)" }.joined(separator: "\n")
    let (r, _) = try RatingFileReader.parse(Array(text.utf8), path: "t")
    #expect(r.users.ids == ids)
    for (n, id) in ids.enumerated() { #expect(r.users.index(of: id) == Int32(n), "\(id)") }
    #expect(r.users.index(of: "1000000000000000001") == nil)
    // The map rebuilt from its ids (as the model file does) is the same map.
    #expect(try IDMap(ids: r.users.ids) == r.users)
  }

  /// A file with a single user still reads as ratings (nothing assumes two users).
  @Test func singleUserFile() throws {
    let (r, _) = try RatingFileReader.parse(Array("solo,a,5\nsolo,b,1\nsolo,c,3\n".utf8), path: "t")
    #expect(r.users.count == 1 && r.items.count == 3 && r.count == 3)
  }

  /// A file whose ratings would not fit in the memory the process may use is refused after the
  /// line count, before its columns are allocated, with one sentence that names the sizes; the
  /// same file reads when the budget allows it (12 bytes a line, 20 with timestamps).
  @Test func columnsLargerThanTheMemoryBudgetAreRefused() throws {
    let bytes = Array((0 ..< 100).map { "\($0),\($0 % 7),4,100" }.joined(separator: "\n").utf8)
    var options = RatingFileOptions(keepTimestamps: false)
    options.memoryBudget = 1_000
    #expect(
      throws: RatingDataError.unreadable(
        path: "big.csv",
        reason: "its 100 lines need 2 KiB for their ratings, more than the 1 KiB of memory this process may use")
    ) { _ = try RatingFileReader.parse(bytes, path: "big.csv", options: options) }
    options.memoryBudget = 100 * 12 - 1
    #expect(throws: RatingDataError.self) { _ = try RatingFileReader.parse(bytes, path: "big.csv", options: options) }
    options.memoryBudget = 100 * 12
    #expect(try RatingFileReader.parse(bytes, path: "big.csv", options: options).ratings.count == 100)
    options.keepTimestamps = true
    #expect(throws: RatingDataError.self) { _ = try RatingFileReader.parse(bytes, path: "big.csv", options: options) }
    options.memoryBudget = 100 * 20
    #expect(try RatingFileReader.parse(bytes, path: "big.csv", options: options).ratings.timestamps.count == 100)
  }
}
