import ArgumentParser
import DistributedALS
import Foundation
import MPICommunicator
import MatrixFactorization
import RatingData

/// `mpirun -np N mf-mpi fit RATINGS …`: ALS over N processes. Every process parses the same
/// arguments; only rank 0 prints and writes the model.
@main
struct MFMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mf-mpi",
    abstract: "Distributed ALS over OpenMPI: run as 'mpirun -np N mf-mpi fit RATINGS …'.",
    subcommands: [FitMPI.self])

  static func main() {
    let comm = MPICommunicator()
    var code: Int32 = 0
    do {
      let command = try parseAsRoot()
      guard let fit = command as? FitMPI else { throw CleanExit.helpRequest(self) }
      try fit.run(comm)
    } catch {
      // One message for the job: every process stops with the same error and rank 0 says it,
      // before any process exits (mpirun ends the whole job at the first non-zero exit, which
      // could otherwise cut rank 0 off before it printed).
      code = exitCode(for: error).rawValue
      if comm.rank == 0 {
        let text = fullMessage(for: error) + "\n"
        if code == 0 { print(text, terminator: "") } else { Console.write(text) }
      }
    }
    comm.barrier()
    comm.finalize()
    Foundation.exit(code)
  }
}

/// A failure of the distributed fit, as rank 0 prints it.
struct JobError: Error, CustomStringConvertible {
  let description: String
}

struct FitMPI: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit",
    abstract: "Train ALS (or implicit ALS) on a rating file across the MPI processes; rank 0 writes the model.",
    discussion: """
      Each process reads its own byte range of RATINGS. The model equals 'mf fit --algorithm als \
      --no-tune' with the same settings and seed. There is no self-tuning, validation or \
      early stopping: give --regularization and --epochs (defaults: ALS λ 0.15, at most 15 \
      sweeps, stopping once the training RMSE moves by under 0.1%; implicit ALS λ 0.01, 15 sweeps).
      """)

  @Argument(help: "Ratings: user,item,rating[,timestamp] as CSV, TSV or '::'-separated (with --implicit: user,item[,count]).")
  var ratings: String

  @Flag(help: "Implicit feedback: implicit ALS (confidence-weighted), which ranks items.")
  var implicit = false

  @Option(help: "als (the only algorithm mf-mpi runs).")
  var algorithm: String = "als"

  @Option(help: "Embedding dimension k (default 32).")
  var rank: Int = 32

  @Option(help: "Sweeps, at most (default: ALS 15, implicit ALS 15).")
  var epochs: Int?

  @Option(help: "λ on the factors (default: ALS 0.15, implicit ALS 0.01).")
  var regularization: Float?

  @Option(help: "ALS: λ on the biases (default 0.05).")
  var biasRegularization: Float?

  @Option(help: "ALS: penalty λ·n^e for a row with n ratings (default 1, ALS-WR).")
  var regularizationExponent: Float?

  @Option(help: "ALS: stop once a sweep changes the training RMSE by less than this fraction (default 0.001; 0: never).")
  var convergenceTolerance: Double?

  @Option(help: "Initial factors' scale (default: ALS 1, implicit ALS 0.01).")
  var initScale: Float?

  @Flag(help: "Implicit: count every line as one interaction (value 1), ignoring a value column.")
  var binary = false

  @Option(help: "Implicit: confidence c = 1 + α·r (default 10).")
  var alpha: Float?

  @Option(help: "Implicit: confidence scaling, linear or log (default linear).")
  var confidence: String?

  @Option(help: "Implicit: ε of the log confidence scaling (default 1).")
  var epsilon: Float?

  @Option(help: "Implicit: cg (default) or cholesky.")
  var solver: String?

  @Option(help: "Implicit with cg: conjugate-gradient steps per row and sweep (default 3).")
  var cgSteps: Int?

  @Flag(help: "Implicit: sum YᵀY over the processes (one MPI_Allreduce of k² floats) instead of computing it whole on each; rounds differently from 'mf fit'.")
  var allreduceGram = false

  @Option(help: "Worker threads per process (default: the cores divided among the processes on this machine).")
  var threads: Int?

  @Option(help: "Random seed.")
  var seed: UInt64 = 42

  @Option(help: "Where rank 0 writes the model.")
  var model: String = "model.mf"

  @Option(help: "Field separator: comma, tab, '::', semicolon, pipe or space (default: detected).")
  var delimiter: String?

  @Flag(help: "Skip malformed lines (and report how many) instead of stopping at the first.")
  var skipInvalid = false

  @Flag(help: "No progress on stderr.")
  var quiet = false

  @Flag(help: "Print one JSON object (rank 0), with each process's timings.")
  var json = false

  func run() throws { throw CleanExit.message("run mf-mpi under mpirun: mpirun -np N mf-mpi fit RATINGS") }

  func run(_ comm: MPICommunicator) throws {
    let options = try trainingOptions(processes: comm.size)
    var delimiterValue: FieldDelimiter? = nil
    if let delimiter {
      guard let d = FieldDelimiter(name: delimiter) else {
        throw ValidationError("unknown --delimiter '\(delimiter)'; use comma, tab, '::', semicolon, pipe or space")
      }
      delimiterValue = d
    }
    let fileOptions = RatingFileOptions(
      delimiter: delimiterValue, skipInvalid: skipInvalid, requireRating: !implicit,
      keepTimestamps: false, threads: 1)
    let lead = comm.rank == 0
    if lead && !quiet {
      Console.progress("reading \(ratings) on \(comm.size) process\(comm.size == 1 ? "" : "es"), \(options.threads) thread\(options.threads == 1 ? "" : "s") each")
    }
    // A test hook: this rank exits without a word after the first sweep, as a crashed process
    // would (the job must then abort and write no model).
    let dieAt = ProcessInfo.processInfo.environment["MF_MPI_TEST_EXIT_RANK"].flatMap(Int.init)
    let result: DistributedFitResult
    do {
      result = try DistributedALS.fit(
        path: ratings, fileOptions: fileOptions, binary: binary, options: options, sumGram: allreduceGram, comm: comm
      ) { sweep in
        if dieAt == comm.rank { Foundation.exit(3) }
        guard lead && !quiet && !json else { return }
        var line = "sweep \(sweep.sweep): \(String(format: "%.3f", sweep.seconds)) s"
          + " (solving \(String(format: "%.3f", sweep.computeSeconds)) s)"
        if let rmse = sweep.trainRMSE { line += ", train RMSE \(String(format: "%.4f", rmse))" }
        Console.progress(line)
      }
    } catch {
      throw JobError(description: error.description)
    }
    // Each process's timings, for the scaling study.
    var mine = [Double](repeating: 0, count: 3 * comm.size)
    mine[3 * comm.rank] = result.sweeps.reduce(0) { $0 + $1.seconds } / Double(max(1, result.sweeps.count))
    mine[3 * comm.rank + 1] = result.sweeps.reduce(0) { $0 + $1.computeSeconds } / Double(max(1, result.sweeps.count))
    mine[3 * comm.rank + 2] = Double(result.ratingsOwned)
    comm.sum(&mine)
    guard lead, let m = result.model else { return }
    do { try ModelFile.write(m, to: model) } catch { throw JobError(description: "\(error)") }
    if result.skippedLines > 0 {
      Console.note("skipped \(result.skippedLines) malformed line(s) of '\(ratings)'; the first: \(result.firstSkipped ?? "")")
    }
    if result.duplicates > 0 {
      Console.note(
        implicit
          ? "\(result.duplicates) repeated (user, item) line(s) merged: their values were summed"
          : "\(result.duplicates) repeated (user, item) pair(s): kept the last rating of each")
    }
    let name = implicit ? "implicit ALS" : "ALS"
    if json {
      let sweeps: [[String: Any]] = result.sweeps.map {
        ["sweep": $0.sweep, "seconds": $0.seconds, "compute_seconds": $0.computeSeconds, "bytes_sent": $0.bytesSent]
      }
      let processes: [[String: Any]] = (0 ..< comm.size).map { p -> [String: Any] in
        let at = 3 * p
        return ["sweep_seconds": mine[at], "compute_seconds": mine[at + 1], "ratings_owned": Int(mine[at + 2])]
      }
      var object: [String: Any] = [:]
      object["model"] = model
      object["algorithm"] = options.algorithm.rawValue
      object["processes"] = comm.size
      object["threads"] = options.threads
      object["rank"] = options.rank
      object["users"] = result.users
      object["items"] = result.items
      object["ratings"] = result.ratings
      object["duplicates"] = result.duplicates
      object["epochs_run"] = result.sweeps.count
      object["train_rmse"] = result.sweeps.last?.trainRMSE ?? NSNull()
      object["seconds"] = result.seconds
      object["setup_seconds"] = result.setupSeconds
      object["allgather_bytes_per_sweep"] = result.allGatherBytesPerSweep
      object["inout_block_bytes_per_sweep"] = result.inOutBlockBytesPerSweep
      object["sweeps"] = sweeps
      object["per_process"] = processes
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    } else {
      var line = "trained \(name) rank \(options.rank) on \(result.ratings) \(implicit ? "interactions" : "ratings")"
        + " (\(result.users) users, \(result.items) items) with \(comm.size) process\(comm.size == 1 ? "" : "es")"
        + " in \(String(format: "%.2f", result.seconds)) s"
      if let rmse = result.sweeps.last?.trainRMSE { line += "; train RMSE \(String(format: "%.4f", rmse))" }
      print(line)
      print("model written to \(model)")
    }
  }

  /// The options of `mf fit --algorithm als --no-tune` (or `--implicit`) with these flags.
  func trainingOptions(processes: Int) throws -> TrainingOptions {
    guard algorithm.lowercased() == "als" || (implicit && algorithm.lowercased() == "implicit-als") else {
      throw ValidationError("mf-mpi runs ALS only (--algorithm als, with or without --implicit), not '\(algorithm)'")
    }
    var options = TrainingOptions.defaults(for: implicit ? .implicitALS : .als, rank: rank)
    if implicit {
      var s = options.implicitALS!
      if let regularization { s.regularization = regularization }
      if let alpha { s.alpha = alpha }
      if let confidence {
        guard let c = ConfidenceScaling(rawValue: confidence.lowercased()) else {
          throw ValidationError("unknown --confidence '\(confidence)'; use linear or log")
        }
        s.confidence = c
      }
      if let epsilon { s.epsilon = epsilon }
      if let solver {
        guard let v = ImplicitSolver(rawValue: solver.lowercased()) else {
          throw ValidationError("unknown --solver '\(solver)'; use cg or cholesky")
        }
        s.solver = v
      }
      if let cgSteps { s.cgSteps = cgSteps }
      if let initScale { s.initScale = initScale }
      for (flag, given) in [
        ("--bias-regularization", biasRegularization != nil),
        ("--regularization-exponent", regularizationExponent != nil),
      ] where given {
        throw ValidationError("\(flag) does not apply to implicit ALS")
      }
      options.implicitALS = s
    } else {
      for (flag, given) in [
        ("--alpha", alpha != nil), ("--binary", binary), ("--allreduce-gram", allreduceGram), ("--confidence", confidence != nil),
        ("--epsilon", epsilon != nil), ("--solver", solver != nil), ("--cg-steps", cgSteps != nil),
      ] where given {
        throw ValidationError("\(flag) applies to implicit feedback; add --implicit")
      }
      var s = options.als!
      if let regularization { s.regularization = regularization }
      if let biasRegularization { s.biasRegularization = biasRegularization }
      if let regularizationExponent { s.regularizationExponent = regularizationExponent }
      if let initScale { s.initScale = initScale }
      options.als = s
    }
    if let epochs { options.epochs = epochs }
    if let convergenceTolerance { options.convergenceTolerance = convergenceTolerance == 0 ? nil : convergenceTolerance }
    // Processes on one machine share its cores.
    let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? processes
    options.threads = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, local))
    do { try options.validate() } catch { throw ValidationError(error.description) }
    return options
  }
}

/// Progress and notes on stderr.
enum Console {
  static func note(_ text: String) { write("mf-mpi: " + text + "\n") }

  static func progress(_ text: String) { write(text + "\n") }

  static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
