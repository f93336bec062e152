// swift-tools-version:6.1
// mf's micro-benchmarks (ordo-one/benchmark), a package of their own so that the root package
// depends on swift-argument-parser only. Run from this folder: `swift package benchmark`
// (see Benchmarks/MFBenchmarks/README.md).
import PackageDescription

let package = Package(
  name: "mf-benchmarks",
  dependencies: [
    // Named explicitly: a bare path dependency takes its identity from the folder's name, which
    // differs between clones and worktrees.
    .package(name: "mf", path: "../"),
    // With the malloc interposer (MallocInterposer trait): the plugin preloads it into the
    // benchmark processes, so the malloc-count metrics can be asked for (`--metric`). The old
    // root manifest used no traits, to keep the interposer out of everything the root builds;
    // this package is only ever built by `swift package benchmark` (or a `swift build` in this
    // folder), never by the root's swift build/test or by CI, so it can affect nothing else.
    // Listing the traits also turns off the default RuntimeInterposer trait, whose package
    // (ordo-one/swift-runtime-interposer) does not resolve on the project's machines.
    .package(
      url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "MFBenchmarks",
      dependencies: [
        .product(name: "MatrixFactorization", package: "mf"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/MFBenchmarks", exclude: ["README.md"],
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ]
)
