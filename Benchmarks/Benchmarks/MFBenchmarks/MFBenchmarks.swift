// Micro-benchmarks of mf with ordo-one/benchmark: `cd Benchmarks && swift package benchmark` (see
// README.md here).
//
// Every benchmark builds its data in `setup` (not measured): MovieLens-like synthetic ratings
// from `SyntheticRatings` (about 150 ratings per user, 8·√N items), so that sizes 1M and 10M show
// how the cost grows. Each benchmark runs in its own process, so peak resident memory is that of
// one data set plus what the benchmark itself allocates.

import Benchmark
import MatrixFactorization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Metrics

/// Ratings processed per second of the measured part (one SGD epoch, one ALS sweep, one load).
let ratingsPerSecond = BenchmarkMetric.custom(
  "ratings/s", polarity: .prefersLarger, useScalingFactor: false)
/// Megabytes (10⁶ bytes) of CSV parsed per second.
let megabytesPerSecond = BenchmarkMetric.custom(
  "MB/s", polarity: .prefersLarger, useScalingFactor: false)
/// Users served per second by a loop of `recommend` over every user.
let usersPerSecond = BenchmarkMetric.custom(
  "users/s", polarity: .prefersLarger, useScalingFactor: false)

/// The metrics of the slow benchmarks (one iteration takes tens of milliseconds to seconds).
/// The built-in `.throughput` counts whole iterations per second, rounded to an integer, so for
/// them the custom rate metrics above carry the throughput instead.
let slowMetrics: [BenchmarkMetric] = [.wallClock, .peakMemoryResident]

// MARK: - Data

let million = 1_000_000

func label(_ ratings: Int) -> String { ratings % million == 0 ? "\(ratings / million)M" : "\(ratings)" }

/// The generator's settings for `ratings` MovieLens-like ratings, all of them training ratings.
func syntheticConfiguration(_ ratings: Int) -> SyntheticRatings.Configuration {
  var c = SyntheticRatings.Configuration.movieLensLike(ratings: ratings, seed: 1)
  c.testFraction = 0
  return c
}

/// `ratings` synthetic ratings in memory, with ids and dense indices assigned in order of first
/// appearance as the file loader would.
func syntheticRatings(_ ratings: Int) throws -> RatingSet {
  let c = syntheticConfiguration(ratings)
  var userIndex = [Int32](repeating: -1, count: c.users + 1)
  var itemIndex = [Int32](repeating: -1, count: c.items + 1)
  var userIDs: [String] = []
  var itemIDs: [String] = []
  var users: [Int32] = []
  var items: [Int32] = []
  var values: [Float] = []
  users.reserveCapacity(ratings)
  items.reserveCapacity(ratings)
  values.reserveCapacity(ratings)
  try SyntheticRatings(c).generate { user, item, rating, _, _ in
    if userIndex[user] < 0 {
      userIndex[user] = Int32(userIDs.count)
      userIDs.append(String(user))
    }
    if itemIndex[item] < 0 {
      itemIndex[item] = Int32(itemIDs.count)
      itemIDs.append(String(item))
    }
    users.append(userIndex[user])
    items.append(itemIndex[item])
    values.append(Float(rating))
  }
  return RatingSet(
    users: try IDMap(ids: userIDs), items: try IDMap(ids: itemIDs), userIndices: users,
    itemIndices: items, values: values)
}

/// A model trained briefly on `ratings` synthetic ratings, for the serving benchmarks (their
/// cost does not depend on how well the model fits).
func trainedModel(_ ratings: Int, rank: Int = 32) throws -> FactorModel {
  var options = TrainingOptions.defaults(for: .sgd, rank: rank)
  options.epochs = 1
  return try Trainer.fit(syntheticRatings(ratings), options: options, measureTrainRMSE: false).model
}

/// Where the loader benchmark writes its CSV file.
func csvPath(_ ratings: Int) -> String {
  let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
  return "\(directory)/mf-benchmark-\(label(ratings))-\(getpid()).csv"
}

func seconds(_ d: Duration) -> Double {
  let c = d.components
  return Double(c.seconds) + Double(c.attoseconds) * 1e-18
}

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration.units = [.peakMemoryResident: .mega]

  // Training: one benchmark iteration is one SGD epoch or one ALS sweep. `Trainer.fit` runs two
  // epochs; the measurement starts when the first epoch reports and stops when the second does,
  // so it covers exactly one (warm) epoch and excludes the fit's setup (duplicate removal,
  // shuffling and blocking, CSR, initial factors) and the model copy at the end.
  func training(_ algorithm: Algorithm, rank: Int, ratings: Int, maxIterations: Int, maxSeconds: Int) {
    let what = algorithm == .sgd ? "SGD epoch" : "ALS sweep"
    Benchmark(
      "\(what), rank \(rank), \(label(ratings)) ratings",
      configuration: .init(
        metrics: slowMetrics + [ratingsPerSecond], warmupIterations: 0,
        maxDuration: .seconds(maxSeconds), maxIterations: maxIterations)
    ) { benchmark, data in
      var options = TrainingOptions.defaults(for: algorithm, rank: rank)
      options.epochs = 2
      let clock = ContinuousClock()
      var start = clock.now
      var elapsed = Duration.zero
      do {
        let result = try Trainer.fit(data, options: options, measureTrainRMSE: false) { report in
          if report.epoch == 1 {
            benchmark.startMeasurement()
            start = clock.now
          } else if report.epoch == 2 {
            benchmark.stopMeasurement()
            elapsed = start.duration(to: clock.now)
          }
        }
        blackHole(result)
      } catch {
        benchmark.error("fit failed: \(error)")
        return
      }
      benchmark.measurement(ratingsPerSecond, Int(Double(data.count) / seconds(elapsed)))
    } setup: {
      try syntheticRatings(ratings)
    }
  }

  for rank in [16, 32, 64, 128] {
    training(.sgd, rank: rank, ratings: million, maxIterations: 20, maxSeconds: 5)
  }
  training(.sgd, rank: 32, ratings: 10 * million, maxIterations: 5, maxSeconds: 20)
  training(.als, rank: 32, ratings: million, maxIterations: 10, maxSeconds: 5)
  training(.als, rank: 32, ratings: 10 * million, maxIterations: 3, maxSeconds: 30)

  // Loader: parse a synthetic CSV file (user,item,rating,timestamp) into ratings and id maps.
  // The file is written in setup and read from the page cache.
  for ratings in [million, 10 * million] {
    let path = csvPath(ratings)
    Benchmark(
      "load CSV, \(label(ratings)) ratings",
      configuration: .init(
        metrics: slowMetrics + [megabytesPerSecond, ratingsPerSecond], warmupIterations: 1,
        maxDuration: .seconds(10), maxIterations: ratings > million ? 5 : 20)
    ) { (benchmark: Benchmark, bytes: Int) in
      let clock = ContinuousClock()
      let start = clock.now
      do {
        let (set, _) = try RatingFileReader.read(path: path)
        let elapsed = seconds(start.duration(to: clock.now))
        benchmark.measurement(megabytesPerSecond, Int(Double(bytes) / 1e6 / elapsed))
        benchmark.measurement(ratingsPerSecond, Int(Double(set.count) / elapsed))
        blackHole(set)
      } catch {
        benchmark.error("read failed: \(error)")
      }
    } setup: { () throws -> Int in
      try SyntheticRatings(syntheticConfiguration(ratings)).write(trainPath: path, testPath: nil)
      return try RatingFileReader.readWholeFile(path: path).count
    } teardown: {
      unlink(path)
    }
  }

  for ratings in [million, 10 * million] {
    // predict: 1,000 random known (user, item) pairs per iteration; with the scaling factor the
    // table shows the time of one prediction and predictions per second.
    Benchmark(
      "predict (indices), \(label(ratings)) ratings",
      configuration: .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 100_000)
    ) { benchmark, state in
      let (model, pairs) = state
      for n in benchmark.scaledIterations {
        blackHole(model.predict(user: pairs[n].0, item: pairs[n].1))
      }
    } setup: { () throws -> (FactorModel, [(Int, Int)]) in
      let model = try trainedModel(ratings)
      let pairs = (0 ..< 1_000).map { _ in
        (Int.random(in: 0 ..< model.userCount), Int.random(in: 0 ..< model.itemCount))
      }
      return (model, pairs)
    }

    // The same through raw string ids, as `mf predict USER ITEM` does (two hash look-ups).
    Benchmark(
      "predict (ids), \(label(ratings)) ratings",
      configuration: .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 100_000)
    ) { benchmark, state in
      let (model, pairs) = state
      for n in benchmark.scaledIterations {
        blackHole(model.predict(userID: pairs[n].0, itemID: pairs[n].1))
      }
    } setup: { () throws -> (FactorModel, [(String, String)]) in
      let model = try trainedModel(ratings)
      let pairs = (0 ..< 1_000).map { _ in
        (
          model.users.ids[Int.random(in: 0 ..< model.userCount)],
          model.items.ids[Int.random(in: 0 ..< model.itemCount)]
        )
      }
      return (model, pairs)
    }

    // recommend for one user: top 10 of the whole catalogue, seen items excluded; a random
    // user per iteration.
    Benchmark(
      "recommend top-10, one user, \(label(ratings)) ratings",
      configuration: .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident],
        maxDuration: .seconds(3), maxIterations: 100_000)
    ) { benchmark, model in
      let user = Int.random(in: 0 ..< model.userCount)
      blackHole(model.recommend(user: user, count: 10))
    } setup: {
      try trainedModel(ratings)
    }

    // recommend for every user: `recommendAll`, sgemm over blocks of users on 2 threads.
    Benchmark(
      "recommend top-10, all users, \(label(ratings)) ratings",
      configuration: .init(
        metrics: slowMetrics + [usersPerSecond], warmupIterations: 0,
        maxDuration: .seconds(ratings > million ? 30 : 10), maxIterations: ratings > million ? 2 : 10)
    ) { benchmark, model in
      let clock = ContinuousClock()
      let start = clock.now
      // The batch path `mf recommend --all-users` takes: sgemm over blocks of users, 2 threads.
      blackHole(model.recommendAll(users: Array(0 ..< model.userCount), count: 10, threads: 2))
      let elapsed = seconds(start.duration(to: clock.now))
      benchmark.measurement(usersPerSecond, Int(Double(model.userCount) / elapsed))
    } setup: {
      try trainedModel(ratings)
    }
  }
}
