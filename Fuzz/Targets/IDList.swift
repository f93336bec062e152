// libFuzzer target: the `--items FILE` id-list parser.
import MatrixFactorization

@_cdecl("LLVMFuzzerTestOneInput")
public func idListTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let ids = InputLists.parseIDList(Array(UnsafeBufferPointer(start: data, count: size)))
  // An id is never empty, never spans lines and never holds a field separator.
  for id in ids {
    precondition(!id.isEmpty && !id.contains("\n") && !id.contains(",") && !id.contains("\t"), "id '\(id)'")
  }
  return 0
}
