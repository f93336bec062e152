/// Keeps the `k` largest (score, index) pairs seen, with a binary min-heap: O(n log k).
///
/// Ties are broken by the smaller index, so results are deterministic.
struct TopK {
  let capacity: Int
  private(set) var heap: [(score: Float, index: Int)] = []

  init(_ capacity: Int) {
    self.capacity = max(0, capacity)
    heap.reserveCapacity(self.capacity)
  }

  /// Whether `a` ranks below `b`.
  @inline(__always)
  private static func below(_ a: (score: Float, index: Int), _ b: (score: Float, index: Int)) -> Bool {
    a.score < b.score || (a.score == b.score && a.index > b.index)
  }

  mutating func insert(_ score: Float, _ index: Int) {
    if capacity == 0 || score.isNaN { return }
    let entry = (score: score, index: index)
    if heap.count < capacity {
      heap.append(entry)
      var c = heap.count - 1
      while c > 0 {
        let parent = (c - 1) / 2
        if TopK.below(heap[c], heap[parent]) {
          heap.swapAt(c, parent)
          c = parent
        } else { break }
      }
    } else if TopK.below(heap[0], entry) {
      heap[0] = entry
      var c = 0
      while true {
        let l = 2 * c + 1
        let r = l + 1
        var smallest = c
        if l < heap.count && TopK.below(heap[l], heap[smallest]) { smallest = l }
        if r < heap.count && TopK.below(heap[r], heap[smallest]) { smallest = r }
        if smallest == c { break }
        heap.swapAt(c, smallest)
        c = smallest
      }
    }
  }

  /// The kept pairs, best first.
  func sorted() -> [(score: Float, index: Int)] {
    heap.sorted { TopK.below($1, $0) }
  }
}
