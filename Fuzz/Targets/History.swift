// libFuzzer target: the `--history item[:value],…` parser, and folding the parsed history
// into a small trained model (the ridge solve sees whatever values the text holds).
import MatrixFactorization

/// A small rating model and a small implicit one, trained once.
let foldModels: [FactorModel] = {
  var triples: [(user: String, item: String, rating: Float)] = []
  for u in 0 ..< 12 { for i in 0 ..< 10 where (u + 2 * i) % 3 != 0 { triples.append(("u\(u)", "\(i)", Float(1 + (u * i) % 5))) } }
  let set = RatingSet(triples: triples)
  return [Algorithm.sgd, .implicitALS].map { algorithm in
    var o = TrainingOptions.defaults(for: algorithm, rank: 4)
    o.epochs = 3
    o.threads = 1
    return try! Trainer.fit(set, options: o).model
  }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func historyTest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let entries: [InputLists.HistoryEntry]
  do { entries = try InputLists.parseHistory(text) } catch {
    guard case .invalidParameter(.history, _) = error else { fatalError("unexpected error: \(error)") }
    return 0
  }
  precondition(entries.allSatisfy { $0.value?.isFinite ?? true })
  for model in foldModels {
    var items: [Int] = []
    var values: [Float] = []
    for e in entries {
      if let i = model.items.index(of: e.id) {
        items.append(Int(i))
        values.append(e.value ?? 1)
      }
    }
    guard !items.isEmpty else { continue }
    let sawValue = entries.contains { $0.value != nil }
    if let user = try? model.foldIn(items: items, values: sawValue || model.isImplicit ? values : nil) {
      _ = user
    }
  }
  return 0
}
