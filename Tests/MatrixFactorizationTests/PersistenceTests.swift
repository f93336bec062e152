import Foundation
import MatrixFactorization
import Testing

func temporaryFolder() -> String {
  let path = NSTemporaryDirectory() + "mf-tests-\(UUID().uuidString)"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite struct PersistenceTests {
  @Test func roundTripPreservesEverything() throws {
    let m = try smallModel(algorithm: .als)
    let path = temporaryFolder() + "/model.mf"
    try ModelFile.write(m, to: path)
    let r = try ModelFile.read(path: path)
    #expect(r.userFactors == m.userFactors && r.itemFactors == m.itemFactors)
    #expect(r.userBias == m.userBias && r.itemBias == m.itemBias && r.globalMean == m.globalMean)
    #expect(r.users == m.users && r.items == m.items && r.users.index(of: "u7") == m.users.index(of: "u7"))
    #expect(r.seen == m.seen && r.ratingRange == m.ratingRange && r.summary == m.summary)
  }

  /// `write` streams the file piece by piece with a running checksum; `encode` builds it in
  /// memory and checksums it whole. They must give the same bytes, for every kind of model
  /// (a Bayesian one has the extra posterior tables; ids of every length, one above 64 KiB so
  /// that a small piece is written unbuffered too).
  @Test(arguments: [Algorithm.sgd, .als, .bayes])
  func writtenFileHoldsTheEncodedBytes(algorithm: Algorithm) throws {
    var m: FactorModel
    if algorithm == .bayes {
      let (train, _) = plantedRatings(users: 40, items: 30, rank: 3, density: 0.3, noise: 0.1, seed: 1)
      var options = TrainingOptions.defaults(for: .bayes, rank: 3)
      options.threads = 1
      m = try Trainer.fit(train, options: options).model
      #expect(m.posterior != nil)
    } else {
      m = try smallModel(algorithm: algorithm)
    }
    if algorithm == .als {
      var users = IDMap()
      for n in 0 ..< m.userCount { users.intern(n == 3 ? String(repeating: "ü", count: 40_000) : "user \(n)") }
      m.users = users
    }
    let path = temporaryFolder() + "/model.mf"
    try ModelFile.write(m, to: path)
    let written = try #require(FileManager.default.contents(atPath: path))
    let encoded = try ModelFile.encode(m)
    let bytes = [UInt8](written)
    let firstDifference = zip(bytes, encoded).enumerated().first { $0.element.0 != $0.element.1 }?.offset
    #expect(bytes == encoded, "\(bytes.count) bytes against \(encoded.count), first difference at \(String(describing: firstDifference))")
  }

  @Test func unicodeIDsSurvive() throws {
    let (set, _) = try RatingFileReader.parse(Array("ünïcødé,🎬 film,4\n0042,x,2\n".utf8), path: "u")
    var o = TrainingOptions.defaults(for: .sgd, rank: 2)
    o.epochs = 1
    let m = try Trainer.fit(set, options: o).model
    let r = try ModelFile.decode(ModelFile.encode(m))
    #expect(r.users.ids == ["ünïcødé", "0042"] && r.items.index(of: "🎬 film") == 0)
  }

  func reason(_ bytes: [UInt8]) -> String? {
    let path = temporaryFolder() + "/bad.mf"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    do {
      _ = try ModelFile.read(path: path)
      return nil
    } catch {
      #expect(error.description.hasPrefix("the model file '\(path)' "))
      return error.description
    }
  }

  /// Every truncation of a model file is rejected with a message, never a crash.
  @Test func everyTruncationIsRejected() throws {
    let bytes = try ModelFile.encode(smallModel(rank: 2))
    for length in stride(from: 0, to: bytes.count, by: 1) {
      let r = ModelFileReason.check(Array(bytes[0 ..< length]))
      #expect(r != nil, "length \(length) was accepted")
    }
    #expect(reason(Array(bytes[0 ..< bytes.count / 2]))!.contains("truncated"))
  }

  /// Flipping any single byte is detected (magic, version, sizes or checksum).
  @Test func everyByteFlipIsRejected() throws {
    let bytes = try ModelFile.encode(smallModel(rank: 2))
    for position in stride(from: 0, to: bytes.count, by: 1) {
      var damaged = bytes
      damaged[position] ^= 0x5A
      #expect(ModelFileReason.check(damaged) != nil, "flip at \(position) was accepted")
    }
  }

  @Test func foreignAndFutureFilesAreNamed() throws {
    #expect(reason(Array("user,item,rating\n1,2,3\n".utf8))!.contains("is not an mf model file"))
    var future = try ModelFile.encode(smallModel(rank: 2))
    future[8] = 9
    #expect(reason(future)!.contains("has format version 9; this mf reads versions 1 to 3"))
    #expect(reason([])!.contains("not an mf model file"))
    do {
      _ = try ModelFile.read(path: "/nonexistent/model.mf")
    } catch {
      #expect(error.description.contains("cannot be read: No such file or directory"))
    }
  }

  @Test func writeIsAtomicAndLeavesNoTemporaryFiles() throws {
    let folder = temporaryFolder()
    let path = folder + "/model.mf"
    try ModelFile.write(try smallModel(), to: path)
    try ModelFile.write(try smallModel(seed: 2), to: path)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.mf"])
    #expect(throws: MFError.self) { try ModelFile.write(try smallModel(), to: "/nonexistent-dir/m.mf") }
  }

  @Test func npyExportHasNumpyHeaderAndData() throws {
    let m = try smallModel(rank: 3)
    let folder = temporaryFolder()
    let files = try EmbeddingExport.write(m, format: .npy, to: folder)
    #expect(files.count == 7)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/item_factors.npy")))
    #expect(Array(bytes[0 ..< 8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let headerLength = Int(bytes[8]) + Int(bytes[9]) << 8
    #expect((10 + headerLength) % 64 == 0)
    let header = String(decoding: bytes[10 ..< 10 + headerLength], as: UTF8.self)
    #expect(header.contains("'descr': '<f4'") && header.contains("'shape': (\(m.itemCount), 3)"))
    let data = bytes[(10 + headerLength)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(data == m.itemFactors.values)
    let ids = try String(contentsOfFile: folder + "/item_ids.txt", encoding: .utf8)
    #expect(ids.split(separator: "\n").map(String.init) == m.items.ids)
  }

  @Test func csvExportHasOneRowPerID() throws {
    let m = try smallModel(rank: 2)
    let folder = temporaryFolder()
    _ = try EmbeddingExport.write(m, format: .csv, to: folder)
    let lines = try String(contentsOfFile: folder + "/users.csv", encoding: .utf8).split(separator: "\n")
    #expect(lines[0] == "id,bias,f0,f1")
    #expect(lines.count == m.userCount + 1)
    let first = lines[1].split(separator: ",")
    #expect(String(first[0]) == m.users.ids[0])
    #expect(Float(first[1]) == m.userBias[0] && Float(first[3]) == m.userFactors[0, 1])
  }
}

/// Decodes bytes and returns the failure text, or nil when they decode.
enum ModelFileReason {
  static func check(_ bytes: [UInt8]) -> String? {
    do {
      _ = try ModelFile.decode(bytes)
      return nil
    } catch {
      return "\(error)"
    }
  }
}

/// Checks that only a file whose checksum is right can reach: the reader's own consistency
/// checks, and the refusal to write or read non-finite values.
@Suite struct ModelFileIntegrityTests {
  /// CRC-32 (IEEE) of "123456789" is 0xCBF43926, the standard check value.
  @Test func crc32KnownAnswer() {
    let bytes = Array("123456789".utf8)
    let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
    #expect(crc == 0xCBF4_3926)
    #expect([UInt8]().withUnsafeBytes { CRC32.checksum($0) } == 0)
  }

  /// The bytes with the checksum recomputed, so that damage reaches the checks behind it.
  static func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var out = Array(bytes.dropLast(4))
    let crc = out.withUnsafeBytes { CRC32.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { out.append(contentsOf: $0) }
    return out
  }

  @Test func nonFiniteFactorsAreNeverWrittenNorRead() throws {
    var model = try smallModel()
    let good = try ModelFile.encode(model)
    // Reading: a NaN put into the user factors of a file whose checksum is then made right.
    var damaged = good
    let firstFactorOfUser0 = ModelFile.fixedHeaderBytes + summaryLength(good)
      + 4 * (model.userCount + model.itemCount)
    withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { nan in
      for b in 0 ..< 4 { damaged[firstFactorOfUser0 + b] = nan[b] }
    }
    let error = #expect(throws: (any Error).self) { try ModelFile.decode(Self.resealed(damaged)) }
    #expect("\(error.map { "\($0)" } ?? "")".contains("row 0 of the user factors is NaN or infinite"))
    // Writing: refused before anything reaches the disk; an existing file stays as it was.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mf-nan-\(UInt64.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("m.mf").path
    try ModelFile.write(model, to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    model.itemBias[3] = .infinity
    let refused = #expect(throws: MFError.self) { try ModelFile.write(model, to: path) }
    #expect(refused?.description.contains("the bias of item 3") == true, "\(String(describing: refused))")
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["m.mf"])
  }

  /// The summary's length field of an encoded model.
  func summaryLength(_ bytes: [UInt8]) -> Int {
    bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: ModelFile.fixedHeaderBytes - 8, as: UInt64.self))) }
  }

  /// Damage behind a correct checksum reaches the reader's own checks.
  @Test func consistencyChecksBehindTheChecksum() throws {
    let good = try ModelFile.encode(try smallModel())
    // Interaction counts that do not add up: the first user's count grows by one.
    var counts = good
    let model = try ModelFile.decode(good)
    let countsAt = ModelFile.fixedHeaderBytes + summaryLength(good)
      + 4 * (model.userCount + model.itemCount) * (1 + model.rank)
    counts[countsAt] &+= 1
    let e1 = #expect(throws: (any Error).self) { try ModelFile.decode(Self.resealed(counts)) }
    #expect("\(e1.map { "\($0)" } ?? "")".contains("interaction counts do not add up"))
    // An unknown flag bit.
    var flags = good
    flags[12] |= 0x80
    let e2 = #expect(throws: (any Error).self) { try ModelFile.decode(Self.resealed(flags)) }
    #expect("\(e2.map { "\($0)" } ?? "")".contains("uses features this mf does not know"))
    // The resealed, undamaged file still reads.
    #expect(try ModelFile.decode(Self.resealed(good)).userFactors == model.userFactors)
  }
}
