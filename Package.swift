// swift-tools-version:6.1
// mf — matrix-factorization collaborative filtering on OpenBLAS/LAPACKE.
import Foundation
import PackageDescription

// OpenMPI is optional: the distributed ALS (`mf-mpi`) and its C bindings are part of the package
// only where OpenMPI's pkg-config file `ompi-c.pc` is installed (Debian: libopenmpi-dev), so that
// `swift build --product mf`, `swift test` and the quickstart work on a machine without it.
// MF_WITHOUT_MPI=1 leaves them out even where OpenMPI is installed (to check that build).
let pkgConfigFolders =
  (Context.environment["PKG_CONFIG_PATH"] ?? "").split(separator: ":").map(String.init) + [
    "/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/aarch64-linux-gnu/pkgconfig",
    "/usr/lib/pkgconfig", "/usr/local/lib/pkgconfig", "/usr/share/pkgconfig",
    "/opt/homebrew/lib/pkgconfig",
  ]
let hasOpenMPI =
  Context.environment["MF_WITHOUT_MPI"] == nil
  && pkgConfigFolders.contains { FileManager.default.fileExists(atPath: $0 + "/ompi-c.pc") }

let package = Package(
  name: "mf",
  products: [
    .library(name: "MatrixFactorization", targets: ["MatrixFactorization"]),
    .executable(name: "mf", targets: ["mf"]),
  ],
  dependencies: [
    // The CLI's only dependency. The micro-benchmarks (ordo-one/benchmark) are a package of their
    // own in Benchmarks/, so that building or testing mf never fetches or builds them.
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // System libraries, found through pkg-config so that <cblas.h> is OpenBLAS's own header
    // (it declares openblas_set_num_threads) and not whatever the alternatives link points to.
    .systemLibrary(
      name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),

    // Dense Float matrices, BLAS/LAPACK wrappers, SIMD kernels and the thread pool.
    .target(
      name: "LinearAlgebra",
      dependencies: ["CBLAS", "CLAPACKE"],
      linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]),
    // The SGD inner loops compiled for AVX2 + FMA (per-function target attributes, chosen at
    // run time); C because Swift compiles a module for one CPU target.
    .target(name: "CSGDKernels"),
    // Rating files, id maps, sparse matrices, splits and the synthetic-data generator.
    .target(name: "RatingData", dependencies: ["CRandom", "CRatingParser"]),
    // The rating file's common all-numeric line, parsed in C (the reader's hot loop).
    .target(name: "CRatingParser"),
    // Box–Muller on many draws at once, written in C so that it compiles to vector code.
    .target(name: "CRandom"),
    // The model, the SGD and ALS solvers, evaluation, serving and the model file.
    .target(
      name: "MatrixFactorization", dependencies: ["LinearAlgebra", "RatingData", "CSGDKernels"]),
    // The command line: parses arguments and calls the library, nothing more.
    .executableTarget(
      name: "mf",
      dependencies: [
        "MatrixFactorization", "RatingData",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
    .testTarget(name: "RatingDataTests", dependencies: ["RatingData", "CRandom", "CRatingParser"]),
    .testTarget(
      name: "MatrixFactorizationTests", dependencies: ["MatrixFactorization", "RatingData"]),
    .testTarget(name: "MFCommandLineTests", dependencies: ["mf"]),

    // Distributed ALS: the algorithm over an abstract communicator (no MPI in it, so it builds
    // and its single-rank form is tested everywhere).
    .target(name: "DistributedALS", dependencies: ["MatrixFactorization", "RatingData", "LinearAlgebra"]),
    // Its tests run `mpirun … mf-mpi` when both exist, and say why they skip otherwise.
    .testTarget(
      name: "DistributedALSTests",
      dependencies: ["DistributedALS", "MatrixFactorization", "RatingData"] + (hasOpenMPI ? ["mf-mpi"] : [])),
  ]
)

if hasOpenMPI {
  package.products.append(.executable(name: "mf-mpi", targets: ["mf-mpi"]))
  package.targets += [
    // OpenMPI's C API, and a shim for the handles it defines as macros (MPI_COMM_WORLD, …).
    .systemLibrary(
      name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
    // The communicator of DistributedALS over MPI collectives.
    .target(name: "MPICommunicator", dependencies: ["CMPI", "DistributedALS"]),
    // `mpirun -np N mf-mpi fit …`: parses arguments and calls DistributedALS, nothing more.
    .executableTarget(
      name: "mf-mpi",
      dependencies: [
        "DistributedALS", "MPICommunicator", "MatrixFactorization", "RatingData",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
  ]
}
