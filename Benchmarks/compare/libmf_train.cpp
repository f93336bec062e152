// libmf_train: LIBMF's command-line training flow, as upstream's mf-train.cpp does it, through the
// library's own API: read_problem (LIBMF's text format, "user item rating" per line, 0-based
// integer indices), mf_train, mf_save_model. It is built from the same PyPI libmf 0.9.2 sources as
// libmf_driver (downloaded at run time; no LIBMF code in this repository):
//
//   g++ -O3 -march=native -fopenmp -DUSEAVX -DUSEOMP -std=c++11 -pthread \
//       -I SRC libmf_train.cpp SRC/mf.cpp -o libmf_train-avx
//
// Usage: libmf_train [-k 32] [-t 20] [-s 2] TRAIN MODEL
// Prints one JSON object: read_seconds, train_seconds, save_seconds (steady clock). With quiet
// set, LIBMF prints nothing, as mf-train's -q does (progress costs LIBMF a pass per iteration).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mf.h"

static double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int main(int argc, char **argv) {
  mf::mf_parameter param = mf::mf_get_default_param();
  param.k = 32;
  param.nr_iters = 20;
  param.nr_threads = 2;
  param.quiet = true;
  std::string paths[2];
  int positional = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if ((a == "-k" || a == "-t" || a == "-s") && i + 1 < argc) {
      int v = std::atoi(argv[++i]);
      if (a == "-k") param.k = v;
      else if (a == "-t") param.nr_iters = v;
      else param.nr_threads = v;
    } else if (positional < 2) {
      paths[positional++] = a;
    } else {
      std::fprintf(stderr, "usage: libmf_train [-k K] [-t ITERS] [-s THREADS] TRAIN MODEL\n");
      return 2;
    }
  }
  if (positional != 2) {
    std::fprintf(stderr, "usage: libmf_train [-k K] [-t ITERS] [-s THREADS] TRAIN MODEL\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  mf::mf_problem problem = mf::read_problem(paths[0]);
  double read = since(t0);
  if (problem.nnz == 0) {
    std::fprintf(stderr, "libmf_train: %s holds no ratings\n", paths[0].c_str());
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  mf::mf_model *model = mf::mf_train(&problem, param);
  double train = since(t1);
  auto t2 = std::chrono::steady_clock::now();
  if (mf::mf_save_model(model, paths[1].c_str()) != 0) {
    std::fprintf(stderr, "libmf_train: cannot save %s\n", paths[1].c_str());
    return 1;
  }
  double save = since(t2);
  std::printf("{\"read_seconds\": %.6f, \"train_seconds\": %.6f, \"save_seconds\": %.6f, \"ratings\": %lld}\n",
              read, train, save, (long long)problem.nnz);
  mf::mf_destroy_model(&model);
  delete[] problem.R;
  return 0;
}
