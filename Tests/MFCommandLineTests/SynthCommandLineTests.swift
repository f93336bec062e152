import Foundation
import Testing

/// `mf synth`'s shape options, as the accuracy suite (Benchmarks/accuracy) calls them.
@Suite struct SynthCommandLineTests {
  let folder = scratchFolder()

  @Test func shapeOptionsAreReportedAndHalfStarsWritten() throws {
    let r = try mf(
      [
        "synth", "--ratings", "3000", "--users", "1000", "--items", "600", "--user-exponent", "0.5",
        "--item-exponent", "0.9", "--user-bias-spread", "0", "--item-bias-spread", "0.2",
        "--half-stars", "--noise", "0.3", "--output", "s.csv", "--test-output", "t.csv", "--json",
      ], in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["train"] as? Int ?? 0) + (j["test"] as? Int ?? 0) == 3000)
    #expect(j["users"] as? Int == 1000 && j["items"] as? Int == 600)
    #expect(j["half_stars"] as? Bool == true && j["rating_min"] as? Double == 0.5)
    #expect(j["user_bias_spread"] as? Double == 0 && j["item_bias_spread"] as? Double == 0.2)
    #expect(j["user_exponent"] as? Double == 0.5 && j["noise"] as? Double == 0.3)
    let text = try String(contentsOfFile: folder + "/s.csv", encoding: .utf8)
    #expect(text.contains(".5,"), "half-star ratings are written as 3.5")
    // mf reads the half stars back.
    let fit = try mf(
      ["fit", "s.csv", "--rank", "4", "--epochs", "5", "--quiet", "--json", "--model", "s.mf"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
  }

  @Test func impossibleShapesNameTheFlags() throws {
    let few = try mf(["synth", "--ratings", "100", "--users", "500", "--output", "x.csv"], in: folder)
    #expect(
      few.status != 0 && few.stderr.contains("--ratings 100 is fewer than --users 500"), "\(few.stderr)")
    let dense = try mf(
      ["synth", "--ratings", "1000", "--users", "10", "--items", "20", "--output", "x.csv"], in: folder)
    #expect(dense.status != 0 && dense.stderr.contains("at most 100 ratings"), "\(dense.stderr)")
    let spread = try mf(
      ["synth", "--ratings", "1000", "--item-bias-spread=-1", "--output", "x.csv"], in: folder)
    #expect(spread.status != 0 && spread.stderr.contains("--item-bias-spread"), "\(spread.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/x.csv"))
  }
}
