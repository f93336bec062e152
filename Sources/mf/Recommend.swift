import ArgumentParser
import Foundation
import MatrixFactorization

struct Recommend: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The top-N items for a user (or every user, or a new user from their history).",
    discussion: """
      Items the user has in training are left out unless --no-exclude-seen. An unknown USER gets \
      the items with the best baseline μ + b_i. --history folds a new user in from the items \
      they interacted with (implicit models) or rated (rating models: item:rating pairs), with \
      one exact solve against the trained item factors. --all-users ranks every user in BLAS \
      blocks and writes user,rank,item,score lines.
      """)

  @Argument(help: "A user id (omit with --all-users or --history).") var user: String?
  @Option(help: "How many items.") var top: Int = 10
  @Flag(inversion: .prefixedNo, help: "Leave out items the user has in training.") var excludeSeen = true
  @Flag(help: .hidden) var includeSeen = false
  @Option(help: "Rank only the item ids in this file (one per line, or the first column of a CSV).")
  var items: String?
  @Flag(help: "Recommend for every user in the model.") var allUsers = false
  @Option(help: "With --all-users: write user,rank,item,score lines to this file (default: stdout).")
  var output: String?
  @Option(help: "A new user's history: item1,item2,… (implicit models; item:count allowed) or item:rating,… (rating models).")
  var history: String?
  @Option(help: "Worker threads for --all-users (default: all cores).") var threads: Int?
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
    let modes = (user != nil ? 1 : 0) + (allUsers ? 1 : 0) + (history != nil ? 1 : 0)
    if modes != 1 { throw ValidationError("give exactly one of USER, --all-users or --history") }
    if output != nil && !allUsers { throw ValidationError("--output goes with --all-users") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  func run() throws {
    let model = try modelOptions.load()
    let exclude = excludeSeen && !includeSeen
    let candidates = try items.map { try candidateItems($0, model) }
    if allUsers {
      try recommendAll(model, exclude: exclude, candidates: candidates)
      return
    }
    let ranked: [RankedItem]
    var fallback = false
    var label = user ?? "(history)"
    if let history {
      let folded = try foldIn(history, model)
      ranked = model.recommend(folded, count: top, excludeSeen: exclude, candidates: candidates)
      label = "(history of \(folded.history.count) items)"
    } else if let u = model.users.index(of: user!) {
      ranked = model.recommend(user: Int(u), count: top, excludeSeen: exclude, candidates: candidates)
    } else {
      // Cold start: with no p_u and b_u, the ranking is by μ + b_i (the item baseline).
      ranked = model.recommendForUnknownUser(count: top, candidates: candidates)
      fallback = true
      if !json { Console.note("unknown user '\(user!)': ranked by the item baseline μ + b_i") }
    }
    if json {
      var object: [String: Any] = [
        "fallback": fallback,
        "items": ranked.map { ["item": $0.id, "score": $0.score.json] as [String: Any] },
      ]
      object["user"] = user ?? label
      if history != nil { object["folded_in"] = true }
      try Console.json(object)
    } else {
      for (n, r) in ranked.enumerated() { print("\(n + 1)\t\(r.id)\t\(formatted(r.score))") }
    }
  }

  /// Every user's top list, in BLAS blocks, written as CSV.
  func recommendAll(_ model: FactorModel, exclude: Bool, candidates: [Int]?) throws {
    let lists = model.recommendAll(
      users: Array(0 ..< model.userCount), count: top, excludeSeen: exclude, candidates: candidates,
      threads: threads)
    var text = "user,rank,item,score\n"
    text.reserveCapacity(lists.count * top * 24)
    for (u, list) in lists.enumerated() {
      let id = csvField(model.users.ids[u])
      for (n, r) in list.enumerated() {
        text += "\(id),\(n + 1),\(csvField(r.id)),\(formatted(r.score, 6))\n"
      }
    }
    if let output {
      var writer = try AtomicFileWriter(path: output)
      try writer.write(text)
      try writer.commit()
      if json {
        try Console.json(["users": lists.count, "top": top, "output": output])
      } else {
        Console.note("wrote the top \(top) of \(lists.count) users to \(output)")
      }
    } else {
      print(text, terminator: "")
    }
  }

  /// The item indices listed in `path`; unknown ids are reported and skipped.
  func candidateItems(_ path: String, _ model: FactorModel) throws -> [Int] {
    let ids = try IDListFile.read(path)
    var known: [Int] = []
    var unknown: [String] = []
    for id in ids {
      if let i = model.items.index(of: id) { known.append(Int(i)) } else { unknown.append(id) }
    }
    if !unknown.isEmpty {
      Console.note("\(unknown.count) of \(ids.count) candidate item(s) in '\(path)' are not in the model (first: '\(unknown[0])'); skipped")
    }
    if known.isEmpty { throw MFError.invalidInput("none of the candidate items in '\(path)' is in the model") }
    return known
  }

  /// Parses `item[:value],…` and folds the user in.
  func foldIn(_ text: String, _ model: FactorModel) throws -> FoldedInUser {
    var indices: [Int] = []
    var values: [Float] = []
    var sawValue = false
    var unknown: [String] = []
    let entries: [InputLists.HistoryEntry]
    do { entries = try InputLists.parseHistory(text) } catch {
      if case .invalidParameter(.history, let requirement) = error {
        throw ValidationError("--history: \(requirement.replacingOccurrences(of: "entry ", with: ""))")
      }
      throw error
    }
    for entry in entries {
      if entry.value != nil { sawValue = true }
      guard let i = model.items.index(of: entry.id) else {
        unknown.append(entry.id)
        continue
      }
      indices.append(Int(i))
      values.append(entry.value ?? 1)
    }
    if !unknown.isEmpty {
      Console.note("\(unknown.count) history item(s) are not in the model (first: '\(unknown[0])'); skipped")
    }
    if indices.isEmpty { throw MFError.invalidInput("none of the --history items is in the model") }
    return try model.foldIn(items: indices, values: sawValue || model.isImplicit ? values : nil)
  }
}

func csvField(_ id: String) -> String {
  guard id.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return id }
  return "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A file of ids: one per line, or the first field of each CSV/TSV line; blank lines and
/// `#` comments are skipped.
enum IDListFile {
  static func read(_ path: String) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw MFError.invalidInput("cannot read the item list '\(path)'")
    }
    let ids = InputLists.parseIDList([UInt8](data))
    if ids.isEmpty { throw MFError.invalidInput("the item list '\(path)' has no ids") }
    return ids
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
    try printNeighbours(model.similarItems(to: Int(i), count: top), of: item, kind: "item", json: json)
  }
}

struct SimilarUsers: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "similar-users",
    abstract: "The users most similar to USER by cosine similarity of user embeddings.")

  @Argument(help: "A user id.") var user: String
  @Option(help: "How many users.") var top: Int = 10
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
  }

  func run() throws {
    let model = try modelOptions.load()
    guard let u = model.users.index(of: user) else { throw MFError.unknownID(kind: "user", id: user) }
    try printNeighbours(model.similarUsers(to: Int(u), count: top), of: user, kind: "user", json: json)
  }
}

/// Prints cosine neighbours as `rank<TAB>id<TAB>similarity` lines, or as
/// `{"<kind>": id, "<kind>s": [{"<kind>": …, "similarity": …}]}`.
func printNeighbours(_ ranked: [RankedItem], of id: String, kind: String, json: Bool) throws {
  if json {
    try Console.json([
      kind: id,
      kind + "s": ranked.map { [kind: $0.id, "similarity": $0.score.json] as [String: Any] },
    ])
  } else {
    for (n, r) in ranked.enumerated() { print("\(n + 1)\t\(r.id)\t\(formatted(r.score))") }
  }
}
