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
  @Test func harnessUnitTestsPass() throws {
    try Python.expectUnitTestsPass(in: "Benchmarks/compare")
  }
}
