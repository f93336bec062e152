import Foundation
import MatrixFactorization
import Testing

/// MovieLens-100K at ../shared/data/ml-100k beside the checkout (read from there, never bundled).
enum MovieLens100K {
  /// The data set's folder, or nil when it is absent.
  static let folder: String? = {
    // ../shared beside the checkout: walk up from this file to the package root.
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0 ..< 3 { url.deleteLastPathComponent() }
    let candidate = url.deletingLastPathComponent().appendingPathComponent("shared/data/ml-100k").path
    return FileManager.default.fileExists(atPath: candidate + "/u1.base") ? candidate : nil
  }()
}

/// The headline accuracy check on MovieLens-100K, protocol as in the README: train on
/// uK.base, evaluate on uK.test for K = 1…5, report the mean test RMSE. Without the data set
/// the suite is reported as skipped, with the reason, rather than passing.
@Suite(
  .serialized,
  .enabled(
    if: MovieLens100K.folder != nil,
    "MovieLens-100K not found at ../shared/data/ml-100k (it is read from there, never bundled)"))
struct MovieLensAccuracyTests {
  /// Mean RMSE over the five folds with `options` (self-tuned per `plan`, when given).
  func fiveFoldRMSE(
    _ options: TrainingOptions, plan: TuningPlan? = nil
  ) throws -> (mean: Double, folds: [Double], algorithms: [Algorithm]) {
    let folder = try #require(MovieLens100K.folder)
    var folds: [Double] = []
    var algorithms: [Algorithm] = []
    for k in 1 ... 5 {
      let (train, _) = try RatingFileReader.read(path: "\(folder)/u\(k).base")
      let (test, _) = try RatingFileReader.read(path: "\(folder)/u\(k).test")
      let model = try plan.map { plan throws(MFError) in try SelfTuning.fit(train, options: options, plan: plan).model }
        ?? Trainer.fit(train, options: options, measureTrainRMSE: false).model
      folds.append(Evaluation.errors(of: model, on: test).rmse)
      algorithms.append(model.summary.options.algorithm)
    }
    return (folds.reduce(0, +) / 5, folds, algorithms)
  }

  /// `mf fit --rank 32` with no other flag, as the CLI runs it (self-tuned SGD from the
  /// adaptive step, SVD++ tried beside it on data this small, the better on validation kept):
  /// mean RMSE ≤ 0.905 (issue 8's bar), with SVD++ chosen on every fold.
  @Test func defaultFitMeetsTheBar() throws {
    var options = TrainingOptions.defaults(for: .sgd, rank: 32)
    options.sgd = .selfTuningStart
    var plan = TuningPlan()
    plan.alternatives = [.svdpp]
    let r = try fiveFoldRMSE(options, plan: plan)
    print("ML-100K default (self-tuned, SGD or SVD++, rank 32) mean RMSE \(r.mean), folds \(r.folds)")
    #expect(r.mean <= 0.905)
    #expect(r.algorithms == Array(repeating: .svdpp, count: 5))
  }

  /// `mf fit --rank 32 --no-tune`: the fixed defaults, mean RMSE ≤ 0.915.
  @Test func fixedDefaultFitMeetsTheBar() throws {
    let r = try fiveFoldRMSE(.defaults(for: .sgd, rank: 32))
    print("ML-100K fixed default (SGD rank 32, --no-tune) mean RMSE \(r.mean), folds \(r.folds)")
    #expect(r.mean <= 0.915)
  }

  /// `mf fit --algorithm bayes --rank 32` with its defaults (Gibbs sampling, nothing tuned) on
  /// fold u1 (one fold: 200 sweeps per fold make five cost ~20 s; the README's five-fold table
  /// comes from `Benchmarks/accuracy/ml100k.py`): test RMSE below 0.9145, u1's figure for the
  /// best mf had before it (tuned SGD at rank 256, five-fold mean 0.9042), and below 0.900: the
  /// implicit feedback of the defaults must pay on real data (u1 without it: 0.9070; with it,
  /// 0.8967 at b11c1e0; the bound holds on all five folds, whose largest is u1).
  @Test func bayesianDefaultIsTheMostAccurate() throws {
    let folder = try #require(MovieLens100K.folder)
    let (train, _) = try RatingFileReader.read(path: "\(folder)/u1.base")
    let (test, _) = try RatingFileReader.read(path: "\(folder)/u1.test")
    let model = try Trainer.fit(train, options: .defaults(for: .bayes, rank: 32), measureTrainRMSE: false).model
    let rmse = Evaluation.errors(of: model, on: test).rmse
    print("ML-100K u1 Bayesian MF (rank 32, defaults) test RMSE \(rmse)")
    #expect(rmse < 0.9145)
    #expect(rmse < 0.900, "implicit feedback should bring u1 below 0.900 (0.9070 without it)")
  }

  /// `mf fit --algorithm svdpp` with its defaults against `mf fit --no-tune` (plain biased SGD,
  /// rank 32) on fold u1: SVD++'s implicit term must lower the test RMSE. One thread, so the
  /// figure is reproducible (SVD++'s threads are Hogwild).
  @Test func svdppBeatsPlainSGD() throws {
    let folder = try #require(MovieLens100K.folder)
    let (train, _) = try RatingFileReader.read(path: "\(folder)/u1.base")
    let (test, _) = try RatingFileReader.read(path: "\(folder)/u1.test")
    var options = TrainingOptions.defaults(for: .svdpp, rank: 32)
    options.threads = 1
    let svdpp = try Trainer.fit(train, options: options, measureTrainRMSE: false).model
    let sgd = try Trainer.fit(train, options: .defaults(for: .sgd, rank: 32), measureTrainRMSE: false).model
    let (a, b) = (Evaluation.errors(of: svdpp, on: test).rmse, Evaluation.errors(of: sgd, on: test).rmse)
    print("ML-100K u1 SVD++ (rank 32, defaults) test RMSE \(a); SGD --no-tune \(b)")
    #expect(a < b)
  }

  /// The tuned settings reported in the README for each algorithm.
  @Test(arguments: [Algorithm.sgd, .als])
  func tunedFitsMeetTheirBars(algorithm: Algorithm) throws {
    let options = TunedSettings.movieLens100K(algorithm)
    let r = try fiveFoldRMSE(options)
    print("ML-100K tuned \(algorithm) mean RMSE \(r.mean), folds \(r.folds)")
    #expect(r.mean <= (algorithm == .sgd ? 0.905 : 0.910))
  }

  /// Implicit ALS on u1.base with ratings ≥ 4 as positives (values ignored), ranked for the
  /// u1.test positives: it must beat recommending the most popular unseen items by a margin.
  @Test func implicitALSBeatsPopularityOnTopTen() throws {
    let folder = try #require(MovieLens100K.folder)
    var train = try RatingFileReader.read(path: "\(folder)/u1.base").0.filtered(minimumValue: 4)
    train.values = [Float](repeating: 1, count: train.count)
    let test = try RatingFileReader.read(path: "\(folder)/u1.test").0.filtered(minimumValue: 4)
    var options = TrainingOptions.defaults(for: .implicitALS, rank: 64)
    options.implicitALS?.regularization = 0.05
    options.implicitALS?.alpha = 9
    let model = try Trainer.fit(train, options: options, measureTrainRMSE: false).model
    let als = try RankingEvaluation.evaluate(model, on: test, k: 10)
    // Popularity: a rank-1 model whose item "factor" is the item's training count.
    var popular = model
    var counts = [Float](repeating: 0, count: model.itemCount)
    for i in model.seen.items { counts[Int(i)] += 1 }
    popular.userFactors = Matrix(rows: model.userCount, columns: 1, repeating: 1)
    popular.itemFactors = Matrix(rows: model.itemCount, columns: 1, values: counts)
    popular.summary.options.rank = 1
    let baseline = try RankingEvaluation.evaluate(popular, on: test, k: 10)
    print("ML-100K u1 implicit ALS: P@10 \(als.precision) NDCG@10 \(als.ndcg) AUC \(als.auc);"
      + " popularity: P@10 \(baseline.precision) NDCG@10 \(baseline.ndcg) AUC \(baseline.auc)")
    // (Popularity's AUC is higher, 0.87 against 0.83 when measured: AUC weighs the whole long
    // tail, where popularity orders well; the top of the list is what a recommender shows.)
    #expect(als.ndcg > baseline.ndcg * 1.15)
    #expect(als.precision > baseline.precision * 1.15)
  }
}
