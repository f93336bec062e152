import ArgumentParser
import MatrixFactorization

struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict the rating of USER for ITEM, or of every pair in --pairs FILE.")

  @Argument(help: "A user id.") var user: String?
  @Argument(help: "An item id.") var item: String?

  @Option(help: "A file of user,item lines (further fields are ignored).")
  var pairs: String?

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var input: InputOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if pairs == nil && (user == nil || item == nil) {
      throw ValidationError("give USER ITEM, or --pairs FILE")
    }
    if pairs != nil && (user != nil || item != nil) {
      throw ValidationError("give either USER ITEM or --pairs FILE, not both")
    }
  }

  func run() throws {
    let model = try modelOptions.load()
    if let pairs {
      let (set, _) = try input.read(pairs, requireRating: false)
      var rows: [[String: Any]] = []
      var fallbacks = 0
      var text = ""
      let aligned = AlignedRatings(set, users: model.users, items: model.items)
      for n in 0 ..< set.count {
        let u = aligned.users[n]
        let i = aligned.items[n]
        let p = model.predict(user: u >= 0 ? Int(u) : nil, item: i >= 0 ? Int(i) : nil)
        let userID = set.users.ids[Int(set.userIndices[n])]
        let itemID = set.items.ids[Int(set.itemIndices[n])]
        if p.source.isFallback { fallbacks += 1 }
        if json {
          rows.append(["user": userID, "item": itemID, "prediction": p.value.json, "source": p.source.rawValue])
        } else {
          text += "\(userID)\t\(itemID)\t\(formatted(p.value))" + (p.source.isFallback ? "\t\(p.source.rawValue)" : "") + "\n"
        }
      }
      if json {
        try Console.json(["predictions": rows, "count": set.count, "fallbacks": fallbacks])
      } else {
        print(text, terminator: "")
        if fallbacks > 0 { Console.note("\(fallbacks) of \(set.count) pair(s) fell back to a baseline (unknown user or item)") }
      }
      return
    }
    let user = self.user!, item = self.item!
    let p = model.predict(userID: user, itemID: item)
    if json {
      try Console.json([
        "user": user, "item": item, "prediction": p.value.json, "source": p.source.rawValue,
        "fallback": p.source.isFallback,
      ])
    } else {
      print(formatted(p.value))
      if p.source.isFallback { Console.note(p.source.explanation) }
    }
  }
}
