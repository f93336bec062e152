import Foundation
import RatingData
import Testing

func parse(_ text: String, _ options: RatingFileOptions = .init()) throws(RatingDataError) -> (RatingSet, RatingFileReport) {
  let (r, report) = try RatingFileReader.parse(Array(text.utf8), path: "test.csv", options: options)
  return (r, report)
}

/// The ratings as (user id, item id, value) triples in file order.
func triples(_ r: RatingSet) -> [String] {
  (0 ..< r.count).map { n in
    "\(r.users.ids[Int(r.userIndices[n])])|\(r.items.ids[Int(r.itemIndices[n])])|\(r.values[n])"
  }
}

@Suite struct RatingFileReaderTests {
  @Test func csvWithHeaderAndTimestamps() throws {
    let (r, report) = try parse("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n7,31,4.5,1260759182\n")
    #expect(report.hadHeader)
    #expect(report.delimiter == .comma)
    #expect(triples(r) == ["1|31|2.5", "1|1029|3.0", "7|31|4.5"])
    #expect(r.timestamps == [1_260_759_144, 1_260_759_179, 1_260_759_182])
    #expect(r.users.count == 2 && r.items.count == 2)
  }

  @Test func csvWithoutHeaderOrTimestamps() throws {
    let (r, report) = try parse("1,2,3\n4,5,1\n")
    #expect(!report.hadHeader)
    #expect(triples(r) == ["1|2|3.0", "4|5|1.0"])
    #expect(r.timestamps.isEmpty)
  }

  @Test func movieLens100KTabSeparated() throws {
    let (r, report) = try parse("196\t242\t3\t881250949\n186\t302\t3\t891717742\n")
    #expect(report.delimiter == .tab)
    #expect(triples(r) == ["196|242|3.0", "186|302|3.0"])
  }

  @Test func movieLens1MDoubleColon() throws {
    let (r, report) = try parse("1::1193::5::978300760\r\n1::661::3::978302109\r\n")
    #expect(report.delimiter == .doubleColon)
    #expect(triples(r) == ["1|1193|5.0", "1|661|3.0"])
  }

  /// Every line ending reads the same: \n, \r\n and a lone \r (old Mac files, which used to read
  /// as one line holding no ratings), also mixed, with and without a final line break.
  @Test(arguments: ["\n", "\r\n", "\r"])
  func everyLineEndingReadsTheSame(ending: String) throws {
    let lines = ["user,item,rating", "1,31,2.5", "1,1029,3.0", "", "7,31,4.5"]
    for text in [lines.joined(separator: ending) + ending, lines.joined(separator: ending)] {
      let (r, report) = try parse(text)
      #expect(report.hadHeader)
      #expect(triples(r) == ["1|31|2.5", "1|1029|3.0", "7|31|4.5"], "ending \(Array(ending.utf8))")
    }
    let (mixed, _) = try parse("1,31,2.5\r1,1029,3.0\r\n7,31,4.5\n8,9,1\r")
    #expect(triples(mixed) == ["1|31|2.5", "1|1029|3.0", "7|31|4.5", "8|9|1.0"])
  }

  /// A bad line in a file with lone \r endings is reported with its own line number.
  @Test func badLineNumberWithCarriageReturnEndings() throws {
    do {
      _ = try parse("1,31,2.5\r1,1029,3.0\r7,31,four\r8,9,1\r")
      Issue.record("expected an error")
    } catch {
      #expect(error == .malformedLine(path: "test.csv", line: 3, reason: "the rating 'four' is not a number"))
    }
  }

  @Test func stringIDsQuotesBlankLinesAndComments() throws {
    let text =
      "# exported ratings\nuser,item,rating\n\nalice,\"The Matrix, 1999\",4.5\n"
      + "bob,\"say \"\"hi\"\"\",-1e0\n  carol , 007 , 3.\n"
    let (r, report) = try parse(text)
    #expect(report.hadHeader)
    #expect(triples(r) == ["alice|The Matrix, 1999|4.5", "bob|say \"hi\"|-1.0", "carol|007|3.0"])
  }

  @Test func delimiterCanBeForced() throws {
    let (r, _) = try parse("a;b;1\n", RatingFileOptions(delimiter: .semicolon))
    #expect(triples(r) == ["a|b|1.0"])
    let (w, _) = try parse("a   b\t 2\n", RatingFileOptions(delimiter: .whitespace))
    #expect(triples(w) == ["a|b|2.0"])
  }

  @Test func implicitPairsGetValueOne() throws {
    let (r, _) = try parse("u1,i1\nu2,i1\n", RatingFileOptions(requireRating: false))
    #expect(triples(r) == ["u1|i1|1.0", "u2|i1|1.0"])
  }

  @Test(arguments: [
    ("1,2,3\n1,2\n", 2, "missing the rating field"),
    ("1,2,3\n4\n", 2, "missing the item field"),
    ("1,2,3\n1,2,abc\n", 2, "the rating 'abc' is not a number"),
    ("1,2,3\n1,2,3\n1,2,nan\n", 3, "not a finite number"),
    ("1,2,inf\n", 1, "not a finite number"),
    ("1,2,1e39\n", 1, "not a finite number"),
    ("1,2,3\n,2,3\n", 2, "the user id is empty"),
    ("1,2,3\n1,2,3,yesterday\n", 2, "the timestamp 'yesterday' is not a number"),
    ("1,\"2,3\n", 1, "a quoted field is not closed"),
  ])
  func malformedLinesNameFileLineAndReason(text: String, line: Int, reason: String) {
    do {
      _ = try parse(text)
      Issue.record("expected an error")
    } catch {
      guard case .malformedLine(let path, let l, let why) = error else {
        Issue.record("wrong error \(error)")
        return
      }
      #expect(path == "test.csv")
      #expect(l == line)
      #expect(why.contains(reason), "\(why)")
      #expect(error.description.hasPrefix("test.csv, line \(line): "))
    }
  }

  @Test func emptyFilesAreErrors() {
    for text in ["", "\n\n", "# only a comment\n", "user,item,rating\n"] {
      #expect(throws: RatingDataError.empty(path: "test.csv")) { _ = try parse(text) }
    }
  }

  @Test func skipInvalidCountsAndContinues() throws {
    let (r, report) = try parse("1,2,3\nbad\n1,3,x\n2,2,4\n", RatingFileOptions(skipInvalid: true))
    #expect(triples(r) == ["1|2|3.0", "2|2|4.0"])
    #expect(report.skippedLines == 2)
    #expect(report.firstSkipped.first == .malformedLine(path: "test.csv", line: 2, reason: "missing the item field (expected user,item,rating)"))
  }

  @Test func missingFileIsReadable() {
    do {
      _ = try RatingFileReader.read(path: "/nonexistent/ratings.csv")
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "cannot read '/nonexistent/ratings.csv': No such file or directory")
    }
  }

  /// Random bytes never crash the reader: they parse, or fail with a line-numbered error.
  @Test func arbitraryBytesNeverCrash() {
    var s: UInt64 = 12345
    let alphabet = Array("0123456789,.\t:;\"\n\r -eEnaIf#xé".utf8) + [0, 0xFF, 0xC3]
    for trial in 0 ..< 3000 {
      let length = trial % 80
      var bytes: [UInt8] = []
      for _ in 0 ..< length {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        bytes.append(alphabet[Int(s >> 33) % alphabet.count])
      }
      do {
        let (r, _) = try RatingFileReader.parse(bytes, path: "fuzz", options: .init(skipInvalid: trial % 2 == 0))
        #expect(r.count > 0)
        #expect(r.values.allSatisfy { $0.isFinite })
      } catch {
        switch error {
        case .malformedLine(_, let line, _): #expect(line >= 1)
        case .empty: break
        default: Issue.record("unexpected \(error)")
        }
      }
    }
  }

  /// The fast number parser agrees with the C library on random decimals.
  @Test func numberParsingMatchesStrtod() throws {
    var s: UInt64 = 99
    for _ in 0 ..< 2000 {
      s = s &* 6364136223846793005 &+ 1442695040888963407
      let whole = Int(s >> 40) % 100_000
      let fraction = Int(s >> 20) % 10_000
      let exponent = Int(s >> 8) % 9 - 4
      let text = "\(whole).\(fraction)e\(exponent)"
      let (r, _) = try parse("u,i,\(text)\n")
      #expect(r.values[0] == Float(strtod(text, nil)), "\(text)")
    }
  }
}

@Suite struct IDMapTests {
  @Test func numericAndStringIDsAreDistinctAndStable() throws {
    var map = IDMap()
    #expect(map.intern("7") == 0)
    #expect(map.intern("007") == 1)
    #expect(map.intern("u7") == 2)
    #expect(map.intern("7") == 0)
    #expect(map.index(of: "007") == 1)
    #expect(map.index(of: "8") == nil)
    #expect(map.ids == ["7", "007", "u7"])
    let rebuilt = try IDMap(ids: map.ids)
    #expect(rebuilt == map)
    #expect(rebuilt.index(of: "u7") == 2)
    #expect(throws: RatingDataError.duplicateID("7")) { try IDMap(ids: ["7", "x", "7"]) }
  }

  @Test func fileIDsMapToFirstAppearanceOrder() throws {
    let (r, _) = try parse("b,x,1\na,y,2\nb,y,3\n")
    #expect(r.users.ids == ["b", "a"])
    #expect(r.items.ids == ["x", "y"])
    #expect(r.userIndices == [0, 1, 0])
    #expect(r.itemIndices == [0, 1, 1])
  }
}
