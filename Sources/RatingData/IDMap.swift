import CRatingParser

/// A two-way map between raw ids (arbitrary strings from a file) and dense indices `0 ..< count`.
///
/// Dense indices are assigned in order of first appearance, and are what the factor tables are
/// indexed by: row `index(of: "42")` of the user table is user "42"'s embedding.
///
/// Decimal ids without leading zeros ("7", "1234") are keyed by their integer value, which makes
/// the common MovieLens-style file much faster to load; every other spelling ("007", "u17",
/// "ab-cd") is keyed by its string. The two key spaces cannot collide because an id is routed
/// by its spelling alone.
public struct IDMap: Sendable, Equatable {
  /// The raw id of each dense index.
  public private(set) var ids: [String] = []
  /// Direct-address table for small numeric keys: `denseIndex[key]` is the index, or −1.
  /// Ids in rating files are mostly small integers, and an array lookup is several times faster
  /// than hashing; keys too large for the table (see ``denseLimit``) go to `numericIndex`.
  private var denseIndex: [Int32] = []
  private var numericIndex: [Int: Int32] = [:]
  /// Every other id, keyed by its UTF-8 bytes.
  private var stringIndex = StringKeyTable()

  /// An empty map.
  public init() {}

  /// A map holding `ids` at indices `0 ..< ids.count`; duplicate ids are an error.
  public init(ids: [String]) throws(RatingDataError) {
    self.init()
    numericIndex.reserveCapacity(ids.count)
    for id in ids {
      let before = count
      let index = intern(id)
      if Int(index) != before { throw .duplicateID(id) }
    }
  }

  /// Number of distinct ids.
  public var count: Int { ids.count }

  /// The dense index of `id`, or `nil` if the id was never seen.
  public func index(of id: String) -> Int32? {
    var spelling = id
    return spelling.withUTF8 { bytes in
      if let key = IDMap.numericKey(bytes) { return numericIndex(of: key) }
      return stringIndex.value(for: bytes)
    }
  }

  /// The dense index of `id`, adding it if new.
  @discardableResult
  public mutating func intern(_ id: String) -> Int32 {
    var spelling = id
    return spelling.withUTF8 { bytes in
      if let key = IDMap.numericKey(bytes) { return internNumeric(key, spelling: id) }
      if let existing = stringIndex.value(for: bytes) { return existing }
      return insertString(bytes, spelling: id)
    }
  }

  /// The dense index of the id spelled by `bytes`, adding it if new; `nil` if the bytes are a
  /// new id that is not valid UTF-8.
  ///
  /// This is the loader's path: a seen id costs a hash and a byte comparison; only a new id is
  /// checked for UTF-8 and made into a `String`.
  @inline(__always)
  mutating func intern(bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
    if let key = IDMap.numericKey(bytes) {
      return internNumeric(key, spelling: nil)
    }
    return internString(bytes)
  }

  /// ``intern(bytes:)`` for bytes that are not a canonical decimal.
  @inline(__always)
  mutating func internString(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
    if let existing = stringIndex.value(for: bytes) { return existing }
    guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
    return insertString(bytes, spelling: text)
  }

  private mutating func insertString(_ bytes: UnsafeBufferPointer<UInt8>, spelling: String) -> Int32 {
    let index = Int32(ids.count)
    stringIndex.insert(bytes, value: index)
    ids.append(spelling)
    return index
  }

  @inline(__always)
  mutating func internNumeric(_ key: Int, spelling: String?) -> Int32 {
    if key < denseIndex.count {
      let existing = denseIndex[key]
      if existing >= 0 { return existing }
      let index = Int32(ids.count)
      denseIndex[key] = index
      ids.append(spelling ?? String(key))
      return index
    }
    return internNumericSlow(key, spelling: spelling)
  }

  /// A key beyond the dense table: grow the table if the key is small enough, else hash it.
  @inline(never)
  private mutating func internNumericSlow(_ key: Int, spelling: String?) -> Int32 {
    if key < denseLimit {
      growDenseIndex(toCover: key)
      return internNumeric(key, spelling: spelling)
    }
    if let existing = numericIndex[key] { return existing }
    let index = Int32(ids.count)
    numericIndex[key] = index
    ids.append(spelling ?? String(key))
    return index
  }

  /// The largest key the dense table may grow to cover: 2^20, or 8 slots per id seen, so the
  /// table costs at most a few times the id strings themselves (ids like 10-digit phone numbers
  /// stay hashed).
  private var denseLimit: Int { max(1 << 20, 8 * ids.count) }

  private mutating func growDenseIndex(toCover key: Int) {
    let newCount = min(max(key + 1, 2 * denseIndex.count, 1024), denseLimit)
    denseIndex.append(contentsOf: repeatElement(-1, count: newCount - denseIndex.count))
    // Keys hashed while the table was smaller move into it, so that each key lives in one place.
    if !numericIndex.isEmpty {
      for (k, index) in numericIndex where k < newCount { denseIndex[k] = index }
      numericIndex = numericIndex.filter { $0.key >= newCount }
    }
  }

  @inline(__always)
  private func numericIndex(of key: Int) -> Int32? {
    if key < denseIndex.count {
      let index = denseIndex[key]
      return index >= 0 ? index : nil
    }
    return numericIndex[key]
  }

  /// The integer an id is keyed by, if it is spelled as a canonical decimal of at most 18 digits.
  @inline(__always)
  static func numericKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    let n = bytes.count
    if n == 0 || n > 18 { return nil }
    if n > 1 && bytes[0] == UInt8(ascii: "0") { return nil }
    var value = 0
    for b in bytes {
      let d = b &- UInt8(ascii: "0")
      if d > 9 { return nil }
      value = value &* 10 &+ Int(d)
    }
    return value
  }

  /// Runs `body` with this map's direct-address table as the C line parser takes it
  /// (`mf_numeric_ids`: the table, the id count, the limit, and `newKeys`, room for `capacity`
  /// keys of the ids it adds), then adds those ids' spellings in order. The parser gives a new id
  /// the next index and writes it into the table, as ``internNumeric(_:spelling:)`` would; keys
  /// beyond the table it leaves to the Swift path, which grows the table or hashes them.
  mutating func withNumericTable<R>(
    newKeys: UnsafeMutablePointer<Int64>, capacity: Int, limit: Int, _ body: (inout mf_numeric_ids) -> R
  ) -> R {
    let known = ids.count
    var added = 0
    let result = denseIndex.withUnsafeMutableBufferPointer { table in
      var numeric = mf_numeric_ids(
        table: table.baseAddress, table_size: Int64(table.count), count: Int64(known), limit: Int64(limit),
        new_keys: newKeys, new_count: 0, new_capacity: Int64(capacity))
      let result = body(&numeric)
      added = Int(numeric.new_count)
      return result
    }
    for j in 0 ..< added { ids.append(String(newKeys[j])) }
    return result
  }

  /// Two maps are equal when they hold the same ids at the same indices.
  public static func == (lhs: IDMap, rhs: IDMap) -> Bool { lhs.ids == rhs.ids }
}
