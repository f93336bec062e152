/// A hash table from byte strings to `Int32` values, looked up by raw bytes.
///
/// ``IDMap`` keys non-numeric ids here. A `[String: Int32]` lookup needs a `String`, so a reader
/// using one builds a string (an allocation, a UTF-8 check) for every id of every line; this
/// table hashes and compares the bytes where they lie in the file, and copies them only when a
/// key is new. Keys live back to back in one byte arena; the table is open addressing with
/// linear probing, at most half full, and keeps 32 bits of each key's hash beside its slot so
/// that a probe compares bytes only when the hashes match.
struct StringKeyTable: Sendable {
  /// Key j's bytes are `arena[keyStart[j] ..< keyStart[j + 1]]`.
  private var arena: [UInt8] = []
  private var keyStart: [Int] = [0]
  private var keyValue: [Int32] = []
  /// Slot → key number + 1 (0: empty).
  private var slots: [Int32] = []
  private var slotHash: [UInt32] = []

  var count: Int { keyValue.count }

  /// The value stored for `key`, or `nil`.
  @inline(__always)
  func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
    if slots.isEmpty { return nil }
    let h = Self.hash(key)
    return slots.withUnsafeBufferPointer { slots in
      slotHash.withUnsafeBufferPointer { hashes in
        arena.withUnsafeBufferPointer { arena in
          keyStart.withUnsafeBufferPointer { starts in
            let mask = slots.count - 1
            var s = Int(truncatingIfNeeded: h) & mask
            while true {
              let entry = Int(slots[s])
              if entry == 0 { return nil }
              if hashes[s] == UInt32(truncatingIfNeeded: h) {
                let j = entry - 1
                let (lo, hi) = (starts[j], starts[j + 1])
                if hi - lo == key.count
                  && (key.count == 0 || memcmp(arena.baseAddress! + lo, key.baseAddress!, key.count) == 0)
                {
                  return keyValue[j]
                }
              }
              s = (s + 1) & mask
            }
          }
        }
      }
    }
  }

  /// Stores `value` for `key`, which must not be in the table.
  mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value: Int32) {
    if 2 * (count + 1) > slots.count { grow() }
    arena.append(contentsOf: key)
    keyStart.append(arena.count)
    keyValue.append(value)
    place(count - 1, hash: Self.hash(key))
  }

  private mutating func place(_ j: Int, hash h: UInt64) {
    let mask = slots.count - 1
    var s = Int(truncatingIfNeeded: h) & mask
    while slots[s] != 0 { s = (s + 1) & mask }
    slots[s] = Int32(j + 1)
    slotHash[s] = UInt32(truncatingIfNeeded: h)
  }

  private mutating func grow() {
    let capacity = max(64, slots.count * 2)
    slots = [Int32](repeating: 0, count: capacity)
    slotHash = [UInt32](repeating: 0, count: capacity)
    for j in 0 ..< count {
      let h = arena.withUnsafeBufferPointer { arena in
        Self.hash(UnsafeBufferPointer(rebasing: arena[keyStart[j] ..< keyStart[j + 1]]))
      }
      place(j, hash: h)
    }
  }

  /// A 64-bit hash of the bytes, eight at a time (multiply–xorshift mixing, as in the
  /// finalizers of MurmurHash3 and SplitMix64). Not for adversarial input: ids come from the
  /// user's own file, and a collision costs a probe, never a wrong answer.
  @inline(__always)
  static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
    let raw = UnsafeRawBufferPointer(key)
    var i = 0
    while i + 8 <= key.count {
      h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 32
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < key.count {
      tail |= UInt64(key[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
  }
}

#if canImport(Glibc)
  import Glibc
#endif
