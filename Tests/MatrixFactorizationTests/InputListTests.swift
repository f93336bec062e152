import MatrixFactorization
import Testing

/// The `--history` and `--items` parsers, and every input a fuzz target ever failed on
/// (Fuzz/fuzz.sh), kept as regression tests.
@Suite struct InputListTests {
  @Test func historyEntries() throws {
    let entries = try InputLists.parseHistory(" 50:5, 172 ,,181:1e0 , u: -2.5")
    #expect(entries.map(\.id) == ["50", "172", "181", "u"], "\(entries)")
    #expect(entries.map(\.value) == [5, nil, 1, -2.5], "\(entries)")
    // "a:b:2" splits at the first colon: id "a", value "b:2", which is not a number.
    #expect(throws: MFError.invalidParameter(.history, requirement: "entry 'a:b:2' is not item:number")) {
      try InputLists.parseHistory("a:b:2")
    }
    #expect(throws: MFError.self) { try InputLists.parseHistory("x:nan") }
    #expect(throws: MFError.self) { try InputLists.parseHistory("x:inf") }
    #expect(try InputLists.parseHistory("").isEmpty)
  }

  @Test func idListFirstFields() {
    let text = "# candidates\nitem\n\"50\",1\n 172\t2\n\n181\r\n"
    #expect(InputLists.parseIDList(Array(text.utf8)) == ["item", "50", "172", "181"])
  }

  /// Fuzz/.build/artifacts/id-list/crash-0e026771…: a line `\r,\n` gave the id ",", and a line
  /// starting with a separator gave its second field. Lines whose first field is empty are now
  /// skipped.
  @Test func idListFuzzRegression() {
    let crash: [UInt8] = [
      0x2D, 0xBB, 0xF8, 0x0D, 0x2C, 0x0A, 0x31, 0x37, 0x32, 0x09, 0x09, 0x31, 0x0A, 0x79, 0x4D,
      0x32, 0xFC, 0x0A, 0xDC, 0xDF, 0x9C, 0x90, 0x4A,
    ]
    let ids = InputLists.parseIDList(crash)
    #expect(ids.count == 4 && ids[0] == "-\u{FFFD}\u{FFFD}" && ids[1] == "172" && ids[2] == "yM2\u{FFFD}", "\(ids)")
    #expect(!ids.contains(","))
    #expect(InputLists.parseIDList(Array(",\n,x\n\t7\n\"\"\n".utf8)) == ["7"])
  }
}
