import Foundation
import Testing

/// `mf fit` with no λ or epochs chooses them from the data, says so, stores the choice, and
/// leaves the choice to explicit flags when they are given.
@Suite struct SelfTuningCommandLineTests {
  let folder: String

  init() throws {
    folder = scratchFolder()
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
  }

  @Test func defaultFitChoosesAndRecordsItsSettings() throws {
    let fit = try mf(["fit", "ratings.csv", "--rank", "4", "--model", "auto.mf", "--json"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("choosing the algorithm (SGD or SVD++), λ and the epochs"))
    #expect(fit.stderr.contains("chose "))
    let tuning = try #require(try fit.json()["tuning"] as? [String: Any])
    // Small data: SVD++ was tried beside SGD; the model is the algorithm chosen.
    #expect(tuning["algorithms"] as? [String] == ["sgd", "svdpp"])
    let chosen = try #require(tuning["algorithm"] as? String)
    #expect(try fit.json()["algorithm"] as? String == chosen)
    #expect(tuning["tuned_bias_regularization"] as? Bool == (chosen == "sgd"))
    #expect((tuning["trials"] as? [[String: Any]])?.count ?? 0 >= 3)
    #expect(tuning["tuned_regularization"] as? Bool == true && tuning["tuned_epochs"] as? Bool == true)
    let info = try mf(["info", "--model", "auto.mf", "--json"], in: folder).json()
    let stored = try #require(info["tuning"] as? [String: Any])
    #expect(stored["epochs"] as? Int == tuning["epochs"] as? Int)
    let text = try mf(["info", "--model", "auto.mf"], in: folder)
    #expect(text.stdout.contains("self-tuning   chose \(chosen), λ"))
    #expect(text.stdout.contains("svdpp λ") && text.stdout.contains("sgd λ"))
  }

  /// An explicit algorithm, or any setting of SGD's, keeps SGD: the algorithm is chosen only
  /// when nothing about it was given.
  @Test func explicitAlgorithmOrSettingKeepsSGD() throws {
    for extra in [["--algorithm", "sgd"], ["--learning-rate", "0.04"], ["--regularization", "0.05"]] {
      let fit = try mf(["fit", "ratings.csv", "--rank", "4", "--model", "s.mf", "--json", "--quiet"] + extra, in: folder)
      #expect(fit.status == 0, "\(fit.stderr)")
      let tuning = try #require(try fit.json()["tuning"] as? [String: Any])
      #expect(tuning["algorithms"] as? [String] == ["sgd"], "\(extra)")
      #expect(try fit.json()["algorithm"] as? String == "sgd", "\(extra)")
    }
  }

  @Test func explicitFlagsWin() throws {
    let both = try mf(
      ["fit", "ratings.csv", "--rank", "4", "--regularization", "0.07", "--epochs", "9", "--model", "fixed.mf", "--json"],
      in: folder)
    #expect(both.status == 0, "\(both.stderr)")
    #expect(try both.json()["tuning"] == nil)
    #expect(try both.json()["epochs_run"] as? Int == 9)
    let epochsOnly = try mf(
      ["fit", "ratings.csv", "--rank", "4", "--epochs", "7", "--model", "e.mf", "--json", "--quiet"], in: folder)
    let tuning = try #require(try epochsOnly.json()["tuning"] as? [String: Any])
    #expect(tuning["tuned_epochs"] as? Bool == false && tuning["epochs"] as? Int == 7)
    let none = try mf(["fit", "ratings.csv", "--rank", "4", "--no-tune", "--model", "n.mf", "--json", "--quiet"], in: folder)
    #expect(try none.json()["tuning"] == nil)
  }

  /// Progress output and --quiet give the same model: the exported tables are identical.
  @Test func quietAndProgressGiveTheSameModel() throws {
    for (name, extra) in [("loud", [String]()), ("quiet", ["--quiet"])] {
      let r = try mf(["fit", "ratings.csv", "--rank", "4", "--model", "\(name).mf"] + extra, in: folder)
      #expect(r.status == 0, "\(r.stderr)")
      let e = try mf(["export", "--model", "\(name).mf", "--format", "csv", "--output", name], in: folder)
      #expect(e.status == 0, "\(e.stderr)")
    }
    for table in ["users.csv", "items.csv"] {
      let a = try String(contentsOfFile: folder + "/loud/" + table, encoding: .utf8)
      let b = try String(contentsOfFile: folder + "/quiet/" + table, encoding: .utf8)
      #expect(a == b, "\(table) differs")
    }
  }
}
