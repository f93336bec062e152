import Foundation
import MatrixFactorization
import RatingData
import Testing

/// A model from a newer mf whose algorithm this build does not know is refused with that
/// reason, not as "corrupt": the file is otherwise whole (its checksum is recomputed here after
/// the algorithm's name is changed in place).
@Suite struct ModelFileVersionTests {
  @Test func unknownAlgorithmIsCalledNewerNotCorrupt() throws {
    let ratings = RatingSet(triples: [("a", "x", 4), ("a", "y", 2), ("b", "x", 5), ("b", "z", 1), ("c", "y", 3)])
    var options = TrainingOptions.defaults(for: .sgd, rank: 2)
    options.epochs = 2
    let model = try Trainer.fit(ratings, options: options).model
    var bytes = try ModelFile.encode(model)
    let name = Array("\"algorithm\":\"sgd\"".utf8)
    let renamed = Array("\"algorithm\":\"zzz\"".utf8)
    var replaced = 0
    var j = 0
    while j + name.count <= bytes.count {
      if Array(bytes[j ..< j + name.count]) == name {
        bytes.replaceSubrange(j ..< j + name.count, with: renamed)
        replaced += 1
      }
      j += 1
    }
    #expect(replaced >= 1, "the summary names its algorithm")
    let crc = bytes[0 ..< bytes.count - 4].withUnsafeBytes { CRC32.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(bytes.count - 4 ..< bytes.count, with: $0) }
    #expect {
      _ = try ModelFile.decode(bytes)
    } throws: { error in
      "\(error)".contains("newer mf") && "\(error)".contains("zzz")
    }
  }
}
