/// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG), used to detect corrupt model files.
package enum CRC32 {
  /// Slicing-by-8 tables (Kounavis & Berry 2005): `tables[k][b]` is the CRC of byte b followed
  /// by k zero bytes, so eight bytes are folded per step with eight independent lookups instead
  /// of eight dependent ones (about 4× the byte-at-a-time speed; a model file is mostly floats
  /// and ids, and writing a 100 MB model was spending a quarter of its time here).
  private static let tables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0 ..< 256 {
      var c = UInt32(n)
      for _ in 0 ..< 8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
      t[n] = c
    }
    for k in 1 ..< 8 {
      for n in 0 ..< 256 {
        let previous = t[(k - 1) * 256 + n]
        t[k * 256 + n] = t[Int(previous & 0xFF)] ^ (previous >> 8)
      }
    }
    return t
  }()

  /// The checksum of `bytes`, continuing from `crc` (start with 0).
  package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    var c = ~crc
    tables.withUnsafeBufferPointer { t in
      var i = 0
      let n = bytes.count
      while i + 8 <= n {
        let low = bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ c
        let high = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
        c = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
          ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
          ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
          ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
        i += 8
      }
      while i < n {
        c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
        i += 1
      }
    }
    return ~c
  }
}
