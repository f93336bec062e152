import Foundation
@_spi(Engine) import LinearAlgebra
import RatingData

/// The export formats of the embedding tables.
public enum ExportFormat: String, Sendable, CaseIterable {
  /// `users.csv`, `items.csv`: `id,bias,f0,…,f{k−1}` with a header row.
  case csv
  /// `user_factors.npy`, `item_factors.npy` (float32, rows × k), `user_bias.npy`,
  /// `item_bias.npy` (float32 vectors), and `user_ids.txt`, `item_ids.txt` (one id per line,
  /// in row order).
  case npy
}

/// Writes a model's lookup tables for other tools (NumPy, pandas, vector databases).
public enum EmbeddingExport {
  /// Writes the tables of `model` into `folder` (created if missing) and returns the paths
  /// written. Both formats also write `model.json` with μ, the rank and the counts.
  public static func write(_ model: FactorModel, format: ExportFormat, to folder: String)
    throws(MFError) -> [String]
  {
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch { throw .output(path: folder, reason: "cannot create the folder") }
    var written: [String] = []
    func emit(_ name: String, _ bytes: [UInt8]) throws(MFError) {
      let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
      do {
        var writer = try AtomicFileWriter(path: path)
        try writer.write(bytes)
        try writer.commit()
      } catch { throw .output(path: path, reason: error.reasonText) }
      written.append(path)
    }
    // A Bayesian model exports the posterior means of its embeddings and biases (its scoring
    // tables hold the kept samples side by side; see PosteriorSummary).
    let k = model.embeddingRank
    switch format {
    case .csv:
      try emit("users.csv", csvTable(model.users, model.userBias, model.userEmbeddings))
      try emit("items.csv", csvTable(model.items, model.itemBias, model.itemEmbeddings))
    case .npy:
      try emit("user_factors.npy", npy(model.userEmbeddings.values, shape: [model.userCount, k]))
      try emit("item_factors.npy", npy(model.itemEmbeddings.values, shape: [model.itemCount, k]))
      try emit("user_bias.npy", npy(model.userBias, shape: [model.userCount]))
      try emit("item_bias.npy", npy(model.itemBias, shape: [model.itemCount]))
      try emit("user_ids.txt", idLines(model.users.ids))
      try emit("item_ids.txt", idLines(model.items.ids))
    }
    let meta = """
      {"global_mean": \(model.globalMean), "rank": \(k), "users": \(model.userCount), \
      "items": \(model.itemCount), "rating_min": \(model.ratingRange.lowerBound), \
      "rating_max": \(model.ratingRange.upperBound), "format": "\(format.rawValue)"}

      """
    try emit("model.json", Array(meta.utf8))
    return written
  }

  /// `id,bias,f0,…` rows; ids containing a comma or quote are quoted.
  static func csvTable(_ ids: IDMap, _ bias: [Float], _ factors: Matrix) -> [UInt8] {
    var text = "id,bias" + (0 ..< factors.columns).map { ",f\($0)" }.joined() + "\n"
    for r in 0 ..< factors.rows {
      var id = ids.ids[r]
      if id.contains(",") || id.contains("\"") {
        id = "\"" + id.replacingOccurrences(of: "\"", with: "\"\"") + "\""
      }
      text += id + "," + String(bias[r])
      for c in 0 ..< factors.columns { text += "," + String(factors[r, c]) }
      text += "\n"
    }
    return Array(text.utf8)
  }

  /// One id per line, in row order (`user_ids.txt`, `item_ids.txt`). Ids from a rating file
  /// never hold a line break (the reader splits lines first), so every line is one id.
  public static func idLines(_ ids: [String]) -> [UInt8] {
    Array(ids.map { $0 + "\n" }.joined().utf8)
  }

  /// A NumPy `.npy` (format 1.0) file holding little-endian float32 `values` of `shape`.
  public static func npy(_ values: [Float], shape: [Int]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    // magic(6) + version(2) + length(2) + header + '\n' is padded to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(header.utf8.count)
    out.append(UInt8(length & 0xFF))
    out.append(UInt8(length >> 8))
    out.append(contentsOf: header.utf8)
    values.withUnsafeBytes { out.append(contentsOf: $0) }
    return out
  }
}
