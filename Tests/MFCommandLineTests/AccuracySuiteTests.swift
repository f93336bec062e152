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
  @Test func suiteUnitTestsPass() throws {
    try Python.expectUnitTestsPass(in: "Benchmarks/accuracy")
  }
}
