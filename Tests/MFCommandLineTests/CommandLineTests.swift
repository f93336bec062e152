import Foundation
import Testing

/// End-to-end tests of the `mf` binary, run as a user runs it.
@Suite(.serialized) struct CommandLineTests {
  let folder: String

  init() throws {
    folder = scratchFolder()
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
    let fit = try mf(["fit", "ratings.csv", "--rank", "4", "--epochs", "100", "--learning-rate", "0.03", "--learning-rate-decay", "1", "--quiet"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
  }

  @Test func fitWritesModelInCurrentFolderAndReportsJSON() throws {
    #expect(FileManager.default.fileExists(atPath: folder + "/model.mf"))
    let r = try mf(["fit", "ratings.csv", "--rank", "4", "--epochs", "3", "--json", "--model", "other.mf", "--quiet"], in: folder)
    #expect(r.status == 0)
    let j = try r.json()
    #expect(j["algorithm"] as? String == "sgd")
    #expect(j["rank"] as? Int == 4 && j["users"] as? Int == 30 && j["items"] as? Int == 20)
    #expect(j["epochs_run"] as? Int == 3 && (j["history"] as? [Any])?.count == 3)
    #expect(FileManager.default.fileExists(atPath: folder + "/other.mf"))
  }

  @Test func fitShowsProgressWithValidationAndEarlyStop() throws {
    let r = try mf(["fit", "ratings.csv", "--rank", "4", "--epochs", "5", "--holdout", "0.2", "--early-stop", "--model", "v.mf"], in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("epoch 1/5  train RMSE"))
    #expect(r.stderr.contains("validation RMSE"))
    #expect(r.stdout.contains("validation RMSE"))
    let quiet = try mf(["fit", "ratings.csv", "--rank", "4", "--epochs", "2", "--quiet", "--model", "q.mf"], in: folder)
    #expect(quiet.stderr.isEmpty)
  }

  @Test func alsFitAndInfo() throws {
    let r = try mf(["fit", "ratings.csv", "--rank", "4", "--algorithm", "als", "--epochs", "4", "--quiet", "--model", "als.mf"], in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    let info = try mf(["info", "--model", "als.mf", "--json"], in: folder).json()
    #expect(info["rank"] as? Int == 4 && info["users"] as? Int == 30)
    #expect((info["options"] as? [String: Any])?["algorithm"] as? String == "als")
    #expect((info["train_rmse"] as? Double ?? 9) < 1.5)
    let text = try mf(["info", "--model", "als.mf"], in: folder)
    #expect(text.stdout.contains("ALS, rank 4"))
  }

  @Test func predictKnownAndUnknown() throws {
    let r = try mf(["predict", "u2", "m3"], in: folder)
    #expect(r.status == 0)
    let value = Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
    #expect(value >= 1 && value <= 5)
    let j = try mf(["predict", "u2", "m3", "--json"], in: folder).json()
    #expect(abs((j["prediction"] as! Double) - value) < 1e-3 && j["fallback"] as? Bool == false)
    let cold = try mf(["predict", "stranger", "m3"], in: folder)
    #expect(cold.status == 0 && cold.stderr.contains("unknown user"))
    let coldJSON = try mf(["predict", "stranger", "m3", "--json"], in: folder).json()
    #expect(coldJSON["source"] as? String == "item-baseline" && coldJSON["fallback"] as? Bool == true)
  }

  @Test func predictPairs() throws {
    write("u1,m1\nu2,m20\nghost,m1\n", to: folder + "/pairs.csv")
    let r = try mf(["predict", "--pairs", "pairs.csv"], in: folder)
    #expect(r.status == 0)
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 3 && lines[0].hasPrefix("u1\tm1\t") && lines[2].hasSuffix("item-baseline"))
    let j = try mf(["predict", "--pairs", "pairs.csv", "--json"], in: folder).json()
    #expect(j["count"] as? Int == 3 && j["fallbacks"] as? Int == 1)
  }

  @Test func evaluateReportsRMSEMAEAndCount() throws {
    let j = try mf(["evaluate", "ratings.csv", "--json"], in: folder).json()
    #expect(j["count"] as? Int == sampleRatingsCSV().split(separator: "\n").count - 1)
    #expect((j["rmse"] as! Double) < 1.0 && (j["mae"] as! Double) <= (j["rmse"] as! Double))
    #expect(j["fallbacks"] as? Int == 0)
    let text = try mf(["evaluate", "ratings.csv"], in: folder)
    #expect(text.stdout.hasPrefix("RMSE "))
  }

  @Test func recommendExcludesRatedItemsAndRanksTaste() throws {
    let j = try mf(["recommend", "u2", "--top", "3", "--json"], in: folder).json()
    let items = (j["items"] as! [[String: Any]]).map { $0["item"] as! String }
    #expect(items.count == 3)
    let rated = Set(sampleRatingsCSV().split(separator: "\n").filter { $0.hasPrefix("u2,") }.map { String($0.split(separator: ",")[1]) })
    #expect(rated.isDisjoint(with: items))
    let cold = try mf(["recommend", "stranger", "--top", "2", "--json"], in: folder).json()
    #expect(cold["fallback"] as? Bool == true && (cold["items"] as! [Any]).count == 2)
  }

  @Test func similarItemsAndUnknownItem() throws {
    let j = try mf(["similar", "m1", "--top", "4", "--json"], in: folder).json()
    let items = j["items"] as! [[String: Any]]
    #expect(items.count == 4 && !items.contains { $0["item"] as? String == "m1" })
    let unknown = try mf(["similar", "nope"], in: folder)
    #expect(unknown.status != 0 && unknown.stderr.contains("the item 'nope' is not in the model"))
  }

  @Test func exportCSVAndNPY() throws {
    let csv = try mf(["export", "--format", "csv", "--output", "emb"], in: folder)
    #expect(csv.status == 0)
    let users = try String(contentsOfFile: folder + "/emb/users.csv", encoding: .utf8)
    #expect(users.hasPrefix("id,bias,f0,f1,f2,f3\n") && users.split(separator: "\n").count == 31)
    let npy = try mf(["export", "--format", "npy", "--output", "npy", "--json"], in: folder).json()
    #expect((npy["files"] as! [String]).count == 7)
  }

  /// NumPy loads the exported tables as float32 matrices of the right shapes.
  @Test(.enabled(if: Python.hasNumPy, "python3 with NumPy is not available to load the .npy export"))
  func exportedNPYLoadsInNumPy() throws {
    let npy = try mf(["export", "--format", "npy", "--output", "npy"], in: folder)
    #expect(npy.status == 0, "\(npy.stderr)")
    let python = try #require(Python.executable)
    let check = Process()
    check.executableURL = python
    check.arguments = ["-c", "import numpy as n; a=n.load('\(folder)/npy/item_factors.npy'); b=n.load('\(folder)/npy/user_bias.npy'); assert a.dtype==n.float32 and a.shape==(20,4) and b.shape==(30,), (a.dtype,a.shape,b.shape); print('ok')"]
    // One pipe for both streams (a traceback is short), read to its end before waiting.
    let pipe = Pipe()
    check.standardOutput = pipe
    check.standardError = pipe
    try check.run()
    let said = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    check.waitUntilExit()
    #expect(check.terminationStatus == 0 && said.contains("ok"), "NumPy could not load the export: \(said)")
  }

  @Test func malformedInputFailsWithLineAndLeavesModelUntouched() throws {
    let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.mf"))
    write("u,i,r\n1,2,3\n1,3,four\n", to: folder + "/bad.csv")
    let r = try mf(["fit", "bad.csv", "--quiet"], in: folder)
    #expect(r.status != 0)
    #expect(r.stderr.contains("bad.csv, line 3: the rating 'four' is not a number"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/model.mf")) == before)
    let skipped = try mf(["fit", "bad.csv", "--skip-invalid", "--quiet", "--model", "skip.mf", "--epochs", "1"], in: folder)
    #expect(skipped.status == 0 && skipped.stderr.contains("skipped 1 malformed line"))
    write("", to: folder + "/empty.csv")
    let empty = try mf(["fit", "empty.csv"], in: folder)
    #expect(empty.status != 0 && empty.stderr.contains("holds no ratings"))
    let missing = try mf(["fit", "absent.csv"], in: folder)
    #expect(missing.status != 0 && missing.stderr.contains("No such file"))
  }

  @Test func badOptionsAreRejected() throws {
    for args in [["fit", "ratings.csv", "--rank", "0"], ["fit", "ratings.csv", "--algorithm", "svd"],
                 ["fit", "ratings.csv", "--learning-rate", "nan"], ["recommend", "u1", "--top", "0"],
                 ["export", "--format", "parquet", "--output", "x"], ["fit", "ratings.csv", "--early-stop"]] {
      let r = try mf(args, in: folder)
      #expect(r.status != 0, "\(args)")
      #expect(!r.stderr.isEmpty)
    }
  }

  @Test func corruptModelIsAClearError() throws {
    var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/model.mf"))
    bytes[bytes.count / 2] ^= 0xFF
    try bytes.write(to: URL(fileURLWithPath: folder + "/corrupt.mf"))
    let r = try mf(["predict", "u1", "m1", "--model", "corrupt.mf"], in: folder)
    #expect(r.status != 0 && r.stderr.contains("corrupt"))
    try bytes.prefix(100).write(to: URL(fileURLWithPath: folder + "/short.mf"))
    let s = try mf(["info", "--model", "short.mf"], in: folder)
    #expect(s.status != 0 && s.stderr.contains("truncated"))
    let none = try mf(["info", "--model", "none.mf"], in: folder)
    #expect(none.status != 0 && none.stderr.contains("mf fit"))
  }

  @Test func synthWritesTrainAndTestThatFit() throws {
    let r = try mf(["synth", "--ratings", "3000", "--seed", "5", "--output", "s.csv", "--test-output", "t.csv", "--json"], in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    let j = try r.json()
    #expect((j["train"] as! Int) + (j["test"] as! Int) == 3000)
    let fit = try mf(["fit", "s.csv", "--validation", "t.csv", "--rank", "8", "--quiet", "--model", "s.mf", "--json"], in: folder).json()
    #expect((fit["validation_rmse"] as! Double) < 1.2)
  }
}
