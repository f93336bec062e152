import ArgumentParser
import MatrixFactorization

struct Split: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Split ratings or interactions into train and test files (for mf and its peers alike).",
    discussion: """
      --strategy random holds out about --test-fraction of each user's lines at random (users \
      with one line stay in training); --strategy last holds out each user's latest line by \
      timestamp (leave-last-out; needs a fourth column). --min-rating keeps only lines whose \
      value is at least that (e.g. 4 stars as positive feedback) before splitting. Both files \
      are CSV user,item,value[,timestamp], written atomically.
      """)

  @Argument(help: "Ratings or interactions (same formats as 'mf fit').") var ratings: String
  @Option(help: "Where to write the training lines.") var trainOutput: String
  @Option(help: "Where to write the held-out lines.") var testOutput: String
  @Option(help: "random (per-user holdout) or last (leave-last-out by timestamp).") var strategy: String = "random"
  @Option(help: "With --strategy random: the fraction of each user's lines held out.") var testFraction: Double = 0.2
  @Option(help: "With --strategy last: how many of each user's latest lines are held out.") var leaveOut: Int = 1
  @Option(help: "Keep only lines with a value at least this.") var minRating: Float?
  @Option(help: "Random seed.") var seed: UInt64 = 42
  @OptionGroup var input: InputOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if trainOutput == testOutput { throw ValidationError("--train-output and --test-output must differ") }
    if trainOutput == ratings || testOutput == ratings {
      throw ValidationError("the outputs must not overwrite the input '\(ratings)'")
    }
  }

  func run() throws {
    var (all, _) = try input.read(ratings, requireRating: false, keepTimestamps: true)
    if let minRating { all = all.filtered(minimumValue: minRating) }
    let (train, test): (RatingSet, RatingSet)
    switch strategy.lowercased() {
    case "random": (train, test) = try Splitting.perUserHoldout(all, fraction: testFraction, seed: seed)
    case "last", "leave-last-out": (train, test) = try Splitting.leaveLastOut(all, count: leaveOut)
    default: throw ValidationError("unknown --strategy '\(strategy)'; use random or last")
    }
    // Write the test file first: if it fails, no train file is left without its partner.
    try RatingFileWriter.write(test, to: testOutput)
    try RatingFileWriter.write(train, to: trainOutput)
    if json {
      try Console.json([
        "train": trainOutput, "test": testOutput, "train_lines": train.count, "test_lines": test.count,
        "users": all.users.count, "strategy": strategy.lowercased(),
      ])
    } else {
      print("\(train.count) lines to \(trainOutput), \(test.count) to \(testOutput)"
        + " (\(all.users.count) users; strategy \(strategy.lowercased()))")
    }
  }
}
