import ArgumentParser
import MatrixFactorization

struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "RMSE and MAE of the model on test ratings.")

  @Argument(help: "Test ratings (same formats as 'mf fit').") var testRatings: String
  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var input: InputOptions
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    let model = try modelOptions.load()
    let (test, _) = try input.read(testRatings)
    let e = Evaluation.errors(of: model, on: test)
    if json {
      try Console.json(["rmse": e.rmse.json, "mae": e.mae.json, "count": e.count, "fallbacks": e.fallbacks])
    } else {
      print("RMSE \(formatted(e.rmse))  MAE \(formatted(e.mae))  over \(e.count) ratings"
        + " (\(e.fallbacks) fell back to a baseline: unknown user or item)")
    }
  }
}
