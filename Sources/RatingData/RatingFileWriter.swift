/// Writes rating sets as CSV files that ``RatingFileReader`` (and the peers in the benchmark
/// harness) read back: `user,item,rating[,timestamp]`, no header, ids quoted only when they
/// hold a comma, a quote or a line break. Values are written with the shortest spelling that
/// reads back as the same `Float`.
public enum RatingFileWriter {
  /// The CSV text of `ratings`.
  public static func csv(_ ratings: RatingSet) -> String {
    var out = ""
    out.reserveCapacity(ratings.count * 24)
    let users = ratings.users.ids.map(quoted)
    let items = ratings.items.ids.map(quoted)
    for n in 0 ..< ratings.count {
      out += users[Int(ratings.userIndices[n])]
      out += ","
      out += items[Int(ratings.itemIndices[n])]
      out += ","
      let v = ratings.values[n]
      out += v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : "\(v)"
      if !ratings.timestamps.isEmpty {
        out += ","
        out += String(ratings.timestamps[n])
      }
      out += "\n"
    }
    return out
  }

  /// Writes `ratings` to `path` atomically (a temporary file renamed into place).
  public static func write(_ ratings: RatingSet, to path: String) throws(RatingDataError) {
    var writer = try AtomicFileWriter(path: path)
    try writer.write(csv(ratings))
    try writer.commit()
  }

  static func quoted(_ id: String) -> String {
    guard id.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return id }
    return "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

extension String {
  /// `self` with every `target` replaced (kept here so RatingData needs no Foundation).
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
