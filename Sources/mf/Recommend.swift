import ArgumentParser
import MatrixFactorization

struct Recommend: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The top-N items for a user that the user has not rated.")

  @Argument(help: "A user id.") var user: String
  @Option(help: "How many items.") var top: Int = 10
  @Flag(help: "Also rank items the user rated in training.") var includeSeen = false
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
  }

  func run() throws {
    let model = try modelOptions.load()
    let ranked: [RankedItem]
    let known = model.users.index(of: user)
    if let u = known {
      ranked = model.recommend(user: Int(u), count: top, excludeSeen: !includeSeen)
    } else {
      // Cold start: with no p_u and b_u, the ranking is by μ + b_i (the item baseline).
      ranked = model.recommendForUnknownUser(count: top)
      if !json { Console.note("unknown user '\(user)': ranked by the item baseline μ + b_i") }
    }
    if json {
      try Console.json([
        "user": user, "fallback": known == nil,
        "items": ranked.map { ["item": $0.id, "score": $0.score.json] as [String: Any] },
      ])
    } else {
      for (n, r) in ranked.enumerated() { print("\(n + 1)\t\(r.id)\t\(formatted(r.score))") }
    }
  }
}

struct Similar: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The items most similar to ITEM by cosine similarity of item embeddings.")

  @Argument(help: "An item id.") var item: String
  @Option(help: "How many items.") var top: Int = 10
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
  }

  func run() throws {
    let model = try modelOptions.load()
    guard let i = model.items.index(of: item) else { throw MFError.unknownID(kind: "item", id: item) }
    let ranked = model.similarItems(to: Int(i), count: top)
    if json {
      try Console.json([
        "item": item,
        "items": ranked.map { ["item": $0.id, "similarity": $0.score.json] as [String: Any] },
      ])
    } else {
      for (n, r) in ranked.enumerated() { print("\(n + 1)\t\(r.id)\t\(formatted(r.score))") }
    }
  }
}
