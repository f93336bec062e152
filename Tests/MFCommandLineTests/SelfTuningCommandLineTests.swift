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
    #expect(fit.stderr.contains("choosing λ and the epochs"))
    #expect(fit.stderr.contains("chose λ"))
    let tuning = try #require(try fit.json()["tuning"] as? [String: Any])
    #expect((tuning["trials"] as? [[String: Any]])?.count ?? 0 >= 3)
    #expect(tuning["tuned_regularization"] as? Bool == true && tuning["tuned_epochs"] as? Bool == true)
    let info = try mf(["info", "--model", "auto.mf", "--json"], in: folder).json()
    let stored = try #require(info["tuning"] as? [String: Any])
    #expect(stored["epochs"] as? Int == tuning["epochs"] as? Int)
    let text = try mf(["info", "--model", "auto.mf"], in: folder)
    #expect(text.stdout.contains("self-tuning   chose λ"))
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
