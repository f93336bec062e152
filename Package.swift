// swift-tools-version:6.1
// mf — matrix-factorization collaborative filtering on OpenBLAS/LAPACKE.
import PackageDescription

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
    .target(name: "RatingData"),
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
    .testTarget(name: "RatingDataTests", dependencies: ["RatingData"]),
    .testTarget(
      name: "MatrixFactorizationTests", dependencies: ["MatrixFactorization", "RatingData"]),
    .testTarget(name: "MFCommandLineTests", dependencies: ["mf"]),
  ]
)
