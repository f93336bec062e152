import Foundation
import Testing

/// End-to-end tests of the implicit-feedback and top-N commands.
@Suite(.serialized) struct ImplicitCommandLineTests {
  let folder: String

  /// Plays: 40 users, 30 items in two taste groups; users play their group's items, some twice.
  static func playsCSV() -> String {
    var lines: [String] = []
    for u in 1 ... 40 {
      for i in 1 ... 30 where (i <= 15) == (u % 2 == 0) && (u * 5 + i * 7) % 3 != 0 {
        lines.append("p\(u),s\(i),\(1 + (u + i) % 3)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  init() throws {
    folder = scratchFolder()
    write(Self.playsCSV(), to: folder + "/plays.csv")
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
  }

  /// With no λ or α given, implicit ALS chooses them by NDCG@10 on held-out interactions and
  /// records the choice (fit --json, info); given, they are kept and nothing is searched.
  @Test func implicitFitChoosesLambdaAndAlpha() throws {
    let fit = try mf(["fit", "plays.csv", "--implicit", "--rank", "4", "--model", "tuned.mf", "--json"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("choosing λ and α") && fit.stderr.contains("NDCG@10"))
    let tuning = try #require(try fit.json()["tuning"] as? [String: Any])
    #expect(tuning["tuned_alpha"] as? Bool == true && tuning["tuned_regularization"] as? Bool == true)
    #expect((tuning["trials"] as? [[String: Any]])?.allSatisfy { $0["ndcg"] is Double } == true)
    #expect(try fit.json()["alpha"] as? Double == tuning["alpha"] as? Double)
    let info = try mf(["info", "--model", "tuned.mf"], in: folder)
    #expect(info.stdout.contains("self-tuning   chose λ") && info.stdout.contains("validation NDCG"))
    let given = try mf(
      ["fit", "plays.csv", "--implicit", "--rank", "4", "--regularization", "0.1", "--alpha", "5", "--model", "g.mf",
       "--json", "--quiet"], in: folder)
    #expect(try given.json()["tuning"] == nil && given.json()["alpha"] as? Double == 5)
  }

  @Test func splitFitEvaluateRoundTrip() throws {
    let split = try mf(
      ["split", "plays.csv", "--train-output", "train.csv", "--test-output", "test.csv", "--test-fraction", "0.25", "--json"],
      in: folder)
    #expect(split.status == 0, "\(split.stderr)")
    let s = try split.json()
    let trainLines = s["train_lines"] as! Int
    let testLines = s["test_lines"] as! Int
    #expect(trainLines + testLines == Self.playsCSV().split(separator: "\n").count)
    for solver in ["cg", "cholesky"] {
      let fit = try mf(
        ["fit", "train.csv", "--implicit", "--solver", solver, "--rank", "4", "--epochs", "10",
         "--regularization", "0.1", "--model", "\(solver).mf", "--json"], in: folder)
      #expect(fit.status == 0, "\(fit.stderr)")
      let f = try fit.json()
      #expect(f["implicit"] as? Bool == true && f["algorithm"] as? String == "implicit-als")
      #expect((f["history"] as! [[String: Any]]).count == 10)
      let eval = try mf(["evaluate", "test.csv", "--model", "\(solver).mf", "--k", "5", "--json"], in: folder)
      #expect(eval.status == 0, "\(eval.stderr)")
      let e = try eval.json()
      for key in ["precision", "recall", "ndcg", "map", "auc", "coverage"] {
        let v = e[key] as! Double
        #expect(v >= 0 && v <= 1, "\(key) = \(v)")
      }
      // Two clean taste groups: the model should put the user's own group first.
      #expect((e["auc"] as! Double) > 0.8)
      #expect(e["users"] as? Int == 40)
    }
    let bpr = try mf(
      ["fit", "train.csv", "--implicit", "--algorithm", "bpr", "--rank", "4", "--epochs", "30", "--model", "bpr.mf", "--json"],
      in: folder)
    #expect(bpr.status == 0, "\(bpr.stderr)")
    let e = try mf(["evaluate", "test.csv", "--model", "bpr.mf", "--json"], in: folder).json()
    #expect((e["auc"] as! Double) > 0.7)
  }

  @Test func leaveLastOutSplitsByTimestamp() throws {
    let r = try mf(
      ["split", "ratings.csv", "--strategy", "last", "--train-output", "tr.csv", "--test-output", "te.csv", "--json"],
      in: folder)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try r.json()["test_lines"] as? Int == 30)
    let noTime = try mf(
      ["split", "plays.csv", "--strategy", "last", "--train-output", "a.csv", "--test-output", "b.csv"], in: folder)
    #expect(noTime.status != 0 && noTime.stderr.contains("timestamps"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/a.csv"))
  }

  @Test func recommendModes() throws {
    let fit = try mf(["fit", "plays.csv", "--implicit", "--rank", "4", "--epochs", "8", "--quiet"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    let played = Set(Self.playsCSV().split(separator: "\n").filter { $0.hasPrefix("p2,") }.map { String($0.split(separator: ",")[1]) })
    // Default: the user's own plays are left out; --no-exclude-seen brings them back.
    let top = try mf(["recommend", "p2", "--top", "5", "--json"], in: folder).json()
    let items = (top["items"] as! [[String: Any]]).map { $0["item"] as! String }
    #expect(items.count == 5 && played.isDisjoint(with: items))
    let all = try mf(["recommend", "p2", "--top", "5", "--no-exclude-seen", "--json"], in: folder).json()
    #expect(!played.isDisjoint(with: (all["items"] as! [[String: Any]]).map { $0["item"] as! String }))
    // --items restricts the candidates.
    write("s1\ns2\ns20\nunknown-song\n", to: folder + "/candidates.txt")
    let restricted = try mf(["recommend", "p1", "--top", "10", "--items", "candidates.txt", "--json"], in: folder)
    #expect(restricted.status == 0 && restricted.stderr.contains("not in the model"))
    let got = Set((try restricted.json()["items"] as! [[String: Any]]).map { $0["item"] as! String })
    #expect(got.isSubset(of: ["s1", "s2", "s20"]))
    // Every user, in blocks, to a file.
    let batch = try mf(["recommend", "--all-users", "--top", "3", "--output", "all.csv"], in: folder)
    #expect(batch.status == 0, "\(batch.stderr)")
    let lines = try String(contentsOfFile: folder + "/all.csv", encoding: .utf8).split(separator: "\n")
    #expect(lines.first == "user,rank,item,score" && lines.count == 1 + 40 * 3)
    #expect(lines.contains { $0.hasPrefix("p2,1,\(items[0]),") })
    // A new user folded in from their history gets their taste group's items.
    let folded = try mf(["recommend", "--history", "s1,s2,s3,s4:3", "--top", "5", "--json"], in: folder)
    #expect(folded.status == 0, "\(folded.stderr)")
    let foldedItems = (try folded.json()["items"] as! [[String: Any]]).map { $0["item"] as! String }
    #expect(foldedItems.allSatisfy { Int($0.dropFirst())! <= 15 } && !foldedItems.contains("s1"))
    // Similar users share the taste group (even user numbers play s1–s15).
    let similar = try mf(["similar-users", "p2", "--top", "5", "--json"], in: folder).json()
    let users = (similar["users"] as! [[String: Any]]).map { $0["user"] as! String }
    #expect(users.count == 5 && users.allSatisfy { Int($0.dropFirst())! % 2 == 0 })
  }

  @Test func badImplicitInputsAreClearErrors() throws {
    write("a,x,1\nb,y,-3\n", to: folder + "/negative.csv")
    let negative = try mf(["fit", "negative.csv", "--implicit", "--quiet", "--model", "neg.mf"], in: folder)
    #expect(negative.status != 0 && negative.stderr.contains("values ≥ 0"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/neg.mf"))
    let alpha = try mf(["fit", "ratings.csv", "--alpha", "3", "--quiet"], in: folder)
    #expect(alpha.status != 0 && alpha.stderr.contains("--implicit"))
    let modes = try mf(["recommend", "u1", "--all-users"], in: folder)
    #expect(modes.status != 0 && modes.stderr.contains("exactly one of"))
    // An explicit model needs ratings to fold a user in.
    _ = try mf(["fit", "ratings.csv", "--rank", "3", "--epochs", "5", "--quiet", "--model", "explicit.mf"], in: folder)
    let noRatings = try mf(["recommend", "--history", "m1,m2", "--model", "explicit.mf"], in: folder)
    #expect(noRatings.status != 0 && noRatings.stderr.contains("item:rating"))
    let withRatings = try mf(["recommend", "--history", "m1:5,m2:4,m15:1", "--model", "explicit.mf", "--json"], in: folder)
    #expect(withRatings.status == 0, "\(withRatings.stderr)")
    // Ranking evaluation of an explicit model, relevance = rating ≥ 4.
    let ranking = try mf(["evaluate", "ratings.csv", "--model", "explicit.mf", "--ranking", "--json"], in: folder)
    #expect(ranking.status != 0 && ranking.stderr.contains("could be evaluated"))
  }
}
