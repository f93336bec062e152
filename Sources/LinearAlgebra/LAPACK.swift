import CLAPACKE

/// A failure reported by LAPACK.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
  /// The matrix was not positive definite: the leading minor of `order` was not positive.
  case notPositiveDefinite(order: Int)
  /// LAPACK rejected argument number `index` (a programming error in the caller).
  case illegalArgument(routine: String, index: Int)

  /// The failure as one sentence.
  public var description: String {
    switch self {
    case .notPositiveDefinite(let order):
      "the matrix is not positive definite (leading minor of order \(order) is not positive)"
    case .illegalArgument(let routine, let index):
      "LAPACK \(routine) rejected argument \(index)"
    }
  }
}

/// Cholesky factorization and solves for symmetric positive-definite systems.
///
/// LAPACKE is called in column-major order: for a symmetric matrix, the lower triangle of a
/// row-major array *is* the upper triangle of the same array read column-major, so no transpose
/// copy is made (LAPACKE's row-major path copies the matrix on every call).
@_spi(Engine) public enum LAPACK {
  private static func check(_ info: Int32, _ routine: String) throws(LinearAlgebraError) {
    if info > 0 { throw .notPositiveDefinite(order: Int(info)) }
    if info < 0 { throw .illegalArgument(routine: routine, index: Int(-info)) }
  }

  /// Solves `A·X = B` for symmetric positive-definite `A` (`sposv`).
  ///
  /// - Parameters:
  ///   - a: `n × n`, row-major; only its lower triangle is read. Overwritten by the factor.
  ///   - b: `n × nrhs`, row-major (for `nrhs == 1`, a vector). Overwritten by the solution.
  public static func choleskySolve(
    n: Int, nrhs: Int = 1, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
  ) throws(LinearAlgebraError) {
    // Row-major lower == column-major upper. For B we need column-major n × nrhs; with nrhs == 1
    // the layouts coincide, otherwise the caller's row-major B is B'ᵀ column-major, so solve via
    // the row-major entry point, which LAPACKE handles by transposing only B.
    if nrhs == 1 {
      let info = LAPACKE_sposv(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), 1, a, Int32(n), b, Int32(n))
      try check(info, "sposv")
    } else {
      let info = LAPACKE_sposv(
        LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), Int32(nrhs), a, Int32(n), b,
        Int32(nrhs))
      try check(info, "sposv")
    }
  }

  /// Factors symmetric positive-definite `A = L·Lᵀ` in place (`spotrf`); `a` is `n × n`
  /// row-major and its lower triangle receives `L`.
  public static func choleskyFactor(n: Int, a: UnsafeMutablePointer<Float>)
    throws(LinearAlgebraError)
  {
    let info = LAPACKE_spotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), a, Int32(n))
    try check(info, "spotrf")
  }

  /// Solves `A·x = b` given the factor from ``choleskyFactor(n:a:)`` (`spotrs`); `b` is
  /// overwritten by `x`.
  public static func choleskySolve(
    n: Int, factor: UnsafePointer<Float>, b: UnsafeMutablePointer<Float>
  ) throws(LinearAlgebraError) {
    let info = LAPACKE_spotrs(
      LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), 1, factor, Int32(n), b, Int32(n))
    try check(info, "spotrs")
  }
}
