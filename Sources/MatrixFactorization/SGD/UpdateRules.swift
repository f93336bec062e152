/// The one-rating updates of SGD and BPR, callable on plain arrays: the tests compare them
/// with naive references written from the papers' formulas. They run the very code training
/// runs (``SGDKernel`` with its rank-specialized loops, ``BPRSolver/step``), not a copy.
@_spi(Engine) public enum UpdateRules {
  /// One pass of the SGD kernel over `ratings` in order, with the decaying schedule's rule
  /// (one step size η for every row). `userBias`/`itemBias` hold one float per row.
  /// Returns Σe², each error before its update.
  public static func sgdDecaying(
    _ ratings: [(user: Int32, item: Int32, rating: Float)], rank k: Int, mean: Float,
    learningRate: Float, regularization: Float, biasRegularization: Float,
    p: inout [Float], q: inout [Float], userBias: inout [Float], itemBias: inout [Float]
  ) -> Double {
    let step = DecayingStep(
      mean: mean, learningRate: learningRate, regularization: regularization,
      biasRegularization: biasRegularization)
    return run(ratings, k, step, &p, &q, &userBias, &itemBias)
  }

  /// The same with the adaptive schedule's rule: `userRecords`/`itemRecords` hold four floats
  /// per row, [bias, factor step s, bias step s^b, unused].
  public static func sgdAdaptive(
    _ ratings: [(user: Int32, item: Int32, rating: Float)], rank k: Int, mean: Float,
    regularization: Float, biasRegularization: Float,
    p: inout [Float], q: inout [Float], userRecords: inout [Float], itemRecords: inout [Float]
  ) -> Double {
    let step = AdaptiveStep(
      mean: mean, regularization: regularization, biasRegularization: biasRegularization)
    return run(ratings, k, step, &p, &q, &userRecords, &itemRecords)
  }

  private static func run<Step: SGDStep>(
    _ ratings: [(user: Int32, item: Int32, rating: Float)], _ k: Int, _ step: Step,
    _ p: inout [Float], _ q: inout [Float], _ bu: inout [Float], _ bi: inout [Float]
  ) -> Double {
    // The loop's entries hold 16-bit rows (offsets into a block's groups); these references run
    // on small tables.
    let entries = ratings.map {
      guard let user = UInt16(exactly: $0.user), let item = UInt16(exactly: $0.item) else {
        preconditionFailure("the reference update takes rows below 65,536")
      }
      return RatingEntry(user: user, item: item, rating: $0.rating)
    }
    return entries.withUnsafeBufferPointer { e in
      p.withUnsafeMutableBufferPointer { p in
        q.withUnsafeMutableBufferPointer { q in
          bu.withUnsafeMutableBufferPointer { bu in
            bi.withUnsafeMutableBufferPointer { bi in
              SGDKernel.run(
                entries: e.baseAddress!, count: e.count, p: p.baseAddress!, q: q.baseAddress!,
                userBias: bu.baseAddress!, itemBias: bi.baseAddress!, rank: k, step: step)
            }
          }
        }
      }
    }
  }

  /// One BPR step for the triple (u, i, j); returns x_uij before the update.
  public static func bpr(
    user u: Int, positive i: Int, negative j: Int, rank k: Int, learningRate: Float,
    regularization: Float, biasRegularization: Float,
    p: inout [Float], q: inout [Float], itemBias: inout [Float]
  ) -> Float {
    precondition(i != j, "the positive and the negative item must differ")
    return p.withUnsafeMutableBufferPointer { p in
      q.withUnsafeMutableBufferPointer { q in
        itemBias.withUnsafeMutableBufferPointer { b in
          BPRSolver.step(
            k, p.baseAddress! + u * k, q.baseAddress! + i * k, q.baseAddress! + j * k,
            b.baseAddress! + i, b.baseAddress! + j, eta: learningRate, lambda: regularization,
            lambdaBias: biasRegularization)
        }
      }
    }
  }
}
