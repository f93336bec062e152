@_spi(Engine) import RatingData
import Testing

@Suite struct SparseMatrixTests {
  func randomRatings(users: Int, items: Int, count: Int, seed: UInt64) -> RatingSet {
    var rng = SeededGenerator(seed: seed)
    var u = IDMap()
    var i = IDMap()
    for n in 0 ..< users { u.intern("u\(n)") }
    for n in 0 ..< items { i.intern("i\(n)") }
    var seen = Set<Int>()
    var us: [Int32] = [], its: [Int32] = [], vs: [Float] = []
    while us.count < count {
      let a = rng.nextIndex(below: users), b = rng.nextIndex(below: items)
      if !seen.insert(a * items + b).inserted { continue }
      us.append(Int32(a)); its.append(Int32(b)); vs.append(Float(rng.nextIndex(below: 9)) / 2 + 1)
    }
    return RatingSet(users: u, items: i, userIndices: us, itemIndices: its, values: vs)
  }

  /// CSR and CSC hold exactly the dense matrix, rows sorted by column, for random shapes.
  @Test(arguments: [(1, 1, 1), (5, 3, 7), (30, 20, 150), (100, 7, 400)])
  func csrAndCscAgreeWithDense(users: Int, items: Int, count: Int) {
    let r = randomRatings(users: users, items: items, count: count, seed: UInt64(count))
    var dense = [Float?](repeating: nil, count: users * items)
    for n in 0 ..< r.count { dense[Int(r.userIndices[n]) * items + Int(r.itemIndices[n])] = r.values[n] }
    let m = (byUser: SparseRatingMatrix(r, .byUser), byItem: SparseRatingMatrix(r, .byItem))
    #expect(m.byUser.entryCount == count && m.byItem.entryCount == count)
    for u in 0 ..< users {
      let cols = m.byUser.columns[m.byUser.rowStart[u] ..< m.byUser.rowStart[u + 1]]
      #expect(Array(cols) == cols.sorted())
      for i in 0 ..< items {
        #expect(m.byUser.value(row: u, column: i) == dense[u * items + i])
        #expect(m.byItem.value(row: i, column: u) == dense[u * items + i])
      }
    }
  }

  /// The transpose of the rows by user is the rows by item built from the triplets, bit for
  /// bit (and back), on shapes with empty rows and columns, for thread counts that split the
  /// entries into several chunks.
  @Test(arguments: [(1, 1, 1), (9, 40, 30), (300, 50, 9_000), (2_000, 700, 200_000)], [1, 2, 3])
  func transposeEqualsTheOtherOrientation(shape: (users: Int, items: Int, count: Int), threads: Int) {
    let r = randomRatings(users: shape.users, items: shape.items, count: shape.count, seed: UInt64(shape.count))
    let byUser = SparseRatingMatrix(r, .byUser, threads: threads)
    let byItem = SparseRatingMatrix(r, .byItem, threads: threads)
    #expect(byUser.transposed(threads: threads) == byItem)
    #expect(byItem.transposed(threads: threads) == byUser)
  }

  /// Dedup and the rows by user from one ordering equal the two done separately, with and
  /// without repeated pairs.
  @Test(arguments: [(5, 4, 30), (40, 25, 600), (200, 90, 3000)])
  func oneOrderingGivesDedupAndRows(users: Int, items: Int, count: Int) {
    var rng = SeededGenerator(seed: UInt64(count))
    var u = IDMap()
    var i = IDMap()
    for n in 0 ..< users { u.intern("u\(n)") }
    for n in 0 ..< items { i.intern("i\(n)") }
    var us: [Int32] = [], its: [Int32] = [], vs: [Float] = []
    for n in 0 ..< count {
      us.append(Int32(rng.nextIndex(below: users)))
      its.append(Int32(rng.nextIndex(below: items)))
      vs.append(Float(n % 9) / 2 + 1)
    }
    let r = RatingSet(users: u, items: i, userIndices: us, itemIndices: its, values: vs)
    let (deduped, dropped) = r.removingDuplicates()
    let combined = r.removingDuplicatesWithRowsByUser()
    #expect(dropped > 0 || count <= 30)
    #expect(combined.dropped == dropped)
    #expect(triples(combined.ratings) == triples(deduped))
    #expect(combined.byUser == SparseRatingMatrix(deduped, .byUser))
    // Without repeats: the same set, and the same rows.
    let unique = deduped.removingDuplicatesWithRowsByUser()
    #expect(unique.dropped == 0 && triples(unique.ratings) == triples(deduped))
    #expect(unique.byUser == SparseRatingMatrix(deduped, .byUser))
  }

  @Test func duplicatesKeepTheLastRating() throws {
    let (r, _) = try RatingFileReader.parse(Array("a,x,1\nb,x,2\na,x,3\na,y,4\na,x,5\n".utf8), path: "d")
    let (deduped, dropped) = r.removingDuplicates()
    #expect(dropped == 2)
    #expect(triples(deduped) == ["b|x|2.0", "a|y|4.0", "a|x|5.0"])
  }

  /// SGD's duplicate check and seen index (one counting sort by user, items in file order, a
  /// marking scan) against a naive reference: the kept ratings are `removingDuplicates()`'s, and
  /// each user's row lists that user's kept items in file order; for 1–3 threads, with and
  /// without repeated pairs.
  @Test(arguments: [(7, 5, 30, 0), (60, 30, 1_000, 0), (60, 30, 1_000, 300), (2_000, 300, 150_000, 5_000)], [1, 2, 3])
  func itemsByUserInFileOrderMatchANaiveReference(shape: (Int, Int, Int, Int), threads: Int) {
    let (users, items, count, repeats) = shape
    var ratings = randomRatings(users: users, items: items, count: count, seed: UInt64(count + repeats))
    var rng = SeededGenerator(seed: 99)
    for _ in 0 ..< repeats {  // repeat some pairs later in the file with other values
      let n = rng.nextIndex(below: ratings.count)
      ratings.userIndices.append(ratings.userIndices[n])
      ratings.itemIndices.append(ratings.itemIndices[n])
      ratings.values.append(Float(rng.nextIndex(below: 5) + 1))
    }
    let result = ratings.removingDuplicatesWithItemsByUser(threads: threads)
    let reference = ratings.removingDuplicates()
    #expect(result.dropped == reference.dropped)
    #expect(result.ratings.userIndices == reference.ratings.userIndices)
    #expect(result.ratings.itemIndices == reference.ratings.itemIndices)
    #expect(result.ratings.values == reference.ratings.values)
    var rows = [[Int32]](repeating: [], count: users)
    for n in 0 ..< reference.ratings.count {
      rows[Int(reference.ratings.userIndices[n])].append(reference.ratings.itemIndices[n])
    }
    #expect(result.rowStart == [0] + rows.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1.count) })
    #expect(result.items == rows.flatMap { $0 })
  }

  @Test func holdoutIsAPartition() throws {
    let r = randomRatings(users: 50, items: 40, count: 1000, seed: 3)
    let (train, test) = try Splitting.holdout(r, fraction: 0.2, seed: 9)
    #expect(train.count + test.count == 1000)
    #expect(test.count > 120 && test.count < 280)
    let key = { (s: RatingSet, n: Int) in Int(s.userIndices[n]) * 40 + Int(s.itemIndices[n]) }
    let a = Set((0 ..< train.count).map { key(train, $0) })
    let b = Set((0 ..< test.count).map { key(test, $0) })
    #expect(a.isDisjoint(with: b) && a.union(b).count == 1000)
    let (again, _) = try Splitting.holdout(r, fraction: 0.2, seed: 9)
    #expect(again.values == train.values && again.userIndices == train.userIndices)
    #expect(throws: RatingDataError.self) { try Splitting.holdout(r, fraction: 1.5, seed: 1) }
  }

  @Test func syntheticDataIsSeededAndShapedAsAsked() throws {
    let c = SyntheticRatings.Configuration(users: 200, items: 1000, ratings: 5000, seed: 7, testFraction: 0.2)
    var lines: [String] = []
    try SyntheticRatings(c).generate { u, i, r, t, test in lines.append("\(u),\(i),\(r),\(t),\(test)") }
    var again: [String] = []
    try SyntheticRatings(c).generate { u, i, r, t, test in again.append("\(u),\(i),\(r),\(t),\(test)") }
    #expect(lines.count == 5000 && lines == again)
    let pairs = Set(lines.map { $0.split(separator: ",").prefix(2).joined(separator: ",") })
    #expect(pairs.count == 5000)  // no repeated (user, item)
    let ratings = lines.map { Double($0.split(separator: ",")[2])! }
    #expect(ratings.allSatisfy { (1 ... 5).contains($0) && $0 == $0.rounded() })
    let tests = lines.filter { $0.hasSuffix("true") }.count
    #expect(tests > 800 && tests < 1200)
    // Power-law activity: the busiest user has many times the median's ratings.
    var perUser: [Int: Int] = [:]
    for l in lines { perUser[Int(l.split(separator: ",")[0])!, default: 0] += 1 }
    let counts = perUser.values.sorted()
    #expect(counts.last! >= 5 * counts[counts.count / 2])
  }
}
