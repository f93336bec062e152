/// Why a rating file or rating data could not be used. Each case reads as one sentence.
public enum RatingDataError: Error, Equatable, CustomStringConvertible {
  /// The file could not be opened or read.
  case unreadable(path: String, reason: String)
  /// The file holds no rating lines.
  case empty(path: String)
  /// Line `line` of `path` is malformed; `reason` says how.
  case malformedLine(path: String, line: Int, reason: String)
  /// An id appears twice where ids must be unique (an id map in a model file).
  case duplicateID(String)
  /// A requested parameter is out of range.
  case invalidParameter(String)

  /// The error as one sentence.
  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "cannot read '\(path)': \(reason)"
    case .empty(let path): "'\(path)' holds no ratings"
    case .malformedLine(let path, let line, let reason): "\(path), line \(line): \(reason)"
    case .duplicateID(let id): "the id '\(id)' appears twice in an id map"
    case .invalidParameter(let text): text
    }
  }
}
