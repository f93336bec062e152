/// One rating as the SGD loop reads it: 12 bytes, streamed in order.
struct RatingEntry {
  var user: Int32
  var item: Int32
  var rating: Float
}

/// The SGD hot loop: one pass over a run of ratings.
///
/// For each rating r_ui (Koren, Bell & Volinsky 2009, eq. 5–6):
///
///     e    = r_ui − (μ + b_u + b_i + p_u·q_i)
///     b_u ← b_u + η (e − λ_b b_u)
///     b_i ← b_i + η (e − λ_b b_i)
///     p_u ← (1 − ηλ) p_u + η e q_i
///     q_i ← (1 − ηλ) q_i + η e p_u        (with the old p_u)
///
/// Written over raw pointers and `SIMD8<Float>`, with no allocation, bounds check or reference
/// counting inside; everything the engine's speed rests on is here. (`a + b * c`, not
/// `addingProduct`: on baseline x86-64, without FMA, the latter becomes a libm `fmaf` call per
/// lane, which made this loop ten times slower.)
enum SGDKernel {
  /// Runs the updates for `count` entries and returns Σe² (errors before each update).
  @inline(never)
  static func run(
    entries: UnsafePointer<RatingEntry>, count: Int,
    p: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>,
    userBias: UnsafeMutablePointer<Float>, itemBias: UnsafeMutablePointer<Float>,
    rank k: Int, mean: Float, learningRate lr: Float, regularization reg: Float,
    biasRegularization regBias: Float
  ) -> Double {
    var sse: Double = 0
    var blockSSE: Float = 0
    let shrink = 1 - lr * reg
    let biasShrink = 1 - lr * regBias
    let vectorEnd = k & ~7
    for n in 0 ..< count {
      let entry = entries[n]
      let u = Int(entry.user)
      let i = Int(entry.item)
      let pu = p + u * k
      let qi = q + i * k
      let bu = userBias[u]
      let bi = itemBias[i]
      let e = entry.rating - (mean + bu + bi + Kernels.dot(k, pu, qi))
      blockSSE += e * e
      userBias[u] = biasShrink * bu + lr * e
      itemBias[i] = biasShrink * bi + lr * e
      let step = lr * e
      let stepV = SIMD8<Float>(repeating: step)
      let shrinkV = SIMD8<Float>(repeating: shrink)
      let rawP = UnsafeMutableRawPointer(pu)
      let rawQ = UnsafeMutableRawPointer(qi)
      var j = 0
      while j < vectorEnd {
        let offset = j &* 4
        let pv = rawP.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
        let qv = rawQ.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
        rawP.storeBytes(of: shrinkV * pv + stepV * qv, toByteOffset: offset, as: SIMD8<Float>.self)
        rawQ.storeBytes(of: shrinkV * qv + stepV * pv, toByteOffset: offset, as: SIMD8<Float>.self)
        j &+= 8
      }
      while j < k {
        let pv = pu[j]
        let qv = qi[j]
        pu[j] = shrink * pv + step * qv
        qi[j] = shrink * qv + step * pv
        j &+= 1
      }
      if n & 1023 == 1023 {
        sse += Double(blockSSE)
        blockSSE = 0
      }
    }
    return sse + Double(blockSSE)
  }
}
