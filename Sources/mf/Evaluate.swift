import ArgumentParser
import Foundation
import MatrixFactorization

struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a model on held-out data: RMSE and MAE, or top-N ranking quality.",
    discussion: """
      Rating models report RMSE and MAE; add --ranking for precision, recall, NDCG and MAP at k, \
      AUC and catalogue coverage, with held-out ratings ≥ --relevance-threshold as relevant. \
      Implicit models always report ranking quality, with every held-out interaction relevant \
      (unless --relevance-threshold is given). Items a user has in training are never ranked.
      """)

  @Argument(help: "Held-out ratings or interactions (same formats as 'mf fit').") var testRatings: String
  @OptionGroup var modelOptions: ModelOptions
  @Flag(help: "Rank items and report ranking metrics (implied for implicit models).") var ranking = false
  @Option(help: "List length for the ranking metrics.") var k: Int = 10
  @Option(help: "Held-out values at or above this are relevant (default: 4 for rating models, every interaction for implicit ones).")
  var relevanceThreshold: Float?
  @Option(help: "Worker threads for ranking (default: all cores).") var threads: Int?
  @OptionGroup var input: InputOptions
  @Flag(help: "Print one JSON object.") var json = false

  func validate() throws {
    if k < 1 { throw ValidationError("--k must be at least 1, got \(k)") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }

  func run() throws {
    let model = try modelOptions.load()
    let (test, _) = try input.read(testRatings, requireRating: !model.isImplicit)
    if ranking || model.isImplicit || relevanceThreshold != nil {
      let threshold = relevanceThreshold ?? (model.isImplicit ? nil : 4)
      let r = try RankingEvaluation.evaluate(
        model, on: test, k: k, relevanceThreshold: threshold, threads: threads)
      if r.users == 0 {
        throw MFError.invalidInput(
          "no held-out user of '\(testRatings)' could be evaluated: none is in the model with a relevant item"
            + (threshold.map { " (value ≥ \($0))" } ?? "") + " outside their training items")
      }
      if json {
        try Console.json([
          "k": r.k, "precision": r.precision.json, "recall": r.recall.json, "ndcg": r.ndcg.json,
          "map": r.map.json, "auc": r.auc.json, "coverage": r.coverage.json, "users": r.users,
          "unknown_users": r.unknownUsers, "dropped_pairs": r.droppedPairs,
          "relevance_threshold": threshold.map { Double($0) as Any } ?? NSNull(),
        ])
      } else {
        print("precision@\(k) \(formatted(r.precision))  recall@\(k) \(formatted(r.recall))"
          + "  NDCG@\(k) \(formatted(r.ndcg))  MAP@\(k) \(formatted(r.map))")
        print("AUC \(formatted(r.auc))  coverage \(formatted(r.coverage))  over \(r.users) users"
          + (r.unknownUsers > 0 ? " (\(r.unknownUsers) unknown users skipped)" : "")
          + (r.droppedPairs > 0 ? " (\(r.droppedPairs) held-out pairs with unknown or training items left out)" : ""))
      }
      return
    }
    let e = Evaluation.errors(of: model, on: test)
    if json {
      try Console.json(["rmse": e.rmse.json, "mae": e.mae.json, "count": e.count, "fallbacks": e.fallbacks])
    } else {
      print("RMSE \(formatted(e.rmse))  MAE \(formatted(e.mae))  over \(e.count) ratings"
        + " (\(e.fallbacks) fell back to a baseline: unknown user or item)")
    }
  }
}
