import Foundation
import MatrixFactorization
import Testing

/// The headline accuracy check on MovieLens-100K, protocol as in the README: train on
/// uK.base, evaluate on uK.test for K = 1…5, report the mean test RMSE.
@Suite(.serialized) struct MovieLensAccuracyTests {
  static let folder: String? = {
    // ../shared beside the checkout: walk up from this file to the package root.
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0 ..< 3 { url.deleteLastPathComponent() }
    let candidate = url.deletingLastPathComponent().appendingPathComponent("shared/data/ml-100k").path
    return FileManager.default.fileExists(atPath: candidate + "/u1.base") ? candidate : nil
  }()

  /// Mean RMSE over the five folds with `options`.
  func fiveFoldRMSE(_ options: TrainingOptions) throws -> (mean: Double, folds: [Double]) {
    guard let folder = Self.folder else { return (0, []) }
    var folds: [Double] = []
    for k in 1 ... 5 {
      let (train, _) = try RatingFileReader.read(path: "\(folder)/u\(k).base")
      let (test, _) = try RatingFileReader.read(path: "\(folder)/u\(k).test")
      let model = try Trainer.fit(train, options: options, measureTrainRMSE: false).model
      folds.append(Evaluation.errors(of: model, on: test).rmse)
    }
    return (folds.reduce(0, +) / 5, folds)
  }

  func skipIfAbsent() -> Bool {
    if Self.folder == nil {
      print("skipped: MovieLens-100K not found at ../shared/data/ml-100k (it is read from there, never bundled)")
      return true
    }
    return false
  }

  /// `mf fit --rank 32` with no other flag: mean RMSE ≤ 0.915.
  @Test func defaultFitMeetsTheBar() throws {
    if skipIfAbsent() { return }
    let r = try fiveFoldRMSE(.defaults(for: .sgd, rank: 32))
    print("ML-100K default (SGD rank 32) mean RMSE \(r.mean), folds \(r.folds)")
    #expect(r.mean <= 0.915)
  }

  /// The tuned settings reported in the README for each algorithm.
  @Test(arguments: Algorithm.allCases)
  func tunedFitsMeetTheirBars(algorithm: Algorithm) throws {
    if skipIfAbsent() { return }
    let options = TunedSettings.movieLens100K(algorithm)
    let r = try fiveFoldRMSE(options)
    print("ML-100K tuned \(algorithm) mean RMSE \(r.mean), folds \(r.folds)")
    #expect(r.mean <= (algorithm == .sgd ? 0.905 : 0.910))
  }
}
