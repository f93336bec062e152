import Foundation
import Testing

/// `mf fit --algorithm bayes` end to end: fit with progress and validation, then every serving
/// command on the version-2 model, and the flags that do not apply.
@Suite(.serialized) struct BayesCommandLineTests {
  let folder: String

  init() throws {
    folder = scratchFolder()
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
  }

  @Test func fitServeAndDescribe() throws {
    let fit = try mf(
      ["fit", "ratings.csv", "--algorithm", "bayes", "--rank", "3", "--samples", "4", "--burn-in", "6",
       "--thinning", "2", "--holdout", "0.2", "--threads", "2", "--implicit-feedback", "--model", "b.mf"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("14 Gibbs sweeps (6 burn-in, then 4 kept samples 2 sweeps apart, implicit feedback)"))
    #expect(fit.stderr.contains("sweep 1/14  sample train RMSE"))
    #expect(fit.stderr.contains("validation RMSE (average)"))
    #expect(fit.stdout.contains("predicts the average of 4 kept samples"))

    let json = try mf(
      ["fit", "ratings.csv", "--algorithm", "bayes", "--rank", "3", "--samples", "4", "--burn-in", "6",
       "--thinning", "2", "--implicit-feedback", "--json", "--quiet", "--model", "b.mf"], in: folder).json()
    #expect(json["algorithm"] as? String == "bayes" && json["rank"] as? Int == 3)
    #expect(json["kept_samples"] as? Int == 4 && json["epochs_run"] as? Int == 14)
    #expect((json["history"] as? [Any])?.count == 14)
    // An explicit flag wins: nothing is chosen.
    #expect(json["tuning"] == nil)

    let info = try mf(["info", "--model", "b.mf", "--json"], in: folder).json()
    #expect(info["format_version"] as? Int == 3 && info["rank"] as? Int == 3)
    #expect(info["kept_samples"] as? Int == 4 && info["scoring_width"] as? Int == 12)
    let options = try #require(info["options"] as? [String: Any])
    #expect(options["samples"] as? Int == 4 && options["burn_in"] as? Int == 6 && options["thinning"] as? Int == 2)
    #expect(options["implicit_feedback"] as? Bool == true)
    let text = try mf(["info", "--model", "b.mf"], in: folder)
    #expect(text.stdout.contains("Bayesian MF (Gibbs sampling), rank 3"))
    #expect(text.stdout.contains("format version 3"))
    // Without implicit feedback: plain Bayesian MF, a version-2 file (as before version 3).
    let plain = try mf(
      ["fit", "ratings.csv", "--algorithm", "bayes", "--rank", "3", "--samples", "2", "--burn-in", "2",
       "--thinning", "1", "--no-implicit-feedback", "--quiet", "--model", "p.mf"], in: folder)
    #expect(plain.status == 0, "\(plain.stderr)")
    let plainInfo = try mf(["info", "--model", "p.mf", "--json"], in: folder).json()
    #expect(plainInfo["format_version"] as? Int == 2)
    #expect((plainInfo["options"] as? [String: Any])?["implicit_feedback"] as? Bool == false)

    let predict = try mf(["predict", "u2", "m3", "--model", "b.mf"], in: folder)
    let value = try #require(Double(predict.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    #expect(value >= 1 && value <= 5)
    let evaluate = try mf(["evaluate", "ratings.csv", "--model", "b.mf", "--json"], in: folder).json()
    #expect((evaluate["rmse"] as? Double ?? 9) < 1.2)
    let recommend = try mf(["recommend", "u2", "--top", "3", "--model", "b.mf", "--json"], in: folder)
    #expect(recommend.status == 0, "\(recommend.stderr)")
    let folded = try mf(["recommend", "--history", "m1:5,m2:4,m11:1", "--top", "3", "--model", "b.mf", "--json"], in: folder)
    #expect(folded.status == 0, "\(folded.stderr)")
    let similar = try mf(["similar", "m3", "--top", "3", "--model", "b.mf", "--json"], in: folder)
    #expect(similar.status == 0, "\(similar.stderr)")
    let neighbours = try similar.json()
    #expect((neighbours["items"] as? [Any])?.count == 3)

    // Export writes the posterior-mean embeddings: k = 3 columns, not the 12 of the samples.
    let export = try mf(["export", "--format", "csv", "--output", "emb", "--model", "b.mf"], in: folder)
    #expect(export.status == 0, "\(export.stderr)")
    let header = try String(contentsOfFile: folder + "/emb/items.csv", encoding: .utf8).split(separator: "\n")[0]
    #expect(header == "id,bias,f0,f1,f2")
  }

  /// With neither --implicit-feedback nor --no-implicit-feedback, a short chain of each on 10%
  /// of the training ratings chooses; the choice is in `fit --json`, `info` and `info --json`,
  /// the same for the same seed (the same model file), and --validation only shows progress.
  @Test func implicitFeedbackIsChosenUnlessGiven() throws {
    let args = ["fit", "ratings.csv", "--algorithm", "bayes", "--rank", "3", "--samples", "4", "--burn-in", "6",
                "--thinning", "2", "--threads", "2"]
    let fit = try mf(args + ["--model", "c1.mf"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("implicit feedback on or off as chosen"))
    #expect(fit.stderr.contains("choosing implicit feedback (on or off) by a 56-sweep chain of each"))
    #expect(fit.stderr.contains("  implicit feedback on: validation RMSE"))
    #expect(fit.stderr.contains("  implicit feedback off: validation RMSE"))
    #expect(fit.stderr.contains("final chain on all"))
    let json = try mf(args + ["--json", "--quiet", "--model", "c2.mf"], in: folder).json()
    let tuning = try #require(json["tuning"] as? [String: Any])
    #expect(tuning["tuned_implicit_feedback"] as? Bool == true)
    let chosen = try #require(tuning["implicit_feedback"] as? Bool)
    let trials = try #require(tuning["trials"] as? [[String: Any]])
    #expect(trials.compactMap { $0["implicit_feedback"] as? Bool } == [true, false])
    #expect(json["epochs_run"] as? Int == 14)
    let info = try mf(["info", "--model", "c2.mf", "--json"], in: folder).json()
    #expect((info["options"] as? [String: Any])?["implicit_feedback"] as? Bool == chosen)
    #expect((info["tuning"] as? [String: Any])?["implicit_feedback"] as? Bool == chosen)
    let text = try mf(["info", "--model", "c2.mf"], in: folder)
    #expect(text.stdout.contains("chose implicit feedback \(chosen ? "on" : "off") from 2 short chain(s)"))
    // The same seed gives the same file, with or without validation ratings for progress
    // (the summary's timings aside: compare the models' predictions on every training rating).
    let withValidation = try mf(args + ["--validation", "ratings.csv", "--quiet", "--model", "c3.mf"], in: folder)
    #expect(withValidation.status == 0, "\(withValidation.stderr)")
    let scores = try ["c1.mf", "c2.mf", "c3.mf"].map { model in
      try mf(["evaluate", "ratings.csv", "--model", model, "--json"], in: folder).json()["rmse"] as? Double
    }
    #expect(scores[0] != nil && scores[0] == scores[1] && scores[1] == scores[2])
    let given = try mf(args + ["--no-implicit-feedback", "--json", "--quiet", "--model", "c4.mf"], in: folder).json()
    #expect(given["tuning"] == nil)
  }

  @Test func flagsThatDoNotApplyAreNamed() throws {
    let epochs = try mf(["fit", "ratings.csv", "--algorithm", "bayes", "--epochs", "5", "--model", "x.mf"], in: folder)
    #expect(epochs.status != 0 && epochs.stderr.contains("--epochs does not apply to Bayesian MF"))
    let samples = try mf(["fit", "ratings.csv", "--algorithm", "bayes", "--samples", "0", "--model", "x.mf"], in: folder)
    #expect(samples.status != 0 && samples.stderr.contains("--samples must be between 1 and 1000, got 0"))
    let lambda = try mf(
      ["fit", "ratings.csv", "--algorithm", "bayes", "--rank", "2", "--samples", "2", "--burn-in", "2",
       "--thinning", "1", "--regularization", "0.1", "--quiet", "--model", "x.mf"], in: folder)
    #expect(lambda.status == 0 && lambda.stderr.contains("--regularization does not apply to Bayesian MF; ignored"))
    let implicit = try mf(
      ["fit", "ratings.csv", "--rank", "2", "--epochs", "2", "--implicit-feedback", "--quiet", "--model", "y.mf"],
      in: folder)
    #expect(implicit.status == 0 && implicit.stderr.contains("--[no-]implicit-feedback does not apply"))
    let history = try mf(["recommend", "--history", "m1,m2", "--model", "x.mf"], in: folder)
    #expect(history.status != 0 && history.stderr.contains("needs a rating"))
  }
}
