import ArgumentParser

/// `mf`: train and serve matrix-factorization recommenders from the command line.
///
/// This target only parses arguments, calls the MatrixFactorization library, and prints.
@main
struct MF: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mf",
    abstract: "Matrix-factorization collaborative filtering: r̂(u,i) = μ + b_u + b_i + p_u·q_i.",
    discussion: """
      Train with 'mf fit RATINGS --rank 32' (writes model.mf), then predict, evaluate,
      recommend, find similar items or users, or export the embedding tables. Add --implicit
      to 'mf fit' for clicks, plays or purchases (implicit ALS or BPR); 'mf split' makes
      train/test files for ranking evaluation. Every command that
      prints results takes --json and then prints exactly one JSON object.
      """,
    subcommands: [
      Fit.self, Predict.self, Evaluate.self, Recommend.self, Similar.self, SimilarUsers.self,
      Split.self, Export.self, Info.self, Synth.self,
    ])

  /// Runs the command, saying library errors in the command line's words (flags, not
  /// parameter names; see ``CommandLineError``).
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      exit(withError: CommandLineError.translate(error))
    }
  }
}
