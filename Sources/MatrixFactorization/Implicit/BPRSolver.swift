@_spi(Engine) import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// Bayesian personalized ranking (Rendle, Freudenthaler, Gantner & Schmidt-Thieme 2009,
/// "BPR: Bayesian Personalized Ranking from Implicit Feedback"), learned by SGD on sampled
/// triples.
///
/// For a user u, an item i the user interacted with and an item j the user did not, the model
/// scores x_uij = x̂_ui − x̂_uj with x̂_ui = b_i + p_u·q_i, and BPR-Opt maximizes
///
///     Σ ln σ(x_uij) − λ (‖p_u‖² + ‖q_i‖² + ‖q_j‖²) − λ_b (b_i² + b_j²).
///
/// One SGD step (LearnBPR, Rendle et al. Fig. 4) with z = σ(−x_uij) = 1 − σ(x_uij):
///
///     p_u += η (z (q_i − q_j) − λ p_u)
///     q_i += η (z p_u − λ q_i),   q_j += η (−z p_u − λ q_j)
///     b_i += η (z − λ_b b_i),     b_j += η (−z − λ_b b_j)
///
/// An epoch draws as many triples as there are interactions: (u, i) uniformly from the
/// interactions (so bootstrap sampling, as the paper recommends over user-wise passes), j
/// uniformly from the catalogue, redrawn while u has interacted with j. Threads run lock-free
/// on shared factors (Hogwild!, Recht et al. 2011): collisions are rare on sparse data and
/// only perturb a step. With more than one thread the result is therefore not bit-identical
/// from run to run; with one thread it is.
struct BPRSolver: FactorSolver {
  let context: TrainingContext
  private(set) var settings: BPRSettings
  /// Interactions by user (CSR; columns sorted, used to reject sampled positives).
  let byUser: SparseRatingMatrix
  /// The user of each CSR entry.
  let entryUser: [Int32]

  init(data: TrainingData, context: TrainingContext, settings: BPRSettings) {
    self.context = context
    self.settings = settings
    self.byUser = data.byUser
    var owner = [Int32](repeating: 0, count: byUser.entryCount)
    for u in 0 ..< byUser.rowCount {
      for e in byUser.rowStart[u] ..< byUser.rowStart[u + 1] { owner[e] = Int32(u) }
    }
    self.entryUser = owner
  }

  /// One epoch of `entryCount` sampled updates; measures the fraction of sampled triples that
  /// the model ranked correctly (x_uij > 0) before their update, a cheap progress measure.
  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome {
    let total = byUser.entryCount
    let factors = context.factors
    let itemCount = factors.itemCount
    if total == 0 || itemCount < 2 { return EpochOutcome(sampledAUC: 0) }
    let threads = max(1, min(context.threads, total))
    let k = context.rank
    let eta = settings.learningRate * Float(pow(Double(settings.learningRateDecay), Double(epoch)))
    let lambda = settings.regularization
    let lambdaBias = settings.biasRegularization
    let base = SeededGenerator(seed: context.seed ^ 0xB9B_5A3D).split(epoch)
    var correct = [Int](repeating: 0, count: threads)
    let p = factors.p.mutable
    let q = factors.q.mutable
    let bias = factors.itemBias.mutable
    withSharedReadPointers(byUser.rowStart, byUser.columns, entryUser) { rowStart, columns, owners in
      correct.withSharedPointer { correct in
        Parallel.forEach(threads, threads: threads) { t in
          var rng = base.split(t)
          let share = total / threads + (t < total % threads ? 1 : 0)
          var right = 0
          for _ in 0 ..< share {
            let e = rng.nextIndex(below: total)
            let u = Int(owners[e])
            let i = Int(columns[e])
            let lo = rowStart[u]
            let hi = rowStart[u + 1]
            if hi - lo >= itemCount { continue }  // the user has no negatives
            var j = rng.nextIndex(below: itemCount)
            while BPRSolver.contains(columns.base, lo, hi, Int32(j)) {
              j = rng.nextIndex(below: itemCount)
            }
            let x = BPRSolver.step(
              k, p.row(u), q.row(i), q.row(j), bias.row(i), bias.row(j), eta: eta, lambda: lambda,
              lambdaBias: lambdaBias)
            if x > 0 { right += 1 }
          }
          correct[t] = right
        }
      }
    }
    return EpochOutcome(sampledAUC: Double(correct.reduce(0, +)) / Double(total))
  }

  mutating func backOff() -> String? {
    settings.learningRate *= 0.5
    return "halved the step size (η = \(settings.learningRate))"
  }

  /// One LearnBPR step on (p_u, q_i, q_j, b_i, b_j) (see the type's comment); returns x_uij
  /// before the update.
  @inline(__always)
  static func step(
    _ k: Int, _ pu: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
    _ qj: UnsafeMutablePointer<Float>, _ bi: UnsafeMutablePointer<Float>,
    _ bj: UnsafeMutablePointer<Float>, eta: Float, lambda: Float, lambdaBias: Float
  ) -> Float {
    let x = bi.pointee - bj.pointee + RowKernels.dotOfDifference(k, pu, qi, qj)
    let z = 1 / (1 + expf(x))
    RowKernels.pairwiseStep(k, pu, qi, qj, decay: 1 - eta * lambda, step: eta * z)
    bi.pointee += eta * (z - lambdaBias * bi.pointee)
    bj.pointee += eta * (-z - lambdaBias * bj.pointee)
    return x
  }

  /// Whether the sorted `columns[lo ..< hi]` holds `item` (binary search).
  @inline(__always)
  static func contains(_ columns: UnsafePointer<Int32>, _ lo: Int, _ hi: Int, _ item: Int32) -> Bool {
    var lo = lo
    var hi = hi
    while lo < hi {
      let mid = (lo + hi) >> 1
      let c = columns[mid]
      if c == item { return true }
      if c < item { lo = mid + 1 } else { hi = mid }
    }
    return false
  }
}
