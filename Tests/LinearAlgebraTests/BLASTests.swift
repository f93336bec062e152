@_spi(Engine) import LinearAlgebra
import Testing

/// Deterministic pseudo-random floats in [-1, 1).
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
  var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  return (0 ..< n).map { _ in
    s ^= s << 13
    s ^= s >> 7
    s ^= s << 17
    return Float(Double(s >> 11) * 0x1.0p-53 * 2 - 1)
  }
}

/// Naive row-major product in Double.
func naiveProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Double] {
  var c = [Double](repeating: 0, count: m * n)
  for i in 0 ..< m {
    for j in 0 ..< n {
      var s = 0.0
      for l in 0 ..< k {
        let x = transA ? a[l * m + i] : a[i * k + l]
        let y = transB ? b[j * k + l] : b[l * n + j]
        s += Double(x) * Double(y)
      }
      c[i * n + j] = s
    }
  }
  return c
}

func approxEqual(_ x: Float, _ y: Double, _ tol: Double = 1e-4) -> Bool {
  abs(Double(x) - y) <= tol * max(1, abs(y))
}

@Suite struct BLASTests {
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmMatchesNaive(transA: Bool, transB: Bool) {
    let (m, n, k) = (7, 5, 9)
    let a = randomFloats(m * k, seed: 1)
    let b = randomFloats(k * n, seed: 2)
    var c = randomFloats(m * n, seed: 3)
    let c0 = c
    BLAS.gemm(
      transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: 2, a: a, lda: transA ? m : k,
      b: b, ldb: transB ? k : n, beta: 0.5, c: &c, ldc: n)
    let expected = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
    for j in 0 ..< m * n { #expect(approxEqual(c[j], 2 * expected[j] + 0.5 * Double(c0[j]))) }
  }

  @Test func matrixProductsUseRowMajorLayout() {
    let a = Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
    let b = Matrix(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
    #expect(a.multiplied(by: b).values == [58, 64, 139, 154])
    #expect(a.multiplied(by: [1, 0, -1]) == [-2, -2])
    #expect(a.rowNorms().map { ($0 * 1000).rounded() } == [(14.0.squareRoot() * 1000).rounded(), (77.0.squareRoot() * 1000).rounded()].map(Float.init))
  }

  @Test(arguments: [false, true])
  func gemvMatchesNaive(transpose: Bool) {
    let (m, n) = (6, 4)
    let a = randomFloats(m * n, seed: 4)
    let x = randomFloats(transpose ? m : n, seed: 5)
    var y = randomFloats(transpose ? n : m, seed: 6)
    let y0 = y
    BLAS.gemv(transpose: transpose, m: m, n: n, alpha: 1.5, a: a, lda: n, x: x, beta: -1, y: &y)
    for r in 0 ..< y.count {
      var s = 0.0
      for c in 0 ..< x.count { s += Double(transpose ? a[c * n + r] : a[r * n + c]) * Double(x[c]) }
      #expect(approxEqual(y[r], 1.5 * s - Double(y0[r])))
    }
  }

  @Test func syrkComputesLowerTriangleOfGram() {
    let (rows, n) = (11, 5)
    let a = randomFloats(rows * n, seed: 7)
    var c = [Float](repeating: -99, count: n * n)
    BLAS.syrkTransposed(n: n, k: rows, alpha: 1, a: a, lda: n, beta: 0, c: &c, ldc: n)
    for i in 0 ..< n {
      for j in 0 ... i {
        var s = 0.0
        for r in 0 ..< rows { s += Double(a[r * n + i]) * Double(a[r * n + j]) }
        #expect(approxEqual(c[i * n + j], s))
      }
    }
  }

  @Test func syrAddsRankOneUpdate() {
    let n = 4
    let x = randomFloats(n, seed: 8)
    var a = [Float](repeating: 1, count: n * n)
    BLAS.syr(n: n, alpha: 2, x: x, a: &a, lda: n)
    for i in 0 ..< n { for j in 0 ... i { #expect(approxEqual(a[i * n + j], 1 + 2 * Double(x[i]) * Double(x[j]))) } }
  }

  @Test func levelOneRoutines() {
    let x = randomFloats(37, seed: 9)
    var y = randomFloats(37, seed: 10)
    let y0 = y
    let naiveDot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(approxEqual(BLAS.dot(37, x, y), naiveDot))
    #expect(approxEqual(BLAS.norm(37, x), x.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()))
    BLAS.axpy(37, alpha: 3, x: x, y: &y)
    for j in 0 ..< 37 { #expect(approxEqual(y[j], Double(y0[j]) + 3 * Double(x[j]))) }
    BLAS.scale(37, alpha: 0.5, x: &y)
    for j in 0 ..< 37 { #expect(approxEqual(y[j], (Double(y0[j]) + 3 * Double(x[j])) / 2)) }
  }

  @Test func threadCountIsScoped() {
    let before = BLAS.threads
    BLAS.withThreads(1) { #expect(BLAS.threads == 1) }
    #expect(BLAS.threads == before)
  }
}

@Suite struct LAPACKTests {
  /// A random symmetric positive-definite matrix BᵀB + n·I (row-major, full).
  func spd(_ n: Int, seed: UInt64) -> [Float] {
    let b = randomFloats(n * n, seed: seed)
    var a = [Float](repeating: 0, count: n * n)
    for i in 0 ..< n {
      for j in 0 ..< n {
        var s: Float = i == j ? Float(n) : 0
        for r in 0 ..< n { s += b[r * n + i] * b[r * n + j] }
        a[i * n + j] = s
      }
    }
    return a
  }

  @Test(arguments: [1, 2, 5, 33])
  func choleskySolveHasSmallResidual(n: Int) throws {
    let a = spd(n, seed: UInt64(n))
    let b = randomFloats(n, seed: 99)
    var factor = a
    var x = b
    try LAPACK.choleskySolve(n: n, a: &factor, b: &x)
    for i in 0 ..< n {
      var s = 0.0
      for j in 0 ..< n { s += Double(a[i * n + j]) * Double(x[j]) }
      #expect(abs(s - Double(b[i])) < 1e-3)
    }
  }

  @Test func factorThenSolveEqualsOneShotSolve() throws {
    let n = 8
    let a = spd(n, seed: 3)
    let b = randomFloats(n, seed: 4)
    var f1 = a
    var x1 = b
    try LAPACK.choleskySolve(n: n, a: &f1, b: &x1)
    var f2 = a
    var x2 = b
    try LAPACK.choleskyFactor(n: n, a: &f2)
    try LAPACK.choleskySolve(n: n, factor: f2, b: &x2)
    for j in 0 ..< n { #expect(abs(x1[j] - x2[j]) < 1e-5) }
  }

  @Test func multipleRightHandSides() throws {
    let n = 4
    let a = spd(n, seed: 5)
    let b = randomFloats(n * 3, seed: 6)  // row-major n × 3
    var f = a
    var x = b
    try LAPACK.choleskySolve(n: n, nrhs: 3, a: &f, b: &x)
    for col in 0 ..< 3 {
      for i in 0 ..< n {
        var s = 0.0
        for j in 0 ..< n { s += Double(a[i * n + j]) * Double(x[j * 3 + col]) }
        #expect(abs(s - Double(b[i * 3 + col])) < 1e-3)
      }
    }
  }

  @Test func indefiniteMatrixIsReported() {
    var a: [Float] = [1, 2, 2, 1]  // eigenvalues 3 and −1
    var b: [Float] = [1, 1]
    #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2)) {
      try LAPACK.choleskySolve(n: 2, a: &a, b: &b)
    }
  }
}

@Suite struct KernelTests {
  /// The SIMD dot product agrees with a Double reference at every length, including the tails.
  @Test func simdDotMatchesReferenceAtAllLengths() {
    for n in 0 ... 70 {
      let x = randomFloats(n, seed: UInt64(n) + 100)
      let y = randomFloats(n, seed: UInt64(n) + 200)
      let reference = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      let got = RowKernels.dot(n, x, y)
      #expect(abs(Double(got) - reference) < 1e-5 * Double(max(n, 1)), "n = \(n)")
    }
  }

  @Test func parallelForEachVisitsEveryIndexOnce() {
    let hits = UnsafeMutablePointer<Int>.allocate(capacity: 1000)
    hits.initialize(repeating: 0, count: 1000)
    defer { hits.deallocate() }
    let shared = SharedPointer(hits)
    Parallel.forEach(1000, threads: 4) { i in shared.base[i] += 1 }
    #expect((0 ..< 1000).allSatisfy { hits[$0] == 1 })
  }
}

/// RidgeSystem against a naive solve of the same normal equations, for both of its ways to
/// solve (one `sposv`; `spotrf` once, then `spotrs`).
@Suite struct RidgeSystemTests {
  @Test(arguments: [1, 5, 33])
  func normalEquationsMatchANaiveSolve(order: Int) throws {
    var rng = SystemRandomNumberGenerator()
    let rows = order + 7
    var design = [[Double]](repeating: [], count: rows)
    var targets = [Double](repeating: 0, count: rows)
    for j in 0 ..< rows {
      design[j] = (0 ..< order).map { _ in Double(Float.random(in: -1 ... 1, using: &rng)) }
      targets[j] = Double(Float.random(in: -2 ... 2, using: &rng))
    }
    let ridge = 0.3
    // Naive: A = YᵀY + ridge·I, b = Yᵀt, Gaussian elimination in Double.
    var a = [[Double]](repeating: [Double](repeating: 0, count: order), count: order)
    var b = [Double](repeating: 0, count: order)
    for j in 0 ..< rows {
      for f in 0 ..< order {
        b[f] += design[j][f] * targets[j]
        for g in 0 ..< order { a[f][g] += design[j][f] * design[j][g] }
      }
    }
    for f in 0 ..< order { a[f][f] += ridge }
    for pivot in 0 ..< order {
      for r in pivot + 1 ..< order {
        let m = a[r][pivot] / a[pivot][pivot]
        for c in pivot ..< order { a[r][c] -= m * a[pivot][c] }
        b[r] -= m * b[pivot]
      }
    }
    var expected = [Double](repeating: 0, count: order)
    for r in stride(from: order - 1, through: 0, by: -1) {
      var s = b[r]
      for c in r + 1 ..< order { s -= a[r][c] * expected[c] }
      expected[r] = s / a[r][r]
    }
    for factored in [false, true] {
      var system = RidgeSystem(order: order, rows: rows)
      for j in 0 ..< rows {
        for f in 0 ..< order { system.designRow(j)[f] = Float(design[j][f]) }
        system.targets[j] = Float(targets[j])
      }
      system.setGram(rows: rows)
      system.addToDiagonal(Float(ridge), 0 ..< order)
      system.setRightHandSide(rows: rows)
      if factored {
        try system.factor()
        try system.solveFactored()
      } else {
        try system.solve()
      }
      let x = system.solutionArray(count: order)
      for f in 0 ..< order {
        #expect(abs(Double(x[f]) - expected[f]) < 1e-3 * max(1, abs(expected[f])), "order \(order) entry \(f)")
      }
    }
  }
}
