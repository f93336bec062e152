import Foundation
import MatrixFactorization
import Testing

/// The README's "Using mf from Swift" example, compiled and run here. The lines between the
/// markers below must be the README's code block (without its `import`), so the README cannot
/// drift from code that builds.
@Suite struct ReadmeExampleTests {
  /// Runs the example; returns what it printed.
  static func runExample() throws -> [String] {
    var printed: [String] = []
    func print(_ items: Any...) { printed.append(items.map { "\($0)" }.joined(separator: " ")) }
    // README example begin
    // Ratings as (user, item, rating) triples: ids are any strings; mf makes the id maps.
    let ratings = RatingSet(triples: [
      ("ana", "alien", 5), ("ana", "heat", 4), ("ana", "up", 1),
      ("ben", "alien", 4), ("ben", "heat", 5), ("ben", "coco", 2),
      ("cid", "up", 5), ("cid", "coco", 4), ("cid", "alien", 1),
      ("dee", "up", 4), ("dee", "coco", 5), ("dee", "heat", 2),
    ])
    var options = TrainingOptions.defaults(for: .als, rank: 2)
    options.epochs = 10
    options.als?.regularization = 0.1  // each algorithm's own settings live in their own type
    let model = try Trainer.fit(ratings, options: options).model

    let guess = model.predict(userID: "ana", itemID: "coco")  // unknown ids fall back to baselines
    print("ana → coco:", guess.value, guess.source)
    for item in model.recommend(userID: "ben", count: 2).items {  // leaves out what ben rated
      print("for ben:", item.id, item.score)
    }
    for item in try model.similarItems(toID: "alien", count: 2) {
      print("like alien:", item.id, item.score)
    }
    let embeddingOfAna = model.userFactors.row(Int(model.users.index(of: "ana")!))
    print("ana's embedding:", embeddingOfAna)
    // README example end
    return printed
  }

  /// The example runs and says what it should: ben has rated three of four items, so one is
  /// left to recommend; the prediction uses the model; ana's embedding has rank 2.
  @Test func exampleRunsAndAnswers() throws {
    let lines = try Self.runExample()
    #expect(lines.count == 1 + 1 + 2 + 1, "\(lines)")
    #expect(lines[0].hasPrefix("ana → coco:") && lines[0].hasSuffix("model"))
    #expect(lines[1] == lines.first { $0.hasPrefix("for ben:") })
    #expect(lines[1].hasPrefix("for ben: up "))
    #expect(lines.filter { $0.hasPrefix("like alien:") }.count == 2)
    #expect(lines.last?.hasPrefix("ana's embedding: [") == true)
  }

  /// The README's block is this file's example, line for line (indentation aside).
  @Test func readmeShowsThisExample() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let marker = "<!-- swift-example:"
    let afterMarker = try #require(readme.range(of: marker)).upperBound
    let fenceStart = try #require(readme.range(of: "```swift\n", range: afterMarker ..< readme.endIndex))
    let fenceEnd = try #require(readme.range(of: "\n```", range: fenceStart.upperBound ..< readme.endIndex))
    let block = readme[fenceStart.upperBound ..< fenceEnd.lowerBound]
      .split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && $0 != "import MatrixFactorization" }
    let begin = try #require(source.range(of: "// README example begin\n"))
    let end = try #require(source.range(of: "    // README example end"))
    let code = source[begin.upperBound ..< end.lowerBound]
      .split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    #expect(block == code)
  }
}
