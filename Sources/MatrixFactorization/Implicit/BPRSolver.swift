import LinearAlgebra
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
struct BPRSolver {
  let options: TrainingOptions
  let buffers: FactorBuffers
  /// Interactions by user (CSR; columns sorted, used to reject sampled positives).
  let byUser: SparseRatingMatrix
  /// The user of each CSR entry.
  let entryUser: [Int32]

  init(byUser: SparseRatingMatrix, options: TrainingOptions, buffers: FactorBuffers) {
    self.options = options
    self.buffers = buffers
    self.byUser = byUser
    var owner = [Int32](repeating: 0, count: byUser.entryCount)
    for u in 0 ..< byUser.rowCount {
      for e in byUser.rowStart[u] ..< byUser.rowStart[u + 1] { owner[e] = Int32(u) }
    }
    self.entryUser = owner
  }

  /// One epoch of `entryCount` sampled updates; returns the fraction of sampled triples that
  /// the model ranked correctly (x_uij > 0) before their update, a cheap progress measure.
  func runEpoch(_ epoch: Int) -> Double {
    let total = byUser.entryCount
    let itemCount = buffers.itemCount
    if total == 0 || itemCount < 2 { return 0 }
    let threads = max(1, min(options.threads, total))
    let k = options.rank
    let eta = options.learningRate * Float(pow(Double(options.learningRateDecay), Double(epoch)))
    let lambda = options.regularization
    let lambdaBias = options.biasRegularization
    let base = SeededGenerator(seed: options.seed ^ 0xB9B_5A3D).split(epoch)
    var correct = [Int](repeating: 0, count: threads)
    let p = SharedPointer(buffers.p)
    let q = SharedPointer(buffers.q)
    let bias = SharedPointer(buffers.itemBias)
    byUser.rowStart.withUnsafeBufferPointer { rowStart in
      byUser.columns.withUnsafeBufferPointer { columns in
        entryUser.withUnsafeBufferPointer { owners in
          correct.withUnsafeMutableBufferPointer { correct in
            let rowStart = SharedPointer(UnsafeMutablePointer(mutating: rowStart.baseAddress!))
            let columns = SharedPointer(UnsafeMutablePointer(mutating: columns.baseAddress!))
            let owners = SharedPointer(UnsafeMutablePointer(mutating: owners.baseAddress!))
            let correct = SharedPointer(correct.baseAddress!)
            Parallel.forEach(threads, threads: threads) { t in
              var rng = base.split(t)
              let share = total / threads + (t < total % threads ? 1 : 0)
              var right = 0
              for _ in 0 ..< share {
                let e = rng.nextIndex(below: total)
                let u = Int(owners.base[e])
                let i = Int(columns.base[e])
                let lo = rowStart.base[u]
                let hi = rowStart.base[u + 1]
                if hi - lo >= itemCount { continue }  // the user has no negatives
                var j = rng.nextIndex(below: itemCount)
                while BPRSolver.contains(columns.base, lo, hi, Int32(j)) {
                  j = rng.nextIndex(below: itemCount)
                }
                let pu = p.base + u * k
                let qi = q.base + i * k
                let qj = q.base + j * k
                let x = bias.base[i] - bias.base[j] + BPRSolver.scoreDifference(k, pu, qi, qj)
                if x > 0 { right += 1 }
                let z = 1 / (1 + expf(x))
                BPRSolver.update(k, pu, qi, qj, z: z, eta: eta, lambda: lambda)
                bias.base[i] += eta * (z - lambdaBias * bias.base[i])
                bias.base[j] += eta * (-z - lambdaBias * bias.base[j])
              }
              correct.base[t] = right
            }
          }
        }
      }
    }
    return Double(correct.reduce(0, +)) / Double(total)
  }

  /// Whether the sorted `columns[lo ..< hi]` holds `item` (binary search).
  @inline(__always)
  static func contains(_ columns: UnsafeMutablePointer<Int32>, _ lo: Int, _ hi: Int, _ item: Int32) -> Bool {
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

  /// p_u · (q_i − q_j).
  @inline(__always)
  static func scoreDifference(
    _ k: Int, _ pu: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
    _ qj: UnsafeMutablePointer<Float>
  ) -> Float {
    var acc = SIMD8<Float>()
    var f = 0
    while f + 8 <= k {
      let a = UnsafeRawPointer(pu + f).loadUnaligned(as: SIMD8<Float>.self)
      let b = UnsafeRawPointer(qi + f).loadUnaligned(as: SIMD8<Float>.self)
      let c = UnsafeRawPointer(qj + f).loadUnaligned(as: SIMD8<Float>.self)
      acc = acc + a * (b - c)
      f += 8
    }
    var sum = acc.sum()
    while f < k {
      sum += pu[f] * (qi[f] - qj[f])
      f += 1
    }
    return sum
  }

  /// The simultaneous factor step of LearnBPR (all three updates use the old values).
  @inline(__always)
  static func update(
    _ k: Int, _ pu: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
    _ qj: UnsafeMutablePointer<Float>, z: Float, eta: Float, lambda: Float
  ) {
    let ez = SIMD8<Float>(repeating: eta * z)
    let decay = SIMD8<Float>(repeating: 1 - eta * lambda)
    var f = 0
    while f + 8 <= k {
      let a = UnsafeRawPointer(pu + f).loadUnaligned(as: SIMD8<Float>.self)
      let b = UnsafeRawPointer(qi + f).loadUnaligned(as: SIMD8<Float>.self)
      let c = UnsafeRawPointer(qj + f).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(pu + f).storeBytes(of: decay * a + ez * (b - c), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(qi + f).storeBytes(of: decay * b + ez * a, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(qj + f).storeBytes(of: decay * c - ez * a, as: SIMD8<Float>.self)
      f += 8
    }
    let ezs = eta * z
    let decays = 1 - eta * lambda
    while f < k {
      let a = pu[f]
      let b = qi[f]
      let c = qj[f]
      pu[f] = decays * a + ezs * (b - c)
      qi[f] = decays * b + ezs * a
      qj[f] = decays * c - ezs * a
      f += 1
    }
  }
}
