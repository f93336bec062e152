@_spi(Engine) import LinearAlgebra
import RatingData

// MARK: - Implicit feedback in the Bayesian model ("Bayesian SVD++", both sides)
//
// SVD++ (Koren 2008, "Factorization meets the neighborhood") adds to a user's factors the
// implicit term of the items N(u) the user rated, r̂_ui = μ + b_u + b_i + (p_u + |N(u)|^-½
// Σ_{j∈N(u)} y_j)·q_i. myFM's implicit-feedback models (Ohtsuki, myFM documentation, "Relation
// blocks": the MovieLens example's grouped features) do the same in an FM for both sides: a user
// also carries the normalized set of items they rated, an item the normalized set of users who
// rated it. Here, for users (items are the same with the roles swapped), every item j has an
// implicit row y_j = [y_j; w_j] of k + 1 values (w_j: its implicit bias), and with
//
//     s_u = |N(u)|^-½ Σ_{j∈N(u)} y_j,     x̃_u = [p_u; b_u] + s_u,
//
// the model is r_ui ~ N(μ + x̃_u·[q̃_i; 1] + b̃_i, 1/α), p_u ~ N(m, Λ⁻¹), y_j ~ N(m_y, Λ_y⁻¹). The
// sampler draws x̃_u, not p_u: in x̃ the same joint distribution reads
//
//     x̃_u | y ~ N(m + s_u, Λ⁻¹)                                      (a hierarchical prior)
//
// so a user's row is drawn exactly as without the implicit term, from a prior centred on
// m + s_u instead of m (Λ is diagonal: the Normal–Gamma hyperprior). Given the users' rows, the
// y's are a Bayesian linear regression of d_u = x̃_u − m on the sparse design |N(u)|^-½ 1[j∈N(u)]
// with noise precision Λ, dimension by dimension. With r_u = d_u − s_u, each y_j's conditional
// given the other y's is Gaussian, per dimension f:
//
//     precision  π_jf = λ_y,f + λ_f Σ_{u∈U(j)} 1/|N(u)|,
//     mean       (λ_y,f m_y,f + λ_f Σ_{u∈U(j)} |N(u)|^-½ (r_uf + |N(u)|^-½ y_jf)) / π_jf
//
// over the users U(j) who rated j: an exact Gibbs step, one item after another (the y's share
// users, so they are drawn in turn, on one thread), O(|U(j)|·(k + 1)) each and O(ratings·k) a
// sweep, like one SGD epoch. The served model needs nothing new: a kept sample stores x̃_u and
// x̃_i, whose product is that sample's prediction, so the posterior average, the model file and
// every serving path are unchanged.

/// One side's implicit term: the implicit rows of the other side's entities (y_j for users: one
/// per item; z_u for items: one per user) and this side's normalized sums of them.
struct ImplicitFeedback {
  /// y_j, one row of k + 1 per entity of the other side.
  let features: RowTable
  /// s_u = |N(u)|^-½ Σ_{j∈N(u)} y_j, one row of k + 1 per row of this side, kept up to date as
  /// the y's are drawn.
  let sums: RowTable
  /// Scratch for the draw: r_u = x̃_u − m − s_u.
  private let residuals: RowTable
  /// |N(u)|^-½, 0 for a row with no entry.
  private let scale: [Float]
  /// The y's Normal–Gamma prior (m_y, λ_y), drawn every sweep like the sides' own.
  var prior: RowPrior

  /// No implicit term yet (y = 0, s = 0) for the rows of `rows` (this side's entries by row,
  /// e.g. ``TrainingData/byUser``).
  init(rows: SparseRatingMatrix, order: Int) {
    features = RowTable(rows: rows.columnCount, width: order)
    sums = RowTable(rows: rows.rowCount, width: order)
    residuals = RowTable(rows: rows.rowCount, width: order)
    let rowStart = rows.rowStart
    scale = (0 ..< rows.rowCount).map { u in
      let n = rowStart[u + 1] - rowStart[u]
      return n > 0 ? Float(1 / Double(n).squareRoot()) : 0
    }
    prior = RowPrior(order: order)
  }

  /// Draws the y's prior (m_y, λ_y) from its Normal–Gamma posterior given the y's.
  mutating func drawPrior(_ rng: inout SeededGenerator) {
    prior = GibbsSampler.drawPrior(
      FactorSide(factors: features, bias: features), offsets: nil, rank: features.width - 1, rng: &rng)
  }

  /// Draws every y_j from its conditional given this side's rows `side` (x̃), their prior
  /// `sidePrior` (m, Λ) and the y's ``prior``, in order, y_j with the stream `noise(j)`; s
  /// follows every change.
  ///
  /// - Parameter byFeature: the entries by the other side (``TrainingData/byItem`` for users):
  ///   row j lists the rows of this side that have an entry in column j.
  func draw(
    byFeature: SparseRatingMatrix, side: FactorSide, sidePrior: RowPrior,
    noise: (Int) -> SeededGenerator
  ) {
    let order = features.width
    let k = order - 1
    let x = side.factors.readOnly
    let b = side.bias.readOnly
    let y = features.mutable
    let s = sums.mutable
    let r = residuals.mutable
    for u in 0 ..< sums.rows {
      let row = r.row(u)
      for f in 0 ..< k { row[f] = x.row(u)[f] - sidePrior.mean[f] - s.row(u)[f] }
      row[k] = b[u] - sidePrior.mean[k] - s.row(u)[k]
    }
    var projection = [Double](repeating: 0, count: order)
    var z = [Float](repeating: 0, count: order)
    let (lambda, my, ly) = ( sidePrior.precision, prior.mean, prior.precision)
    byFeature.withSharedRows { rowStart, columns, _ in
      for j in 0 ..< byFeature.rowCount {
        let range = rowStart[j] ..< rowStart[j + 1]
        var weight = 0.0
        for f in 0 ..< order { projection[f] = 0 }
        for e in range {
          let u = Int(columns[e])
          let c = scale[u]
          weight += Double(c * c)
          let row = r.row(u)
          for f in 0 ..< order { projection[f] += Double(c * row[f]) }
        }
        var rng = noise(j)
        z.withUnsafeMutableBufferPointer { rng.fillGaussian($0.baseAddress!, count: order) }
        let yj = y.row(j)
        for f in 0 ..< order {
          let precision = Double(ly[f]) + Double(lambda[f]) * weight
          let center =
            (Double(ly[f]) * Double(my[f])
              + Double(lambda[f]) * (projection[f] + weight * Double(yj[f]))) / precision
          let drawn = Float(center + Double(z[f]) / precision.squareRoot())
          // z becomes Δy_j, the change each s_u (and r_u) of a row u ∈ U(j) takes, times |N(u)|^-½.
          z[f] = drawn - yj[f]
          yj[f] = drawn
        }
        for e in range {
          let u = Int(columns[e])
          let c = scale[u]
          let (row, sum) = (r.row(u), s.row(u))
          for f in 0 ..< order {
            sum[f] += c * z[f]
            row[f] -= c * z[f]
          }
        }
      }
    }
  }
}
