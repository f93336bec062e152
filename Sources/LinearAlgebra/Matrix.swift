/// A dense, row-major matrix of `Float` in one contiguous buffer.
///
/// Row `r` occupies `values[r * columns ..< (r + 1) * columns]`, which is the layout of an
/// embedding table: row `u` *is* the embedding of user `u`. BLAS sees it as a row-major matrix
/// with leading dimension `columns`.
public struct Matrix: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns (the row stride).
  public let columns: Int
  /// The entries, row after row.
  public var values: [Float]

  /// A `rows × columns` matrix filled with `value`.
  public init(rows: Int, columns: Int, repeating value: Float = 0) {
    precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
    self.rows = rows
    self.columns = columns
    self.values = [Float](repeating: value, count: rows * columns)
  }

  /// A matrix over existing row-major `values`; `values.count` must equal `rows * columns`.
  public init(rows: Int, columns: Int, values: [Float]) {
    precondition(values.count == rows * columns, "Matrix needs rows*columns values")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// The entry at (`row`, `column`).
  @inlinable
  public subscript(row: Int, column: Int) -> Float {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// A copy of row `r`.
  public func row(_ r: Int) -> [Float] {
    Array(values[r * columns ..< (r + 1) * columns])
  }

  /// The Euclidean norm of every row (computed with BLAS `snrm2`).
  public func rowNorms() -> [Float] {
    values.withUnsafeBufferPointer { buffer in
      (0 ..< rows).map { r in BLAS.norm(columns, buffer.baseAddress! + r * columns) }
    }
  }

  /// The product `self · other` (BLAS `sgemm`).
  public func multiplied(by other: Matrix) -> Matrix {
    precondition(columns == other.rows, "Matrix product needs matching inner dimensions")
    var result = Matrix(rows: rows, columns: other.columns)
    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: other.columns, k: columns,
              alpha: 1, a: values, lda: columns, b: other.values, ldb: other.columns,
              beta: 0, c: &result.values, ldc: other.columns)
    return result
  }

  /// The product `self · x` (BLAS `sgemv`).
  public func multiplied(by x: [Float]) -> [Float] {
    precondition(x.count == columns, "Matrix-vector product needs x.count == columns")
    var y = [Float](repeating: 0, count: rows)
    BLAS.gemv(transpose: false, m: rows, n: columns, alpha: 1, a: values, lda: columns,
              x: x, beta: 0, y: &y)
    return y
  }
}
