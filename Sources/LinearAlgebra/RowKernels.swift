/// SIMD loops over short `Float` rows (an embedding of rank `k`): every hand-written vector loop
/// of the engine lives here.
///
/// BLAS call overhead dominates at `k` = 16…128, and Swift does not vectorize a float reduction by
/// itself (strict IEEE ordering forbids reassociation), so these loops are written in
/// `SIMD8<Float>` with a scalar tail. They are `@inlinable` so that the solvers' hot loops, in
/// another module, inline them (and, for a rank known at compile time, unroll them).
///
/// Products are written `a + b * c`, not `addingProduct`: on baseline x86-64, without FMA, the
/// latter becomes a libm `fmaf` call per lane, which made the SGD loop ten times slower.
@_spi(Engine) public enum RowKernels {
  /// `x · y` over `n` entries, with two independent accumulators (throughput-bound callers:
  /// scoring, losses, conjugate gradient).
  @inlinable @inline(__always)
  public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    var acc0 = SIMD8<Float>()
    var acc1 = SIMD8<Float>()
    var j = 0
    let raw = (UnsafeRawPointer(x), UnsafeRawPointer(y))
    while j + 16 <= n {
      let a0 = raw.0.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
      let b0 = raw.1.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
      let a1 = raw.0.loadUnaligned(fromByteOffset: (j + 8) * 4, as: SIMD8<Float>.self)
      let b1 = raw.1.loadUnaligned(fromByteOffset: (j + 8) * 4, as: SIMD8<Float>.self)
      acc0 += a0 * b0
      acc1 += a1 * b1
      j += 16
    }
    if j + 8 <= n {
      let a0 = raw.0.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
      let b0 = raw.1.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
      acc0 += a0 * b0
      j += 8
    }
    var sum = (acc0 + acc1).sum()
    while j < n {
      sum += x[j] * y[j]
      j += 1
    }
    return sum
  }

  /// `x · y` with a short dependency chain: up to four independent SIMD8 partial sums, then a
  /// pairwise (tree) reduction. For latency-bound callers (the SGD update, where the error waits
  /// on this sum and every update waits on the error).
  @inlinable @inline(__always)
  public static func lowLatencyDot(
    _ k: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>
  ) -> Float {
    let rx = UnsafeRawPointer(x)
    let ry = UnsafeRawPointer(y)
    @inline(__always) func product(_ chunk: Int) -> SIMD8<Float> {
      rx.loadUnaligned(fromByteOffset: chunk &* 32, as: SIMD8<Float>.self)
        * ry.loadUnaligned(fromByteOffset: chunk &* 32, as: SIMD8<Float>.self)
    }
    let chunks = k >> 3
    var sum: Float
    if chunks >= 4 {
      var a0 = product(0)
      var a1 = product(1)
      var a2 = product(2)
      var a3 = product(3)
      var c = 4
      while c &+ 4 <= chunks {
        a0 += product(c)
        a1 += product(c &+ 1)
        a2 += product(c &+ 2)
        a3 += product(c &+ 3)
        c &+= 4
      }
      while c < chunks {
        a0 += product(c)
        c &+= 1
      }
      sum = horizontalSum((a0 + a1) + (a2 + a3))
    } else if chunks >= 2 {
      var a0 = product(0)
      let a1 = product(1)
      if chunks == 3 { a0 += product(2) }
      sum = horizontalSum(a0 + a1)
    } else if chunks == 1 {
      sum = horizontalSum(product(0))
    } else {
      sum = 0
    }
    var j = chunks << 3
    while j < k {
      sum += x[j] * y[j]
      j &+= 1
    }
    return sum
  }

  /// The lanes of `v` added pairwise: 8 → 4 → 2 → 1.
  @inlinable @inline(__always)
  public static func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf + v.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
  }

  /// `y ← y + a·x`.
  @inlinable @inline(__always)
  public static func axpy(
    _ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>
  ) {
    var f = 0
    let a8 = SIMD8<Float>(repeating: a)
    while f + 8 <= n {
      let xv = UnsafeRawPointer(x + f).loadUnaligned(as: SIMD8<Float>.self)
      let yv = UnsafeRawPointer(y + f).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(y + f).storeBytes(of: yv + a8 * xv, as: SIMD8<Float>.self)
      f += 8
    }
    while f < n {
      y[f] += a * x[f]
      f += 1
    }
  }

  /// `p ← r + β·p`.
  @inlinable @inline(__always)
  public static func scaleAdd(
    _ n: Int, _ beta: Float, _ p: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>
  ) {
    for f in 0 ..< n { p[f] = r[f] + beta * p[f] }
  }

  /// The coupled step `p ← shrink·p + step·q`, `q ← shrink·q + step·p`, both from the old values
  /// (the factor half of the SGD update).
  @inlinable @inline(__always)
  public static func coupledStep(
    _ k: Int, _ pu: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
    shrink: Float, step: Float
  ) {
    coupledStep(k, pu, qi, shrinkP: shrink, stepP: step, shrinkQ: shrink, stepQ: step)
  }

  /// `p · (a − b)`.
  @inlinable @inline(__always)
  public static func dotOfDifference(
    _ k: Int, _ p: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>
  ) -> Float {
    var acc = SIMD8<Float>()
    var f = 0
    while f + 8 <= k {
      let x = UnsafeRawPointer(p + f).loadUnaligned(as: SIMD8<Float>.self)
      let y = UnsafeRawPointer(a + f).loadUnaligned(as: SIMD8<Float>.self)
      let z = UnsafeRawPointer(b + f).loadUnaligned(as: SIMD8<Float>.self)
      acc = acc + x * (y - z)
      f += 8
    }
    var sum = acc.sum()
    while f < k {
      sum += p[f] * (a[f] - b[f])
      f += 1
    }
    return sum
  }

  /// The triple step of a pairwise-ranking update, all from the old values:
  /// `p ← decay·p + step·(a − b)`, `a ← decay·a + step·p`, `b ← decay·b − step·p`.
  @inlinable @inline(__always)
  public static func pairwiseStep(
    _ k: Int, _ p: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>,
    _ b: UnsafeMutablePointer<Float>, decay: Float, step: Float
  ) {
    let ez = SIMD8<Float>(repeating: step)
    let decayV = SIMD8<Float>(repeating: decay)
    var f = 0
    while f + 8 <= k {
      let x = UnsafeRawPointer(p + f).loadUnaligned(as: SIMD8<Float>.self)
      let y = UnsafeRawPointer(a + f).loadUnaligned(as: SIMD8<Float>.self)
      let z = UnsafeRawPointer(b + f).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(p + f).storeBytes(of: decayV * x + ez * (y - z), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(a + f).storeBytes(of: decayV * y + ez * x, as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(b + f).storeBytes(of: decayV * z - ez * x, as: SIMD8<Float>.self)
      f += 8
    }
    while f < k {
      let x = p[f]
      let y = a[f]
      let z = b[f]
      p[f] = decay * x + step * (y - z)
      a[f] = decay * y + step * x
      b[f] = decay * z - step * x
      f += 1
    }
  }

  /// Whether all `n` entries are finite. NaN·0 and inf·0 are NaN, and a NaN stays NaN through
  /// the sums; eight independent lanes, because a single running sum is a chain of dependent
  /// adds (~4 ms per check of a 10M-rating model's P and Q, paid after every epoch).
  @inlinable
  public static func allFinite(_ n: Int, _ x: UnsafePointer<Float>) -> Bool {
    var lanes = SIMD8<Float>()
    let raw = UnsafeRawPointer(x)
    var j = 0
    while j + 8 <= n {
      lanes += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * 0
      j += 8
    }
    var acc = lanes.sum()
    while j < n {
      acc += x[j] * 0
      j += 1
    }
    return !acc.isNaN
  }
}

extension RowKernels {
  /// ``coupledStep(_:_:_:shrink:step:)`` with a step per row, from the old values:
  /// `p ← shrinkP·p + stepP·q`, `q ← shrinkQ·q + stepQ·p`.
  @_spi(Engine) @inlinable @inline(__always)
  public static func coupledStep(
    _ k: Int, _ pu: UnsafeMutablePointer<Float>, _ qi: UnsafeMutablePointer<Float>,
    shrinkP: Float, stepP: Float, shrinkQ: Float, stepQ: Float
  ) {
    let shrinkPV = SIMD8<Float>(repeating: shrinkP)
    let stepPV = SIMD8<Float>(repeating: stepP)
    let shrinkQV = SIMD8<Float>(repeating: shrinkQ)
    let stepQV = SIMD8<Float>(repeating: stepQ)
    let rawP = UnsafeMutableRawPointer(pu)
    let rawQ = UnsafeMutableRawPointer(qi)
    let vectorEnd = k & ~7
    var j = 0
    while j < vectorEnd {
      let offset = j &* 4
      let pv = rawP.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
      let qv = rawQ.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
      rawP.storeBytes(of: shrinkPV * pv + stepPV * qv, toByteOffset: offset, as: SIMD8<Float>.self)
      rawQ.storeBytes(of: shrinkQV * qv + stepQV * pv, toByteOffset: offset, as: SIMD8<Float>.self)
      j &+= 8
    }
    while j < k {
      let pv = pu[j]
      let qv = qi[j]
      pu[j] = shrinkP * pv + stepP * qv
      qi[j] = shrinkQ * qv + stepQ * pv
      j &+= 1
    }
  }
}
