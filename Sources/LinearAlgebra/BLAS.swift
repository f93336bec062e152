import CBLAS
import Synchronization

/// Thin, checked wrappers over the CBLAS calls the engine uses.
///
/// Every routine takes row-major operands, as stored by ``Matrix``. Dimensions are `Int` here
/// and narrowed to BLAS's 32-bit `blasint` with a precondition, so an oversized problem stops
/// with a message instead of silently wrapping.
@_spi(Engine) public enum BLAS {
  @usableFromInline
  static func blasInt(_ n: Int) -> Int32 {
    precondition(n >= 0 && n <= Int(Int32.max), "Dimension \(n) does not fit BLAS's 32-bit int")
    return Int32(truncatingIfNeeded: n)
  }

  /// `C ← α·op(A)·op(B) + β·C` (`sgemm`); `op(A)` is `m × k`, `op(B)` is `k × n`.
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c,
      blasInt(ldc))
  }

  /// `y ← α·op(A)·x + β·y` (`sgemv`) with `A` stored `m × n`.
  public static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasInt(m), blasInt(n), alpha, a,
      blasInt(lda), x, 1, beta, y, 1)
  }

  /// The lower triangle of `C ← α·AᵀA + β·C` (`ssyrk`), with `A` stored `k × n` (row-major):
  /// `C` is `n × n`. Only the lower triangle (row-major) of `C` is written.
  public static func syrkTransposed(
    n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_ssyrk(
      CblasRowMajor, CblasLower, CblasTrans, blasInt(n), blasInt(k), alpha, a, blasInt(lda), beta,
      c, blasInt(ldc))
  }

  /// The lower triangle of `A ← α·x·xᵀ + A` (`ssyr`), a rank-one update of an `n × n` matrix.
  public static func syr(
    n: Int, alpha: Float, x: UnsafePointer<Float>, a: UnsafeMutablePointer<Float>, lda: Int
  ) {
    cblas_ssyr(CblasRowMajor, CblasLower, blasInt(n), alpha, x, 1, a, blasInt(lda))
  }

  /// `x ← L⁻¹x` or, with `transpose`, `x ← L⁻ᵀx` (`strsv`), for the lower-triangular `n × n`
  /// matrix `L` stored row-major in `a` (its upper triangle is not read).
  public static func solveLowerTriangular(
    n: Int, a: UnsafePointer<Float>, lda: Int, x: UnsafeMutablePointer<Float>, transpose: Bool
  ) {
    cblas_strsv(
      CblasRowMajor, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit, blasInt(n),
      a, blasInt(lda), x, 1)
  }

  /// `x · y` (`sdot`).
  public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(blasInt(n), x, 1, y, 1)
  }

  /// `y ← α·x + y` (`saxpy`).
  public static func axpy(
    _ n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    cblas_saxpy(blasInt(n), alpha, x, 1, y, 1)
  }

  /// `x ← α·x` (`sscal`).
  public static func scale(_ n: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
    cblas_sscal(blasInt(n), alpha, x, 1)
  }

  /// `‖x‖₂` (`snrm2`).
  public static func norm(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
    cblas_snrm2(blasInt(n), x, 1)
  }

  /// The number of threads OpenBLAS uses for one call.
  ///
  /// The solvers run their own threads over rows; each then calls BLAS on small operands, and a
  /// multi-threaded BLAS inside would oversubscribe the cores. ``withThreads(_:_:)`` scopes it.
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(1, newValue))) }
  }

  /// Runs `body` with OpenBLAS limited to `count` threads, then restores the count from before.
  ///
  /// OpenBLAS has one thread count for the whole process, so scopes that overlap (two fits on
  /// two threads of one program, as the test suite runs them) share it: the count of the first
  /// scope to open is saved and put back only when the last one closes, and while any is open the
  /// count is that of the latest to open. (Saving and restoring per scope let one fit that ended
  /// first restore a multi-threaded BLAS under another still running, whose results then changed
  /// in the last bits from run to run.) Every caller in mf asks for 1.
  public static func withThreads<R, E: Error>(_ count: Int, _ body: () throws(E) -> R) throws(E) -> R {
    openScopes.withLock { scopes in
      if scopes.open == 0 { scopes.saved = threads }
      scopes.open += 1
      threads = count
    }
    defer {
      openScopes.withLock { scopes in
        scopes.open -= 1
        if scopes.open == 0 { threads = scopes.saved }
      }
    }
    return try body()
  }

  /// How many ``withThreads(_:_:)`` scopes are open, and the count from before the first.
  private static let openScopes = Mutex<(open: Int, saved: Int)>((0, 1))
}
