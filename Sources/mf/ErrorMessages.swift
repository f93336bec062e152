import ArgumentParser
import MatrixFactorization

/// The library names its own parameters (`learningRate must be …`); on the command line the
/// same errors name the flags (`--learning-rate must be …`) and say what to run.
struct CommandLineError: Error, CustomStringConvertible {
  let description: String

  /// `error` as the command line says it.
  static func translate(_ error: any Error) -> any Error {
    guard let error = error as? MFError else { return error }
    switch error {
    case .invalidParameter(let parameter, let requirement):
      var text = "\(parameter.flag) \(requirement)"
      if parameter == .history && requirement.hasPrefix("needs a rating") {
        text += " (give item:rating pairs, e.g. --history 50:5,172:4)"
      }
      return CommandLineError(description: text)
    case .diverged(let epoch, let remedy):
      return CommandLineError(
        description: "training diverged at epoch \(epoch) (a NaN or infinity, or a training RMSE that blew up)"
          + " and retrying more gently did not help; try a \(remedy.larger ? "larger" : "smaller") \(remedy.parameter.flag)")
    case .insufficientMemory(let what, let needed, let available, let remedy):
      return CommandLineError(
        description: "\(what) need at least \(MemoryBudget.describe(needed)), more than the "
          + "\(MemoryBudget.describe(available)) of memory this process may use; try a "
          + "\(remedy.larger ? "larger" : "smaller") \(remedy.parameter.flag)")
    case .modelFile(_, let reason) where reason.contains("No such file"):
      return CommandLineError(
        description: "\(error) (train one with 'mf fit RATINGS', or pass --model PATH)")
    default:
      return error
    }
  }
}

extension Parameter {
  /// The `mf fit` (or `mf evaluate`, `mf recommend`) flag that sets the parameter.
  var flag: String {
    switch self {
    case .earlyStopPatience: return "--patience"
    case .listLength: return "--k"
    case .divergenceRetries: return "divergenceRetries (a library option)"
    default:
      // learningRateDecay → --learning-rate-decay
      var flag = "--"
      for c in rawValue {
        if c.isUppercase { flag += "-" + c.lowercased() } else { flag.append(c) }
      }
      return flag
    }
  }
}
