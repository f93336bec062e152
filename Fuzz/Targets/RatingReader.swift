// libFuzzer target: the rating reader (RatingFileReader.parse) on arbitrary bytes.
// The first byte chooses the options (delimiter detected or each forced one, skipInvalid,
// requireRating), so every delimiter, quoting, header and line-ending path is reachable.
import MatrixFactorization

@_cdecl("LLVMFuzzerTestOneInput")
public func ratingReaderTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let control = data[0]
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let delimiters: [FieldDelimiter?] = [nil] + FieldDelimiter.allCases.map { $0 }
  let options = RatingFileOptions(
    delimiter: delimiters[Int(control & 7) % delimiters.count],
    skipInvalid: control & 8 != 0, requireRating: control & 16 == 0)
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
