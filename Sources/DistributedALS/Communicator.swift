/// The collective operations a distributed fit uses, among `size` processes ranked
/// `0 ..< size`. Every process calls each operation in the same order (they are collectives:
/// a process that skips one leaves the others waiting).
///
/// `MPICommunicator` implements it over OpenMPI (`MPI_Allgatherv`, `MPI_Alltoallv`,
/// `MPI_Allreduce`, `MPI_Gatherv`); ``SingleProcess`` is the one-process case, which needs no
/// MPI at all.
public protocol Communicator {
  /// This process's rank.
  var rank: Int { get }
  /// The number of processes.
  var size: Int { get }
  /// Every process's `bytes`, in rank order (`MPI_Allgatherv`).
  func allGather(_ bytes: [UInt8]) -> [[UInt8]]
  /// Sends `outgoing[r]` to process r and returns what every process sent to this one,
  /// concatenated in rank order (`MPI_Alltoallv`).
  func allToAll<T: BitwiseCopyable>(_ outgoing: [[T]]) -> [T]
  /// Replaces `values` by their elementwise sum over the processes (`MPI_Allreduce`).
  func sum(_ values: inout [Double])
  /// Replaces `values` by their elementwise sum over the processes (`MPI_Allreduce`).
  func sum(_ values: inout [Int64])
  /// Replaces `values` by their elementwise sum over the processes (`MPI_Allreduce`).
  func sum(_ values: inout [Float])
  /// Fills `buffer[blocks[r]]` on every process with process r's (`MPI_Allgatherv` in place):
  /// each process holds the whole buffer and has written its own block.
  func allGather(inPlace buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>])
  /// Every process's `bytes` in rank order at process `root`; `nil` elsewhere (`MPI_Gatherv`).
  func gather(_ bytes: [UInt8], root: Int) -> [[UInt8]]?
}

/// The communicator of a fit that runs in one process: every collective is the identity.
public struct SingleProcess: Communicator {
  /// The one process.
  public init() {}
  public var rank: Int { 0 }
  public var size: Int { 1 }
  public func allGather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
  public func allToAll<T: BitwiseCopyable>(_ outgoing: [[T]]) -> [T] { outgoing[0] }
  public func sum(_ values: inout [Double]) {}
  public func sum(_ values: inout [Int64]) {}
  public func sum(_ values: inout [Float]) {}
  public func allGather(inPlace buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {}
  public func gather(_ bytes: [UInt8], root: Int) -> [[UInt8]]? { [bytes] }
}

/// Integers and strings written to bytes to go through ``Communicator/allGather(_:)``.
struct ByteWriter {
  private(set) var bytes: [UInt8] = []

  mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }

  mutating func double(_ v: Double) { int(Int(bitPattern: UInt(v.bitPattern))) }

  mutating func string(_ s: String) {
    let utf8 = Array(s.utf8)
    int(utf8.count)
    bytes += utf8
  }
}

/// Reads what a ``ByteWriter`` wrote, in the same order.
struct ByteReader {
  private let bytes: [UInt8]
  private var at = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  mutating func int() -> Int {
    var v: Int64 = 0
    withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[at ..< at + 8]) }
    at += 8
    return Int(Int64(littleEndian: v))
  }

  mutating func double() -> Double { Double(bitPattern: UInt64(UInt(bitPattern: int()))) }

  mutating func string() -> String {
    let n = int()
    defer { at += n }
    return String(decoding: bytes[at ..< at + n], as: UTF8.self)
  }
}
