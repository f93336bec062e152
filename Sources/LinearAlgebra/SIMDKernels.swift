/// SIMD kernels over short `Float` rows (an embedding of rank `k`).
///
/// BLAS call overhead dominates at `k` = 16…128, and Swift does not vectorize a float reduction by
/// itself (strict IEEE ordering forbids reassociation), so these loops are written in
/// `SIMD8<Float>` with a scalar tail. They are the building blocks of the SGD hot loop.
public enum Kernels {
  /// `x · y` over `n` entries.
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
}
