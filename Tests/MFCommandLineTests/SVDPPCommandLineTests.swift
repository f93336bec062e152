import Foundation
import Testing

/// `mf fit --algorithm svdpp` end to end: fit with progress and validation, then every serving
/// command on the model (a version-1 rating model whose user factors hold the implicit term).
@Suite(.serialized) struct SVDPPCommandLineTests {
  let folder: String

  init() throws {
    folder = scratchFolder()
    write(sampleRatingsCSV(), to: folder + "/ratings.csv")
  }

  @Test func fitServeAndDescribe() throws {
    let fit = try mf(
      ["fit", "ratings.csv", "--algorithm", "svdpp", "--rank", "4", "--epochs", "30", "--holdout", "0.2",
       "--threads", "1", "--model", "s.mf"], in: folder)
    #expect(fit.status == 0, "\(fit.stderr)")
    #expect(fit.stderr.contains("training SVD++ rank 4, 30 epochs"))
    #expect(fit.stderr.contains("epoch 30/30  train RMSE"))
    #expect(fit.stderr.contains("validation RMSE"))
    #expect(fit.stdout.contains("trained SVD++ rank 4"))

    let json = try mf(
      ["fit", "ratings.csv", "--algorithm", "svdpp", "--rank", "4", "--epochs", "30", "--threads", "1",
       "--implicit-regularization", "0.4", "--json", "--quiet", "--model", "s.mf"], in: folder).json()
    #expect(json["algorithm"] as? String == "svdpp" && json["rank"] as? Int == 4)
    #expect(json["epochs_run"] as? Int == 30)
    let trainRMSE = try #require(json["train_rmse"] as? Double)

    let info = try mf(["info", "--model", "s.mf", "--json"], in: folder).json()
    #expect(info["format_version"] as? Int == 1 && info["kind"] as? String == "rating")
    let options = try #require(info["options"] as? [String: Any])
    #expect(options["algorithm"] as? String == "svdpp")
    #expect(options["implicit_regularization"] as? Double == 0.4)
    let text = try mf(["info", "--model", "s.mf"], in: folder)
    #expect(text.stdout.contains("algorithm     svdpp"))

    // The stored model serves SVD++'s predictions: evaluating on the training file gives the
    // fit's own train RMSE.
    let evaluate = try mf(["evaluate", "ratings.csv", "--model", "s.mf", "--json"], in: folder).json()
    let rmse = try #require(evaluate["rmse"] as? Double)
    #expect(abs(rmse - trainRMSE) < 1e-4, "evaluate \(rmse), fit \(trainRMSE)")
    #expect(rmse < 1.0)

    let predict = try mf(["predict", "u2", "m3", "--model", "s.mf"], in: folder)
    let value = try #require(Double(predict.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    #expect(value >= 1 && value <= 5)
    let recommend = try mf(["recommend", "u2", "--top", "3", "--model", "s.mf", "--json"], in: folder)
    #expect(recommend.status == 0, "\(recommend.stderr)")
    let folded = try mf(["recommend", "--history", "m1:5,m2:4,m11:1", "--top", "3", "--model", "s.mf", "--json"], in: folder)
    #expect(folded.status == 0, "\(folded.stderr)")
    let similar = try mf(["similar", "m3", "--top", "3", "--model", "s.mf", "--json"], in: folder)
    #expect(similar.status == 0, "\(similar.stderr)")
    let export = try mf(["export", "--format", "csv", "--output", "emb", "--model", "s.mf"], in: folder)
    #expect(export.status == 0, "\(export.stderr)")
    let header = try String(contentsOfFile: folder + "/emb/users.csv", encoding: .utf8).split(separator: "\n")[0]
    #expect(header == "id,bias,f0,f1,f2,f3")
  }

  @Test func flagsThatDoNotApplyAndBadValues() throws {
    let ignored = try mf(
      ["fit", "ratings.csv", "--algorithm", "svdpp", "--rank", "2", "--epochs", "2", "--schedule", "adaptive",
       "--quiet", "--model", "x.mf"], in: folder)
    #expect(ignored.status == 0, "\(ignored.stderr)")
    #expect(ignored.stderr.contains("--schedule does not apply to SVD++; ignored"))
    let elsewhere = try mf(
      ["fit", "ratings.csv", "--no-tune", "--rank", "2", "--epochs", "2", "--implicit-regularization", "0.3",
       "--quiet", "--model", "x.mf"], in: folder)
    #expect(elsewhere.stderr.contains("--implicit-regularization does not apply to SGD; ignored"))
    let bad = try mf(
      ["fit", "ratings.csv", "--algorithm", "svdpp", "--learning-rate", "0.5", "--implicit-regularization", "3",
       "--quiet", "--model", "x.mf"], in: folder)
    #expect(bad.status != 0)
    #expect(bad.stderr.contains("--implicit-regularization times the learning rate must be below 1"), "\(bad.stderr)")
  }
}
