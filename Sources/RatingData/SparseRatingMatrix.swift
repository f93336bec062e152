/// A sparse matrix in compressed-row form (CSR): the entries of row `r` are
/// `columns[rowStart[r] ..< rowStart[r + 1]]` with their `values`, sorted by column.
public struct SparseRatingMatrix: Sendable, Equatable {
  /// Number of rows.
  public let rowCount: Int
  /// Number of columns.
  public let columnCount: Int
  /// Offsets into `columns`/`values`; `rowStart.count == rowCount + 1`.
  public let rowStart: [Int]
  /// Column index of each entry.
  public let columns: [Int32]
  /// Value of each entry.
  public let values: [Float]

  /// Builds the CSR form of triplets `(rows[n], columns[n], values[n])`.
  ///
  /// Two stable counting sorts (by column, then by row) give rows whose entries are sorted by
  /// column in O(nnz + rows + columns) time, on `threads` threads (the result is the same for
  /// any count).
  public init(
    rowCount: Int, columnCount: Int, rows: [Int32], columns: [Int32], values: [Float],
    threads: Int = 1
  ) {
    let built = CompressedRows.build(
      rowCount: rowCount, columnCount: columnCount, rows: rows, columns: columns, values: values,
      threads: threads)
    self.rowCount = rowCount
    self.columnCount = columnCount
    self.rowStart = built.rowStart
    self.columns = built.columns
    self.values = built.values
  }

  /// A matrix over compressed rows already built (each row's columns sorted).
  package init(rowCount: Int, columnCount: Int, rowStart: [Int], columns: [Int32], values: [Float]) {
    precondition(rowStart.count == rowCount + 1 && columns.count == values.count)
    self.rowCount = rowCount
    self.columnCount = columnCount
    self.rowStart = rowStart
    self.columns = columns
    self.values = values
  }

  /// Number of stored entries.
  public var entryCount: Int { values.count }

  /// The transpose: the other orientation of the same ratings (by item from by user, and back).
  ///
  /// One stable counting sort over the entries in row order, so each of its rows lists its
  /// columns in ascending order: the same matrix, bit for bit, as building that orientation from
  /// the triplets (which takes two), and without the triplets, which can then be freed first.
  public func transposed(threads: Int = 1) -> SparseRatingMatrix {
    let built = CompressedRows.regroup(
      outerStart: rowStart, inner: columns, values: values, withValues: true, innerCount: columnCount,
      threads: threads)
    return SparseRatingMatrix(
      rowCount: columnCount, columnCount: rowCount, rowStart: built.rowStart, columns: built.columns,
      values: built.values)
  }

  /// Number of entries in row `r`.
  @inlinable public func count(ofRow r: Int) -> Int { rowStart[r + 1] - rowStart[r] }

  /// The value at (`row`, `column`), or `nil` when the entry is absent (binary search).
  public func value(row: Int, column: Int) -> Float? {
    var lo = rowStart[row]
    var hi = rowStart[row + 1]
    let c = Int32(column)
    while lo < hi {
      let mid = (lo + hi) / 2
      if columns[mid] < c { lo = mid + 1 } else { hi = mid }
    }
    return lo < rowStart[row + 1] && columns[lo] == c ? values[lo] : nil
  }
}

/// Which side of the ratings a ``SparseRatingMatrix`` has as its rows.
public enum RatingOrientation: Sendable {
  /// Row u lists the items user u rated (CSR).
  case byUser
  /// Row i lists the users who rated item i (CSC, stored as the CSR of the transpose). ALS keeps
  /// both orientations, as Spark's ALS does ("every rating is stored twice"): each half-sweep
  /// then reads one side contiguously.
  case byItem
}

extension SparseRatingMatrix {
  /// `ratings` with users (or items) as rows; `values`, when given, replace the ratings (one
  /// per rating, e.g. implicit ALS's confidences). Repeated (user, item) pairs must have been
  /// merged first (``RatingSet/removingDuplicates()`` or ``RatingSet/summingDuplicates()``).
  public init(
    _ ratings: RatingSet, _ orientation: RatingOrientation, values: [Float]? = nil,
    threads: Int = 1
  ) {
    let values = values ?? ratings.values
    precondition(values.count == ratings.count, "one value per rating")
    switch orientation {
    case .byUser:
      self.init(
        rowCount: ratings.users.count, columnCount: ratings.items.count,
        rows: ratings.userIndices, columns: ratings.itemIndices, values: values, threads: threads)
    case .byItem:
      self.init(
        rowCount: ratings.items.count, columnCount: ratings.users.count,
        rows: ratings.itemIndices, columns: ratings.userIndices, values: values, threads: threads)
    }
  }
}
