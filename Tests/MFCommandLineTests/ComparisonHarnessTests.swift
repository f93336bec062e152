import Foundation
import Testing

/// The comparison harness (Benchmarks/compare) parses every engine's output and computes the
/// mf ÷ peer ratios, medians and tables; its Python unit tests check that with recorded outputs
/// and need neither the peers nor numpy. This runs them as part of `swift test`; without
/// python3 on PATH the suite is reported as skipped, with the reason, rather than passing.
@Suite(
  .enabled(
    if: Python.executable != nil,
    "python3 is not on PATH, so the comparison harness's unit tests cannot run"))
struct ComparisonHarnessTests {
  /// The repository root: this file is Tests/MFCommandLineTests/ComparisonHarnessTests.swift.
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  @Test func harnessUnitTestsPass() throws {
    let python = try #require(Python.executable)
    let tests = Self.root.appendingPathComponent("Benchmarks/compare/tests")
    try #require(
      FileManager.default.fileExists(atPath: tests.path),
      "Benchmarks/compare/tests is missing at \(tests.path)")
    let process = Process()
    process.executableURL = python
    process.arguments = [
      "-m", "unittest", "discover", "-s", "Benchmarks/compare/tests", "-t", "Benchmarks/compare",
    ]
    process.currentDirectoryURL = Self.root
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    process.environment = environment
    // One file for both streams, so a large output can never block the child on a full pipe.
    let log = FileManager.default.temporaryDirectory
      .appendingPathComponent("mf-compare-tests-\(UUID().uuidString).log")
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
      "python3 -m unittest discover -s Benchmarks/compare/tests failed (exit \(process.terminationStatus)):\n\(output)")
  }
}
