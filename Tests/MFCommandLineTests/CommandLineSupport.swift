import Foundation
import Testing

/// The result of running the `mf` binary.
struct RunResult {
  var status: Int32
  var stdout: String
  var stderr: String

  /// stdout parsed as one JSON object.
  func json() throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    guard let dict = object as? [String: Any] else { throw CLIError("stdout is not a JSON object: \(stdout)") }
    return dict
  }
}

struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// The built `mf` executable: it sits beside the test bundle in the build folder.
func mfExecutable() throws -> URL {
  var candidates: [URL] = []
  if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
  candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
  for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent()) }
  for folder in candidates {
    let url = folder.appendingPathComponent("mf")
    if FileManager.default.isExecutableFile(atPath: url.path) { return url }
  }
  throw CLIError("the mf executable was not found beside the tests (looked in \(candidates.map(\.path)))")
}

/// Runs `mf arguments…` in `folder` and collects its output.
func mf(_ arguments: [String], in folder: String) throws -> RunResult {
  try runProgram(try mfExecutable().path, arguments, in: folder)
}

/// Runs a program in `folder` and collects its output. Output goes to files, so a large
/// output can never block the child on a full pipe.
func runProgram(_ program: String, _ arguments: [String], in folder: String) throws -> RunResult {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: program)
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: folder)
  let base = NSTemporaryDirectory() + "mf-run-\(UUID().uuidString)"
  FileManager.default.createFile(atPath: base + ".out", contents: nil)
  FileManager.default.createFile(atPath: base + ".err", contents: nil)
  defer {
    try? FileManager.default.removeItem(atPath: base + ".out")
    try? FileManager.default.removeItem(atPath: base + ".err")
  }
  process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
  process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
  try process.run()
  process.waitUntilExit()
  return RunResult(
    status: process.terminationStatus,
    stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".out")), as: UTF8.self),
    stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: base + ".err")), as: UTF8.self))
}

/// A fresh temporary folder.
func scratchFolder() -> String {
  let path = NSTemporaryDirectory() + "mf-cli-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

func write(_ text: String, to path: String) {
  FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

/// A small ratings CSV with structure: 30 users × 20 items, two taste groups.
func sampleRatingsCSV(header: Bool = true) -> String {
  var lines = header ? ["userId,movieId,rating,timestamp"] : []
  var t = 1_000_000
  for u in 1 ... 30 {
    for i in 1 ... 20 where (u * 7 + i * 3) % 4 != 0 {
      let likes = (u % 2 == 0) == (i <= 10)
      let r = likes ? 4 + (u + i) % 2 : 1 + (u * i) % 2
      t += 1
      lines.append("u\(u),m\(i),\(r).0,\(t)")
    }
  }
  return lines.joined(separator: "\n") + "\n"
}

/// `python3` and NumPy, for the tests that need them (looked up once). A test that needs them
/// is enabled only when they are there, so that without them it shows as skipped.
enum Python {
  /// `python3` from PATH, or nil.
  static let executable: URL? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for folder in path.split(separator: ":") where !folder.isEmpty {
      let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("python3")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }()

  /// Whether that `python3` can import NumPy.
  static let hasNumPy: Bool = {
    guard let executable else { return false }
    let probe = Process()
    probe.executableURL = executable
    probe.arguments = ["-c", "import numpy"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
  }()
}

extension Python {
  /// The repository root: this file is Tests/MFCommandLineTests/CommandLineSupport.swift.
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Runs `python3 -m unittest discover -s FOLDER/tests -t FOLDER` for a Python tool under the
  /// repository (e.g. `Benchmarks/compare`) and records a failure with its output unless every
  /// test passes.
  static func expectUnitTestsPass(in folder: String) throws {
    let python = try #require(executable)
    let tests = repositoryRoot.appendingPathComponent("\(folder)/tests")
    try #require(FileManager.default.fileExists(atPath: tests.path), "\(folder)/tests is missing at \(tests.path)")
    let process = Process()
    process.executableURL = python
    process.arguments = ["-m", "unittest", "discover", "-s", "\(folder)/tests", "-t", folder]
    process.currentDirectoryURL = repositoryRoot
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    process.environment = environment
    // One file for both streams, so a large output can never block the child on a full pipe.
    let log = FileManager.default.temporaryDirectory
      .appendingPathComponent("mf-python-tests-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
    #expect(
      process.terminationStatus == 0,
      "python3 -m unittest discover -s \(folder)/tests failed (exit \(process.terminationStatus)):\n\(output)")
  }
}
