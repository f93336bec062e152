@_spi(Engine) import LinearAlgebra
import RatingData

/// A setting of the library that a value can be wrong for. Errors name it by its Swift name
/// (``TrainingOptions/rank``, ``SGDSettings/learningRate``, …), so that an app is told about
/// its own parameters; the command line maps each to its flag.
public enum Parameter: String, Sendable, CaseIterable {
  /// ``TrainingOptions/rank``.
  case rank
  /// ``TrainingOptions/epochs``.
  case epochs
  /// ``TrainingOptions/threads``.
  case threads
  /// ``TrainingOptions/earlyStopPatience``.
  case earlyStopPatience
  /// ``TrainingOptions/convergenceTolerance``.
  case convergenceTolerance
  /// ``TrainingOptions/divergenceRetries``.
  case divergenceRetries
  /// Validation ratings given to a fit.
  case validation
  /// ``SGDSettings/learningRate``, ``BPRSettings/learningRate``.
  case learningRate
  /// ``SGDSettings/learningRateDecay``, ``BPRSettings/learningRateDecay``.
  case learningRateDecay
  /// The λ on the factors of any algorithm.
  case regularization
  /// The λ_b on the biases.
  case biasRegularization
  /// ``SVDPPSettings/implicitRegularization``.
  case implicitRegularization
  /// ``ALSSettings/regularizationExponent``.
  case regularizationExponent
  /// The scale of the initial factors.
  case initScale
  /// ``ImplicitALSSettings/alpha``.
  case alpha
  /// ``ImplicitALSSettings/epsilon``.
  case epsilon
  /// ``ImplicitALSSettings/cgSteps``.
  case cgSteps
  /// The length k of a ranked list (precision@k, NDCG@k, …).
  case listLength
  /// ``BayesSettings/samples``.
  case samples
  /// ``BayesSettings/burnIn``.
  case burnIn
  /// ``BayesSettings/thinning``.
  case thinning
  /// A new user's history (items, with ratings for a rating model).
  case history
}

/// What to change after a failed fit: a parameter, and in which direction.
public struct Remedy: Sendable, Equatable, CustomStringConvertible {
  /// The parameter to change.
  public var parameter: Parameter
  /// Whether the parameter should be larger (else smaller).
  public var larger: Bool

  /// Change `parameter`, up if `larger`, else down.
  public init(_ parameter: Parameter, larger: Bool) {
    self.parameter = parameter
    self.larger = larger
  }

  /// The advice as words ("try a smaller learningRate").
  public var description: String { "try a \(larger ? "larger" : "smaller") \(parameter.rawValue)" }
}

/// Why an mf operation failed, as one readable sentence (see `description`).
public enum MFError: Error, CustomStringConvertible, Equatable {
  /// A parameter is out of range; `requirement` says what it must be (and what it was).
  case invalidParameter(Parameter, requirement: String)
  /// The input cannot be used as it is (no ratings, negative counts, an empty history…).
  case invalidInput(String)
  /// Reading the ratings failed.
  case ratings(RatingDataError)
  /// The model file cannot be used.
  case modelFile(path: String, reason: String)
  /// A user or item is not in the model where it must be.
  case unknownID(kind: String, id: String)
  /// Training diverged (a factor became NaN or infinite) at a 1-based epoch.
  case diverged(epoch: Int, remedy: Remedy)
  /// A linear system could not be solved.
  case numerical(String)
  /// Writing an output failed.
  case output(path: String, reason: String)
  /// A job needs more memory than the process may use (checked before allocating): `what`
  /// needs at least `needed` bytes, `available` are there.
  case insufficientMemory(what: String, needed: Int, available: Int, remedy: Remedy)

  /// The error as one sentence.
  public var description: String {
    switch self {
    case .invalidParameter(let parameter, let requirement): "\(parameter.rawValue) \(requirement)"
    case .invalidInput(let text): text
    case .ratings(let error): error.description
    case .modelFile(let path, let reason): "the model file '\(path)' \(reason)"
    case .unknownID(let kind, let id): "the \(kind) '\(id)' is not in the model"
    case .diverged(let epoch, let remedy):
      "training diverged at epoch \(epoch) (a NaN or infinity, or a training RMSE that blew up) and retrying more gently did not help; \(remedy)"
    case .numerical(let text): text
    case .output(let path, let reason): "cannot write '\(path)': \(reason)"
    case .insufficientMemory(let what, let needed, let available, let remedy):
      "\(what) need at least \(MemoryBudget.describe(needed)), more than the \(MemoryBudget.describe(available)) of memory this process may use; \(remedy)"
    }
  }
}
