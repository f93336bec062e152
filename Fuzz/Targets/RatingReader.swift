// libFuzzer target: the rating reader (RatingFileReader.parse) on arbitrary bytes.
// The first byte chooses the options (delimiter detected or each forced one, skipInvalid,
// requireRating), so every delimiter, quoting, header and line-ending path is reachable.
import MatrixFactorization
@_spi(Engine) import RatingData

@_cdecl("LLVMFuzzerTestOneInput")
public func ratingReaderTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let control = data[0]
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let delimiters: [FieldDelimiter?] = [nil] + FieldDelimiter.allCases.map { $0 }
  let options = RatingFileOptions(
    delimiter: delimiters[Int(control & 7) % delimiters.count],
    skipInvalid: control & 8 != 0, requireRating: control & 16 == 0)
  // Differential: the same bytes cut into 1–4 chunks of any size, read with the fast paths (the
  // C numeric-line loop, stopped every 5 bytes for odd input lengths), must read exactly as one
  // thread reads them with the general parser alone (ratings, ids, report, or the same error
  // with the same line number).
  var serial = options
  serial.threads = 1
  serial.minimumChunkBytes = Int.max
  serial.fastPath = false
  var parallel = options
  parallel.threads = 1 + Int(control >> 6)
  parallel.minimumChunkBytes = 1 + Int(control >> 5 & 1) * 7
  parallel.releaseStepBytes = size % 2 == 0 ? 1 << 24 : 5
  let one = Result { () throws(RatingDataError) in try RatingFileReader.parse(bytes, path: "fuzz", options: serial) }
  let many = Result { () throws(RatingDataError) in try RatingFileReader.parse(bytes, path: "fuzz", options: parallel) }
  switch (one, many) {
  case (.success(let a), .success(let b)):
    precondition(a.ratings.users == b.ratings.users && a.ratings.items == b.ratings.items)
    precondition(a.ratings.userIndices == b.ratings.userIndices && a.ratings.itemIndices == b.ratings.itemIndices)
    precondition(a.ratings.values.map(\.bitPattern) == b.ratings.values.map(\.bitPattern))
    precondition(a.ratings.timestamps == b.ratings.timestamps)
    precondition(a.report.hadHeader == b.report.hadHeader && a.report.delimiter == b.report.delimiter)
    precondition(a.report.skippedLines == b.report.skippedLines && a.report.firstSkipped == b.report.firstSkipped)
  case (.failure(let a), .failure(let b)):
    precondition(a == b, "serial: \(a); chunked: \(b)")
  default:
    preconditionFailure("serial and chunked reads disagree: \(one) / \(many)")
  }
  do {
    let (ratings, report) = try RatingFileReader.parse(bytes, path: "fuzz", options: options)
    // What every successful read promises.
    precondition(ratings.count > 0)
    precondition(ratings.userIndices.count == ratings.count && ratings.itemIndices.count == ratings.count)
    precondition(ratings.values.allSatisfy { $0.isFinite })
    precondition(ratings.userIndices.allSatisfy { $0 >= 0 && Int($0) < ratings.users.count })
    precondition(ratings.itemIndices.allSatisfy { $0 >= 0 && Int($0) < ratings.items.count })
    precondition(ratings.timestamps.isEmpty || ratings.timestamps.count == ratings.count)
    precondition(ratings.users.ids.allSatisfy { !$0.isEmpty } && ratings.items.ids.allSatisfy { !$0.isEmpty })
    precondition(report.skippedLines == 0 || options.skipInvalid)
    // The id maps rebuild from their ids (as the model file does): no duplicate spellings.
    precondition((try? IDMap(ids: ratings.users.ids)) == ratings.users)
    precondition((try? IDMap(ids: ratings.items.ids)) == ratings.items)
  } catch {
    switch error {
    case .malformedLine(let path, let line, let reason):
      precondition(path == "fuzz" && line >= 1 && !reason.isEmpty)
    case .empty: break
    default: fatalError("unexpected error: \(error)")
    }
  }
  return 0
}
