import Foundation

/// The small text inputs of serving: a new user's history (`item[:value],…`, the CLI's
/// `--history`) and a list of ids (one per line or the first field of a CSV/TSV line, the CLI's
/// `--items`). In the library so that they are fuzzed and tested like the rating reader.
public enum InputLists {
  /// One entry of a history: an item id and its value, when one was given.
  public struct HistoryEntry: Sendable, Equatable {
    /// The item id, trimmed of spaces.
    public var id: String
    /// The rating or count after `:`, or nil for a bare id.
    public var value: Float?
  }

  /// Parses `item[:value],…`: entries separated by commas (empty ones skipped), each an id with
  /// an optional `:value`, a finite number. An id may hold further colons after the first.
  public static func parseHistory(_ text: String) throws(MFError) -> [HistoryEntry] {
    var entries: [HistoryEntry] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: true) {
      let fields = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      let id = String(fields[0]).trimmingCharacters(in: .whitespaces)
      var value: Float? = nil
      if fields.count == 2 {
        guard let v = Float(fields[1].trimmingCharacters(in: .whitespaces)), v.isFinite else {
          throw .invalidParameter(.history, requirement: "entry '\(part)' is not item:number")
        }
        value = v
      }
      entries.append(HistoryEntry(id: id, value: value))
    }
    return entries
  }

  /// The ids of an id-list file's contents: the first field (by comma or tab) of every line,
  /// spaces and quotes trimmed; blank lines, `#` comments and lines whose first field is empty
  /// are skipped. Lines end at any newline.
  ///
  /// (A line `,x` used to give the id `x` from its second field, and a line `,` the id `,`;
  /// found by the id-list fuzz target.)
  public static func parseIDList(_ bytes: [UInt8]) -> [String] {
    var ids: [String] = []
    for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let first = trimmed.split(
        maxSplits: 1, omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "\t" })[0]
      let id = first.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
      if !id.isEmpty { ids.append(id) }
    }
    return ids
  }
}
