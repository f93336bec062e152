import Foundation
import Testing

/// The accuracy suite (Benchmarks/accuracy) renders its markdown from a recorded suite.json,
/// summarizes runs, picks the grid's best point and selects its data sets; its Python unit
/// tests check that without running mf or any peer. This runs them as part of `swift test`;
/// without python3 on PATH the suite is reported as skipped, with the reason.
@Suite(
  .enabled(
    if: Python.executable != nil,
    "python3 is not on PATH, so the accuracy suite's unit tests cannot run"))
struct AccuracySuiteTests {
  /// The repository root: this file is Tests/MFCommandLineTests/AccuracySuiteTests.swift.
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test func suiteUnitTestsPass() throws {
    let python = try #require(Python.executable)
    let tests = Self.root.appendingPathComponent("Benchmarks/accuracy/tests")
    try #require(
      FileManager.default.fileExists(atPath: tests.path),
      "Benchmarks/accuracy/tests is missing at \(tests.path)")
    let process = Process()
    process.executableURL = python
    process.arguments = [
      "-m", "unittest", "discover", "-s", "Benchmarks/accuracy/tests", "-t", "Benchmarks/accuracy",
    ]
    process.currentDirectoryURL = Self.root
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    process.environment = environment
    // One file for both streams, so a large output can never block the child on a full pipe.
    let log = FileManager.default.temporaryDirectory
      .appendingPathComponent("mf-accuracy-tests-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
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
      "python3 -m unittest discover -s Benchmarks/accuracy/tests failed (exit \(process.terminationStatus)):\n\(output)")
  }
}
