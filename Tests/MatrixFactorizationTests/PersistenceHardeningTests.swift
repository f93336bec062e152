import Foundation
import MatrixFactorization
import Testing

/// Every consistency check of the model reader that sits behind the checksum, reached with a
/// damaged file whose checksum is then made right again (so the checksum cannot be what
/// catches it), and the writer's failures, which must leave the old model as it was.
@Suite struct ModelFileDamageTests {
  /// A small SGD model (40 users "u0"…, 30 items, rank 4) and its bytes.
  static let model = try! smallModel()
  static let good = try! ModelFile.encode(model)

  /// Where the parts of `good` start.
  static var summaryStart: Int { ModelFile.fixedHeaderBytes }
  static var summaryLength: Int {
    good.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: ModelFile.fixedHeaderBytes - 8, as: UInt64.self))) }
  }
  static var countsStart: Int {
    summaryStart + summaryLength + 4 * (model.userCount + model.itemCount) * (1 + model.rank)
  }
  static var seenStart: Int { countsStart + 4 * model.userCount }
  static var idsStart: Int { seenStart + 4 * model.seen.items.count }

  static func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { for (n, b) in $0.enumerated() { bytes[offset + n] = b } }
  }

  /// The first occurrence of `text` in the summary.
  static func summaryOffset(of text: String) -> Int? {
    let needle = Array(text.utf8)
    let summary = Array(good[summaryStart ..< summaryStart + summaryLength])
    guard summary.count >= needle.count else { return nil }
    for n in 0 ... summary.count - needle.count where Array(summary[n ..< n + needle.count]) == needle {
      return summaryStart + n
    }
    return nil
  }

  /// Each damage, and the words of the check that must catch it.
  static let cases: [(String, @Sendable ([UInt8]) -> [UInt8], String)] = [
    ("NaN mean", { b in var b = b; put(Float.nan.bitPattern, at: 40, in: &b); return b }, "its rating range or mean is not finite"),
    ("range upside down", { b in var b = b; put(Float(9).bitPattern, at: 44, in: &b); return b }, "its rating range or mean is not finite"),
    ("infinite item bias", { b in
      var b = b; put(Float.infinity.bitPattern, at: summaryStart + summaryLength + 4 * (model.userCount + 2), in: &b); return b
    }, "the bias of item 2 is NaN or infinite"),
    ("NaN item factor", { b in
      var b = b
      put(Float.nan.bitPattern, at: summaryStart + summaryLength + 4 * (model.userCount + model.itemCount) * (1 + model.rank) - 4, in: &b)
      return b
    }, "row \(model.itemCount - 1) of the item factors is NaN or infinite"),
    ("summary not JSON", { b in var b = b; b[summaryStart] = UInt8(ascii: "x"); return b }, "its training summary is not valid JSON"),
    ("item index out of range", { b in var b = b; put(Int32(-1), at: seenStart, in: &b); return b }, "an item index is out of range"),
    ("item index past the items", { b in var b = b; put(Int32(model.itemCount), at: seenStart, in: &b); return b }, "an item index is out of range"),
    ("id length past the end", { b in var b = b; put(UInt32.max, at: idsStart, in: &b); return b }, "its user ids are damaged"),
    ("id not UTF-8", { b in var b = b; b[idsStart + 4] = 0xFF; return b }, "its user ids are damaged"),
    ("duplicate user id", { b in
      // "u0" (length 2) then "u1": make the second "u0".
      var b = b; b[idsStart + 4 + 2 + 4 + 1] = UInt8(ascii: "0"); return b
    }, "the id 'u0' appears twice in an id map"),
    ("bytes before the checksum", { b in Array(b.dropLast(4)) + [1, 2, 3, 4] + b.suffix(4) }, "4 unexpected bytes before the checksum"),
    ("rank disagrees with the summary", { b in
      var b = b
      guard let at = summaryOffset(of: "\"rank\":4") else { return b }
      b[at + 7] = UInt8(ascii: "5")
      return b
    }, "its rank and summary disagree"),
    ("kind disagrees with the summary", { b in var b = b; b[12] |= 2; return b }, "its flags say a ranking model, its summary a sgd one"),
  ]

  @Test(arguments: 0 ..< cases.count)
  func damageBehindAValidChecksumIsCaught(index: Int) throws {
    let (name, damage, expected) = Self.cases[index]
    let damaged = damage(Self.good)
    #expect(damaged != Self.good, "\(name): the damage changed nothing")
    let resealed = ModelFileIntegrityTests.resealed(damaged)
    // The checksum is right, so whatever refuses the file is the check named.
    let error = #expect(throws: (any Error).self, "\(name) was accepted") { try ModelFile.decode(resealed) }
    let text = error.map { "\($0)" } ?? ""
    #expect(text.contains(expected), "\(name): \(text)")
    #expect(!text.contains("checksum mismatch"), "\(name): \(text)")
  }

  @Test func undamagedResealedFileReads() throws {
    #expect(ModelFileIntegrityTests.resealed(Self.good) == Self.good)
    #expect(try ModelFile.decode(Self.good).userFactors == Self.model.userFactors)
  }
}

/// Writing fails in every way the disk can make it fail; the old model must stay whole and no
/// temporary file may stay behind.
@Suite struct ModelFileWriteFailureTests {
  func folder() throws -> String {
    let path = NSTemporaryDirectory() + "mf-wf-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Tests run as root, so permissions cannot stop a write: a folder that is a regular file can.
  @Test func folderThatIsAFileIsRefused() throws {
    let base = try folder()
    defer { try? FileManager.default.removeItem(atPath: base) }
    FileManager.default.createFile(atPath: base + "/plain", contents: Data("x".utf8))
    let error = #expect(throws: MFError.self) { try ModelFile.write(try smallModel(), to: base + "/plain/m.mf") }
    #expect(error?.description == "cannot write '\(base)/plain/m.mf': cannot create a file there: Not a directory", "\(String(describing: error))")
    #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["plain"])
  }

  /// A destination that is a folder: the rename fails; the folder and its contents stay and
  /// the temporary file is removed.
  @Test func renameOntoAFolderFails() throws {
    let base = try folder()
    defer { try? FileManager.default.removeItem(atPath: base) }
    try FileManager.default.createDirectory(atPath: base + "/m.mf", withIntermediateDirectories: false)
    FileManager.default.createFile(atPath: base + "/m.mf/keep", contents: Data("k".utf8))
    let error = #expect(throws: MFError.self) { try ModelFile.write(try smallModel(), to: base + "/m.mf") }
    #expect(error?.description.contains("cannot replace the file") == true, "\(String(describing: error))")
    #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["m.mf"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/m.mf") == ["keep"])
  }

  /// A writer killed before its rename leaves `.NAME.tmp-PID-N`; the next write of the same
  /// destination removes it when PID is gone, and leaves a live process's file alone.
  @Test func abandonedTemporaryFilesAreRemovedByTheNextWrite() throws {
    let base = try folder()
    defer { try? FileManager.default.removeItem(atPath: base) }
    // A process id that is certainly gone: a child that has exited and been reaped.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let dead = child.processIdentifier
    let live = getpid()  // this process: alive, so its file must stay
    for name in [".m.mf.tmp-\(dead)-17", ".m.mf.tmp-\(live)-99", ".other.mf.tmp-\(dead)-1"] {
      FileManager.default.createFile(atPath: base + "/" + name, contents: Data("partial".utf8))
    }
    try ModelFile.write(try smallModel(), to: base + "/m.mf")
    let left = Set(try FileManager.default.contentsOfDirectory(atPath: base))
    #expect(left == ["m.mf", ".m.mf.tmp-\(live)-99", ".other.mf.tmp-\(dead)-1"], "\(left)")
  }

  /// Runs a command; whether it exited 0.
  static func run(_ arguments: [String]) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
  }

  /// Whether a small tmpfs can be mounted here (root with CAP_SYS_ADMIN, outside most CI
  /// containers).
  static let canMountTmpfs: Bool = {
    let probe = NSTemporaryDirectory() + "mf-tmpfs-probe-\(getpid())"
    try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]) else { return false }
    return run(["umount", probe])
  }()

  /// A full disk: a 64 KiB tmpfs holding an old model of ~10 KiB, and a new model of ~1 MiB that
  /// cannot fit. The write fails (ENOSPC), the old model stays byte for byte, nothing else stays.
  @Test(.enabled(if: canMountTmpfs, "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)"))
  func fullDiskLeavesTheOldModel() throws {
    let mount = try folder()
    #expect(Self.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount]))
    defer {
      _ = Self.run(["umount", mount])
      try? FileManager.default.removeItem(atPath: mount)
    }
    let path = mount + "/m.mf"
    try ModelFile.write(try smallModel(rank: 2), to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    let (train, _) = plantedRatings(users: 400, items: 300, rank: 2, density: 0.05, noise: 0.1, seed: 1)
    var o = TrainingOptions.defaults(for: .sgd, rank: 256)
    o.epochs = 1
    let big = try Trainer.fit(train, options: o).model
    let error = #expect(throws: MFError.self) { try ModelFile.write(big, to: path) }
    #expect(error?.description.contains("No space left on device") == true, "\(String(describing: error))")
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: mount) == ["m.mf"])
  }

  /// Whether `chattr +i` works in the temporary folder (root, and a file system with the
  /// immutable attribute, e.g. ext4).
  static let canMakeImmutable: Bool = {
    let probe = NSTemporaryDirectory() + "mf-chattr-probe-\(getpid())"
    FileManager.default.createFile(atPath: probe, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: probe) }
    guard run(["chattr", "+i", probe]) else { return false }
    return run(["chattr", "-i", probe])
  }()

  /// A rename that fails over an existing model (it is immutable, which stops root too): the
  /// old model stays byte for byte and the temporary file is removed.
  @Test(.enabled(if: canMakeImmutable, "chattr +i does not work here (needs root and ext4-like storage)"))
  func failedRenameLeavesTheOldModel() throws {
    let base = try folder()
    let path = base + "/m.mf"
    try ModelFile.write(try smallModel(), to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(Self.run(["chattr", "+i", path]))
    defer {
      _ = Self.run(["chattr", "-i", path])
      try? FileManager.default.removeItem(atPath: base)
    }
    let error = #expect(throws: MFError.self) { try ModelFile.write(try smallModel(seed: 2), to: path) }
    #expect(error?.description.contains("cannot replace the file: Operation not permitted") == true, "\(String(describing: error))")
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["m.mf"])
  }
}
