import MatrixFactorization
import RatingData
import Testing

/// The model file's checksum: the standard check value, and the slicing-by-8 loop against the
/// textbook bit-at-a-time definition on every length and alignment of random data.
@Suite struct CRC32Tests {
  /// Bit-at-a-time CRC-32 (reflected, polynomial 0xEDB88320), the definition.
  static func reference(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      c ^= UInt32(b)
      for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
  }

  @Test func checkValue() {
    #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
  }

  @Test func slicingEqualsTheDefinition() {
    var rng = SeededGenerator(seed: 32)
    let data = (0 ..< 300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    for start in 0 ..< 9 {
      for end in start ... data.count where (end - start) % 7 == 0 || end - start < 20 {
        let slice = data[start ..< end]
        let fast = slice.withUnsafeBytes { CRC32.checksum($0) }
        #expect(fast == Self.reference(slice), "bytes \(start)..<\(end)")
      }
    }
    // Continuing a checksum equals checksumming the concatenation.
    let first = data[0 ..< 123].withUnsafeBytes { CRC32.checksum($0) }
    let both = data[123...].withUnsafeBytes { CRC32.checksum($0, continuing: first) }
    #expect(both == Self.reference(data[...]))
  }
}
