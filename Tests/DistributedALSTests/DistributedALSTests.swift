import DistributedALS
import Foundation
import MatrixFactorization
import RatingData
import Testing

/// What the distributed tests need: `mpirun` on the PATH and the built `mf-mpi` beside the tests
/// (built only where OpenMPI is installed), and MovieLens-100K at ../shared/data/ml-100k.
enum Environment {
  static let mpirun: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/mpirun" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }()

  static let mfMPI: String? = {
    var folders: [URL] = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
    if let exe = Bundle.main.executableURL { folders.append(exe.deletingLastPathComponent()) }
    for bundle in Bundle.allBundles { folders.append(bundle.bundleURL.deletingLastPathComponent()) }
    return folders.map { $0.appendingPathComponent("mf-mpi").path }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }()

  static var canRunJobs: Bool { mpirun != nil && mfMPI != nil }

  static let noJobsReason: Comment =
    "mpirun or mf-mpi is absent (mf-mpi is built only where OpenMPI is installed: apt-get install libopenmpi-dev openmpi-bin)"

  static let movieLens: String? = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0 ..< 3 { url.deleteLastPathComponent() }
    let folder = url.deletingLastPathComponent().appendingPathComponent("shared/data/ml-100k").path
    return FileManager.default.fileExists(atPath: folder + "/u1.base") ? folder : nil
  }()
}

/// A fresh temporary folder.
private func scratch() -> String {
  let path = NSTemporaryDirectory() + "mf-mpi-test-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// A small rating file with string ids, a header, a quoted id and repeated pairs far apart (so
/// that with several processes the copies land in different byte ranges).
private func stringIDRatings() -> String {
  var lines = ["user,item,rating"]
  var state: UInt64 = 7
  for n in 0 ..< 400 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    let u = Int(state >> 33) % 37
    let i = Int(state >> 45) % 23
    let rating = 1 + Int(state >> 20) % 5
    lines.append(n == 17 ? "\"user \(u)\",film-\(i),\(rating)" : "user \(u),film-\(i),\(rating)")
  }
  lines += ["user 3,film-4,1", "user 3,film-4,5"]
  return lines.joined(separator: "\n") + "\n"
}

/// The model `mf fit --algorithm als --no-tune` (or `--implicit`) trains on `path`.
private func singleProcessModel(_ path: String, implicit: Bool, rank: Int = 32, epochs: Int? = nil) throws -> FactorModel {
  let (ratings, _) = try RatingFileReader.read(path: path, options: RatingFileOptions(requireRating: !implicit))
  var options = TrainingOptions.defaults(for: implicit ? .implicitALS : .als, rank: rank)
  if let epochs { options.epochs = epochs }
  options.threads = 2
  return try Trainer.fit(ratings, options: options, measureTrainRMSE: false).model
}

/// Whether two models have the same ids, μ, biases and factors, bit for bit.
private func expectSameFactors(_ a: FactorModel, _ b: FactorModel) {
  #expect(a.users == b.users)
  #expect(a.items == b.items)
  #expect(a.globalMean == b.globalMean)
  #expect(a.userBias == b.userBias)
  #expect(a.itemBias == b.itemBias)
  #expect(a.userFactors.values == b.userFactors.values)
  #expect(a.itemFactors.values == b.itemFactors.values)
  #expect(a.seen == b.seen)
}

/// The algorithm over the one-process communicator: no MPI needed.
@Suite struct SingleProcessDistributedTests {
  @Test(arguments: [false, true])
  func equalsTheSingleProcessFit(implicit: Bool) throws {
    let folder = scratch()
    let path = folder + "/ratings.csv"
    FileManager.default.createFile(atPath: path, contents: Data(stringIDRatings().utf8))
    var options = TrainingOptions.defaults(for: implicit ? .implicitALS : .als, rank: 8)
    options.threads = 2
    let result = try DistributedALS.fit(
      path: path, fileOptions: RatingFileOptions(requireRating: !implicit, threads: 1), options: options,
      comm: SingleProcess())
    let model = try #require(result.model)
    expectSameFactors(model, try singleProcessModel(path, implicit: implicit, rank: 8))
    #expect(result.duplicates > 0)
  }

  @Test func aMalformedLineIsNamedByItsLineInTheFile() throws {
    let folder = scratch()
    let path = folder + "/bad.csv"
    FileManager.default.createFile(atPath: path, contents: Data("u,i,r\n1,2,3\n1,3,x\n".utf8))
    #expect(throws: DistributedError.input("\(path), line 3: the rating 'x' is not a number")) {
      try DistributedALS.fit(
        path: path, fileOptions: RatingFileOptions(), options: .defaults(for: .als),
        comm: SingleProcess())
    }
  }
}

/// `mpirun -np N mf-mpi fit …` end to end, against the single-process fit.
@Suite(.serialized, .enabled(if: Environment.canRunJobs, Environment.noJobsReason))
struct MPIJobTests {
  /// Runs `mpirun -np n mf-mpi fit arguments…` in `folder`.
  func job(_ n: Int, _ arguments: [String], in folder: String, environment: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(Environment.mpirun))
    var args = ["--allow-run-as-root", "--oversubscribe", "-np", "\(n)"]
    for (key, value) in environment { args += ["-x", "\(key)=\(value)"] }
    process.arguments = args + [try #require(Environment.mfMPI), "fit"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let out = folder + "/job.out"
    let err = folder + "/job.err"
    FileManager.default.createFile(atPath: out, contents: nil)
    FileManager.default.createFile(atPath: err, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return (
      process.terminationStatus, try String(contentsOfFile: out, encoding: .utf8),
      try String(contentsOfFile: err, encoding: .utf8)
    )
  }

  @Test(
    .enabled(if: Environment.movieLens != nil, "MovieLens-100K not found at ../shared/data/ml-100k"),
    arguments: [1, 2, 3, 4])
  func movieLensALSEqualsTheSingleProcessFit(processes: Int) throws {
    let data = try #require(Environment.movieLens)
    let folder = scratch()
    let run = try job(processes, ["\(data)/u1.base", "--threads", "1", "--quiet", "--model", "m.mf"], in: folder)
    #expect(run.status == 0, "\(run.stderr)")
    let model = try ModelFile.read(path: folder + "/m.mf")
    let single = try singleProcessModel("\(data)/u1.base", implicit: false)
    expectSameFactors(model, single)
    let (test, _) = try RatingFileReader.read(path: "\(data)/u1.test")
    let rmse = Evaluation.errors(of: model, on: test).rmse
    #expect(abs(rmse - Evaluation.errors(of: single, on: test).rmse) < 1e-4)
  }

  @Test(.enabled(if: Environment.movieLens != nil, "MovieLens-100K not found at ../shared/data/ml-100k"))
  func movieLensImplicitALSEqualsTheSingleProcessFit() throws {
    let data = try #require(Environment.movieLens)
    let folder = scratch()
    let run = try job(
      3, ["\(data)/u1.base", "--implicit", "--epochs", "5", "--threads", "1", "--quiet", "--model", "m.mf"],
      in: folder)
    #expect(run.status == 0, "\(run.stderr)")
    expectSameFactors(
      try ModelFile.read(path: folder + "/m.mf"),
      try singleProcessModel("\(data)/u1.base", implicit: true, epochs: 5))
  }

  /// Four processes on a file of a few lines: some own no ratings (and read none); string ids,
  /// a header, a quoted id and repeated pairs across byte ranges.
  @Test(arguments: [false, true])
  func stringIDsAndProcessesWithoutRatings(implicit: Bool) throws {
    let folder = scratch()
    FileManager.default.createFile(
      atPath: folder + "/few.csv",
      contents: Data("user,item,rating\nalice,se7en,5\nbob,se7en,3\nalice,\"heat\",4\nalice,se7en,2\n".utf8))
    FileManager.default.createFile(atPath: folder + "/many.csv", contents: Data(stringIDRatings().utf8))
    for file in ["few.csv", "many.csv"] {
      let run = try job(
        4, [file, "--rank", "4", "--threads", "1", "--json", "--model", "m.mf"] + (implicit ? ["--implicit"] : []),
        in: folder)
      #expect(run.status == 0, "\(run.stderr)")
      expectSameFactors(
        try ModelFile.read(path: folder + "/m.mf"),
        try singleProcessModel(folder + "/" + file, implicit: implicit, rank: 4))
      if file == "few.csv" {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let owned = (json["per_process"] as? [[String: Any]])?.compactMap { $0["ratings_owned"] as? Int }
        #expect(owned?.contains(0) == true, "a process owns no ratings: \(owned ?? [])")
      }
    }
  }

  /// A malformed line in one process's byte range stops the job: one message naming the line as
  /// in the whole file, a non-zero exit, no model.
  @Test func aBadLineInOneRangeAbortsTheJob() throws {
    let folder = scratch()
    var lines = (0 ..< 300).map { "\($0 % 17),\($0 % 11),\(1 + $0 % 5)" }
    lines[230] = "4,5,five"
    FileManager.default.createFile(atPath: folder + "/bad.csv", contents: Data((lines.joined(separator: "\n") + "\n").utf8))
    let run = try job(3, ["bad.csv", "--threads", "1", "--quiet", "--model", "m.mf"], in: folder)
    #expect(run.status != 0)
    let message = "bad.csv, line 231: the rating 'five' is not a number"
    #expect(run.stderr.components(separatedBy: message).count == 2, "once: \(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/m.mf"))
  }

  /// A process that dies mid-fit (the test hook exits it after the first sweep) ends the job
  /// with a non-zero status and no model.
  @Test func aDeadProcessAbortsTheJob() throws {
    let folder = scratch()
    let lines = (0 ..< 300).map { "\($0 % 17),\($0 % 11),\(1 + $0 % 5)" }
    FileManager.default.createFile(atPath: folder + "/r.csv", contents: Data((lines.joined(separator: "\n") + "\n").utf8))
    let run = try job(
      2, ["r.csv", "--threads", "1", "--quiet", "--model", "m.mf", "--epochs", "5", "--convergence-tolerance", "0"],
      in: folder, environment: ["MF_MPI_TEST_EXIT_RANK": "1"])
    #expect(run.status != 0)
    #expect(!FileManager.default.fileExists(atPath: folder + "/m.mf"))
  }
}
