/// Ratings as coordinate triplets (user, item, rating), stored as parallel arrays.
///
/// Indices are dense (see ``IDMap``). This is the form the loader produces and the splitter and
/// the SGD solver consume; ``SparseRatingMatrix/init(_:_:values:)`` gives row or column access.
public struct RatingSet: Sendable {
  /// Raw user ids by dense index.
  public var users: IDMap
  /// Raw item ids by dense index.
  public var items: IDMap
  /// Dense user index of each rating.
  public var userIndices: [Int32]
  /// Dense item index of each rating.
  public var itemIndices: [Int32]
  /// The rating values.
  public var values: [Float]
  /// Timestamps, when the file had them (same length as `values`), else empty.
  public var timestamps: [Int64]

  /// Ratings over the given id maps.
  public init(
    users: IDMap, items: IDMap, userIndices: [Int32], itemIndices: [Int32], values: [Float],
    timestamps: [Int64] = []
  ) {
    precondition(userIndices.count == values.count && itemIndices.count == values.count)
    precondition(timestamps.isEmpty || timestamps.count == values.count)
    self.users = users
    self.items = items
    self.userIndices = userIndices
    self.itemIndices = itemIndices
    self.values = values
    self.timestamps = timestamps
  }

  /// Number of ratings.
  public var count: Int { values.count }

  /// The mean rating (0 for an empty set), accumulated in `Double`.
  public var mean: Double {
    if values.isEmpty { return 0 }
    var sum = 0.0
    for v in values { sum += Double(v) }
    return sum / Double(values.count)
  }

  /// The smallest and largest rating.
  public var valueRange: ClosedRange<Float> {
    guard var lo = values.first else { return 0 ... 0 }
    var hi = lo
    for v in values {
      lo = min(lo, v)
      hi = max(hi, v)
    }
    return lo ... hi
  }

  /// The ratings at `positions`, in that order, over the same id maps.
  public func subset(_ positions: [Int]) -> RatingSet {
    RatingSet(
      users: users, items: items,
      userIndices: positions.map { userIndices[$0] },
      itemIndices: positions.map { itemIndices[$0] },
      values: positions.map { values[$0] },
      timestamps: timestamps.isEmpty ? [] : positions.map { timestamps[$0] })
  }

  /// The set with repeated (user, item) pairs reduced to their **last** occurrence in file
  /// order (a later rating replaces an earlier one), and how many were dropped.
  public func removingDuplicates() -> (ratings: RatingSet, dropped: Int) {
    // Order by (user, item, position) with two stable counting sorts, then keep the last of
    // each run of equal pairs.
    let byItem = countingSortPermutation(keys: itemIndices, keyCount: items.count, order: nil)
    let byUserItem = countingSortPermutation(
      keys: userIndices, keyCount: users.count, order: byItem)
    var keep = [Bool](repeating: true, count: count)
    var dropped = 0
    for j in 1 ..< max(1, byUserItem.count) {
      let a = byUserItem[j - 1]
      let b = byUserItem[j]
      if userIndices[a] == userIndices[b] && itemIndices[a] == itemIndices[b] {
        // a precedes b in file order (the sorts are stable), so a is the one replaced.
        keep[a] = false
        dropped += 1
      }
    }
    if dropped == 0 { return (self, 0) }
    return (subset((0 ..< count).filter { keep[$0] }), dropped)
  }
}

extension RatingSet {
  /// ``removingDuplicates()`` and the rows by user of the result, from one ordering: the rows by
  /// user (items ascending, a repeated pair's copies side by side) are built on `threads`
  /// threads, and a scan of them finds whether any pair repeats. Only then (rare in rating
  /// files) are the duplicates removed and the rows rebuilt. The matrix equals
  /// `SparseRatingMatrix(result, .byUser)`.
  package func removingDuplicatesWithRowsByUser(threads: Int = 1) -> (
    ratings: RatingSet, dropped: Int, byUser: SparseRatingMatrix
  ) {
    let rows = SparseRatingMatrix(self, .byUser, threads: threads)
    if !Self.hasRepeatedColumn(rows.rowStart, rows.columns, threads: threads) {
      return (self, 0, rows)
    }
    let (result, dropped) = removingDuplicates()
    return (result, dropped, SparseRatingMatrix(result, .byUser, threads: threads))
  }

  /// ``removingDuplicates()`` and the result's index of items by user (row offsets and item
  /// indices, no values): what a solver that reads no rows by user still needs for the model.
  /// Each user's items are in file order (not sorted): one counting sort instead of two, and
  /// ``CompressedRows/hasRepeatedColumn(rowStart:columns:columnCount:threads:)`` finds a repeated
  /// pair without them sorted. Only when one exists (rare in rating files) are the duplicates
  /// removed and the index rebuilt.
  package func removingDuplicatesWithItemsByUser(threads: Int = 1) -> (
    ratings: RatingSet, dropped: Int, rowStart: [Int], items: [Int32]
  ) {
    var built = CompressedRows.group(
      keys: userIndices, keyCount: users.count, carrying: itemIndices, values: nil, threads: threads)
    var result = self
    var dropped = 0
    if CompressedRows.hasRepeatedColumn(
      rowStart: built.start, columns: built.carried, columnCount: items.count, threads: threads)
    {
      (result, dropped) = removingDuplicates()
      built = CompressedRows.group(
        keys: result.userIndices, keyCount: users.count, carrying: result.itemIndices, values: nil,
        threads: threads)
    }
    return (result, dropped, built.start, built.carried)
  }

  /// Whether some row of a compressed-row index (columns ascending within a row) holds a column
  /// twice — a repeated (user, item) pair, whose copies sort side by side.
  private static func hasRepeatedColumn(_ rowStart: [Int], _ columns: [Int32], threads: Int) -> Bool {
    rowStart.withUnsafeBufferPointer { start in
      columns.withUnsafeBufferPointer { columns in
        let entries = columns.count
        let (start, columns) = (ReadOnly(start.baseAddress), ReadOnly(columns.baseAddress))
        let rowCount = rowStart.count - 1
        let chunks = max(1, min(threads, entries / CompressedRows.entriesPerChunk))
        let found = Writable(UnsafeMutablePointer<Bool>.allocate(capacity: chunks))
        defer { found.base.deallocate() }
        CompressedRows.concurrent(chunks) { c in
          var any = false
          for u in c * rowCount / chunks ..< (c + 1) * rowCount / chunks {
            let (lo, hi) = (start.base![u], start.base![u + 1])
            if hi - lo < 2 { continue }
            for j in lo + 1 ..< hi where columns.base![j] == columns.base![j - 1] { any = true }
          }
          found.base[c] = any
        }
        return (0 ..< chunks).contains { found.base[$0] }
      }
    }
  }

  /// The set with repeated (user, item) pairs merged into one whose value is the **sum** of
  /// theirs (and whose timestamp is the latest), in order of first occurrence, and how many
  /// entries were merged away. This is how implicit feedback is counted: three `user,item` play
  /// lines are one pair with count 3.
  public func summingDuplicates() -> (ratings: RatingSet, merged: Int) {
    let byItem = countingSortPermutation(keys: itemIndices, keyCount: items.count, order: nil)
    let byUserItem = countingSortPermutation(keys: userIndices, keyCount: users.count, order: byItem)
    var total = values
    var latest = timestamps
    var keep = [Bool](repeating: true, count: count)
    var merged = 0
    var head = byUserItem.first ?? 0
    for j in 1 ..< max(1, byUserItem.count) {
      let b = byUserItem[j]
      if userIndices[head] == userIndices[b] && itemIndices[head] == itemIndices[b] {
        // `head` is the first occurrence in file order (the sorts are stable): it absorbs b.
        total[head] += values[b]
        if !latest.isEmpty { latest[head] = max(latest[head], latest[b]) }
        keep[b] = false
        merged += 1
      } else {
        head = b
      }
    }
    if merged == 0 { return (self, 0) }
    let positions = (0 ..< count).filter { keep[$0] }
    return (
      RatingSet(
        users: users, items: items, userIndices: positions.map { userIndices[$0] },
        itemIndices: positions.map { itemIndices[$0] }, values: positions.map { total[$0] },
        timestamps: latest.isEmpty ? [] : positions.map { latest[$0] }),
      merged
    )
  }

  /// The ratings whose value is at least `minimum` (e.g. 4 stars as "liked"), over the same
  /// id maps.
  public func filtered(minimumValue minimum: Float) -> RatingSet {
    subset((0 ..< count).filter { values[$0] >= minimum })
  }
}

/// The permutation that stably sorts `order` (or `0 ..< keys.count` when nil) by `keys[i]`.
func countingSortPermutation(keys: [Int32], keyCount: Int, order: [Int]?) -> [Int] {
  var start = [Int](repeating: 0, count: keyCount + 1)
  for k in keys { start[Int(k) + 1] += 1 }
  for k in 0 ..< keyCount { start[k + 1] += start[k] }
  var result = [Int](repeating: 0, count: keys.count)
  if let order {
    for i in order {
      let k = Int(keys[i])
      result[start[k]] = i
      start[k] += 1
    }
  } else {
    for i in 0 ..< keys.count {
      let k = Int(keys[i])
      result[start[k]] = i
      start[k] += 1
    }
  }
  return result
}

extension RatingSet {
  /// Ratings from raw (user, item, rating) triples, in order; ids are mapped to dense indices
  /// in order of first appearance, as the file reader does.
  ///
  ///     let ratings = RatingSet(triples: [("alice", "se7en", 5), ("bob", "se7en", 3)])
  public init(triples: [(user: String, item: String, rating: Float)]) {
    var users = IDMap()
    var items = IDMap()
    var userIndices: [Int32] = []
    var itemIndices: [Int32] = []
    var values: [Float] = []
    for (user, item, rating) in triples {
      userIndices.append(users.intern(user))
      itemIndices.append(items.intern(item))
      values.append(rating)
    }
    self.init(
      users: users, items: items, userIndices: userIndices, itemIndices: itemIndices,
      values: values)
  }
}
