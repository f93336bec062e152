@_spi(Engine) import LinearAlgebra
import RatingData

extension FactorModel {
  /// Users per `sgemm` block for a catalogue of `items`: a block's score matrix (users × items)
  /// stays around 4 MiB, small enough to stay in cache while it is ranked, large enough for
  /// `sgemm` to run near peak.
  static func scoringBlockSize(items: Int) -> Int { min(256, max(8, (1 << 20) / max(1, items))) }

  /// Scores every item for many users, a block of users at a time with one `sgemm`,
  ///
  ///     S = P_B·Qᵀ  (B × items),  then  S[u, i] += μ + b_u + b_i,
  ///
  /// so `S[u, i]` is the model's raw score ``score(user:item:)`` (unclamped). Blocks are shared
  /// out over `threads` workers, each with its own scratch; `body` sees one user's row at a time
  /// and may overwrite it (e.g. to mask seen items). BLAS runs single-threaded inside.
  ///
  /// - Parameters:
  ///   - users: the user indices to score, in any order.
  ///   - body: `(position in users, user index, scores of all items)`, called once per user
  ///     on some worker thread.
  public func forEachUserScores(
    _ users: [Int], threads: Int,
    _ body: @Sendable (_ position: Int, _ user: Int, _ scores: UnsafeMutablePointer<Float>) -> Void
  ) {
    let k = rank
    let m = itemCount
    if users.isEmpty || m == 0 { return }
    let block = FactorModel.scoringBlockSize(items: m)
    let blocks = (users.count + block - 1) / block
    let workers = max(1, min(threads, blocks))
    let mean = globalMean
    for u in users { checkUser(u) }
    withSharedReadPointers(userFactors.values, itemFactors.values, userBias, itemBias) { p, q, bu, bi in
    BLAS.withThreads(1) {
      // Static striping: every block costs the same (one gemm of equal shape).
      Parallel.forEach(workers, threads: workers) { worker in
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: block * k)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * m)
        defer {
          gathered.deallocate()
          scores.deallocate()
        }
        var b = worker
        while b < blocks {
          let lo = b * block
          let hi = min(users.count, lo + block)
          for (row, position) in (lo ..< hi).enumerated() {
            (gathered + row * k).update(from: p.base + users[position] * k, count: k)
          }
          BLAS.gemm(
            transposeA: false, transposeB: true, m: hi - lo, n: m, k: k, alpha: 1,
            a: gathered, lda: k, b: q.base, ldb: k, beta: 0, c: scores, ldc: m)
          for (row, position) in (lo ..< hi).enumerated() {
            let u = users[position]
            let s = scores + row * m
            let base = mean + bu[u]
            for i in 0 ..< m { s[i] += base + bi[i] }
            body(position, u, s)
          }
          b += workers
        }
      }
    }
    }
  }

  /// The top `count` items of each of `users` (see ``recommend(user:count:excludeSeen:candidates:)``),
  /// computed in `sgemm` blocks on `threads` threads. Results are in the order of `users`.
  public func recommendAll(
    users: [Int], count: Int, excludeSeen: Bool = true, candidates: [Int]? = nil,
    threads: Int? = nil
  ) -> [[RankedItem]] {
    let m = itemCount
    let wanted = min(count, m)
    var tops = [[(score: Float, index: Int)]](repeating: [], count: users.count)
    let seen = self.seen
    let candidateList = candidates?.filter { $0 >= 0 && $0 < m }
    tops.withSharedPointer { out in
      forEachUserScores(users, threads: threads ?? Parallel.defaultThreads) { position, u, scores in
        if excludeSeen { for i in seen.items(of: u) { scores[Int(i)] = -.infinity } }
        var top = TopK(wanted)
        if let candidateList {
          for i in candidateList where scores[i] > -.infinity { top.insert(scores[i], i) }
        } else {
          for i in 0 ..< m where scores[i] > -.infinity { top.insert(scores[i], i) }
        }
        out[position] = top.sorted()
      }
    }
    return tops.map { list in list.map { RankedItem(index: $0.index, id: items.ids[$0.index], score: $0.score) } }
  }
}
