/// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG), used to detect corrupt model files.
package enum CRC32 {
  private static let table: [UInt32] = (0 ..< 256).map { n in
    var c = UInt32(n)
    for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// The checksum of `bytes`, continuing from `crc` (start with 0).
  package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    var c = ~crc
    table.withUnsafeBufferPointer { t in
      for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    }
    return ~c
  }
}
