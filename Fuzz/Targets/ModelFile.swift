// libFuzzer target: the model-file reader (ModelFile.decode) on arbitrary bytes, as they are
// and with their last four bytes replaced by the right CRC-32 (else almost every mutation
// stops at the checksum and the checks behind it are never explored). A file it accepts must
// serve (predict, recommend, similar items) without trapping, and must encode and decode
// again to the same tables.
import MatrixFactorization

@_cdecl("LLVMFuzzerTestOneInput")
public func modelFileTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  check(bytes)
  if bytes.count >= 4 {
    var resealed = Array(bytes.dropLast(4))
    let crc = resealed.withUnsafeBytes { CRC32.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { resealed.append(contentsOf: $0) }
    if resealed != bytes { check(resealed) }
  }
  return 0
}

func check(_ bytes: [UInt8]) {
  guard let model = try? ModelFile.decode(bytes) else { return }
  precondition(model.userFactors.values.allSatisfy { $0.isFinite })
  precondition(model.itemFactors.values.allSatisfy { $0.isFinite })
  precondition(model.userFactors.rows == model.userCount && model.itemFactors.rows == model.itemCount)
  if model.userCount > 0 && model.itemCount > 0 {
    _ = model.predict(user: 0, item: model.itemCount - 1)
    _ = model.recommend(user: model.userCount - 1, count: 3)
    _ = try? model.similarItems(to: 0, count: 2)
  }
  _ = model.predict(userID: "unknown user", itemID: "unknown item")
  do {
    let again = try ModelFile.decode(try ModelFile.encode(model))
    precondition(again.userFactors == model.userFactors && again.itemFactors == model.itemFactors)
    precondition(again.users == model.users && again.items == model.items && again.seen == model.seen)
  } catch {
    fatalError("an accepted model does not survive encode and decode: \(error)")
  }
}
