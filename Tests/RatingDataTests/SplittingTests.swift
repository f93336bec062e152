import RatingData
import Testing

@Suite struct SplittingTests {
  /// 30 users with 1…30 ratings each, timestamps increasing with the item number.
  func ladder() throws -> RatingSet {
    var text = ""
    for u in 1 ... 30 { for i in 1 ... u { text += "u\(u),i\(i),\(i % 5 + 1),\(1000 + i)\n" } }
    return try parse(text).0
  }

  @Test func perUserHoldoutKeepsEveryUserInTraining() throws {
    let all = try ladder()
    let (train, test) = try Splitting.perUserHoldout(all, fraction: 0.2, seed: 4)
    #expect(train.count + test.count == all.count)
    var trainCount = [Int](repeating: 0, count: all.users.count)
    var testCount = [Int](repeating: 0, count: all.users.count)
    for u in train.userIndices { trainCount[Int(u)] += 1 }
    for u in test.userIndices { testCount[Int(u)] += 1 }
    for u in 0 ..< all.users.count {
      let n = trainCount[u] + testCount[u]
      #expect(trainCount[u] >= 1)
      let expected = n < 2 ? 0 : min(n - 1, max(1, Int((0.2 * Double(n)).rounded())))
      #expect(testCount[u] == expected, "user \(all.users.ids[u]) with \(n) ratings")
    }
    // No pair on both sides.
    let trainPairs = Set(zip(train.userIndices, train.itemIndices).map { [$0, $1] })
    #expect(zip(test.userIndices, test.itemIndices).allSatisfy { !trainPairs.contains([$0, $1]) })
    // Seeded: the same seed gives the same split, another seed another one.
    #expect(try Splitting.perUserHoldout(all, fraction: 0.2, seed: 4).test.itemIndices == test.itemIndices)
    #expect(try Splitting.perUserHoldout(all, fraction: 0.2, seed: 5).test.itemIndices != test.itemIndices)
  }

  @Test func leaveLastOutTakesTheLatest() throws {
    let all = try ladder()
    let (train, test) = try Splitting.leaveLastOut(all)
    #expect(test.count == 29)  // every user but the one with a single rating
    for n in 0 ..< test.count {
      let user = test.users.ids[Int(test.userIndices[n])]
      #expect(test.items.ids[Int(test.itemIndices[n])] == "i\(user.dropFirst())")
    }
    #expect(train.count == all.count - 29)
    let untimed = try parse("a,x,1\na,y,2\n").0
    #expect(throws: RatingDataError.self) { try Splitting.leaveLastOut(untimed) }
  }

  @Test func writerRoundTripsThroughTheReader() throws {
    let original = try parse("\"a,b\",x,4,10\nc,\"y \"\"q\"\"\",2.5,11\nc,z,-1,12\n").0
    let text = RatingFileWriter.csv(original)
    let back = try parse(text).0
    #expect(back.users.ids == original.users.ids)
    #expect(back.items.ids == original.items.ids)
    #expect(back.values == original.values)
    #expect(back.timestamps == original.timestamps)
  }

  @Test func filterKeepsValuesAtLeastTheMinimum() throws {
    let all = try ladder()
    let liked = all.filtered(minimumValue: 4)
    #expect(liked.values.allSatisfy { $0 >= 4 })
    #expect(liked.count == all.values.filter { $0 >= 4 }.count)
  }
}
