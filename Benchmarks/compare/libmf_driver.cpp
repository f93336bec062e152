// libmf_driver: trains LIBMF (Chin, Zhuang, Juan & Lin) on a rating file through its C API and
// prints one JSON object: load time, train time, per-iteration times, test RMSE and MAE.
//
// The comparison harness compiles this file together with mf.cpp from the `libmf` source
// distribution on PyPI (downloaded at run time; no LIBMF code is kept in this repository):
//
//   g++ -O3 -march=native -fopenmp -DUSEAVX -DUSEOMP -std=c++11 -pthread \
//       -I SRC libmf_driver.cpp SRC/mf.cpp -o libmf-avx
//
// Usage:
//   libmf-avx --train TRAIN --test TEST [--k 32] [--iters 20] [--threads 2] [--lambda 0.1]
//             [--eta 0.1] [--bins B]
//
// Input: one rating per line, user<sep>item<sep>rating[<sep>timestamp], sep = tab, comma, '::',
// ';', '|' or spaces (detected from the first line); a first line whose rating is not a number is
// a header. Ids are strings, mapped to dense indices in order of first appearance in TRAIN.
//
// Timing: train_seconds is the mf_train call alone (steady clock). Per-iteration seconds come from
// LIBMF's own progress lines: with quiet = false, LIBMF's main thread prints a header right before
// the worker threads start and one line after every iteration (the workers wait meanwhile), so the
// gap between consecutive lines is one iteration. std::cout is redirected during mf_train into a
// stream buffer that stamps each line as it is written.
//
// Test predictions: mf_predict; a test user or item absent from TRAIN gets the training mean.
// "rmse"/"mae" clamp predictions to the training rating range (as mf and Surprise do); "rmse_raw"/
// "mae_raw" are LIBMF's unclamped predictions.
//
// Watchdog: LIBMF 0.9.2's scheduler can deadlock when training ends. After the last iteration its
// main thread calls resume() and then terminate(); if it is preempted between the two long enough
// for the workers to run a whole extra pass over the blocks (a millisecond on MovieLens-100K, on a
// loaded machine), the workers wait for work that never comes and join() never returns. mf_train
// therefore runs on its own thread; if it has not returned well after the last iteration's line,
// the driver says so on stderr and exits with status 75, and the harness runs it again.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "mf.h"

using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A stream buffer that keeps every line written to it with the time its newline arrived.
class LineClock : public std::streambuf {
 public:
  struct Line {
    Clock::time_point time;
    std::string text;
  };
  std::vector<Line> lines;          // read only after mf_train has returned
  std::atomic<size_t> count{0};     // lines so far, for the watchdog
  std::atomic<long long> lastNanos{0};

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    put(static_cast<char>(c));
    return c;
  }
  std::streamsize xsputn(const char *s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; i++) put(s[i]);
    return n;
  }

 private:
  std::string current_;
  void put(char c) {
    if (c == '\n') {
      Clock::time_point now = Clock::now();
      lines.push_back({now, current_});
      current_.clear();
      lastNanos.store(std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
      count.store(lines.size());
    } else {
      current_.push_back(c);
    }
  }
};

struct Ratings {
  std::vector<int> users, items;  // -1: id unseen in the training file
  std::vector<float> values;
};

struct IdMap {
  std::unordered_map<std::string, int> index;
  int lookup(const std::string &id, bool add) {
    auto it = index.find(id);
    if (it != index.end()) return it->second;
    if (!add) return -1;
    int next = static_cast<int>(index.size());
    index.emplace(id, next);
    return next;
  }
};

std::string detectSeparator(const std::string &line) {
  if (line.find("::") != std::string::npos) return "::";
  for (const char *s : {"\t", ",", ";", "|"})
    if (line.find(s) != std::string::npos) return s;
  return " ";
}

std::vector<std::string> splitFields(const std::string &line, const std::string &sep) {
  std::vector<std::string> out;
  if (sep == " ") {
    std::istringstream in(line);
    std::string f;
    while (in >> f) out.push_back(f);
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t at = line.find(sep, start);
    if (at == std::string::npos) {
      out.push_back(line.substr(start));
      break;
    }
    out.push_back(line.substr(start, at - start));
    start = at + sep.size();
  }
  return out;
}

bool parseFloat(const std::string &s, float &value) {
  if (s.empty()) return false;
  char *end = nullptr;
  value = std::strtof(s.c_str(), &end);
  return end != s.c_str() && (*end == '\0' || *end == '\r') && std::isfinite(value);
}

Ratings readRatings(const std::string &path, IdMap &users, IdMap &items, bool addIds) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Ratings r;
  std::string line, sep;
  long lineNumber = 0;
  while (std::getline(in, line)) {
    lineNumber++;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (sep.empty()) sep = detectSeparator(line);
    std::vector<std::string> f = splitFields(line, sep);
    float value;
    if (f.size() < 3 || !parseFloat(f[2], value)) {
      if (r.values.empty() && lineNumber == 1) continue;  // header
      throw std::runtime_error(path + ", line " + std::to_string(lineNumber) + ": bad rating line");
    }
    r.users.push_back(users.lookup(f[0], addIds));
    r.items.push_back(items.lookup(f[1], addIds));
    r.values.push_back(value);
  }
  return r;
}

std::string jsonList(const std::vector<double> &v) {
  std::ostringstream out;
  out.precision(9);
  out << "[";
  for (size_t i = 0; i < v.size(); i++) out << (i ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

void usage() {
  std::cerr << "usage: libmf_driver --train TRAIN --test TEST [--k 32] [--iters 20] [--threads 2]"
               " [--lambda 0.1] [--eta 0.1] [--bins B]\n";
  std::exit(2);
}

}  // namespace

// Peak memory of the fit alone (issue 14): once the ratings are in LIBMF's own form (the
// mf_problem's nodes, the driver's first copy freed), writing "5" to /proc/self/clear_refs resets
// the kernel's peak-RSS mark to the current RSS; VmHWM read after mf_train is then the peak during
// the fit. -1 when /proc does not allow it.
long procStatusKiB(const char *key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  size_t n = std::strlen(key);
  while (std::getline(status, line))
    if (line.compare(0, n, key) == 0) return std::atol(line.c_str() + n);
  return -1;
}

bool resetPeakRSS() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

int main(int argc, char **argv) {
  std::string trainPath, testPath;
  mf::mf_parameter param = mf::mf_get_default_param();
  param.k = 32;
  param.nr_threads = 2;
  param.nr_iters = 20;
  param.quiet = false;  // the per-iteration lines are what the iteration times come from
  param.copy_data = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (a == "--train") trainPath = v;
    else if (a == "--test") testPath = v;
    else if (a == "--k") param.k = std::atoi(v.c_str());
    else if (a == "--iters") param.nr_iters = std::atoi(v.c_str());
    else if (a == "--threads") param.nr_threads = std::atoi(v.c_str());
    else if (a == "--lambda") param.lambda_p2 = param.lambda_q2 = std::strtof(v.c_str(), nullptr);
    else if (a == "--eta") param.eta = std::strtof(v.c_str(), nullptr);
    else if (a == "--bins") param.nr_bins = std::atoi(v.c_str());
    else usage();
  }
  if (trainPath.empty() || testPath.empty()) usage();

  try {
    IdMap users, items;
    Clock::time_point t0 = Clock::now();
    Ratings train = readRatings(trainPath, users, items, true);
    std::vector<mf::mf_node> nodes(train.values.size());
    double sum = 0;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t j = 0; j < nodes.size(); j++) {
      nodes[j] = {train.users[j], train.items[j], train.values[j]};
      sum += train.values[j];
      lo = std::min(lo, train.values[j]);
      hi = std::max(hi, train.values[j]);
    }
    mf::mf_problem problem;
    problem.m = static_cast<int>(users.index.size());
    problem.n = static_cast<int>(items.index.size());
    problem.nnz = static_cast<long long>(nodes.size());
    problem.R = nodes.data();
    double loadSeconds = secondsSince(t0);
    float mean = nodes.empty() ? 0 : static_cast<float>(sum / nodes.size());
    Ratings().users.swap(train.users);  // the driver's copy; LIBMF reads the nodes
    Ratings().items.swap(train.items);
    Ratings().values.swap(train.values);
    long loadPeakKiB = procStatusKiB("VmHWM:");  // reading; the reset below lowers the process's figure
    long fitBaseKiB = resetPeakRSS() ? procStatusKiB("VmRSS:") : -1;

    LineClock clock;
    std::streambuf *saved = std::cout.rdbuf(&clock);
    Clock::time_point t1 = Clock::now();
    Clock::time_point t2;
    mf::mf_model *model = nullptr;
    std::atomic<bool> done{false};
    std::thread trainer([&] {
      model = mf::mf_train(&problem, param);
      t2 = Clock::now();
      done.store(true);
    });
    double lastEpoch = 0;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      size_t n = clock.count.load();
      if (n < static_cast<size_t>(param.nr_iters) + 1) continue;  // header + one line per iteration
      if (lastEpoch == 0) lastEpoch = secondsSince(t1) / param.nr_iters;
      long long last = clock.lastNanos.load();
      double since = std::chrono::duration<double>(Clock::now().time_since_epoch()).count() - last * 1e-9;
      if (!done.load() && since > std::max(5.0, 20 * lastEpoch)) {
        std::fprintf(stderr, "libmf_driver: LIBMF did not return %.1f s after its last iteration "
                     "(deadlock at termination in its scheduler); run again\n", since);
        std::fflush(stderr);
        _exit(75);
      }
    }
    trainer.join();
    long fitPeakKiB = fitBaseKiB >= 0 ? procStatusKiB("VmHWM:") : -1;
    std::cout.rdbuf(saved);
    if (model == nullptr) throw std::runtime_error("mf_train failed (see the message above)");
    double trainSeconds = std::chrono::duration<double>(t2 - t1).count();

    // Line 0 is LIBMF's header ("iter tr_rmse obj"); lines 1… end iterations 0….
    std::vector<double> epochs;
    double lastTrainRMSE = NAN;
    for (size_t j = 1; j < clock.lines.size(); j++) {
      epochs.push_back(std::chrono::duration<double>(clock.lines[j].time - clock.lines[j - 1].time).count());
      std::istringstream fields(clock.lines[j].text);
      int iter;
      double trRMSE;
      if (fields >> iter >> trRMSE) lastTrainRMSE = trRMSE;
    }
    double setupSeconds = clock.lines.empty()
        ? trainSeconds : std::chrono::duration<double>(clock.lines[0].time - t1).count();

    Clock::time_point t3 = Clock::now();
    Ratings test = readRatings(testPath, users, items, false);
    double se = 0, ae = 0, seRaw = 0, aeRaw = 0;
    long fallbacks = 0;
    for (size_t j = 0; j < test.values.size(); j++) {
      float p;
      if (test.users[j] < 0 || test.items[j] < 0) {
        p = mean;
        fallbacks++;
      } else {
        p = mf::mf_predict(model, test.users[j], test.items[j]);
      }
      double eRaw = static_cast<double>(p) - test.values[j];
      double e = static_cast<double>(std::min(hi, std::max(lo, p))) - test.values[j];
      se += e * e;
      ae += std::fabs(e);
      seRaw += eRaw * eRaw;
      aeRaw += std::fabs(eRaw);
    }
    double n = std::max<size_t>(1, test.values.size());
    double evalSeconds = secondsSince(t3);

    std::printf(
        "{\"engine\": \"libmf\", \"k\": %d, \"iters\": %d, \"threads\": %d, \"lambda\": %g, \"eta\": %g, "
        "\"bins\": %d, \"users\": %d, \"items\": %d, \"train_count\": %lld, \"test_count\": %zu, "
        "\"fallbacks\": %ld, \"load_seconds\": %.6f, \"train_seconds\": %.6f, \"setup_seconds\": %.6f, "
        "\"epoch_seconds\": %s, \"train_rmse\": %.6f, \"rmse\": %.6f, \"mae\": %.6f, \"rmse_raw\": %.6f, "
        "\"mae_raw\": %.6f, \"eval_seconds\": %.6f, \"fit_base_rss_kib\": %ld, \"fit_peak_rss_kib\": %ld, \"load_peak_rss_kib\": %ld}\n",
        param.k, param.nr_iters, param.nr_threads, param.lambda_p2, param.eta, param.nr_bins,
        problem.m, problem.n, problem.nnz, test.values.size(), fallbacks, loadSeconds, trainSeconds,
        setupSeconds, jsonList(epochs).c_str(), std::isnan(lastTrainRMSE) ? -1.0 : lastTrainRMSE,
        std::sqrt(se / n), ae / n, std::sqrt(seRaw / n), aeRaw / n, evalSeconds, fitBaseKiB, fitPeakKiB, loadPeakKiB);
    mf::mf_destroy_model(&model);
  } catch (const std::exception &e) {
    std::cerr << "libmf_driver: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
