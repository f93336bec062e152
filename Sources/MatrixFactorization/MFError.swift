import RatingData

/// Why an mf operation failed, as one readable sentence (see `description`).
public enum MFError: Error, CustomStringConvertible {
  /// A training or serving option is out of range.
  case invalidOption(String)
  /// Reading the ratings failed.
  case ratings(RatingDataError)
  /// The model file cannot be used.
  case modelFile(path: String, reason: String)
  /// A user or item is not in the model where it must be.
  case unknownID(kind: String, id: String)
  /// Training diverged (a factor became NaN or infinite).
  case diverged(epoch: Int, hint: String)
  /// A linear system could not be solved.
  case numerical(String)
  /// Writing an output failed.
  case output(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidOption(let text): text
    case .ratings(let error): error.description
    case .modelFile(let path, let reason): "the model file '\(path)' \(reason)"
    case .unknownID(let kind, let id): "the \(kind) '\(id)' is not in the model"
    case .diverged(let epoch, let hint):
      "training diverged at epoch \(epoch) (a factor became NaN or infinite); \(hint)"
    case .numerical(let text): text
    case .output(let path, let reason): "cannot write '\(path)': \(reason)"
    }
  }
}
