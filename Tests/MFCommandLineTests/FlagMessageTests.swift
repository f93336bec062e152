import Foundation
import Testing

/// The library names its parameters; the command line must say the same errors with its flags,
/// and say each thing once.
@Suite struct FlagMessageTests {
  let folder: String

  init() throws {
    folder = scratchFolder()
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
    // Repeated (user, item) lines: ratings keep the last; interactions are summed.
    write("a,x,1\na,x,2\nb,x,1\nb,y,3\nc,y,1\nc,z,2\na,z,1\n", to: folder + "/repeats.csv")
  }

  @Test(arguments: [
    (["fit", "ratings.csv", "--learning-rate", "12"], "--learning-rate must be a number in (0, 10), got 12"),
    (["fit", "ratings.csv", "--algorithm", "als", "--regularization", "0"], "--regularization must be a finite number > 0"),
    (["fit", "ratings.csv", "--rank", "0"], "--rank must be between 1 and 4096, got 0"),
    (["fit", "ratings.csv", "--implicit", "--cg-steps", "0"], "--cg-steps must be between 1 and 1000, got 0"),
  ])
  func parameterErrorsNameTheFlag(arguments: [String], expected: String) throws {
    let r = try mf(arguments + ["--model", "bad.mf", "--quiet"], in: folder)
    #expect(r.status != 0)
    #expect(r.stderr.contains(expected), "stderr: \(r.stderr)")
    // The library's own spelling must not leak through.
    for name in ["learningRate", "cgSteps", "initScale"] { #expect(!r.stderr.contains(name), "stderr: \(r.stderr)") }
    #expect(!FileManager.default.fileExists(atPath: folder + "/bad.mf"))
  }

  @Test func repeatedPairsAreReportedOnceWithTheirPolicy() throws {
    let ratings = try mf(["fit", "repeats.csv", "--rank", "2", "--epochs", "2", "--model", "r.mf", "--quiet"], in: folder)
    #expect(ratings.status == 0, "\(ratings.stderr)")
    #expect(ratings.stderr.contains("1 repeated (user, item) pair(s): kept the last rating of each"))
    #expect(!ratings.stderr.contains("summed"))
    let plays = try mf(
      ["fit", "repeats.csv", "--implicit", "--rank", "2", "--epochs", "2", "--model", "i.mf", "--quiet"], in: folder)
    #expect(plays.status == 0, "\(plays.stderr)")
    #expect(plays.stderr.contains("1 repeated (user, item) line(s) merged: their values were summed"))
    #expect(!plays.stderr.contains("kept the last"))
  }

  @Test func flagsAnAlgorithmDoesNotUseAreNamed() throws {
    let r = try mf(
      ["fit", "ratings.csv", "--algorithm", "als", "--learning-rate", "0.1", "--epochs", "2", "--model", "a.mf", "--quiet"],
      in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("--learning-rate does not apply to ALS; ignored"), "stderr: \(r.stderr)")
  }

  @Test func fitReportsItsPeakMemory() throws {
    let r = try mf(["fit", "ratings.csv", "--rank", "4", "--no-tune", "--epochs", "2", "--model", "p.mf", "--json"], in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    let peak = try #require(try r.json()["peak_rss_mib"] as? Double)
    #expect(peak > 1 && peak < 4096, "peak RSS \(peak) MiB")
  }

  /// A step size far too large no longer ends the fit: the diverged epochs are undone and
  /// retried with smaller steps, and the command says so.
  @Test func divergingFitBacksOffAndSaysSo() throws {
    let r = try mf(
      ["fit", "ratings.csv", "--rank", "8", "--no-tune", "--epochs", "20", "--learning-rate", "9", "--model", "heal.mf"],
      in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("diverged") && r.stderr.contains("halved the step size"), "\(r.stderr)")
    let info = try mf(["info", "--model", "heal.mf"], in: folder)
    #expect(info.stdout.contains("recovered"))
  }
}
