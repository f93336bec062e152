import Foundation
import RatingData
import Testing

/// The generator's shape knobs (bias spreads, Zipf exponents, half stars) and the promise that
/// the defaults still write the same bytes as before the knobs existed.
@Suite struct SyntheticRatingsTests {
  /// (user, item, rating, isTest) of every generated line.
  func lines(_ c: SyntheticRatings.Configuration) throws -> [(Int, Int, Double, Bool)] {
    var out: [(Int, Int, Double, Bool)] = []
    try SyntheticRatings(c).generate { u, i, r, _, test in out.append((u, i, r, test)) }
    return out
  }

  /// Population standard deviation of the mean rating per key, over keys with at least 30
  /// ratings (so that a mean is precise enough to show a planted bias).
  func spreadOfMeans(_ rows: [(Int, Int, Double, Bool)], by key: (Int, Int) -> Int) -> Double {
    var sums: [Int: (Double, Int)] = [:]
    for (u, i, r, _) in rows { sums[key(u, i), default: (0, 0)].0 += r; sums[key(u, i)]!.1 += 1 }
    let means = sums.values.filter { $0.1 >= 30 }.map { $0.0 / Double($0.1) }
    let mean = means.reduce(0, +) / Double(means.count)
    return (means.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(means.count)).squareRoot()
  }

  /// 64-bit FNV-1a of a file's bytes.
  func fnv1a(_ path: String) throws -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in try Data(contentsOf: URL(fileURLWithPath: path)) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }

  @Test func defaultsWriteTheSameFilesAsBefore() throws {
    // `mf synth --ratings 5000 --users 2000 --items 400 --output e.csv --test-output
    // e-test.csv`, recorded with the binary before the bias-spread, exponent and half-star
    // options were added (md5 150803d2… and 8e1889f7…).
    let c = SyntheticRatings.Configuration(users: 2000, items: 400, ratings: 5000)
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("mf-synth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let train = folder.appendingPathComponent("e.csv").path
    let test = folder.appendingPathComponent("e-test.csv").path
    let counts = try SyntheticRatings(c).write(trainPath: train, testPath: test)
    #expect(counts.train == 4547 && counts.test == 453)
    let head = try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n").prefix(3)
    #expect(head == ["user,item,rating,timestamp", "1,41,2,956453072", "1,27,5,956454077"])
    #expect(try fnv1a(train) == 0x7928_3e60_d629_f358)
    #expect(try fnv1a(test) == 0x77be_2d5f_40c2_f099)
  }

  @Test func zeroBiasSpreadPlantsNoBiases() throws {
    // Uniform activity, so every user has about 100 ratings and a user's mean is precise.
    var c = SyntheticRatings.Configuration(
      users: 300, items: 2000, ratings: 30000, seed: 3, userExponent: 0, testFraction: 0)
    let biased = try lines(c)
    c.userBiasSpread = 0
    c.itemBiasSpread = 0
    let flat = try lines(c)
    // The spreads change the ratings and nothing else: the same (user, item) pairs.
    #expect(biased.map { "\($0.0),\($0.1)" } == flat.map { "\($0.0),\($0.1)" })
    let userSpread = (spreadOfMeans(biased) { u, _ in u }, spreadOfMeans(flat) { u, _ in u })
    let itemSpread = (spreadOfMeans(biased) { _, i in i }, spreadOfMeans(flat) { _, i in i })
    #expect(userSpread.0 > 0.3, "planted user biases have a spread of 0.35")
    #expect(userSpread.1 < 0.5 * userSpread.0, "\(userSpread)")
    #expect(itemSpread.0 > 0.4, "planted item biases have a spread of 0.45")
    #expect(itemSpread.1 < 0.5 * itemSpread.0, "\(itemSpread)")
  }

  @Test func sparseHalfStarShape() throws {
    // The accuracy suite's "very sparse" set: 28,000 ratings over 9,600 users and 3,600 items.
    let c = SyntheticRatings.Configuration(
      users: 9600, items: 3600, ratings: 28000, userExponent: 0.5, halfStars: true)
    #expect(c.ratingRange == 0.5 ... 5)
    let rows = try lines(c)
    #expect(rows.count == 28000)
    var perUser = [Int](repeating: 0, count: c.users + 1)
    var perItem: [Int: Int] = [:]
    for (u, i, _, _) in rows {
      perUser[u] += 1
      perItem[i, default: 0] += 1
    }
    let users = perUser.dropFirst().sorted()
    #expect(users.first! >= 1)
    #expect(users[users.count / 2] <= 3, "median ratings per user \(users[users.count / 2])")
    let rare = perItem.values.filter { $0 < 10 }.count
    #expect(Double(rare) > 0.7 * Double(perItem.count), "\(rare) of \(perItem.count) items < 10")
    #expect(rows.allSatisfy { (0.5 ... 5).contains($0.2) && ($0.2 * 2) == ($0.2 * 2).rounded() })
    #expect(rows.contains { $0.2 != $0.2.rounded() }, "some ratings are half stars")
    #expect(rows.contains { $0.2 == 0.5 } && rows.contains { $0.2 == 5 })
  }

  @Test func halfStarsAreWrittenWithOneDecimal() throws {
    let c = SyntheticRatings.Configuration(users: 50, items: 200, ratings: 2000, halfStars: true)
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("mf-synth-half-\(UUID().uuidString).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try SyntheticRatings(c).write(trainPath: path, testPath: nil)
    let values = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
      .map { String($0.split(separator: ",")[2]) }
    let allowed = Set(["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"])
    #expect(values.count == 2000 && values.allSatisfy { allowed.contains($0) })
  }

  @Test func shapesThatCannotBeMadeAreRefused() {
    func refused(_ c: SyntheticRatings.Configuration) -> Bool {
      (try? SyntheticRatings(c)) == nil
    }
    // Fewer ratings than users used to loop forever: each user gets at least one rating.
    #expect(refused(.init(users: 500, items: 100, ratings: 100)))
    #expect(refused(.init(users: 10, items: 20, ratings: 101)))  // > 10 × 20/2
    #expect(refused(.init(users: 10, items: 100, ratings: 100, userBiasSpread: -0.1)))
    #expect(refused(.init(users: 10, items: 100, ratings: 100, itemExponent: .nan)))
    #expect(!refused(.init(users: 10, items: 20, ratings: 100)))
  }
}
