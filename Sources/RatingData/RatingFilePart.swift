/// One process's share of a rating file, for a distributed fit: the ratings of one byte range of
/// whole lines, with id maps of their own (first appearance within the part).
///
/// Merging the parts' id maps in part order numbers every id by its first appearance in the
/// file, as ``RatingFileReader/read(path:options:)`` does when it merges its threads' chunks; a
/// malformed line is reported, not thrown, so that the processes can agree on the first one
/// (``lineCount`` of the parts before it gives its line number in the file).
@_spi(Distributed) public struct RatingFilePart: Sendable {
  /// This part's ratings; indices are into its own id maps.
  public var ratings: RatingSet
  /// Lines in this part (up to and including a malformed line that stopped it).
  public var lineCount: Int
  /// The malformed line that stopped the part (its line number within the part), without
  /// `skipInvalid`.
  public var failure: (line: Int, reason: String)?
  /// Malformed lines skipped (with `skipInvalid`), and the first few (line within the part).
  public var skippedLines: Int
  public var firstSkipped: [(line: Int, reason: String)]
  /// Whether this part began with the file's header line (only part 0 can).
  public var hadHeader: Bool
  /// The delimiter used (detected from the file's first data line, or given).
  public var delimiter: FieldDelimiter?
  /// The bytes of the whole file and of this part.
  public var fileBytes: Int
  public var partBytes: Int
}

extension RatingFileReader {
  /// Reads part `part` of `parts` of the file at `path`: the part-th of `parts` byte ranges of
  /// about equal size, each cut just after a line break (a part may be empty when the file has
  /// fewer lines than parts). Only this part's pages are touched, and released as they are parsed.
  ///
  /// - Throws: ``RatingDataError/unreadable(path:reason:)`` when the file cannot be opened or
  ///   mapped, or its part's ratings would not fit in memory; a malformed line is returned in
  ///   ``RatingFilePart/failure`` instead.
  @_spi(Distributed) public static func readPart(
    path: String, part: Int, of parts: Int, options: RatingFileOptions = .init()
  ) throws(RatingDataError) -> RatingFilePart {
    precondition(parts >= 1 && (0 ..< parts).contains(part), "part must be in 0 ..< parts")
    let file = try MappedFile(path: path)
    defer { file.unmap() }
    return try file.withBytes { (fileBytes) throws(RatingDataError) in
      // As `parse`: a UTF-8 byte-order mark is skipped, and the first data line decides the
      // delimiter for every part.
      let skip =
        fileBytes.count >= 3 && fileBytes[0] == 0xEF && fileBytes[1] == 0xBB && fileBytes[2] == 0xBF ? 3 : 0
      let bytes = UnsafeBufferPointer(rebasing: fileBytes[skip...])
      let first = firstDataLine(bytes)
      let delimiter = options.delimiter ?? first.map { FieldDelimiter.detect(in: $0.line) }
      let cuts = lineCuts(bytes, after: first?.end ?? bytes.count, parts: parts)
      let range = cuts[part] ..< cuts[part + 1]
      let partBytes = UnsafeBufferPointer(rebasing: bytes[range])
      func release(_ done: Range<Int>) {
        file.release(skip + range.lowerBound + done.lowerBound ..< skip + range.lowerBound + done.upperBound)
      }
      // As `parse`: the lines counted first, and parsed straight into columns of that size.
      let lines = countLines(partBytes, step: options.releaseStepBytes, release: release)
      try checkColumnsFit(lines: lines, path: path, options: options)
      var parsed: LineParser? = nil
      let columns = RatingColumns.make(capacity: lines, timestamps: options.keepTimestamps) { output in
        var chunk = LineParser(
          path: path, options: options, delimiter: delimiter, sawFirstLine: part > 0, output: output)
        chunk.run(partBytes, releaseStep: options.releaseStepBytes, release: release)
        parsed = chunk
        return (chunk.ratingCount, options.keepTimestamps && chunk.timestampCount == chunk.ratingCount)
      }
      let parser = parsed!
      return RatingFilePart(
        ratings: RatingSet(
          users: parser.users, items: parser.items, userIndices: columns.users,
          itemIndices: columns.items, values: columns.values, timestamps: columns.timestamps),
        lineCount: parser.lineCount, failure: parser.failure, skippedLines: parser.skipped,
        firstSkipped: parser.firstSkipped, hadHeader: parser.hadHeader,
        delimiter: parser.delimiter ?? delimiter, fileBytes: fileBytes.count,
        partBytes: range.count)
    }
  }
}
