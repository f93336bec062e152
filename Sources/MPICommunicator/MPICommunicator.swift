import CMPI
import DistributedALS

/// ``Communicator`` over OpenMPI's `MPI_COMM_WORLD`.
///
/// MPI's default error handler stays in place: a failed MPI call, or a process of the job that
/// dies, aborts the whole job (mpirun names the process), so no process waits forever and rank
/// 0 writes no model. Message sizes are MPI `int`s: one process's share of one exchange must stay
/// under 2 GiB (about 178M ratings at 12 bytes each), which `precondition` checks.
public final class MPICommunicator: Communicator {
  public let rank: Int
  public let size: Int
  private let world = mf_mpi_comm_world()

  /// Initializes MPI (once per process; ``finalize()`` before exit).
  public init() {
    MPI_Init(nil, nil)
    var r: Int32 = 0
    var n: Int32 = 0
    MPI_Comm_rank(mf_mpi_comm_world(), &r)
    MPI_Comm_size(mf_mpi_comm_world(), &n)
    rank = Int(r)
    size = Int(n)
  }

  /// Ends MPI: every process calls it once, after its last collective.
  public func finalize() { MPI_Finalize() }

  /// Waits until every process has called it.
  public func barrier() { MPI_Barrier(world) }

  public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
    var mine = Int32(checked(bytes.count))
    var counts = [Int32](repeating: 0, count: size)
    MPI_Allgather(&mine, 1, mf_mpi_int32(), &counts, 1, mf_mpi_int32(), world)
    let displs = offsets(counts)
    var all = [UInt8](repeating: 0, count: Int(displs.last!) + Int(counts.last!))
    bytes.withUnsafeBytes { send in
      _ = MPI_Allgatherv(
        send.baseAddress, mine, mf_mpi_byte(), &all, counts, displs, mf_mpi_byte(), world)
    }
    return (0 ..< size).map { Array(all[Int(displs[$0]) ..< Int(displs[$0] + counts[$0])]) }
  }

  public func allToAll<T: BitwiseCopyable>(_ outgoing: [[T]]) -> [T] {
    precondition(outgoing.count == size, "one list per process")
    let width = MemoryLayout<T>.stride
    var sendCounts = outgoing.map { Int32(checked($0.count * width)) }
    var receiveCounts = [Int32](repeating: 0, count: size)
    MPI_Alltoall(&sendCounts, 1, mf_mpi_int32(), &receiveCounts, 1, mf_mpi_int32(), world)
    let send = outgoing.flatMap { $0 }
    let sendDispls = offsets(sendCounts)
    let receiveDispls = offsets(receiveCounts)
    let received = Int(receiveDispls.last!) + Int(receiveCounts.last!)
    return [T](unsafeUninitializedCapacity: received / width) { out, count in
      send.withUnsafeBytes { s in
        _ = MPI_Alltoallv(
          s.baseAddress, sendCounts, sendDispls, mf_mpi_byte(), out.baseAddress, receiveCounts,
          receiveDispls, mf_mpi_byte(), world)
      }
      count = received / width
    }
  }

  public func sum(_ values: inout [Double]) { reduce(&values, mf_mpi_double()) }
  public func sum(_ values: inout [Int64]) { reduce(&values, mf_mpi_int64()) }
  public func sum(_ values: inout [Float]) { reduce(&values, mf_mpi_float()) }

  public func allGather(inPlace buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) {
    let counts = blocks.map { Int32(checked($0.count)) }
    let displs = blocks.map { Int32(checked($0.lowerBound)) }
    _ = MPI_Allgatherv(
      mf_mpi_in_place(), 0, mf_mpi_float(), buffer, counts, displs, mf_mpi_float(), world)
  }

  public func gather(_ bytes: [UInt8], root: Int) -> [[UInt8]]? {
    var mine = Int32(checked(bytes.count))
    var counts = [Int32](repeating: 0, count: size)
    MPI_Gather(&mine, 1, mf_mpi_int32(), &counts, 1, mf_mpi_int32(), Int32(root), world)
    let displs = offsets(counts)
    var all = [UInt8](repeating: 0, count: rank == root ? Int(displs.last!) + Int(counts.last!) : 0)
    bytes.withUnsafeBytes { send in
      _ = all.withUnsafeMutableBytes { receive in
        MPI_Gatherv(
          send.baseAddress, mine, mf_mpi_byte(), receive.baseAddress, counts, displs, mf_mpi_byte(),
          Int32(root), world)
      }
    }
    guard rank == root else { return nil }
    return (0 ..< size).map { Array(all[Int(displs[$0]) ..< Int(displs[$0] + counts[$0])]) }
  }

  private func reduce<T>(_ values: inout [T], _ type: MPI_Datatype?) {
    let n = Int32(checked(values.count))
    _ = values.withUnsafeMutableBytes { v in
      MPI_Allreduce(mf_mpi_in_place(), v.baseAddress, n, type, mf_mpi_sum(), world)
    }
  }

  /// The offset of each block when blocks of `counts` are laid end to end.
  private func offsets(_ counts: [Int32]) -> [Int32] {
    var displs: [Int32] = []
    var at = 0
    for c in counts {
      displs.append(Int32(checked(at)))
      at += Int(c)
    }
    return displs
  }
}

/// `n` as an MPI count, which is a C `int`.
private func checked(_ n: Int) -> Int {
  precondition(n <= Int(Int32.max), "an MPI message of \(n) elements is over MPI's 2^31 − 1 limit")
  return n
}
