import Dispatch
@_spi(Distributed) import MatrixFactorization
@_spi(Distributed) import RatingData

/// Why a distributed fit stopped: one sentence, the same on every process.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
  /// The rating file could not be read (the first failing process's error, line numbers as in
  /// the whole file).
  case input(String)
  /// Training failed (a bad setting, an unsolvable row, divergence).
  case training(String)

  public var description: String {
    switch self {
    case .input(let text), .training(let text): text
    }
  }
}

/// What one sweep of a distributed fit cost, as this process measured it.
public struct SweepReport: Sendable {
  /// 1-based sweep number.
  public var sweep: Int
  /// Rating ALS: the training RMSE after the sweep (over all processes' ratings).
  public var trainRMSE: Double?
  /// Wall seconds of the sweep, and the part spent solving rows (the rest is communication:
  /// exchanging solved rows, summing YᵀY, agreeing that every row was solved).
  public var seconds: Double
  public var computeSeconds: Double
  /// Bytes this process sent: its solved rows (factors and biases) to every other process.
  public var bytesSent: Int
}

/// What a distributed fit did.
public struct DistributedFitResult {
  /// The model, at rank 0 only (the others hold no copy of the seen-items index).
  public var model: FactorModel?
  /// Users, items and training ratings (after duplicates), over all processes.
  public var users: Int
  public var items: Int
  public var ratings: Int
  /// Repeated (user, item) pairs dropped (ALS) or merged (implicit ALS).
  public var duplicates: Int
  /// Malformed lines skipped (with `skipInvalid`) in the whole file, and the first of them.
  public var skippedLines: Int
  public var firstSkipped: String?
  /// Ratings this process read from its byte range, and training ratings it owns by user.
  public var ratingsRead: Int
  public var ratingsOwned: Int
  /// Seconds to read and distribute the data (before the first sweep), and in all.
  public var setupSeconds: Double
  public var seconds: Double
  /// One report per sweep.
  public var sweeps: [SweepReport]
  /// Bytes per sweep summed over the processes: with the all-gather this fit uses, and with
  /// Spark-style in/out blocks (each process receiving only the rows its own ratings touch),
  /// for comparison.
  public var allGatherBytesPerSweep: Int
  public var inOutBlockBytesPerSweep: Int
}

/// Alternating least squares (biased ALS, or implicit ALS) over several processes.
///
/// Each process reads one byte range of the file (whole lines); the id maps of the ranges are
/// merged in rank order, which numbers ids by first appearance in the file exactly as the
/// single-process reader does. Users and items are split into contiguous blocks of about equal
/// rating counts, one block per process, and every rating is sent to the owner of its user and
/// to the owner of its item (`MPI_Alltoallv`, which keeps file order, so repeated pairs are
/// resolved as a single process resolves them). Every process keeps the whole factor tables,
/// started from the seed as ``Trainer`` starts them; each half-sweep solves the owned rows with
/// the single-process row solves, then all-gathers them. Implicit ALS computes YᵀY from the
/// whole replicated table, or sums it over the blocks with `MPI_Allreduce` (`sumGram`). The
/// factors therefore equal a single-process fit's bit for bit (with `sumGram`, implicit ALS's
/// only up to rounding).
///
/// Not carried over from ``Trainer``: self-tuning, validation and early stopping, and retrying a
/// diverged sweep with a larger ridge (a divergence stops the fit).
public enum DistributedALS {
  /// Fits `options` (ALS or implicit ALS) on the file at `path`, as process `comm.rank` of
  /// `comm.size`. Every process must call it with the same arguments.
  ///
  /// - Parameters:
  ///   - binary: implicit feedback: every line counts 1, whatever its value column.
  ///   - sumGram: implicit ALS: sum YᵀY over the processes' blocks with one `MPI_Allreduce`
  ///     (k² floats) instead of computing it from the whole replicated table on every process.
  ///     The sum rounds differently from one `ssyrk` over all rows, and implicit ALS carries
  ///     that difference through its sweeps (ML-100K u1, 2–4 processes: NDCG@10 within 1e-3,
  ///     not 1e-4), so the default computes it whole, which is exact and costs O(n·k²) a
  ///     half-sweep on each process.
  ///   - progress: called after every sweep.
  /// - Throws: the same ``DistributedError`` on every process.
  public static func fit(
    path: String, fileOptions: RatingFileOptions, binary: Bool = false, options: TrainingOptions,
    sumGram: Bool = false, comm: some Communicator, progress: (SweepReport) -> Void = { _ in }
  ) throws(DistributedError) -> DistributedFitResult {
    let start = DispatchTime.now()
    let (me, size) = (comm.rank, comm.size)
    let kind = options.algorithm.kind

    // 1. Each process reads its part; all agree on the first failure before going on.
    var part: RatingFilePart? = nil
    var readError = ""
    do { part = try RatingFileReader.readPart(path: path, part: me, of: size, options: fileOptions) } catch {
      readError = error.description
    }
    var status = ByteWriter()
    status.string(readError)
    status.int(part?.lineCount ?? 0)
    status.int(part?.failure?.line ?? -1)
    status.string(part?.failure?.reason ?? "")
    status.int(part?.ratings.count ?? 0)
    status.int(part?.skippedLines ?? 0)
    status.string(part?.firstSkipped.first.map { "\($0.line)\u{0}\($0.reason)" } ?? "")
    var linesBefore = 0
    var total = 0
    var skipped = 0
    var firstSkipped: String? = nil
    for bytes in comm.allGather(status.bytes) {
      var r = ByteReader(bytes)
      let error = r.string()
      if !error.isEmpty { throw .input(error) }
      let lines = r.int()
      let badLine = r.int()
      let reason = r.string()
      if badLine >= 0 {
        throw .input(RatingDataError.malformedLine(path: path, line: linesBefore + badLine, reason: reason).description)
      }
      total += r.int()
      skipped += r.int()
      let skip = r.string().split(separator: "\u{0}", maxSplits: 1)
      if firstSkipped == nil, skip.count == 2 {
        firstSkipped = RatingDataError.malformedLine(
          path: path, line: linesBefore + Int(skip[0])!, reason: String(skip[1])).description
      }
      linesBefore += lines
    }
    guard var local = part?.ratings, total > 0 else {
      throw .input(RatingDataError.empty(path: path).description)
    }
    if binary { local.values = [Float](repeating: 1, count: local.count) }

    // 2. Global id maps: every part's ids merged in rank order (first appearance in the file).
    var ids = ByteWriter()
    ids.int(local.users.count)
    for id in local.users.ids { ids.string(id) }
    ids.int(local.items.count)
    for id in local.items.ids { ids.string(id) }
    var users = IDMap()
    var items = IDMap()
    var userIndex: [Int32] = []
    var itemIndex: [Int32] = []
    for (rank, bytes) in comm.allGather(ids.bytes).enumerated() {
      var r = ByteReader(bytes)
      let u = (0 ..< r.int()).map { _ in users.intern(r.string()) }
      let i = (0 ..< r.int()).map { _ in items.intern(r.string()) }
      if rank == me { (userIndex, itemIndex) = (u, i) }
    }
    let (userCount, itemCount) = (users.count, items.count)
    let globalUsers = local.userIndices.map { userIndex[Int($0)] }
    let globalItems = local.itemIndices.map { itemIndex[Int($0)] }

    // 3. Owners: contiguous blocks of about equal rating counts.
    let userBlocks = blocks(counts(globalUsers, userCount, comm), parts: size)
    let itemBlocks = blocks(counts(globalItems, itemCount, comm), parts: size)

    // 4. Every rating to the owner of its user and of its item, in file order.
    let entries = (0 ..< local.count).map {
      Entry(user: globalUsers[$0], item: globalItems[$0], value: local.values[$0])
    }
    let byUserOwner = comm.allToAll(bucket(entries, blocks: userBlocks) { $0.user })
    let byItemOwner = comm.allToAll(bucket(entries, blocks: itemBlocks) { $0.item })

    // 5. Repeated pairs as a single process treats them (each owner sees all copies of its
    // pairs, in file order), then μ, the value range and the counts over all processes.
    let policy: Merge = kind == .rating ? .keepLast : .sum
    let (userRows, dropped) = merged(
      byUserOwner, rows: userCount, columns: itemCount, row: \.user, column: \.item, policy)
    let (itemRows, _) = merged(
      byItemOwner, rows: itemCount, columns: userCount, row: \.item, column: \.user, policy)
    if kind == .ranking, let bad = userRows.values.firstIndex(where: { !($0 >= 0) }) {
      let u = userRows.rowStart.lastIndex { $0 <= bad }!
      throw .training(
        "implicit feedback needs values ≥ 0 (counts or strengths), but user '\(users.ids[u])' has"
          + " \(userRows.values[bad]) for item '\(items.ids[Int(userRows.columns[bad])])'")
    }
    var sums = [userRows.values.reduce(0.0) { $0 + Double($1) }, Double(userRows.entryCount), Double(dropped)]
    comm.sum(&sums)
    let trainingCount = Int(sums[1])
    var low = userRows.values.min() ?? .infinity
    var high = userRows.values.max() ?? -.infinity
    for bytes in comm.allGather(floatBytes([low, high])) {
      let lh = floats(bytes)
      (low, high) = (min(low, lh[0]), max(high, lh[1]))
    }
    let mean = Float(sums[0] / sums[1])

    let factors: PartitionedALS
    do {
      factors = try PartitionedALS(
        users: userCount, items: itemCount, options: options, mean: mean, valueRange: low ... high)
    } catch { throw .training(error.description) }
    let userTraining = trained(userRows, factors)
    let itemTraining = trained(itemRows, factors)
    let ownUsers = userBlocks[me]
    let ownItems = itemBlocks[me]
    let k = options.rank

    // Bytes a sweep moves, over all processes: all-gather (every process receives every row
    // it does not own) against in/out blocks (only the rows its own ratings touch).
    let row = (k + 1) * 4
    var traffic: [Int64] = [
      Int64((userCount - ownUsers.count + itemCount - ownItems.count) * row),
      Int64((touched(userTraining, ownUsers, outside: ownItems) + touched(itemTraining, ownItems, outside: ownUsers)) * row),
    ]
    comm.sum(&traffic)
    let setupSeconds = seconds(since: start)

    // 6. The sweeps.
    var reports: [SweepReport] = []
    var lastRMSE: Double? = nil
    for sweep in 0 ..< options.epochs {
      let sweepStart = DispatchTime.now()
      var compute = 0.0
      var sent = 0
      for (side, rows, own, blocks, idMap, other, otherOwn) in [
        (PartitionedALS.Side.users, userTraining, ownUsers, userBlocks, users, PartitionedALS.Side.items, ownItems),
        (.items, itemTraining, ownItems, itemBlocks, items, .users, ownUsers),
      ] {
        var gram: [Float]? = nil
        if kind == .ranking && sumGram {
          var g = factors.partialGram(other, rows: otherOwn)
          comm.sum(&g)
          gram = g
        } else if kind == .ranking {
          // Every process holds the whole fixed side: one `ssyrk` over all of it gives the
          // single-process YᵀY bit for bit (a sum of blocks rounds differently).
          gram = factors.partialGram(other, rows: 0 ..< (other == .users ? userCount : itemCount))
        }
        let solveStart = DispatchTime.now()
        var failure = ""
        var sse = 0.0
        do {
          sse = try factors.solve(
            side, rows: rows, owned: own, gram: gram, measure: kind == .rating && side == .items, ids: idMap)
        } catch { failure = error.description }
        compute += seconds(since: solveStart)
        // Every process learns whether every row was solved before rows are exchanged.
        var status = ByteWriter()
        status.string(failure)
        status.double(sse)
        var total = 0.0
        for bytes in comm.allGather(status.bytes) {
          var r = ByteReader(bytes)
          let text = r.string()
          if !text.isEmpty { throw .training(text) }
          total += r.double()
        }
        factors.withRows(side) { p, b in
          comm.allGather(inPlace: p, blocks: blocks.map { $0.lowerBound * k ..< $0.upperBound * k })
          comm.allGather(inPlace: b, blocks: blocks)
        }
        sent += own.count * row * (size - 1)
        if side == .items && kind == .rating { lastRMSE = (total / Double(max(1, trainingCount))).squareRoot() }
      }
      if !factors.allFinite() {
        throw .training(
          "sweep \(sweep + 1) diverged (a factor became NaN or infinite); raise --regularization")
      }
      let report = SweepReport(
        sweep: sweep + 1, trainRMSE: kind == .rating ? lastRMSE : nil, seconds: seconds(since: sweepStart),
        computeSeconds: compute, bytesSent: sent)
      let before = reports.last?.trainRMSE
      reports.append(report)
      progress(report)
      // As ``Trainer``: stop once a sweep moves the training RMSE by less than the tolerance.
      if let tolerance = options.convergenceTolerance, let now = report.trainRMSE, let before,
        abs(before - now) < tolerance * before
      {
        break
      }
    }

    // 7. Rank 0 gathers the seen-items index (each owner's user rows) and builds the model.
    var seenPart = ByteWriter()
    for u in ownUsers { seenPart.int(userRows.count(ofRow: u)) }
    let rowItems = Array(userRows.columns[userRows.rowStart[ownUsers.lowerBound] ..< userRows.rowStart[ownUsers.upperBound]])
    let gathered = comm.gather(seenPart.bytes + rowItems.withUnsafeBytes { Array($0) }, root: 0)
    var model: FactorModel? = nil
    if let gathered {
      var rowStart = [0]
      var seenItems: [Int32] = []
      seenItems.reserveCapacity(trainingCount)
      for (rank, bytes) in gathered.enumerated() {
        var r = ByteReader(bytes)
        for _ in userBlocks[rank] { rowStart.append(rowStart.last! + r.int()) }
        let header = userBlocks[rank].count * 8
        bytes[header...].withUnsafeBytes { seenItems += $0.bindMemory(to: Int32.self) }
      }
      let summary = TrainingSummary(
        options: options, epochsRun: reports.count, keptEpoch: reports.count,
        trainingRatings: trainingCount, trainRMSE: kind == .rating ? lastRMSE : nil,
        validationRMSE: nil, seconds: seconds(since: start))
      model = factors.model(
        users: users, items: items, seen: InteractionIndex(rowStart: rowStart, items: seenItems),
        summary: summary)
    }
    return DistributedFitResult(
      model: model, users: userCount, items: itemCount, ratings: trainingCount,
      duplicates: Int(sums[2]), skippedLines: skipped, firstSkipped: firstSkipped, ratingsRead: local.count,
      ratingsOwned: userRows.entryCount, setupSeconds: setupSeconds, seconds: seconds(since: start),
      sweeps: reports, allGatherBytesPerSweep: Int(traffic[0]), inOutBlockBytesPerSweep: Int(traffic[1]))
  }
}

/// One rating on its way to an owner: global indices and the value.
struct Entry: BitwiseCopyable {
  var user: Int32
  var item: Int32
  var value: Float
}

/// What happens to a pair that appears more than once.
enum Merge {
  /// Ratings: the last in file order wins.
  case keepLast
  /// Interactions: the values are summed in file order.
  case sum
}

/// The number of ratings of each of `count` indices, over all processes.
private func counts(_ indices: [Int32], _ count: Int, _ comm: some Communicator) -> [Int64] {
  var c = [Int64](repeating: 0, count: count)
  for i in indices { c[Int(i)] += 1 }
  comm.sum(&c)
  return c
}

/// `parts` contiguous ranges of indices covering `0 ..< counts.count`, of about equal total
/// count (some may be empty).
func blocks(_ counts: [Int64], parts: Int) -> [Range<Int>] {
  let total = counts.reduce(0, +)
  var cuts = [0]
  var running: Int64 = 0
  var i = 0
  for p in 1 ..< max(1, parts) {
    let goal = total * Int64(p) / Int64(parts)
    while i < counts.count && running + counts[i] <= goal {
      running += counts[i]
      i += 1
    }
    cuts.append(i)
  }
  cuts.append(counts.count)
  return (0 ..< parts).map { cuts[$0] ..< cuts[$0 + 1] }
}

/// `entries` split by the block holding `key` of each, keeping their order.
private func bucket(_ entries: [Entry], blocks: [Range<Int>], key: (Entry) -> Int32) -> [[Entry]] {
  var owner = [Int32](repeating: 0, count: blocks.last?.upperBound ?? 0)
  for (p, b) in blocks.enumerated() { for j in b { owner[j] = Int32(p) } }
  var out = [[Entry]](repeating: [], count: blocks.count)
  for e in entries { out[Int(owner[Int(key(e))])].append(e) }
  return out
}

/// The CSR of `entries` (in file order) with repeated pairs merged by `policy`, and how many
/// entries were merged away. The counting sorts are stable, so a pair's copies sit side by side
/// in file order.
private func merged(
  _ entries: [Entry], rows: Int, columns: Int, row: KeyPath<Entry, Int32>,
  column: KeyPath<Entry, Int32>, _ policy: Merge
) -> (SparseRatingMatrix, Int) {
  let m = SparseRatingMatrix(
    rowCount: rows, columnCount: columns, rows: entries.map { $0[keyPath: row] },
    columns: entries.map { $0[keyPath: column] }, values: entries.map(\.value))
  var rowStart = [0]
  var cols: [Int32] = []
  var values: [Float] = []
  cols.reserveCapacity(m.entryCount)
  values.reserveCapacity(m.entryCount)
  for r in 0 ..< rows {
    for e in m.rowStart[r] ..< m.rowStart[r + 1] {
      if e > m.rowStart[r] && m.columns[e] == m.columns[e - 1] {
        switch policy {
        case .keepLast: values[values.count - 1] = m.values[e]
        case .sum: values[values.count - 1] += m.values[e]
        }
      } else {
        cols.append(m.columns[e])
        values.append(m.values[e])
      }
    }
    rowStart.append(cols.count)
  }
  let dropped = m.entryCount - cols.count
  if dropped == 0 { return (m, 0) }
  return (SparseRatingMatrix(rowCount: rows, columnCount: columns, rowStart: rowStart, columns: cols, values: values), dropped)
}

/// The rows with their values as the solver trains on them (implicit ALS's confidences).
private func trained(_ m: SparseRatingMatrix, _ factors: PartitionedALS) -> SparseRatingMatrix {
  if factors.kind == .rating { return m }
  return SparseRatingMatrix(
    rowCount: m.rowCount, columnCount: m.columnCount, rowStart: m.rowStart, columns: m.columns,
    values: m.values.map(factors.trainingValue))
}

/// The number of distinct columns outside `outside` that rows `own` of `m` touch: the rows of
/// the other side this process would receive with in/out blocks.
private func touched(_ m: SparseRatingMatrix, _ own: Range<Int>, outside: Range<Int>) -> Int {
  if own.isEmpty { return 0 }
  var seen = [Bool](repeating: false, count: m.columnCount)
  var n = 0
  for e in m.rowStart[own.lowerBound] ..< m.rowStart[own.upperBound] {
    let c = Int(m.columns[e])
    if !seen[c] && !outside.contains(c) {
      seen[c] = true
      n += 1
    }
  }
  return n
}

private func floatBytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

private func floats(_ bytes: [UInt8]) -> [Float] {
  bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

private func seconds(since start: DispatchTime) -> Double {
  Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}
