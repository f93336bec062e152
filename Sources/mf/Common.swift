import ArgumentParser
import Foundation
import MatrixFactorization

/// Options shared by every command that reads a model.
struct ModelOptions: ParsableArguments {
  @Option(name: .long, help: "The model file.")
  var model: String = "model.mf"

  func load() throws -> FactorModel { try ModelFile.read(path: model) }
}

/// Options for reading a rating file.
struct InputOptions: ParsableArguments {
  @Option(help: "Field separator: comma, tab, '::', semicolon, pipe or space (default: detected).")
  var delimiter: String?

  @Flag(help: "Skip malformed lines (and report how many) instead of stopping at the first.")
  var skipInvalid = false

  func fileOptions(
    requireRating: Bool = true, keepTimestamps: Bool = false, threads: Int? = nil
  ) throws -> RatingFileOptions {
    var delimiterValue: FieldDelimiter? = nil
    if let delimiter {
      guard let d = FieldDelimiter(name: delimiter) else {
        throw ValidationError("unknown --delimiter '\(delimiter)'; use comma, tab, '::', semicolon, pipe or space")
      }
      delimiterValue = d
    }
    return RatingFileOptions(
      delimiter: delimiterValue, skipInvalid: skipInvalid, requireRating: requireRating,
      keepTimestamps: keepTimestamps, threads: threads)
  }

  /// Reads a rating file, reporting skipped lines on stderr. Timestamps are dropped unless
  /// asked for (only time-ordered splits use them).
  func read(
    _ path: String, requireRating: Bool = true, keepTimestamps: Bool = false, threads: Int? = nil
  ) throws -> (RatingSet, RatingFileReport) {
    let (ratings, report) = try RatingFileReader.read(
      path: path,
      options: fileOptions(
        requireRating: requireRating, keepTimestamps: keepTimestamps, threads: threads))
    if report.skippedLines > 0 {
      Console.note("skipped \(report.skippedLines) malformed line(s) of '\(path)'; the first: \(report.firstSkipped.first.map { "\($0)" } ?? "")")
    }
    return (ratings, report)
  }
}

/// Printing helpers: results on stdout, notes and progress on stderr.
enum Console {
  static func note(_ text: String) {
    FileHandle.standardError.write(Data(("mf: " + text + "\n").utf8))
  }

  static func progress(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Prints one JSON object on stdout (keys sorted, so the output is stable).
  static func json(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
}

extension Float {
  /// The value as a JSON-safe `Double` rounded to 6 significant decimals.
  var json: Double { Double(String(format: "%.6g", Double(self))) ?? Double(self) }
}

extension Double {
  var json: Double { Double(String(format: "%.6g", self)) ?? self }
}

extension PredictionSource {
  /// How the CLI describes a fallback.
  var explanation: String {
    switch self {
    case .model: "model"
    case .itemBaseline: "unknown user: predicted from μ + b_i"
    case .userBaseline: "unknown item: predicted from μ + b_u"
    case .globalMean: "unknown user and item: predicted from μ"
    }
  }
}

extension TuningReport {
  /// The report as the JSON of `fit --json` and `info --json`.
  var jsonObject: [String: Any] {
    [
      "regularization": regularization.json, "bias_regularization": biasRegularization.json,
      "epochs": epochs, "tuned_regularization": tunedRegularization, "tuned_epochs": tunedEpochs,
      "search_ratings": searchRatings, "validation_ratings": validationRatings,
      "seconds": seconds.json, "algorithm": algorithm.map { $0.rawValue as Any } ?? NSNull(),
      "algorithms": (algorithms ?? []).map(\.rawValue),
      "tuned_bias_regularization": tunedBiasRegularization ?? false,
      "alpha": alpha.map { $0.json as Any } ?? NSNull(), "tuned_alpha": tunedAlpha ?? false,
      "implicit_feedback": implicitFeedback.map { $0 as Any } ?? NSNull(),
      "tuned_implicit_feedback": tunedImplicitFeedback ?? false,
      "trials": trials.map { t -> [String: Any] in
        [
          "algorithm": t.algorithm.map { $0.rawValue as Any } ?? NSNull(), "regularization": t.regularization.json, "bias_regularization": t.biasRegularization.json,
          "best_epoch": t.bestEpoch, "best_rmse": t.bestRMSE.json, "seconds": t.seconds.json,
          "alpha": t.alpha.map { $0.json as Any } ?? NSNull(), "ndcg": t.ndcg.map { $0.json as Any } ?? NSNull(),
          "implicit_feedback": t.implicitFeedback.map { $0 as Any } ?? NSNull(),
          "validation_curve": t.validationCurve.map(\.json),
        ]
      },
    ]
  }

  /// One line per trial and the choice, as `mf info` prints them.
  var lines: [String] {
    if let implicitFeedback {
      // Bayesian MF: the one choice is implicit feedback, from a short chain of each.
      return ["chose implicit feedback \(implicitFeedback ? "on" : "off") from \(trials.count) short chain(s) on"
        + " \(searchRatings) ratings, validated on \(validationRatings) (\(formatted(seconds, 2)) s)"]
        + trials.map { t in
          "  implicit feedback \(t.implicitFeedback == true ? "on" : "off"): validation RMSE \(formatted(t.bestRMSE))"
            + " after \(t.bestEpoch) sweeps"
        }
    }
    let chosen = "chose " + (choseAlgorithm ? (algorithm?.rawValue).map { $0 + ", " } ?? "" : "")
      + "λ \(formatted(regularization, 4)), λ_b \(formatted(biasRegularization, 4)), \(epochs) epochs"
      + " from \(trials.count) trial(s) on \(searchRatings) ratings, validated on \(validationRatings)"
      + " (\(formatted(seconds, 2)) s)"
    if let alpha {
      return ["chose λ \(formatted(regularization, 4)), α \(formatted(alpha, 2)) from \(trials.count) trial(s) on"
        + " \(searchRatings) interactions, validated on \(validationRatings) (\(formatted(seconds, 2)) s)"]
        + trials.map { t in
          "  λ \(formatted(t.regularization, 4)), α \(formatted(t.alpha ?? 0, 2)): validation NDCG \(formatted(t.ndcg ?? 0))"
        }
    }
    return [chosen] + trials.map { t in
      "  " + (choseAlgorithm ? (t.algorithm?.rawValue).map { $0 + " " } ?? "" : "")
        + "λ \(formatted(t.regularization, 4)), λ_b \(formatted(t.biasRegularization, 4)): validation RMSE \(formatted(t.bestRMSE)) at epoch \(t.bestEpoch)"
        + " of \(t.validationCurve.count)"
    }
  }
}

extension [String] {
  /// "a", "a and b", "a, b and c".
  var joinedAsList: String {
    count <= 2 ? joined(separator: " and ") : dropLast().joined(separator: ", ") + " and " + self[count - 1]
  }
}

/// The process's peak resident memory so far, in MiB (`getrusage`; Linux reports KiB).
func peakResidentMiB() -> Double {
  var usage = rusage()
  guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
  #if os(Linux)
    return Double(usage.ru_maxrss) / 1024
  #else
    return Double(usage.ru_maxrss) / (1024 * 1024)
  #endif
}

func formatted(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
func formatted(_ x: Float, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", Double(x)) }
