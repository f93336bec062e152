@_spi(Engine) import LinearAlgebra
import RatingData
#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

/// SVD++ (Koren 2008, "Factorization meets the neighborhood", eq. 15), trained by SGD user by
/// user.
///
/// The model: r̂_ui = μ + b_u + b_i + q_i·z_u with z_u = p_u + s_u Σ_{j∈N(u)} y_j, where N(u) is
/// the set of items u rated in training and s_u = |N(u)|^-½. Per rating, with e = r − r̂, the
/// SGD step on e² + λ(‖p_u‖² + ‖q_i‖²) + λ_b(b_u² + b_i²) is
///
///     b_u += η(e − λ_b b_u),  b_i += η(e − λ_b b_i)
///     q_i += η(e z_u − λ q_i),  p_u += η(e q_i − λ p_u)
///
/// and the y's move along ∂e²/∂y_j = −e s_u q_i for every j ∈ N(u). Done per rating that costs
/// |N(u)|·k per rating, so a pass is O(Σ_u |N(u)|²·k) (Surprise's SVD++ does that).
///
/// **The fast approximation** used here (the standard one of user-wise implementations such as
/// LibRec's): a user's ratings run in a row (shuffled), z_u computed once and kept current as p_u
/// moves, the y's held fixed meanwhile; their data gradient is accumulated, g = Σ_r e_r q_i
/// (each q_i before its step), and applied once at the end of the user:
///
///     y_j ← (1 − ηλ_y) y_j + η s_u g   for every j ∈ N(u),
///
/// the sum of the user's per-rating data steps as they would be if the y's did not move in
/// between. An epoch is then O(ratings·k).
///
/// **The y penalty** is λ_y once per (user, item of N(u)) pair and epoch, i.e. λ_y Σ_j |R(j)|
/// ‖y_j‖², weighted by the item's rating count as q_i's is. Eq. 15 puts λ‖y_j‖² in every rating's
/// term, so y_j's weight is Σ_{u∈R(j)} |N(u)|: items rated by heavy users are all but pinned at
/// 0. Measured on ML-100K u1 (best test RMSE over the epochs, rank 32): eq. 15's penalty 0.9155
/// at its best (η 0.01, λ 0.08), against 0.9078 with λ_y = 0.5 once per user.
///
/// **Threads**: users, in a random order each epoch, are split into chunks taken by threads.
/// p_u and b_u belong to one user, so one thread; q_i, b_i and y_j are shared and updated
/// lock-free (Hogwild!, Recht et al. 2011, as ``BPRSolver`` does): on sparse data collisions are
/// rare and only perturb a step. With one thread the chunks run in order and the result is the
/// same bit for bit for a seed; with more it is not reproducible.
package struct SVDPPSolver: FactorSolver {
  let context: TrainingContext
  private(set) var settings: SVDPPSettings
  let mean: Float
  let range: ClosedRange<Float>
  /// Ratings by user (CSR: N(u) and the ratings).
  let byUser: SparseRatingMatrix

  init(data: TrainingData, context: TrainingContext, settings: SVDPPSettings) {
    self.context = context
    self.settings = settings
    self.mean = data.mean
    self.range = data.range
    self.byUser = data.byUser
  }

  /// The step size of epoch `epoch`.
  func learningRate(epoch: Int) -> Float {
    settings.learningRate * Float(pow(Double(settings.learningRateDecay), Double(epoch)))
  }

  mutating func runEpoch(_ epoch: Int) throws(MFError) -> EpochOutcome {
    let factors = context.factors
    guard let yTable = factors.y else { preconditionFailure("SVD++ needs the implicit item table") }
    let users = byUser.rowCount
    let k = context.rank
    let eta = learningRate(epoch: epoch)
    let (lambda, lambdaBias, mu) = (settings.regularization, settings.biasRegularization, mean)
    let lambdaImplicit = settings.implicitRegularization
    // The user order of this epoch, and one stream per user for the order of its ratings: what a
    // user's update does depends only on the seed and the epoch, not on the thread that runs it.
    let base = SeededGenerator(seed: context.seed ^ 0x5F0D_0001).split(epoch)
    var shuffler = base.split(-1)
    var order = (0 ..< users).map { Int32($0) }
    order.shuffle(using: &shuffler)
    let threads = max(1, context.threads)
    let chunks = threads == 1 ? 1 : min(users, 16 * threads)
    var squares = [Double](repeating: 0, count: max(1, chunks))
    let longest = (0 ..< users).reduce(0) { max($0, byUser.rowStart[$1 + 1] - byUser.rowStart[$1]) }
    let p = factors.p.mutable
    let q = factors.q.mutable
    let y = yTable.mutable
    let bu = factors.userBias.mutable
    let bi = factors.itemBias.mutable
    byUser.withSharedRows { rowStart, columns, values in
      order.withSharedReadPointer { order in
        squares.withSharedPointer { squares in
          Parallel.forEach(chunks, threads: threads) { c in
            let scratch = SVDPPScratch(rank: k, longest: longest)
            defer { scratch.free() }
            var sum = 0.0
            for n in c * users / chunks ..< (c + 1) * users / chunks {
              let u = Int(order[n])
              let lo = rowStart[u]
              let count = rowStart[u + 1] - lo
              if count == 0 { continue }
              var rng = base.split(u)
              for t in 0 ..< count { scratch.order[t] = Int32(t) }
              for t in stride(from: count - 1, to: 0, by: -1) {
                let s = rng.nextIndex(below: t + 1)
                let x = scratch.order[t]
                scratch.order[t] = scratch.order[s]
                scratch.order[s] = x
              }
              sum += Self.trainUser(
                rank: k, items: columns.base + lo, ratings: values.base + lo, count: count,
                order: scratch.order, visits: count, mean: mu, pu: p.row(u), bu: bu.row(u), q: q, bi: bi.base, y: y,
                eta: eta, lambda: lambda, lambdaImplicit: lambdaImplicit, lambdaBias: lambdaBias, z: scratch.z, g: scratch.g)
            }
            squares[c] = sum
          }
        }
      }
    }
    let total = squares.reduce(0, +)
    return EpochOutcome(inEpochRMSE: (total / Double(max(1, byUser.entryCount))).squareRoot())
  }

  /// One user's pass (see the type's documentation): the ratings in `order`, then the y's once.
  /// Returns the sum of the squared errors, each before its update.
  ///
  /// - Parameters:
  ///   - items, ratings: the user's `count` items N(u) and their ratings.
  ///   - order, visits: the ratings to run, in order (training: all `count`, shuffled).
  ///   - z, g: scratch rows of `rank` (z_u and the accumulated y gradient).
  @inline(__always)
  static func trainUser(
    rank k: Int, items: UnsafePointer<Int32>, ratings: UnsafePointer<Float>, count: Int,
    order: UnsafePointer<Int32>, visits: Int, mean mu: Float, pu: UnsafeMutablePointer<Float>,
    bu: UnsafeMutablePointer<Float>, q: RowTable.MutableRows, bi: UnsafeMutablePointer<Float>,
    y: RowTable.MutableRows, eta: Float, lambda: Float, lambdaImplicit: Float, lambdaBias: Float,
    z: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
  ) -> Double {
    let s = 1 / Float(count).squareRoot()
    // z_u = p_u + s Σ y_j, with the implicit part s Σ y_j kept in g until the loop below
    // (g is then reset for the gradient).
    for f in 0 ..< k { g[f] = 0 }
    for t in 0 ..< count { RowKernels.axpy(k, 1, UnsafePointer(y.row(Int(items[t]))), g) }
    for f in 0 ..< k { z[f] = pu[f] + s * g[f] }
    // After this, z − p_u is the implicit part: z is kept current as p_u moves (z += Δp_u).
    for f in 0 ..< k { g[f] = 0 }
    let shrink = 1 - eta * lambda
    var squares = 0.0
    for t in 0 ..< visits {
      let at = Int(order[t])
      let i = Int(items[at])
      let qi = q.row(i)
      let e = ratings[at] - (mu + bu.pointee + bi[i] + RowKernels.lowLatencyDot(k, qi, z))
      squares += Double(e * e)
      bu.pointee += eta * (e - lambdaBias * bu.pointee)
      bi[i] += eta * (e - lambdaBias * bi[i])
      let step = eta * e
      for f in 0 ..< k {
        let qf = qi[f]
        let pf = pu[f]
        g[f] += e * qf
        qi[f] = shrink * qf + step * z[f]
        let moved = shrink * pf + step * qf
        pu[f] = moved
        z[f] += moved - pf
      }
    }
    // The user's y step at once: data term η s g (the sum of its per-rating terms), shrink
    // 1 − ηλ_y (λ_y once per user; see the type's documentation).
    let yShrink = 1 - eta * lambdaImplicit
    let yStep = eta * s
    for t in 0 ..< count {
      let yj = y.row(Int(items[t]))
      for f in 0 ..< k { yj[f] = yShrink * yj[f] + yStep * g[f] }
    }
    return squares
  }

  mutating func backOff() -> String? {
    settings.learningRate *= 0.5
    return "halved the step size (η = \(settings.learningRate))"
  }

  /// p̃_u = p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j for every user: with it the model's r̂ = μ + b_u + b_i
  /// + q_i·p̃_u is SVD++'s prediction exactly, for every user of the training data.
  func servedUserFactors() -> [Float]? {
    guard let y = context.factors.y else { return nil }
    return Self.foldImplicitTerm(
      p: context.factors.p.values, y: y.values, rowStart: byUser.rowStart, columns: byUser.columns,
      rank: context.rank, threads: context.threads)
  }

  /// p̃_u = p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j for every user u, N(u) = `columns[rowStart[u] ..<
  /// rowStart[u + 1]]`; P and Y row-major, `rank` wide. The sum is taken first and scaled once,
  /// as the training pass forms z_u; users in parallel, each row by one thread, so the result
  /// does not depend on `threads`.
  package static func foldImplicitTerm(
    p: [Float], y: [Float], rowStart: [Int], columns: [Int32], rank k: Int, threads: Int
  ) -> [Float] {
    let users = rowStart.count - 1
    var out = p
    let chunks = max(1, min(users, 64))
    withSharedReadPointers(y, rowStart, columns) { y, rowStart, columns in
      out.withSharedPointer { out in
        Parallel.forEach(chunks, threads: threads) { c in
          let sum = UnsafeMutablePointer<Float>.allocate(capacity: k)
          defer { sum.deallocate() }
          for u in c * users / chunks ..< (c + 1) * users / chunks {
            let lo = rowStart[u]
            let count = rowStart[u + 1] - lo
            if count == 0 { continue }
            for f in 0 ..< k { sum[f] = 0 }
            for t in lo ..< lo + count { RowKernels.axpy(k, 1, y.base + Int(columns[t]) * k, sum) }
            let s = 1 / Float(count).squareRoot()
            let row = out.base + u * k
            for f in 0 ..< k { row[f] = row[f] + s * sum[f] }
          }
        }
      }
    }
    return out
  }

  /// One user's pass on plain row-major arrays: the code training runs (``trainUser(rank:items:
  /// ratings:count:order:visits:mean:pu:bu:q:bi:y:eta:lambda:lambdaImplicit:lambdaBias:z:g:)``), for
  /// checking its math against a reference. `order` lists the entries to run (all of N(u) stays
  /// in z_u whichever run). Returns the sum of the squared errors.
  package static func trainUser(
    _ u: Int, items: [Int32], ratings: [Float], order: [Int32], mean: Float, rank k: Int,
    p: inout [Float], userBias: inout [Float], q: inout [Float], itemBias: inout [Float],
    y: inout [Float], eta: Float, lambda: Float, lambdaImplicit: Float, lambdaBias: Float
  ) -> Double {
    precondition(items.count == ratings.count && order.allSatisfy { $0 >= 0 && Int($0) < items.count })
    let z = UnsafeMutablePointer<Float>.allocate(capacity: k)
    let g = UnsafeMutablePointer<Float>.allocate(capacity: k)
    defer {
      z.deallocate()
      g.deallocate()
    }
    return p.withUnsafeMutableBufferPointer { p in
      userBias.withUnsafeMutableBufferPointer { bu in
        q.withUnsafeMutableBufferPointer { q in
          itemBias.withUnsafeMutableBufferPointer { bi in
            y.withUnsafeMutableBufferPointer { y in
              trainUser(
                rank: k, items: items, ratings: ratings, count: items.count, order: order,
                visits: order.count, mean: mean,
                pu: p.baseAddress! + u * k, bu: bu.baseAddress! + u,
                q: RowTable.MutableRows(base: q.baseAddress!, width: k), bi: bi.baseAddress!,
                y: RowTable.MutableRows(base: y.baseAddress!, width: k), eta: eta, lambda: lambda,
                lambdaImplicit: lambdaImplicit, lambdaBias: lambdaBias, z: z, g: g)
            }
          }
        }
      }
    }
  }

  /// Validation scores SVD++'s prediction (the folded user rows), not the bare p_u.
  mutating func validationRMSE(_ ratings: AlignedRatings) -> Double? {
    guard let folded = servedUserFactors() else { return nil }
    let f = context.factors
    let tables = FactorTables(
      rank: context.rank, p: folded, q: f.q.values, userBias: f.userBias.values, itemBias: f.itemBias.values)
    return Scorer(factors: tables, mean: mean, range: range, threads: context.threads).errors(ratings).rmse
  }
}

/// One chunk's scratch rows, allocated once per chunk, outside the per-rating loop.
private struct SVDPPScratch {
  let z: UnsafeMutablePointer<Float>
  let g: UnsafeMutablePointer<Float>
  let order: UnsafeMutablePointer<Int32>

  init(rank: Int, longest: Int) {
    z = .allocate(capacity: rank)
    g = .allocate(capacity: rank)
    order = .allocate(capacity: max(1, longest))
  }

  func free() {
    z.deallocate()
    g.deallocate()
    order.deallocate()
  }
}
