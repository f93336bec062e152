import Foundation
@_spi(Engine) import LinearAlgebra
import RatingData

/// The binary model file (`model.mf`), format versions 1, 2 and 3.
///
/// All numbers are little-endian; floats are IEEE-754 binary32.
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `MFMODEL\0` |
/// | 4 | format version (`UInt32`): 1, or 2 for a model with kept posterior samples, 3 for one with implicit feedback too |
/// | 4 | flags (`UInt32`): bit 0 set = the model kind is recorded in bit 1; bit 1 set = a ranking model (else rating); bit 2 (version 3 only) = the implicit-row section is present. Files from before the kind was recorded have 0, and their kind follows from the algorithm in the summary. |
/// | 8, 8 | users `m`, items `n` (`UInt64`) |
/// | 4, 4 | width `w` of P and Q (`UInt32`; the rank k, or S·k for a Bayesian model); version 1: reserved (0), version 2: kept samples `S` (`UInt32`; 0 = none) |
/// | 4, 4, 4 | μ, smallest rating, largest rating (`Float32`) |
/// | 8 | training interactions `z` (`UInt64`) |
/// | 8 | length `s` of the summary (`UInt64`) |
/// | s | training summary: options and statistics as UTF-8 JSON |
/// | 4·m, 4·n | b_u, b_i (a Bayesian model: averaged over the kept samples) |
/// | 4·m·w, 4·n·w | P, Q (row-major; a Bayesian model: the kept samples side by side, each scaled by 1/√S) |
/// | 4·m·k, 4·n·k | version 2 with S > 0 only: P̄, Q̄, the posterior-mean embeddings (k = w/S) |
/// | 4·n·(k+1) | version 3 with flag bit 2 only: Ȳ, the items' implicit rows averaged over the kept samples (``PosteriorSummary/implicitItemRows``) |
/// | 4·m, 4·z | interactions per user (`UInt32`), then their item indices (`Int32`) |
/// | … | user ids, then item ids: each a `UInt32` byte length and UTF-8 bytes |
/// | 4 | CRC-32 of everything before it |
///
/// Version 2 is version 1 plus the sample count in the reserved field and the mean-embedding
/// section. A model without posterior samples (SGD, ALS, implicit ALS, BPR) is written as
/// version 1, byte for byte as before, so older mf builds still read it; a Bayesian model is
/// written as version 2. Version 3 is version 2 plus flag bit 2 and the implicit-row section, for
/// a Bayesian model with implicit feedback (``BayesSettings/implicitFeedback``), whose fold-in
/// needs Ȳ; a Bayesian model without it is still written as version 2. Builds that read only
/// versions 1–2 refuse a version-3 file by its version number. This build reads all three.
///
/// Files are written atomically (temporary file, fsync, rename), so an interrupted `mf fit`
/// leaves the previous model, or none, never a partial one.
public enum ModelFile {
  static let magic: [UInt8] = Array("MFMODEL\0".utf8)
  /// The newest format version this build writes and reads (it reads 1 … version).
  public static let version: UInt32 = 3

  /// The version `model` is written in: 1 unless it holds posterior samples, 3 when it also has
  /// implicit rows.
  public static func version(of model: FactorModel) -> UInt32 {
    guard let posterior = model.posterior else { return 1 }
    return posterior.implicitItemRows == nil ? 2 : 3
  }
  /// Flag bit 2: the implicit-row section is present (version 3).
  static let implicitRows: UInt32 = 4
  package static let fixedHeaderBytes = 8 + 4 + 4 + 8 + 8 + 4 + 4 + 12 + 8 + 8

  /// Writes `model` to `path` atomically.
  ///
  /// The bytes go straight to the file as they are produced, checksummed on the way: the
  /// tables and the seen index (4 bytes a rating, most of a large model) are written from the
  /// model's own arrays, never copied into a whole-file buffer first (at 22.5M ratings that
  /// buffer was 120 MB, and the copy a tenth of a second).
  public static func write(_ model: FactorModel, to path: String) throws(MFError) {
    do { try checkFinite(model) } catch { throw .output(path: path, reason: "\(error)") }
    do {
      var writer = try AtomicFileWriter(path: path)
      var crc: UInt32 = 0
      try encodeBody(model) { raw in
        crc = CRC32.checksum(raw, continuing: crc)
        // Large pieces go to the file directly; small ones (header fields, ids) are buffered.
        if raw.count >= 1 << 16 { try writer.write(raw: raw) } else { try writer.write(raw) }
      }
      try withUnsafeBytes(of: crc.littleEndian) { raw throws(RatingDataError) in try writer.write(raw) }
      try writer.commit()
    } catch let error as RatingDataError {
      throw .output(path: path, reason: error.reasonText)
    } catch {
      throw .output(path: path, reason: "\(error)")
    }
  }

  /// The file's bytes for `model`.
  ///
  /// A model holding a NaN or an infinite value is refused (it would poison every prediction
  /// that touches it): nothing of it is written.
  public static func encode(_ model: FactorModel) throws -> [UInt8] {
    try checkFinite(model)
    var out: [UInt8] = []
    out.reserveCapacity(
      fixedHeaderBytes + 4096 + 4 * (model.userCount + model.itemCount) * (model.rank + 2)
        + 4 * model.seen.items.count + 64)
    try encodeBody(model) { out.append(contentsOf: $0) }
    let crc = out.withUnsafeBytes { CRC32.checksum($0) }
    append(&out, crc)
    return out
  }

  /// Refuses a model holding a NaN or an infinite value.
  private static func checkFinite(_ model: FactorModel) throws {
    if let where_ = nonFiniteValue(
      userBias: model.userBias, itemBias: model.itemBias, p: model.userFactors.values,
      q: model.itemFactors.values, rank: model.rank, mean: model.globalMean)
      ?? model.posterior.flatMap({ nonFiniteMean($0.userMeans.values, $0.itemMeans.values, rank: $0.rank) })
      ?? model.posterior?.implicitItemRows.flatMap({ nonFiniteImplicit($0.values, width: $0.columns) })
    {
      throw DecodeFailure(text: "the model holds a NaN or infinite value (\(where_)); it was not written")
    }
  }

  /// Hands the file's bytes, all but the closing checksum, to `put`, in order.
  private static func encodeBody(
    _ model: FactorModel, _ put: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    func value<T: FixedWidthInteger>(_ v: T) throws {
      try withUnsafeBytes(of: v.littleEndian) { try put($0) }
    }
    // Arrays are written from their own memory in one piece where that is little-endian already.
    func array<T: FixedWidthInteger>(_ values: [T]) throws {
      #if _endian(little)
        try values.withUnsafeBytes { try put($0) }
      #else
        try values.map(\.littleEndian).withUnsafeBytes { try put($0) }
      #endif
    }
    func array(_ values: [Float]) throws {
      #if _endian(little)
        try values.withUnsafeBytes { try put($0) }
      #else
        try array(values.map(\.bitPattern))
      #endif
    }
    let k = model.rank
    // Keys sorted: the same model gives the same bytes (the encoder's own order varies by run).
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let summary = try encoder.encode(model.summary)
    try magic.withUnsafeBytes { try put($0) }
    try value(version(of: model))
    try value(kindFlags(model.kind) | (model.posterior?.implicitItemRows == nil ? 0 : implicitRows))
    try value(UInt64(model.userCount))
    try value(UInt64(model.itemCount))
    try value(UInt32(k))
    try value(UInt32(model.posterior?.samples ?? 0))
    try value(model.globalMean.bitPattern)
    try value(model.ratingRange.lowerBound.bitPattern)
    try value(model.ratingRange.upperBound.bitPattern)
    try value(UInt64(model.seen.items.count))
    try value(UInt64(summary.count))
    try summary.withUnsafeBytes { try put($0) }
    try array(model.userBias)
    try array(model.itemBias)
    try array(model.userFactors.values)
    try array(model.itemFactors.values)
    if let posterior = model.posterior {
      try array(posterior.userMeans.values)
      try array(posterior.itemMeans.values)
      if let rows = posterior.implicitItemRows { try array(rows.values) }
    }
    try array((0 ..< model.userCount).map { UInt32(model.seen.rowStart[$0 + 1] - model.seen.rowStart[$0]) })
    try array(model.seen.items)
    for map in [model.users, model.items] {
      for id in map.ids {
        var id = id
        try value(UInt32(id.utf8.count))
        try id.withUTF8 { try put(UnsafeRawBufferPointer($0)) }
      }
    }
  }

  /// Reads the model at `path`, or says precisely why it cannot.
  public static func read(path: String) throws(MFError) -> FactorModel {
    let bytes: [UInt8]
    do {
      bytes = try RatingFileReader.readWholeFile(path: path)
    } catch {
      if case .unreadable(_, let reason) = error {
        throw .modelFile(path: path, reason: "cannot be read: \(reason)")
      }
      throw .modelFile(path: path, reason: "cannot be read: \(error)")
    }
    do {
      return try decode(bytes)
    } catch let reason as DecodeFailure {
      throw .modelFile(path: path, reason: reason.text)
    } catch {
      throw .modelFile(path: path, reason: "is corrupt: \(error)")
    }
  }

  struct DecodeFailure: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
  }

  /// Decodes a model from a file's bytes.
  public static func decode(_ bytes: [UInt8]) throws -> FactorModel {
    func fail(_ text: String) -> DecodeFailure { DecodeFailure(text: text) }
    guard bytes.count >= magic.count, Array(bytes[0 ..< magic.count]) == magic else {
      throw fail("is not an mf model file (its first bytes are not 'MFMODEL')")
    }
    var reader = ByteReader(bytes: bytes, position: magic.count)
    guard let version: UInt32 = reader.read() else { throw fail("is truncated (no format version)") }
    guard version >= 1 && version <= ModelFile.version else {
      throw fail("has format version \(version); this mf reads versions 1 to \(ModelFile.version)")
    }
    guard bytes.count >= fixedHeaderBytes + 4 else {
      throw fail("is truncated (\(bytes.count) bytes, shorter than the header)")
    }
    let flags: UInt32 = reader.read()!
    let users64: UInt64 = reader.read()!
    let items64: UInt64 = reader.read()!
    let rank32: UInt32 = reader.read()!
    // Version 1 reserved this field (and wrote 0); version 2 keeps the sample count there.
    let samplesField: UInt32 = reader.read()!
    let samples = version >= 2 ? Int(samplesField) : 0
    let mean = Float(bitPattern: reader.read()!)
    let low = Float(bitPattern: reader.read()!)
    let high = Float(bitPattern: reader.read()!)
    let interactions64: UInt64 = reader.read()!
    let summaryLength64: UInt64 = reader.read()!
    // Bound every size by the file length before allocating anything.
    let limit = UInt64(bytes.count)
    guard users64 < limit, items64 < limit, interactions64 < limit, summaryLength64 < limit,
      rank32 >= 1, UInt64(rank32) < limit
    else { throw fail("is corrupt or truncated (its sizes exceed the file's length)") }
    let users = Int(users64)
    let items = Int(items64)
    let k = Int(rank32)
    let interactions = Int(interactions64)
    guard samples == 0 || (UInt64(samples) < limit && k % samples == 0) else {
      throw fail("is corrupt (its width \(k) is not a multiple of its \(samples) samples)")
    }
    let embedding = samples > 0 ? k / samples : k
    // (users + items)·k can exceed Int for a crafted header even though each size is below the
    // file's length: checked, never trapped on. (The mean embeddings are narrower than that.)
    let (factorCount, overflow) = (users + items).multipliedReportingOverflow(by: k)
    let (factorBytes, overflow4) = factorCount.multipliedReportingOverflow(by: 4)
    let hasImplicitRows = version >= 3 && flags & implicitRows != 0
    let meanCount = samples > 0 ? (users + items) * embedding + (hasImplicitRows ? items * (embedding + 1) : 0) : 0
    let needed = overflow || overflow4 || factorBytes > bytes.count ? Int.max : fixedHeaderBytes + Int(summaryLength64)
      + 4 * (users + items) + factorBytes + 4 * meanCount + 4 * users + 4 * interactions + 4 * (users + items) + 4
    guard !overflow, !overflow4, needed <= bytes.count else {
      throw fail(
        needed == Int.max
          ? "is corrupt or truncated (its sizes exceed the file's length)"
          : "is truncated (\(bytes.count) bytes; its header needs at least \(needed))")
    }
    let stored = bytes.withUnsafeBytes { raw in
      raw.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)
    }
    let computed = bytes.withUnsafeBytes { raw in
      CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0 ..< bytes.count - 4]))
    }
    guard stored == computed else {
      throw fail("is corrupt (checksum mismatch: the file was damaged or cut short)")
    }
    guard mean.isFinite, low.isFinite, high.isFinite, low <= high else {
      throw fail("is corrupt (its rating range or mean is not finite)")
    }
    guard flags & ~(kindRecorded | rankingModel | (version >= 3 ? implicitRows : 0)) == 0 else {
      throw fail("uses features this mf does not know (flags \(String(flags, radix: 16)))")
    }
    let summaryBytes = reader.bytes(Int(summaryLength64))!
    var summary: TrainingSummary
    do {
      summary = try JSONDecoder().decode(TrainingSummary.self, from: Data(summaryBytes))
    } catch {
      // A summary that is valid JSON but names an algorithm this build does not have was written
      // by a newer mf (the file's layout is otherwise one this build reads): say that, not
      // "corrupt".
      if let unknown = Self.unknownAlgorithm(in: summaryBytes) {
        throw fail("was written by a newer mf: its algorithm '\(unknown)' is unknown to this build")
      }
      throw fail("is corrupt (its training summary is not valid JSON)")
    }
    let userBias = reader.floats(users)!
    let itemBias = reader.floats(items)!
    let p = reader.floats(users * k)!
    let q = reader.floats(items * k)!
    var posterior: PosteriorSummary? = nil
    if samples > 0 {
      let userMeans = reader.floats(users * embedding)!
      let itemMeans = reader.floats(items * embedding)!
      if let where_ = nonFiniteMean(userMeans, itemMeans, rank: embedding) {
        throw fail("is corrupt (\(where_) is NaN or infinite)")
      }
      var implicitItemRows: Matrix? = nil
      if hasImplicitRows {
        let rows = reader.floats(items * (embedding + 1))!
        if let where_ = nonFiniteImplicit(rows, width: embedding + 1) {
          throw fail("is corrupt (\(where_) is NaN or infinite)")
        }
        implicitItemRows = Matrix(rows: items, columns: embedding + 1, values: rows)
      }
      posterior = PosteriorSummary(
        samples: samples, userMeans: Matrix(rows: users, columns: embedding, values: userMeans),
        itemMeans: Matrix(rows: items, columns: embedding, values: itemMeans),
        implicitItemRows: implicitItemRows)
    }
    guard hasImplicitRows == (summary.options.bayes?.implicitFeedback ?? false), samples > 0 || !hasImplicitRows
    else { throw fail("is corrupt (its implicit rows and its settings disagree)") }
    if let where_ = nonFiniteValue(userBias: userBias, itemBias: itemBias, p: p, q: q, rank: k, mean: mean) {
      throw fail("is corrupt (\(where_) is NaN or infinite)")
    }
    var rowStart = [Int](repeating: 0, count: users + 1)
    for u in 0 ..< users {
      let c: UInt32 = reader.read()!
      rowStart[u + 1] = rowStart[u] + Int(c)
    }
    guard rowStart[users] == interactions else {
      throw fail("is corrupt (its interaction counts do not add up)")
    }
    var seenItems = [Int32](repeating: 0, count: interactions)
    for j in 0 ..< interactions {
      let raw: UInt32 = reader.read()!
      let item = Int32(bitPattern: raw)
      guard item >= 0 && Int(item) < items else { throw fail("is corrupt (an item index is out of range)") }
      seenItems[j] = item
    }
    func readIDs(_ count: Int, _ kind: String) throws -> IDMap {
      var ids: [String] = []
      ids.reserveCapacity(count)
      for _ in 0 ..< count {
        guard let length: UInt32 = reader.read(), let raw = reader.bytes(Int(length)),
          let id = String(validating: raw, as: UTF8.self)
        else { throw fail("is corrupt (its \(kind) ids are damaged)") }
        ids.append(id)
      }
      do { return try IDMap(ids: ids) } catch { throw fail("is corrupt (\(error))") }
    }
    let userIDs = try readIDs(users, "user")
    let itemIDs = try readIDs(items, "item")
    guard reader.position == bytes.count - 4 else {
      throw fail("is corrupt (\(bytes.count - 4 - reader.position) unexpected bytes before the checksum)")
    }
    guard summary.options.rank == embedding else { throw fail("is corrupt (its rank and summary disagree)") }
    guard (samples > 0) == (summary.options.algorithm == .bayes) else {
      throw fail("is corrupt (its sample count and its algorithm disagree)")
    }
    let kind: ModelKind =
      flags & kindRecorded != 0
      ? (flags & rankingModel != 0 ? .ranking : .rating) : summary.options.algorithm.kind
    guard kind == summary.options.algorithm.kind else {
      throw fail("is corrupt (its flags say a \(kind.rawValue) model, its summary a \(summary.options.algorithm.rawValue) one)")
    }
    // Ranking models have no training RMSE; files from before it was optional stored 0.
    if kind == .ranking { summary.trainRMSE = nil }
    return FactorModel(
      kind: kind, globalMean: mean, userBias: userBias, itemBias: itemBias,
      userFactors: Matrix(rows: users, columns: k, values: p),
      itemFactors: Matrix(rows: items, columns: k, values: q), users: userIDs, items: itemIDs,
      ratingRange: low ... high, seen: InteractionIndex(rowStart: rowStart, items: seenItems),
      summary: summary, posterior: posterior)
  }

  /// Where the first NaN or infinity is, in words, or nil when every value is finite.
  static func nonFiniteValue(
    userBias: [Float], itemBias: [Float], p: [Float], q: [Float], rank: Int, mean: Float
  ) -> String? {
    if !mean.isFinite { return "the global mean" }
    if let u = userBias.firstIndex(where: { !$0.isFinite }) { return "the bias of user \(u)" }
    if let i = itemBias.firstIndex(where: { !$0.isFinite }) { return "the bias of item \(i)" }
    if let j = p.firstIndex(where: { !$0.isFinite }) { return "row \(j / max(1, rank)) of the user factors" }
    if let j = q.firstIndex(where: { !$0.isFinite }) { return "row \(j / max(1, rank)) of the item factors" }
    return nil
  }

  /// Where the first NaN or infinity of the averaged implicit rows is, or nil.
  static func nonFiniteImplicit(_ rows: [Float], width: Int) -> String? {
    rows.firstIndex(where: { !$0.isFinite }).map { "row \($0 / max(1, width)) of the implicit item rows" }
  }

  /// Where the first NaN or infinity of the posterior-mean embeddings is, or nil.
  static func nonFiniteMean(_ userMeans: [Float], _ itemMeans: [Float], rank: Int) -> String? {
    if let j = userMeans.firstIndex(where: { !$0.isFinite }) { return "row \(j / max(1, rank)) of the mean user embeddings" }
    if let j = itemMeans.firstIndex(where: { !$0.isFinite }) { return "row \(j / max(1, rank)) of the mean item embeddings" }
    return nil
  }

  /// Flag bits (see the table above).
  static let kindRecorded: UInt32 = 1
  static let rankingModel: UInt32 = 2

  static func kindFlags(_ kind: ModelKind) -> UInt32 {
    kindRecorded | (kind == .ranking ? rankingModel : 0)
  }

  private static func append<T: FixedWidthInteger>(_ out: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
  }

  /// The `algorithm` named in a summary's JSON (at the top or under `options`) when it is not
  /// one of ``Algorithm``'s cases.
  private static func unknownAlgorithm(in summary: ArraySlice<UInt8>) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(summary)) as? [String: Any]
    else { return nil }
    let options = object["options"] as? [String: Any]
    for case let name as String in [object["algorithm"], options?["algorithm"]] {
      if Algorithm(rawValue: name) == nil { return name }
    }
    return nil
  }
}

/// A cursor over a byte array; every read returns `nil` past the end instead of trapping.
private struct ByteReader {
  let bytes: [UInt8]
  var position: Int

  mutating func read<T: FixedWidthInteger>() -> T? {
    let size = MemoryLayout<T>.size
    guard position + size <= bytes.count else { return nil }
    let value = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) }
    position += size
    return T(littleEndian: value)
  }

  mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
    guard count >= 0, position + count <= bytes.count else { return nil }
    defer { position += count }
    return bytes[position ..< position + count]
  }

  mutating func floats(_ count: Int) -> [Float]? {
    guard count >= 0, position + 4 * count <= bytes.count else { return nil }
    // (Not through the unsafe initializer when empty: it would set the count of the shared
    // empty-array storage.)
    if count == 0 { return [] }
    let result = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      bytes.withUnsafeBytes { raw in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: raw[position ..< position + 4 * count]))
      }
      initialized = count
    }
    position += 4 * count
    return result
  }
}

extension Error {
  /// The error's text without a type prefix.
  var reasonText: String {
    if let e = self as? RatingDataError, case .unreadable(_, let reason) = e { return reason }
    return "\(self)"
  }
}
