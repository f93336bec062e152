// libFuzzer target: the `.npy` writer's output read back. The input gives a shape and float32
// bit patterns (NaN, infinities and subnormals included); the file must parse as NumPy format
// 1.0 (magic, header length, 64-byte alignment, descr '<f4', C order, the shape) and hold the
// same bits. The ids files' one-id-per-line text must give the ids back.
import MatrixFactorization

@_cdecl("LLVMFuzzerTestOneInput")
public func npyTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 2 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let floats = (bytes.count - 2) / 4
  let values: [Float] = (0 ..< floats).map { n in
    var bits: UInt32 = 0
    for b in 0 ..< 4 { bits |= UInt32(bytes[2 + 4 * n + b]) << (8 * b) }
    return Float(bitPattern: bits)
  }
  // 1-D, or 2-D with as many columns as the second byte says (rows × columns = the count).
  let columns = max(1, Int(bytes[1]))
  let shape = bytes[0] & 1 == 0 || floats % columns != 0 ? [floats] : [floats / columns, columns]
  let file = EmbeddingExport.npy(values, shape: shape)

  precondition(Array(file[0 ..< 8]) == [0x93] + Array("NUMPY".utf8) + [1, 0], "magic")
  let headerLength = Int(file[8]) | Int(file[9]) << 8
  precondition((10 + headerLength) % 64 == 0, "alignment")
  let header = String(decoding: file[10 ..< 10 + headerLength], as: UTF8.self)
  precondition(header.hasSuffix("\n"))
  let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape[0]), \(shape[1]))"
  precondition(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"), header)
  let body = Array(file[(10 + headerLength)...])
  precondition(body.count == 4 * floats, "data length")
  for n in 0 ..< floats {
    var bits: UInt32 = 0
    for b in 0 ..< 4 { bits |= UInt32(body[4 * n + b]) << (8 * b) }
    precondition(bits == values[n].bitPattern, "value \(n)")
  }

  // Ids as the reader can produce them (no line breaks), one per line and back.
  let ids = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
    .map(String.init)
  let text = String(decoding: EmbeddingExport.idLines(ids), as: UTF8.self)
  precondition(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == ids)
  return 0
}
