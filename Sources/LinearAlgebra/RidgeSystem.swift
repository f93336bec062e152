/// One exact row solve of a ridge (regularized least-squares) problem, with its scratch memory:
///
///     x = argmin Σ_j w_j (t_j − y_j·x)² + xᵀ D x   ⇔   (YᵀWY + D) x = YᵀW t,
///
/// for the `n` design rows y_j of one user or item (gathered into ``design``), a diagonal or
/// precomputed ridge term, and a Cholesky solve. Every exact row solve of the engine goes
/// through it: biased ALS, implicit ALS's exact solver and folding in a new user; a Gibbs
/// sampler's draw (factor once, then triangular solves) and a distributed ALS's row range use
/// the same pieces.
///
/// The matrix is `order × order`, row-major, and only its lower triangle is formed and read
/// (`ssyrk`, then `sposv`/`spotrf` column-major on the upper triangle, the same memory).
///
/// Not copyable: it owns its scratch, one per thread, allocated once per range of rows.
@_spi(Engine) public struct RidgeSystem: ~Copyable {
  /// The number of unknowns (the row width of the design rows).
  public let order: Int
  /// The normal matrix A (`order × order`, lower triangle).
  public let matrix: UnsafeMutablePointer<Float>
  /// The right-hand side b; after ``solve()``, the solution x.
  public let solution: UnsafeMutablePointer<Float>
  /// The gathered design rows, `order` floats each.
  public private(set) var design: UnsafeMutablePointer<Float>
  /// One number per design row: a target t_j or a weight, as the caller uses it.
  public private(set) var targets: UnsafeMutablePointer<Float>
  private var capacity: Int

  /// Scratch for systems of `order` unknowns and up to `rows` design rows (it grows on demand).
  public init(order: Int, rows: Int) {
    self.order = order
    capacity = max(1, rows)
    matrix = .allocate(capacity: order * order)
    solution = .allocate(capacity: order)
    design = .allocate(capacity: capacity * order)
    targets = .allocate(capacity: capacity)
  }

  deinit {
    matrix.deallocate()
    solution.deallocate()
    design.deallocate()
    targets.deallocate()
  }

  /// Makes room for `rows` design rows.
  public mutating func reserve(rows: Int) {
    guard rows > capacity else { return }
    design.deallocate()
    targets.deallocate()
    capacity = rows
    design = .allocate(capacity: capacity * order)
    targets = .allocate(capacity: capacity)
  }

  /// Design row `j`.
  @inlinable public func designRow(_ j: Int) -> UnsafeMutablePointer<Float> { design + j &* order }

  /// A ← YᵀY over the first `rows` design rows (`ssyrk`).
  public func setGram(rows: Int) {
    BLAS.syrkTransposed(
      n: order, k: rows, alpha: 1, a: design, lda: order, beta: 0, c: matrix, ldc: order)
  }

  /// A ← s·YᵀY over the first `rows` design rows (`ssyrk` with α = `scale`): a Gibbs sampler's
  /// likelihood precision α·Σ y yᵀ.
  public func setGram(rows: Int, scale: Float) {
    BLAS.syrkTransposed(
      n: order, k: rows, alpha: scale, a: design, lda: order, beta: 0, c: matrix, ldc: order)
  }

  /// A ← G: a precomputed matrix shared by every row (e.g. YᵀY + λI over all items).
  public func setMatrix(copying g: UnsafePointer<Float>) {
    matrix.update(from: g, count: order * order)
  }

  /// A ← A + YᵀY over the first `rows` design rows (`ssyrk`).
  public func addGram(rows: Int) {
    BLAS.syrkTransposed(
      n: order, k: rows, alpha: 1, a: design, lda: order, beta: 1, c: matrix, ldc: order)
  }

  /// A_ff ← A_ff + `value` for f in `diagonal`.
  public func addToDiagonal(_ value: Float, _ diagonal: Range<Int>) {
    for f in diagonal { matrix[f &* order &+ f] += value }
  }

  /// b ← Yᵀt over the first `rows` design rows and their ``targets`` (`sgemv`).
  public func setRightHandSide(rows: Int) {
    BLAS.gemv(
      transpose: true, m: rows, n: order, alpha: 1, a: design, lda: order, x: targets, beta: 0,
      y: solution)
  }

  /// Multiplies design row `j` by `scale[j]`, for the first `rows` rows (YᵀWY = (W½Y)ᵀ(W½Y)).
  public func scaleDesignRows(rows: Int, by scale: (Int) -> Float) {
    for j in 0 ..< rows {
      let s = scale(j)
      let row = designRow(j)
      for f in 0 ..< order { row[f] *= s }
    }
  }

  /// Copies the first `count` entries of the solution to `destination`. (Reads of the solution
  /// go through the system, so it is alive while they happen: its memory is freed with it.)
  public func copySolution(to destination: UnsafeMutablePointer<Float>, count: Int) {
    destination.update(from: solution, count: count)
  }

  /// The first `count` entries of the solution, as an array.
  public func solutionArray(count: Int) -> [Float] {
    Array(UnsafeBufferPointer(start: solution, count: count))
  }

  /// Entry `i` of the solution.
  public func solutionEntry(_ i: Int) -> Float { solution[i] }

  /// Solves A x = b by Cholesky (`sposv`); x replaces b in ``solution``, A is overwritten by
  /// its factor.
  public func solve() throws(LinearAlgebraError) {
    try refuseNonFiniteDiagonal()
    try LAPACK.choleskySolve(n: order, a: matrix, b: solution)
  }

  /// An infinite diagonal entry (factors that overflowed) is not refused by LAPACK's Cholesky:
  /// it returns zeros as if solved (seen with ALS started from factors of 1e30), and a NaN one
  /// only sometimes. Such a system has no meaningful solution: refuse it here, as not positive
  /// definite, so that the row is named and training retries. O(order) against O(order³).
  private func refuseNonFiniteDiagonal() throws(LinearAlgebraError) {
    for f in 0 ..< order where !matrix[f &* order &+ f].isFinite {
      throw .notPositiveDefinite(order: f + 1)
    }
  }

  /// Factors A = LLᵀ in place (`spotrf`), for callers that solve with one factor several times
  /// (a Gibbs sampler's mean and its random draw).
  public func factor() throws(LinearAlgebraError) {
    try refuseNonFiniteDiagonal()
    try LAPACK.choleskyFactor(n: order, a: matrix)
  }

  /// A draw from the Gaussian N(A⁻¹b, A⁻¹) given the factor A = LLᵀ from ``factor()`` and
  /// `noise` z ~ N(0, I) (`order` of them): x = L⁻ᵀ(L⁻¹b + z) = A⁻¹b + L⁻ᵀz, two triangular
  /// solves (`strsv`); x replaces b in ``solution``. L⁻ᵀz has covariance L⁻ᵀL⁻¹ = (LLᵀ)⁻¹ = A⁻¹.
  /// With z = 0 it is the mean A⁻¹b.
  public func drawFactored(noise z: UnsafePointer<Float>) {
    BLAS.solveLowerTriangular(n: order, a: matrix, lda: order, x: solution, transpose: false)
    for f in 0 ..< order { solution[f] += z[f] }
    BLAS.solveLowerTriangular(n: order, a: matrix, lda: order, x: solution, transpose: true)
  }

  /// Solves A x = b with the factor from ``factor()`` (`spotrs`); x replaces b.
  public func solveFactored() throws(LinearAlgebraError) {
    try LAPACK.choleskySolve(n: order, factor: matrix, b: solution)
  }
}
