import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `mf fit … --model m.mf` killed with SIGKILL at many moments, over an existing model: after
/// every kill m.mf must be the old model byte for byte, or the new one, whole and loadable;
/// never a mixture, a truncation or nothing. Temporary files of killed writers must be gone
/// after the next successful fit.
@Suite(.serialized) struct CrashSafetyTests {
  /// Starts `mf arguments…` in `folder` with its output in files (never a pipe that could fill).
  static func start(_ arguments: [String], in folder: String, log: String) throws -> Process {
    let process = Process()
    process.executableURL = try mfExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    FileManager.default.createFile(atPath: log, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = FileHandle.nullDevice
    process.standardError = handle
    try process.run()
    try handle.close()
    return process
  }

  static func temporaryFiles(in folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".m.mf.tmp-") }
  }

  @Test func sigkillAtAnyMomentLeavesTheOldOrTheNewModel() throws {
    let folder = scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    // About 0.2–0.3 s for the fit below: reading 100k lines and setting up, twelve epochs at
    // rank 64, then writing and fsyncing a 3.4 MB model.
    let synth = try mf(
      ["synth", "--ratings", "100000", "--users", "10000", "--items", "1000", "--seed", "5",
       "--output", "ratings.csv"], in: folder)
    try #require(synth.status == 0, "\(synth.stderr)")
    write(sampleRatingsCSV(), to: folder + "/small.csv")
    // The old model: another file, another rank, so it can never be mistaken for the new one.
    let old = try mf(["fit", "small.csv", "--rank", "4", "--epochs", "2", "--no-tune", "--model", "m.mf", "--quiet"], in: folder)
    try #require(old.status == 0, "\(old.stderr)")
    let oldBytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/m.mf"))
    let fit = ["fit", "ratings.csv", "--rank", "64", "--epochs", "12", "--no-tune", "--threads", "2", "--model", "m.mf"]

    // One uninterrupted fit, timed, to place the kills over its whole length and 30% past it, so
    // that the last kills find the new model in place even when a run is slower than this one.
    let clock = ContinuousClock()
    let started = clock.now
    let whole = try Self.start(fit, in: folder, log: folder + "/whole.log")
    whole.waitUntilExit()
    let duration = clock.now - started
    try #require(whole.terminationStatus == 0)
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18

    // 36 kills at moments spread evenly over the fit, then 16 timed from the moment the
    // writer's temporary file appears (0 to 15 ms later), so that writing, which is short, is
    // hit as surely as reading and training.
    let spread = 36
    let whileWriting = 16
    var keptOld = 0
    var foundNew = 0
    var phases = (reading: 0, training: 0, afterTraining: 0)
    var writersCaught = 0
    var abandoned = Set<String>()
    for n in 0 ..< spread + whileWriting {
      // Start each run from the old model, so that every kill tests old-or-new.
      try oldBytes.write(to: URL(fileURLWithPath: folder + "/m.mf"))
      let before = Set(try Self.temporaryFiles(in: folder))
      let log = folder + "/kill.log"
      let child = try Self.start(fit, in: folder, log: log)
      if n < spread {
        usleep(UInt32(seconds * 1.3 * Double(n) / Double(spread - 1) * 1e6))
      } else {
        // Poll for a new temporary file (or the end of the child), then wait a little longer.
        while try child.isRunning && Set(Self.temporaryFiles(in: folder)).subtracting(before).isEmpty {
          usleep(100)
        }
        usleep(UInt32(1000 * (n - spread)))
      }
      kill(child.processIdentifier, SIGKILL)
      child.waitUntilExit()
      // Where it was, by its progress on stderr: not yet training (reading), training, or past
      // the last epoch (building and writing the model, or done).
      let progress = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if !progress.contains("training SGD") {
        phases.reading += 1
      } else if !progress.contains("epoch 12/12") {
        phases.training += 1
      } else {
        phases.afterTraining += 1
      }
      let left = Set(try Self.temporaryFiles(in: folder)).subtracting(before)
      if !left.isEmpty { writersCaught += 1 }
      abandoned.formUnion(left)

      let now = try Data(contentsOf: URL(fileURLWithPath: folder + "/m.mf"))
      if now == oldBytes {
        keptOld += 1
        continue
      }
      // Not the old model: it must be the whole new one, loadable, with the new shape.
      let info = try mf(["info", "--model", "m.mf", "--json"], in: folder)
      #expect(info.status == 0, "kill \(n) left an unreadable m.mf: \(info.stderr)")
      if info.status == 0 {
        let object = try info.json()
        #expect("\(object["rank"] ?? "")" == "64", "kill \(n): \(info.stdout)")
        #expect("\(object["users"] ?? "")" == "10000", "kill \(n): \(info.stdout)")
        foundNew += 1
      }
    }
    let kills = spread + whileWriting
    print(
      "crash safety: \(kills) SIGKILLs (fit \(String(format: "%.2f", seconds)) s): old model kept \(keptOld), new model \(foundNew); "
        + "killed while reading \(phases.reading), training \(phases.training), after the last epoch \(phases.afterTraining); "
        + "killed while writing (temporary file left) \(writersCaught)")
    #expect(keptOld + foundNew == kills)
    // The kills spanned the fit: the first ones find the old model, the last spread ones the
    // new one, and some writers were caught with their temporary file.
    #expect(keptOld > 0 && foundNew > 0)
    #expect(writersCaught > 0, "no writer was caught while writing")

    // The next successful fit removes the temporary files killed writers left. (A run above that
    // finished may already have removed earlier ones: so leave one more now, killing a writer
    // as soon as its file appears.)
    #expect(Set(try Self.temporaryFiles(in: folder)).isSubset(of: abandoned))
    for _ in 0 ..< 5 where try Self.temporaryFiles(in: folder).isEmpty {
      let child = try Self.start(fit, in: folder, log: folder + "/last.log")
      while try child.isRunning && Self.temporaryFiles(in: folder).isEmpty { usleep(100) }
      kill(child.processIdentifier, SIGKILL)
      child.waitUntilExit()
    }
    let left = try Self.temporaryFiles(in: folder)
    #expect(!left.isEmpty, "no writer could be caught while writing")
    let next = try mf(fit + ["--quiet"], in: folder)
    #expect(next.status == 0, "\(next.stderr)")
    let remaining = try Self.temporaryFiles(in: folder)
    #expect(remaining.isEmpty, "\(remaining)")
  }
}
