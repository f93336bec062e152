#!/usr/bin/env python3
"""Compares mf with LIBMF, Surprise, implicit and Spark MLlib on the same files.

    python3 Benchmarks/compare/compare.py            # the full comparison (30-60 minutes on 2 cores)
    python3 Benchmarks/compare/compare.py --quick    # a smoke check in about two minutes

It creates Benchmarks/compare/.venv, installs the peers there from PyPI (a peer that cannot be
installed is reported in the tables), compiles LIBMF from the `libmf` source distribution with
its SIMD and OpenMP flags, builds the release `mf` (or uses --mf PATH), prepares the data
(MovieLens-100K folds, `mf synth` sets cached in OUT/data, an implicit split of u.data), runs
every engine in a child process, and writes OUT/results.json, OUT/results.md and OUT/chart.png
(OUT = Benchmarks/compare/out). See Benchmarks/compare/README.md for what each engine is given.
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from harness import datasets, engines, env, readme_tables, stamp, summary, tuning  # noqa: E402
from harness.proc import Log, run_child, tail  # noqa: E402

ALL_ENGINES = ("mf-sgd", "mf-sgd-preset", "mf-als", "mf-bayes", "mf-svdpp", "mf-implicit-als", "mf-bpr", "libmf",
               "myfm", "surprise-svd", "surprise-svdpp", "surprise-baseline", "implicit-als", "implicit-bpr",
               "lightfm-warp", "lightfm-bpr", "spark-als")
# What the LIBMF rows run, named exactly (issue 14): not upstream's current LIBMF but the copy of its
# mf.cpp that the third-party Python binding on PyPI bundles, compiled by us with LIBMF's SIMD and
# OpenMP flags. That copy predates upstream's 2018 fix of an end-of-training deadlock.
LIBMF_LABEL = "LIBMF (2017 src, PyPI libmf 0.9.2)"
LIBMF_NOTE = ("LIBMF here is LIBMF's 2017 source bundled in PyPI libmf 0.9.2 (a third party's Python binding; "
              "its mf.cpp has 3,815 lines, upstream's current one 4,678), compiled by the harness with LIBMF's "
              "SIMD and OpenMP flags and driven through LIBMF's C API by libmf_driver.cpp. That copy can deadlock "
              "when training ends (the scheduler is resumed after the last iteration and terminated too late); "
              "upstream fixed it in 2018 (commit \"fix dead lock\": the scheduler is terminated before the last "
              "resume). The driver's watchdog catches the hang and the harness starts the run again: restarts are "
              "counted in the table. Upstream's current source, built the same way, measured 0.194 s per epoch "
              "against 0.176 s for this copy on a 10M set at rank 32 (issue 14), so the speed figures stand.")

# The generator's model, said next to each synthetic table (Sources/RatingData/SyntheticRatings.swift).
SYNTH_MODELS = {
    "biased": {"args": [], "short": "planted biases",
               "text": "r = round(clamp(3.55 + b_u + b_i + p_u·q_i + ε, 1, 5)), planted rank 8, p·q of standard "
                       "deviation ≈ 0.8, ε ~ N(0, 0.5²), b_u ~ N(0, 0.35²), b_i ~ N(0, 0.45²); Zipf user activity "
                       "(0.8) and item popularity (0.9). mf and Surprise SVD model b_u and b_i; LIBMF and Spark "
                       "do not, so part of their RMSE gap is built into this data."},
    "unbiased": {"args": ["--user-bias-spread", "0", "--item-bias-spread", "0"], "short": "no planted biases",
                 "text": "r = round(clamp(3.55 + p_u·q_i + ε, 1, 5)), planted rank 8, p·q of standard deviation "
                         "≈ 0.8, ε ~ N(0, 0.5²), no user or item biases (b_u = b_i = 0); Zipf user activity (0.8) "
                         "and item popularity (0.9). A model without bias terms loses nothing here but the mean, "
                         "which its factors can carry."},
}
# Epoch counts of the time-to-accuracy points, per family.
CURVE_EPOCHS = {"sgd": [1, 2, 4, 8, 12, 16, 20], "als": [1, 2, 3, 4, 6, 8, 10], "implicit": [1, 2, 4, 8, 15],
                "bpr": [5, 10, 25, 50, 100]}
# The memory and thread-scaling rows run every engine at one given setting (their tuned rows' knobs
# at common values), so the work is the same whatever is measured.
FIXED_SETTINGS = {"mf-sgd": {"learning_rate": 0.04, "regularization": 0.05}, "libmf": {"eta": 0.1, "bins": 20},
                  "surprise-svd": {"lr": 0.005, "reg": 0.02}, "mf-als": {"regularization": 0.1},
                  "spark-als": {"regParam": 0.1}, "mf-implicit-als": {"regularization": 0.05},
                  "implicit-als": {"regularization": 0.05},
                  "mf-bpr": {"learning_rate": 0.05, "regularization": 0.01},
                  "implicit-bpr": {"learning_rate": 0.01, "regularization": 0.01}}
IMPLICIT_ENGINES = ("mf-implicit-als", "implicit-als", "mf-bpr", "implicit-bpr")
MEMORY_ENGINES = ("mf-sgd", "libmf", "surprise-svd", "mf-als", "spark-als", "mf-implicit-als", "implicit-als",
                  "mf-bpr", "implicit-bpr")
THREAD_ENGINES = ("mf-sgd", "libmf", "mf-als", "spark-als", "mf-implicit-als", "implicit-als", "mf-bpr",
                  "implicit-bpr")
MEMORY_BPR_EPOCHS = 10  # memory does not grow with BPR's epochs; 100 would only cost time
THREADS_BPR_EPOCHS = 20
MEMORY_FORMS = {"mf-sgd": "mf's ratings as read", "mf-als": "mf's ratings as read",
                "mf-implicit-als": "mf's interactions as read", "mf-bpr": "mf's interactions as read",
                "libmf": "LIBMF's `mf_problem` nodes", "surprise-svd": "Surprise `Trainset`",
                "spark-als": "cached, counted DataFrame", "implicit-als": "CSR matrix (1 + α·r)",
                "implicit-bpr": "CSR matrix"}
PEER_OF_ENGINE = {"libmf": "libmf", "myfm": "myfm", "surprise-svd": "scikit-surprise", "surprise-svdpp": "scikit-surprise",
                  "surprise-baseline": "scikit-surprise", "implicit-als": "implicit", "implicit-bpr": "implicit",
                  "lightfm-warp": "lightfm", "lightfm-bpr": "lightfm", "spark-als": "pyspark"}

# mf's Bayesian defaults (BayesSettings): 8 + 32 × 6 = 200 sweeps, 32 samples kept every 6th sweep
# after 8; myFM runs the same sweeps and averages the samples of the same sweeps.
BAYES_DEFAULTS = {"sweeps": 200, "kept": 32, "kept_sweeps": [8 + 6 * t for t in range(1, 33)]}


# mf's Bayesian defaults (BayesSettings): 8 + 32 × 6 = 200 sweeps, 32 samples kept every 6th sweep
# after 8; myFM runs the same sweeps and averages the samples of the same sweeps.
BAYES_DEFAULTS = {"sweeps": 200, "kept": 32, "kept_sweeps": [8 + 6 * t for t in range(1, 33)]}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke check: ML-100K u1, one 500K set, 1 repeat, no SVD++, "
                                                         "Spark on ML-100K only")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="output folder (default Benchmarks/compare/out)")
    ap.add_argument("--mf", default=None, help="use this mf binary instead of building the release one")
    ap.add_argument("--sizes", default=None, help="synthetic set sizes, comma-separated (default 1000000,10000000,"
                                                  "25000000; --quick: 500000; 0 or '' for none)")
    ap.add_argument("--mf-revision", default=None, help="with --mf: the git commit the binary was built from "
                                                         "(recorded in the results; else 'unknown')")
    ap.add_argument("--unbiased-sizes", default=None, help="sizes of synthetic sets without planted biases "
                                                           "(default 1000000; --quick: 500000)")
    ap.add_argument("--variants", default="defaults,tuned", help="defaults, tuned or both: each engine's own "
                                                                 "defaults, and its best of an equal sweep on a "
                                                                 "validation split of the training data")
    ap.add_argument("--tune-max-size", type=int, default=1_000_000, help="largest synthetic set swept for the "
                                                                          "tuned rows")
    ap.add_argument("--no-curves", dest="curves", action="store_false",
                    help="skip the time-to-accuracy points (accuracy after 1, 2, 4, … epochs against training time)")
    ap.add_argument("--sets", default="ml100k,ml100k-implicit,synth,serving",
                    help="which parts: ml100k, ml100k-implicit, synth, serving, and (not by default) memory "
                         "(peak RSS of each fit alone, --memory-sizes) and threads (1 and 2 threads, "
                         "--threads-size) (comma-separated)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--memory-sizes", default="1000000",
                    help="synthetic sets of --sets memory: each engine's fit alone, peak RSS (comma-separated)")
    ap.add_argument("--threads-size", type=int, default=1_000_000,
                    help="synthetic set of --sets threads: every engine at 1 and 2 threads")
    ap.add_argument("--synth-dir", default=None,
                    help="a folder holding synth-N.csv and synth-N-test.csv made by `mf synth --ratings N --seed 1` "
                         "(as end_to_end.py writes them): linked instead of generated again")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved repeats of every timing (default 3; "
                                                                 "--quick: 1)")
    ap.add_argument("--max-repeat-seconds", type=float, default=float("inf"),
                    help="(kept for old command lines; every timing now has --repeats interleaved repeats)")
    ap.add_argument("--engines", default=",".join(ALL_ENGINES), help="comma-separated subset of " + ",".join(ALL_ENGINES))
    ap.add_argument("--ranks", default=None, help="ranks of the SGD engines on the synthetic sets (default 32,64; "
                                                  "--quick: 32)")
    ap.add_argument("--rank", type=int, default=32, help="rank of everything else (explicit)")
    ap.add_argument("--epochs", type=int, default=20, help="SGD epochs on the synthetic sets (mf, LIBMF, Surprise)")
    ap.add_argument("--mf-lr", type=float, default=0.04, help="mf SGD step size on the synthetic sets")
    ap.add_argument("--mf-decay", type=float, default=0.95, help="mf SGD step decay per epoch on the synthetic sets")
    ap.add_argument("--als-iters", type=int, default=10, help="ALS sweeps on the synthetic sets (mf, Spark)")
    ap.add_argument("--als-reg", type=float, default=0.1, help="λ of mf ALS and Spark's regParam on synthetic sets")
    ap.add_argument("--implicit-rank", type=int, default=64)
    ap.add_argument("--implicit-iters", type=int, default=15)
    ap.add_argument("--implicit-reg", type=float, default=0.05)
    ap.add_argument("--bpr-epochs", type=int, default=100, help="epochs of both BPR engines (both default to 100)")
    ap.add_argument("--alpha", type=float, default=10.0, help="confidence c = 1 + alpha·r for both implicit engines")
    ap.add_argument("--spark-max-size", type=int, default=None,
                    help="largest synthetic set Spark runs on (default 10000000; --quick: 0 = ML-100K only)")
    ap.add_argument("--spark-memory", default="8g", help="Spark's spark.driver.memory (local mode: the JVM's heap)")
    ap.add_argument("--surprise-max-size", type=int, default=1_000_000,
                    help="largest synthetic set Surprise SVD runs on (single-threaded)")
    ap.add_argument("--ml100k", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "ml-100k"))
    ap.add_argument("--no-install", action="store_true", help="do not pip install; use what the venv has")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before one engine child is killed")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render results.md and chart.png from OUT/results.json without running anything")
    args = ap.parse_args(argv)
    if args.sizes is None:
        args.sizes = "500000" if args.quick else "1000000,10000000,25000000"
    args.sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip() and int(float(s)) > 0]
    if args.unbiased_sizes is None:
        args.unbiased_sizes = "500000" if args.quick else "1000000"
    args.unbiased_sizes = [int(float(s)) for s in args.unbiased_sizes.split(",") if s.strip() and int(float(s)) > 0]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    args.memory_sizes = [int(float(s)) for s in args.memory_sizes.split(",") if s.strip() and int(float(s)) > 0]
    args.sets = [v.strip() for v in args.sets.split(",") if v.strip()]
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.ranks is None:
        args.ranks = "32" if args.quick else "32,64"
    args.ranks = [int(r) for r in args.ranks.split(",") if r.strip()]
    if args.spark_max_size is None:
        args.spark_max_size = 0 if args.quick else 10_000_000
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(ALL_ENGINES)
    if unknown:
        ap.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if args.quick and "surprise-svdpp" in args.engines and "--engines" not in " ".join(argv or sys.argv):
        args.engines.remove("surprise-svdpp")
    return args


def build_mf(log):
    """Builds the release mf; returns (path, the revision it was built from)."""
    revision = stamp.source_revision(ROOT)
    log(f"swift build -c release --product mf (at {stamp.describe(revision)})")
    r = run_child(["swift", "build", "-c", "release", "--product", "mf"], cwd=ROOT)
    if r["status"] != 0:
        raise SystemExit(f"swift build failed: {tail(r['stderr'] or r['stdout'], 10, 2000)}")
    if stamp.source_revision(ROOT) != revision:
        log("warning: the sources changed during the build; the recorded revision may not be the binary's")
        revision["changed_during_build"] = True
    b = run_child(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT)
    return os.path.join(b["stdout"].strip(), "mf"), revision


def git_revision():
    """The checkout compare.py runs from (its own files may differ from the binary's revision)."""
    r = run_child(["git", "-C", ROOT, "describe", "--always", "--dirty"])
    return r["stdout"].strip() or None


def _fresh(row):
    """A copy of a row for one repeat: no runs, nothing shared with the row's lists."""
    return {k: v for k, v in row.items() if k not in ("runs", "load", "child_wall_seconds", "_job")} | {"runs": []}


class Harness:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.results = {"meta": {}, "settings": {}, "peers": {}, "datasets": []}
        self.spec_dir = os.path.join(args.out, "specs")
        self.fit_memory_mode = False  # rows made meanwhile measure the fit's peak RSS alone

    # --- setup ----------------------------------------------------------------------------------

    def setup(self):
        a = self.args
        if a.mf:
            self.mf = os.path.abspath(a.mf)
            revision = ({"commit": a.mf_revision, "short": a.mf_revision[:7], "uncommitted_source_changes": [],
                         "given": True} if a.mf_revision else None)
            how = "given with --mf" + (" and --mf-revision" if a.mf_revision else "")
        else:
            self.mf, revision = build_mf(self.log)
            how = "swift build -c release --product mf, by this run"
        if not os.access(self.mf, os.X_OK):
            raise SystemExit(f"mf binary not found at {self.mf}")
        self.mf_identity = stamp.mf_identity(self.mf, revision, how)
        self.py = None
        peers = {}
        try:
            self.py = env.ensure_venv(log=self.log)
            wanted = {PEER_OF_ENGINE[e] for e in a.engines if e in PEER_OF_ENGINE}
            peer_packages = {k: v for k, v in env.PEER_PACKAGES.items() if k in wanted}
            if a.no_install:
                versions = env.installed_versions(self.py, list(env.BASE_PACKAGES) + list(peer_packages))
                peers = {n: {"installed": v is not None, "version": v,
                             "error": None if v else "not installed (--no-install)"} for n, v in versions.items()}
            else:
                peers = env.ensure_packages(self.py, self.log, peer_packages)
        except RuntimeError as err:
            self.log(f"no virtual environment: {err}")
            for name in env.PEER_PACKAGES:
                peers[name] = {"installed": False, "version": None, "error": str(err)}
        java = env.java_version()
        if "pyspark" in peers and peers["pyspark"]["installed"] and not java:
            peers["pyspark"]["error"] = "pyspark installed but no java on PATH"
            peers["pyspark"]["installed"] = False
        self.peers = peers
        self.libmf = None
        if "libmf" in a.engines:
            self.libmf = env.build_libmf(self.py or sys.executable, a.out, self.log)
            if self.libmf.get("error"):
                self.log(f"LIBMF: {self.libmf['error']}")
        self.results["peers"] = peers
        self.results["meta"] = {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "command": " ".join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0] else "compare.py"] + sys.argv[1:]),
            "machine": env.machine(),
            "mf": self.mf_identity,
            "load_average_start": stamp.load_average(),
            "compare_py_checkout": git_revision(),
            "java": java,
            "libmf_build": {k: v for k, v in (self.libmf or {}).items() if k != "binaries"},
        }
        self.results["settings"] = {k: v for k, v in vars(a).items() if k not in ("out",)}
        self.ml100k = a.ml100k

    def peer_status(self, engine):
        """None when the engine's package is usable, else the reason."""
        package = PEER_OF_ENGINE.get(engine)
        if package is None:
            return None
        if engine == "libmf":
            if not self.libmf or self.libmf.get("error"):
                return (self.libmf or {}).get("error", "LIBMF was not built")
            return None
        if not self.py:
            return "no virtual environment"
        p = self.peers.get(package) or {}
        return None if p.get("installed") else (p.get("error") or f"{package} not installed")

    # --- LIBMF: SSE or AVX ------------------------------------------------------------------------

    def choose_libmf(self, train, test):
        """Times both builds (alternating, 2 runs each) on one set; keeps the faster per epoch."""
        bins = self.libmf["binaries"]
        if len(bins) == 1:
            simd = next(iter(bins))
            self.libmf["chosen"] = simd
            return bins[simd]
        times = {s: [] for s in bins}
        for _ in range(2):
            for simd, exe in bins.items():
                try:
                    rec = engines.libmf_run(exe, train, test, self.args.rank, self.args.epochs, self.args.threads,
                                            0.1, 0.1, timeout=self.args.timeout)
                    times[simd].append(rec["seconds_per_epoch"])
                except Exception as err:  # noqa: BLE001
                    self.log(f"LIBMF {simd} calibration failed: {err}")
        med = {s: summary.median(v) for s, v in times.items()}
        usable = {s: v for s, v in med.items() if v is not None}
        chosen = min(usable, key=usable.get) if usable else next(iter(bins))
        self.libmf["calibration"] = {"set": os.path.basename(os.path.dirname(train)),
                                     "seconds_per_epoch": med, "chosen": chosen}
        self.libmf["chosen"] = chosen
        self.results["meta"]["libmf_build"] = {k: v for k, v in self.libmf.items() if k != "binaries"}
        self.log(f"LIBMF per-epoch seconds: {med}; using {chosen.upper()}")
        return bins[chosen]

    # --- rows -------------------------------------------------------------------------------------
    #
    # A row is made with a job (one repeat of that engine over all of the row's runs) and nothing
    # runs until run_jobs: it runs repeat 1 of every row of a table, then repeat 2 of every row, and
    # so on (engine A, B, C, A, B, C, …), recording the load average before and after each, so a
    # change of load on this shared machine falls on every engine alike.

    def skip_or_missing(self, row, engine):
        reason = self.peer_status(engine)
        if reason:
            row["status"] = "not installed" if PEER_OF_ENGINE.get(engine) != "libmf" else "failed"
            row["error"] = reason
            return True
        return False

    def mf_row(self, row, runs, fit_args, ranking=False):
        rk = {"venv_python": self.py or sys.executable, "k": 10} if ranking else None
        row["command"] = "mf fit TRAIN " + " ".join(fit_args)
        fit_memory = self.fit_memory_mode

        def job():
            one = _fresh(row)
            return engines.run_mf_row(one, self.mf, runs, fit_args, 1, float("inf"), self.args.timeout, ranking=rk,
                                      fit_memory=fit_memory)

        row["_job"] = job
        return row

    def peer_row(self, row, runs, spec, extra_env=None):
        if self.skip_or_missing(row, row["engine"]):
            return row
        spec = dict(spec, engine=row["engine"], runs=runs, repeats=1, max_repeat_seconds=float("inf"),
                    fit_memory=self.fit_memory_mode)
        spec.setdefault("threads", self.args.threads)

        def job():
            one = _fresh(row)
            return engines.run_peer_row(one, self.py, spec, self.spec_dir, self.args.timeout, extra_env)

        row["_job"] = job
        return row

    def libmf_row(self, row, runs, k, iters, eta=0.1, bins=None, lam=0.1, threads=None):
        if self.skip_or_missing(row, "libmf"):
            return row
        exe = self.libmf["binaries"][self.libmf.get("chosen") or next(iter(self.libmf["binaries"]))]

        def job():
            one = _fresh(row)
            return engines.run_libmf_row(one, exe, runs, k, iters, threads or self.args.threads, lam, eta, 1,
                                         float("inf"), self.args.timeout, bins=bins)

        row["_job"] = job
        return row

    def run_jobs(self, rows, repeats=None):
        """Runs the rows' jobs round-robin, `repeats` rounds; fills runs, status and the load."""
        repeats = repeats or self.args.repeats
        jobs = [r for r in rows if r.get("_job")]
        for row in jobs:
            row["runs"], row["load"], row["status"] = [], [], "ok"
        for rep in range(repeats):
            for row in jobs:
                if row["status"] != "ok":
                    continue
                self.log(f"  [{rep + 1}/{repeats}] {row['label']}" + (f": {row['command']}" if row.get("command")
                                                                        and rep == 0 else ""))
                before = stamp.load_average()
                one = row["_job"]()
                after = stamp.load_average()
                row["load"].append({"repeat": rep, "before": before, "after": after})
                if one["status"] != "ok":
                    row["status"], row["error"] = one["status"], one["error"]
                    continue
                for record in one["runs"]:
                    record["repeat"] = rep
                    row["runs"].append(record)
                for key in ("version", "settings", "notes"):
                    if one.get(key):
                        row[key] = one[key]
                if one.get("child_wall_seconds") is not None:
                    row.setdefault("child_wall_seconds", []).append(one["child_wall_seconds"])
        for row in rows:
            row.pop("_job", None)
            if row in jobs:
                self._report(row)
        return rows

    def _report(self, row):
        if row["status"] == "ok":
            s = summary.summarize_runs(row["runs"])
            rm = f" RMSE {s['rmse']:.4f}" if s.get("rmse") is not None else ""
            nd = f" NDCG@10 {s['ndcg']:.4f}" if s.get("ndcg") is not None else ""
            spe = s["seconds_per_epoch"]
            self.log(f"    {row['label']}: train {s['train_seconds']:.3f} s, "
                     f"{'%.4f' % spe if spe is not None else '—'} s/epoch{rm}{nd}")
        else:
            self.log(f"    {row['label']} {row['status']}: {row['error']}")

    # --- the engines of each family, by variant -----------------------------------------------------

    def make_row(self, engine, variant, params, runs, ctx):
        """One row of `engine`: variant "defaults" (the engine's own defaults but rank) or "tuned"
        (params from its sweep), at the family's shared epochs. ctx: rank, sgd_epochs, als_iters,
        ranking (bool), tag (label suffix)."""
        a = self.args
        threads = ctx.get("threads", a.threads)
        t = str(threads)
        rank, tag = ctx["rank"], ctx.get("tag", "")
        tuned = variant in ("tuned", "fixed")  # fixed: given settings (memory and thread-scaling rows)
        vlabel = f"{variant} ({tuning.describe(params)})" if tuned else "defaults"
        if engine == "mf-sgd":
            if tuned:
                args = ["--rank", str(rank), "--epochs", str(ctx["sgd_epochs"]), "--learning-rate",
                        f"{params['learning_rate']:g}", "--learning-rate-decay", "0.95", "--regularization",
                        f"{params['regularization']:g}", "--no-tune", "--threads", t]
                epochs = ctx["sgd_epochs"]
            else:
                args = ["--rank", str(rank), "--threads", t]
                epochs = "chosen"
            row = engines.new_row("mf-sgd", f"mf SGD{tag}, {vlabel}", "mf fit TRAIN " + " ".join(args), "sgd", rank,
                                  epochs, True, series=f"mf SGD r{rank} {variant}")
            return self.mf_row(dict(row, variant=variant), runs, args)
        if engine == "libmf":
            iters = ctx["sgd_epochs"]
            eta = params.get("eta", 0.1) if tuned else 0.1
            bins = params.get("bins") if tuned else None
            settings = (f"k={rank}, {iters} iterations, λ_p=λ_q=0.1, η={eta:g}, "
                        + (f"{bins} bins" if bins else "bins: the source's default") + f", {t} threads")
            row = engines.new_row("libmf", f"{LIBMF_LABEL}{tag}, {vlabel}", settings, "sgd", rank, iters,
                                  series=f"LIBMF r{rank} {variant}")
            return self.libmf_row(dict(row, variant=variant), runs, rank, iters, eta=eta, bins=bins, threads=threads)
        if engine == "surprise-svd":
            row = engines.new_row("surprise-svd", f"Surprise SVD{tag}, {vlabel}", "", "sgd", rank, ctx["sgd_epochs"],
                                  series=f"Surprise SVD r{rank} {variant}")
            p = {"lr": params["lr"], "reg": params["reg"]} if tuned else {}
            return self.peer_row(dict(row, variant=variant), runs,
                                 {"rank": rank, "epochs": ctx["sgd_epochs"], "rating_scale": [1, 5], "params": p,
                                  "threads": threads})
        if engine == "mf-als":
            if tuned:
                args = ["--algorithm", "als", "--rank", str(rank), "--epochs", str(ctx["als_iters"]),
                        "--regularization", f"{params['regularization']:g}", "--convergence-tolerance", "0",
                        "--no-tune", "--threads", t]
                iters = ctx["als_iters"]
            else:
                args = ["--algorithm", "als", "--rank", str(rank), "--threads", t]
                iters = "chosen"
            row = engines.new_row("mf-als", f"mf ALS{tag}, {vlabel}", "mf fit TRAIN " + " ".join(args), "als", rank,
                                  iters, True, series=f"mf ALS r{rank} {variant}")
            return self.mf_row(dict(row, variant=variant), runs, args)
        if engine == "spark-als":
            reg = params["regParam"] if tuned else 0.1
            row = engines.new_row("spark-als", f"Spark ALS{tag}, {vlabel}", "", "als", rank, ctx["als_iters"],
                                  series=f"Spark ALS r{rank} {variant}")
            return self.peer_row(dict(row, variant=variant), runs, {"rank": rank, "epochs": ctx["als_iters"],
                                                                     "rating_scale": [1, 5], "threads": threads,
                                                                     "params": {"regParam": reg,
                                                                                "driver_memory": a.spark_memory}})
        if engine in ("mf-implicit-als", "implicit-als"):
            reg = params["regularization"] if tuned else a.implicit_reg
            iters = ctx.get("implicit_iters", a.implicit_iters)
            vlab = vlabel if tuned else "shared settings"
            ranking = ctx.get("ranking", False)
            if engine == "mf-implicit-als":
                args = ["--implicit", "--algorithm", "als", "--alpha", f"{a.alpha:g}", "--solver", "cg", "--rank",
                        str(a.implicit_rank), "--epochs", str(iters), "--regularization", f"{reg:g}",
                        "--convergence-tolerance", "0", "--threads", t]
                row = engines.new_row("mf-implicit-als", f"mf implicit ALS (CG){tag}, {vlab}",
                                      "mf fit TRAIN " + " ".join(args), "implicit", a.implicit_rank,
                                      iters, True, series=f"mf implicit ALS r{a.implicit_rank} {variant}")
                mf_runs = runs if ranking else [dict(r, test=None) for r in runs]
                return self.mf_row(dict(row, variant=variant), mf_runs, args, ranking=ranking)
            settings = (f"rank {a.implicit_rank}, {iters} iterations, λ {reg:g}, c = 1 + {a.alpha:g}·r, "
                        f"CG (3 steps), {t} threads")
            row = engines.new_row("implicit-als", f"implicit ALS (CG){tag}, {vlab}", settings, "implicit",
                                  a.implicit_rank, iters, series=f"implicit ALS r{a.implicit_rank} {variant}")
            return self.peer_row(dict(row, variant=variant), runs,
                                 {"rank": a.implicit_rank, "epochs": iters,
                                  "mode": "ranking" if ranking else "speed", "k": 10, "threads": threads,
                                  "params": {"alpha": a.alpha, "regularization": reg}},
                                 extra_env={"OPENBLAS_NUM_THREADS": "1"})
        if engine in ("mf-bpr", "implicit-bpr"):
            # BPR (Rendle et al. 2009) in both, x̂_ui = b_i + p_u·q_i, one sampled triple per
            # interaction and epoch; the defaults rows run each engine's own step and λ.
            iters = ctx.get("bpr_epochs", a.bpr_epochs)
            rank = a.implicit_rank
            ranking = ctx.get("ranking", False)
            if engine == "mf-bpr":
                args = ["--implicit", "--algorithm", "bpr", "--rank", str(rank), "--epochs", str(iters)]
                if tuned:
                    args += ["--learning-rate", f"{params['learning_rate']:g}", "--regularization",
                             f"{params['regularization']:g}"]
                args += ["--threads", t]
                row = engines.new_row("mf-bpr", f"mf BPR{tag}, {vlabel}", "mf fit TRAIN " + " ".join(args), "bpr",
                                      rank, iters, True, series=f"mf BPR r{rank} {variant}")
                mf_runs = runs if ranking else [dict(r, test=None) for r in runs]
                return self.mf_row(dict(row, variant=variant), mf_runs, args, ranking=ranking)
            p = {"learning_rate": params["learning_rate"], "regularization": params["regularization"]} if tuned \
                else {"learning_rate": 0.01, "regularization": 0.01}
            row = engines.new_row("implicit-bpr", f"implicit BPR{tag}, {vlabel}", "", "bpr", rank, iters,
                                  series=f"implicit BPR r{rank} {variant}")
            return self.peer_row(dict(row, variant=variant), runs,
                                 {"rank": rank, "epochs": iters, "mode": "ranking" if ranking else "speed", "k": 10,
                                  "params": p, "threads": threads})
        if engine in ("lightfm-warp", "lightfm-bpr"):
            # Beside BPR: same rank and epochs as the BPR rows; LightFM's own defaults (learning rate
            # 0.05, no L2 penalty) in the defaults row.
            iters = ctx.get("bpr_epochs", a.bpr_epochs)
            rank = a.implicit_rank
            ranking = ctx.get("ranking", False)
            p = {"learning_rate": params["learning_rate"], "alpha": params["alpha"]} if tuned else {}
            name = "LightFM WARP" if engine == "lightfm-warp" else "LightFM BPR"
            row = engines.new_row(engine, f"{name}{tag}, {vlabel}", "", "bpr", rank, iters,
                                  series=f"{name} r{rank} {variant}")
            return self.peer_row(dict(row, variant=variant), runs,
                                 {"rank": rank, "epochs": iters, "mode": "ranking" if ranking else "speed", "k": 10,
                                  "params": p, "threads": threads})
        raise ValueError(engine)

    def tune(self, ds, train, engine_list, ctx):
        """Each engine's GRID_POINTS settings on a validation split of `train`; returns
        {engine: params} of the best, and records the sweep in ds["tuning"]."""
        ranking = ctx.get("ranking", False)
        folder = os.path.join(self.args.out, "data", "validation", ds["name"])
        fit, valid = tuning.validation_split(train, folder)
        runs = [{"fold": "validation", "train": fit, "test": valid}]
        chosen, record = {}, {"fit": fit, "valid": valid, "train": train, "engines": {},
                              "budget": tuning.GRID_POINTS, "edge_rule": "walk",
                              "criterion": "highest validation NDCG@10" if ranking else "lowest validation RMSE"}
        for engine in engine_list:
            if engine not in tuning.GRIDS or engine not in self.args.engines:
                continue
            if PEER_OF_ENGINE.get(engine) and self.peer_status(engine):
                continue
            pts = tuning.points(engine)
            self.log(f"  tuning {engine} on {ds['name']}: {len(pts)} settings")
            results = self._sweep(engine, pts, runs, ctx, ranking, record, extension=False)
            best, value = tuning.best(results, higher_is_better=ranking)
            # A choice at an end of the grid: one step outward along that knob, and on while the
            # step wins, up to the end of the ladder (tuning.LADDERS).
            tried = list(pts)
            while True:
                more = [p for p in tuning.extension(engine, best, tried) if p not in tried]
                if not more:
                    break
                self.log(f"    {engine}: best at the edge of the values tried ({tuning.describe(best)}); trying "
                         + "; ".join(tuning.describe(p) for p in more))
                results += self._sweep(engine, more, runs, ctx, ranking, record, extension=True)
                tried += more
                previous = best
                best, value = tuning.best(results, higher_is_better=ranking)
                if best == previous:
                    break
            if best is not None:
                chosen[engine] = best
                self.log(f"    best {engine}: {tuning.describe(best)} ({value:.4f})")
        ds["tuning"] = record
        return chosen

    def _sweep(self, engine, pts, runs, ctx, ranking, record, extension):
        """Runs the settings pts of engine once each on the validation pair; records and returns
        [(params, validation figure)]."""
        if engine == "spark-als":
            # One JVM for the whole sweep: each setting is a run of its own (peer_runner reads
            # the run's params), so Spark's start-up is not paid six times.
            multi = [dict(runs[0], fold=f"setting{i}", params=p) for i, p in enumerate(pts)]
            one_row = self.make_row(engine, "tuned", pts[0], multi, ctx)
            self.run_jobs([one_row], repeats=1)
            rows = [dict(one_row, runs=[r for r in one_row["runs"] if r.get("fold") == f"setting{i}"])
                    for i in range(len(pts))]
        else:
            rows = [self.make_row(engine, "tuned", p, runs, ctx) for p in pts]
            self.run_jobs(rows, repeats=1)
        results = []
        for p, row in zip(pts, rows):
            s = summary.summarize_runs(row["runs"]) if row["status"] == "ok" else {}
            value = s.get("ndcg") if ranking else s.get("rmse")
            results.append((p, value))
            record["engines"].setdefault(engine, []).append(
                {"params": p, "value": value, "seconds_per_epoch": s.get("seconds_per_epoch"),
                 "train_seconds": s.get("train_seconds"), "status": row["status"], "error": row.get("error"),
                 "extension": extension})
        return results

    def variant_rows(self, ds, runs, ctx, engine_list, tune_train=None):
        """The defaults rows of engine_list, then (when tune_train is given) their tuned rows."""
        rows = ds["rows"]
        present = [e for e in engine_list if e in self.args.engines]
        if "defaults" in self.args.variants:
            rows += [self.make_row(e, "defaults", {}, runs, ctx) for e in present]
        if "tuned" in self.args.variants and tune_train:
            chosen = self.tune(ds, tune_train, present, ctx)
            rows += [self.make_row(e, "tuned", chosen[e], runs, ctx) for e in present if e in chosen]

    # --- datasets ---------------------------------------------------------------------------------

    def ml100k_explicit(self):
        a = self.args
        folds = datasets.ml100k_folds(self.ml100k, ("u1",) if a.quick else datasets.FOLDS)
        ds = {"name": "ml100k", "kind": "folds", "title": "MovieLens-100K, folds " +
              ("u1" if a.quick else "u1–u5") + " (explicit ratings)", "folds": [f["fold"] for f in folds],
              "rows": []}
        if not folds:
            ds["error"] = f"MovieLens-100K not found in {self.ml100k}"
            self.log(ds["error"])
            return ds
        self.log(f"dataset {ds['title']}")
        ctx = {"rank": a.rank, "sgd_epochs": a.epochs, "als_iters": a.als_iters}
        # Tuned on a validation split of u1.base only; the chosen settings then run on every fold.
        self.variant_rows(ds, folds, ctx, ("mf-sgd", "libmf", "surprise-svd", "mf-als", "spark-als"),
                          tune_train=folds[0]["train"])
        e, t, rows = a.engines, str(a.threads), ds["rows"]
        if "mf-sgd-preset" in e:
            rows.append(self.mf_row(dict(engines.new_row("mf-sgd-preset", "mf SGD --preset ml100k",
                                                         f"--preset ml100k --threads {t}: rank 256, 200 epochs, "
                                                         "η 0.005·0.99ᵗ, λ 0.07 (tuned on these folds' test files "
                                                         "in issue 3: an accuracy row, not a race)", "sgd", 256,
                                                         200, True, primary=False), variant="preset"),
                                    folds, ["--preset", "ml100k", "--threads", t]))
        bayes = BAYES_DEFAULTS
        if "mf-bayes" in e:
            rows.append(self.mf_row(dict(engines.new_row("mf-bayes", "mf Bayesian MF (defaults)",
                                                         f"--rank {a.rank} --algorithm bayes --threads {t}: "
                                                         f"{bayes['sweeps']} Gibbs sweeps, {bayes['kept']} kept samples, "
                                                         "implicit feedback", "bayes", a.rank, bayes["sweeps"], True),
                                         variant="defaults"), folds,
                                    ["--rank", str(a.rank), "--algorithm", "bayes", "--threads", t]))
        if "mf-svdpp" in e:
            rows.append(self.mf_row(dict(engines.new_row("mf-svdpp", "mf SVD++ (defaults)",
                                                         f"--rank {a.rank} --algorithm svdpp --threads {t}: 60 epochs",
                                                         "svdpp", a.rank, 60, True), variant="defaults"), folds,
                                    ["--rank", str(a.rank), "--algorithm", "svdpp", "--threads", t]))
        if "myfm" in e:
            rows.append(self.peer_row(dict(engines.new_row("myfm", "myFM (Gibbs, one-hot user/item)", "", "bayes",
                                                           a.rank, bayes["sweeps"]), variant="defaults"), folds,
                                      {"rank": a.rank, "epochs": bayes["sweeps"], "rating_scale": [1, 5],
                                       "params": {"kept_sweeps": bayes["kept_sweeps"]}}))
        for engine, label, epochs, rank in (("surprise-svdpp", "Surprise SVD++, defaults", 20, a.rank),
                                            ("surprise-baseline", "Surprise BaselineOnly, defaults", 10, None)):
            if engine in e:
                # Surprise's SVD++ is measured against mf's SVD++ (its own family), the others against SGD.
                family = "svdpp" if engine == "surprise-svdpp" else "sgd"
                rows.append(self.peer_row(dict(engines.new_row(engine, label, "", family, rank, epochs),
                                               variant="defaults"), folds,
                                          {"rank": rank or 0, "epochs": epochs, "rating_scale": [1, 5]}))
        self.run_jobs(rows)
        ds["notes"] = [
            "Epochs: the defaults rows run each engine's own default epochs (mf chooses its epochs and λ from "
            "the training data; LIBMF and Surprise 20; Spark maxIter 10); the tuned rows run the same epochs "
            f"within a family: {a.epochs} for the SGD engines, {a.als_iters} sweeps for the ALS engines (mf with "
            "--convergence-tolerance 0, so it does not stop early)."]
        return ds

    def ml100k_ranking(self):
        a = self.args
        title = (f"MovieLens-100K implicit: u.data ratings ≥ 4 as positives, five per-user random 80/20 splits "
                 f"(`mf split` seeds 1–5; metrics are means over the splits), "
                 f"rank {a.implicit_rank}, {a.implicit_iters} iterations, c = 1 + {a.alpha:g}·1")
        ds = {"name": "ml100k-implicit", "kind": "ranking", "title": title, "k": 10, "rows": []}
        udata = os.path.join(self.ml100k, "u.data")
        if not os.path.exists(udata):
            ds["error"] = f"{udata} not found"
            return ds
        if not ({"mf-implicit-als", "implicit-als"} & set(a.engines)):
            return None
        self.log(f"dataset {title}")
        # One split is too noisy to call a 0.003 NDCG difference: average five, the same five for
        # both engines (each engine keeps its fixed initialization seed).
        splits = [datasets.implicit_split(self.mf, a.out, udata, seed=s, log=self.log) for s in range(1, 6)]
        ds["split"] = splits[0]
        ds["splits"] = splits
        runs = [{"fold": f"split{s + 1}", "train": sp["train_binary"], "test": sp["test"]}
                for s, sp in enumerate(splits)]
        ctx = {"rank": a.implicit_rank, "ranking": True}
        self.variant_rows(ds, runs, ctx, ("mf-implicit-als", "implicit-als", "mf-bpr", "implicit-bpr", "lightfm-warp",
                                          "lightfm-bpr"),
                          tune_train=splits[0]["train_binary"])
        self.run_jobs(ds["rows"])
        return ds

    def single_run(self, label, info):
        """A generated set as the one run of a data set, with LIBMF's build chosen on it if not yet."""
        if self.libmf and not self.libmf.get("error") and "chosen" not in self.libmf:
            self.choose_libmf(info["train"], info["test"])
        return [{"fold": label, "train": info["train"], "test": info["test"]}]

    def synthetic(self, size, model="biased"):
        a = self.args
        extra = SYNTH_MODELS[model]["args"]
        info = datasets.synth_set(self.mf, a.out, size, log=self.log, extra_args=extra,
                                  tag="" if model == "biased" else f"-{model}",
                                  reuse_dir=a.synth_dir if model == "biased" else None)
        label = datasets.size_label(size)
        name = f"synth-{label}" + ("" if model == "biased" else f"-{model}")
        ds = {"name": name, "kind": "explicit", "ratings": size, "train_ratings": info.get("train_count"),
              "model": model, "generator": SYNTH_MODELS[model]["text"],
              "title": f"Synthetic {label}, {SYNTH_MODELS[model]['short']} (`mf synth --ratings {size} --seed 1"
                       f"{(' ' + ' '.join(extra)) if extra else ''}`: {info.get('train_count'):,} train / "
                       f"{info.get('test_count'):,} test ratings, {info.get('users'):,} users, "
                       f"{info.get('items'):,} items, {info['train_mb']} MB CSV)",
              "rows": [], "files": {"train": info["train"], "test": info["test"]}}
        self.log(f"dataset {ds['title']}")
        runs = self.single_run(label, info)
        tune_train = info["train"] if size <= a.tune_max_size else None
        sgd = ["mf-sgd", "libmf"] + (["surprise-svd"] if size <= a.surprise_max_size else [])
        als = ["mf-als"] + (["spark-als"] if size <= a.spark_max_size else [])
        chosen = {}
        for rank in a.ranks:
            ctx = {"rank": rank, "sgd_epochs": a.epochs, "als_iters": a.als_iters, "tag": f" r{rank}"}
            engine_list = sgd if rank == a.ranks[0] else ["mf-sgd", "libmf"]
            if rank == a.ranks[0]:
                self.variant_rows(ds, runs, ctx, engine_list, tune_train=tune_train)
                chosen = {r["engine"]: r for r in ds["rows"] if r.get("variant") == "tuned"}
            else:
                # Other ranks: the defaults, and the settings tuned at the first rank.
                ds["rows"] += [self.make_row(e, "defaults", {}, runs, ctx) for e in engine_list
                               if e in a.engines and "defaults" in a.variants]
                ds["rows"] += [self.make_row(e, "tuned", ds["tuning"]["chosen"][e], runs, ctx) for e in engine_list
                               if e in chosen and "chosen" in ds.get("tuning", {})]
            if rank == a.ranks[0] and "tuning" in ds:
                ds["tuning"]["chosen"] = {e: self._params_of(ds, e) for e in chosen}
        als_ctx = {"rank": a.rank, "sgd_epochs": a.epochs, "als_iters": a.als_iters, "tag": f" r{a.rank}"}
        als_ds = {"name": ds["name"] + "-als", "rows": []}
        self.variant_rows(als_ds, runs, als_ctx, als, tune_train=tune_train)
        ds["rows"] += als_ds["rows"]
        if "tuning" in als_ds:
            ds.setdefault("tuning", {"engines": {}})["engines"].update(als_ds["tuning"]["engines"])
        if "defaults" in a.variants and model == "biased":
            ds["rows"] += [self.make_row(e, "defaults", {}, runs, {"rank": a.implicit_rank, "ranking": False,
                                                                   "tag": f" r{a.implicit_rank}"})
                           for e in ("mf-implicit-als", "implicit-als") if e in a.engines]
        self.run_jobs(ds["rows"])
        skipped = []
        if "surprise-svd" in a.engines and size > a.surprise_max_size:
            skipped.append(f"Surprise SVD (single-threaded) runs only up to {a.surprise_max_size:,} ratings")
        if "spark-als" in a.engines and size > a.spark_max_size:
            skipped.append("Spark ALS runs on MovieLens-100K only in --quick mode" if a.spark_max_size == 0 else
                           f"Spark ALS runs only up to {a.spark_max_size:,} ratings (--spark-max-size)")
        if tune_train is None and "tuned" in a.variants:
            skipped.append(f"no tuned rows: the sweep runs on sets up to {a.tune_max_size:,} ratings (--tune-max-size)")
        if skipped:
            ds["skipped"] = skipped
        return ds

    # --- peak RSS of the fit alone, and thread scaling ----------------------------------------------

    def fixed_rows(self, runs, engine_list, ctx, variant="fixed"):
        """One row per engine at FIXED_SETTINGS (the same work whatever is measured around it)."""
        a = self.args
        rows = []
        for engine in engine_list:
            if engine not in a.engines:
                continue
            params = dict(FIXED_SETTINGS[engine])
            if engine in ("mf-implicit-als", "implicit-als"):
                params["regularization"] = a.implicit_reg
            fam_ctx = dict(ctx, rank=a.implicit_rank if engine in IMPLICIT_ENGINES else a.rank,
                           tag=ctx.get("tag", ""))
            row = self.make_row(engine, "tuned", params, runs, fam_ctx)
            row["variant"] = variant
            row["label"] = row["label"].replace(", tuned (", ", " + variant + " (")
            rows.append(row)
        return rows

    def fit_memory(self, size):
        """Peak RSS of each engine's training call alone, its data already in its own form."""
        a = self.args
        info = datasets.synth_set(self.mf, a.out, size, log=self.log, reuse_dir=a.synth_dir)
        label = datasets.size_label(size)
        ds = {"name": f"synth-{label}-memory", "kind": "memory", "ratings": size,
              "title": f"Peak RSS of the fit alone on synthetic {label} (`mf synth --ratings {size} --seed 1`: "
                       f"{info.get('train_count'):,} train ratings, {info.get('users'):,} users, "
                       f"{info.get('items'):,} items)", "rows": []}
        self.log(f"dataset {ds['title']}")
        runs = self.single_run(label, info)
        engine_list = [e for e in MEMORY_ENGINES
                       if not (e == "surprise-svd" and size > a.surprise_max_size)
                       and not (e == "spark-als" and size > a.spark_max_size)]
        ctx = {"sgd_epochs": a.epochs, "als_iters": a.als_iters, "implicit_iters": a.implicit_iters,
               "bpr_epochs": MEMORY_BPR_EPOCHS, "ranking": False}
        self.fit_memory_mode = True
        try:
            ds["rows"] = self.fixed_rows(runs, engine_list, ctx)
        finally:
            self.fit_memory_mode = False
        self.run_jobs(ds["rows"], repeats=1)
        return ds

    def markdown_memory(self, ds):
        lines = [f"### {ds['title']}", "",
                 "Each engine's training call alone, once its data is in the engine's own form: the kernel's "
                 "peak-RSS mark (VmHWM) is reset to the current RSS (\"5\" written to /proc/PID/clear_refs) "
                 "when the data is loaded, and read after the fit. **at reset**: the RSS then (runtime, libraries "
                 "and the data); **peak in fit**: VmHWM after the fit; **fit's own**: the difference. mf: reset "
                 "from the harness when `mf fit` prints its \"N ratings, … training …\" line (the ratings read "
                 "into its own arrays), VmHWM polled every 5 ms until the process exits (so the model write is "
                 "inside); LIBMF: by our driver after the ratings are in LIBMF's `mf_problem` nodes (its own "
                 "copy freed); Python peers: in the process after the data is built (implicit: the CSR matrix, "
                 "the loader's arrays deleted; Surprise: its Trainset; Spark: the cached, counted DataFrame, JVM "
                 "+ Python driver summed). One run per engine, settings fixed (below). **before reset**: the peak "
                 "while loading (VmHWM just before the reset; the reset also lowers the OS's whole-process figure, "
                 "so the process's peak is the larger of the two peaks).", "",
                 "| engine | settings | data form | at reset MiB | peak in fit MiB | fit's own MiB | before reset "
                 "(loading) MiB | train s |", "|---|---|---|---|---|---|---|---|"]
        for row in ds["rows"]:
            if row["status"] != "ok":
                lines.append(f"| {row['label']} | {row.get('command') or row.get('settings') or ''} | — | "
                             f"{row['status']}: {row.get('error')} | | | | |")
                continue
            sm = summary.summarize_runs(row["runs"])
            base, peak = sm.get("fit_base_rss_mib"), sm.get("fit_peak_rss_mib")
            own = peak - base if base is not None and peak is not None else None
            f = lambda v: "—" if v is None else f"{v:,.0f}"  # noqa: E731
            setting = row.get("command") or row.get("settings") or ""
            lines.append(f"| {row['label']} | `{setting}` | {MEMORY_FORMS.get(row['engine'], '')} | {f(base)} | "
                         f"{f(peak)} | {f(own)} | {f(sm.get('load_peak_rss_mib'))} | "
                         f"{summary.fmt_seconds(sm.get('train_seconds'))} |")
        la = summary.load_range({"load": [x for row in ds["rows"] for x in row.get("load") or []]})
        lines += ["", f"Load average (1 min) before/after the runs: {la}."]
        return "\n".join(lines) + "\n"

    def thread_scaling(self, size):
        """Every engine with a thread count at 1 and 2 threads, repeats interleaved."""
        a = self.args
        info = datasets.synth_set(self.mf, a.out, size, log=self.log, reuse_dir=a.synth_dir)
        label = datasets.size_label(size)
        ds = {"name": f"synth-{label}-threads", "kind": "threads", "ratings": size,
              "title": f"Thread scaling on synthetic {label} (`mf synth --ratings {size} --seed 1`), 1 and 2 "
                       "threads", "rows": []}
        self.log(f"dataset {ds['title']}")
        runs = self.single_run(label, info)
        engine_list = [e for e in THREAD_ENGINES if not (e == "spark-als" and size > a.spark_max_size)]
        for n in (1, 2):
            ctx = {"sgd_epochs": a.epochs, "als_iters": a.als_iters, "implicit_iters": a.implicit_iters,
                   "bpr_epochs": THREADS_BPR_EPOCHS, "ranking": False, "threads": n,
                   "tag": f", {n} thread" + ("s" if n > 1 else "")}
            ds["rows"] += self.fixed_rows(runs, engine_list, ctx, variant=f"{n}t")
        self.run_jobs(ds["rows"])
        return ds

    def markdown_threads(self, ds):
        lines = [f"### {ds['title']}", "",
                 f"Seconds per epoch (iteration), median (min–max) of {self.args.repeats} repeats, every engine at "
                 "1 and 2 threads interleaved (repeat 1 of every row, then repeat 2, …), settings fixed (below). "
                 "speed-up = s/epoch at 1 thread ÷ at 2. Spark: `local[1]` against `local[2]`. The machine has 2 "
                 "vCPUs and is shared: with other jobs runnable a second thread may find no free core, so the "
                 "speed-ups are indicative; the load average is beside each row.", "",
                 "| engine | settings (2 threads) | 1 thread s/epoch | 2 threads s/epoch | speed-up | load avg |",
                 "|---|---|---|---|---|---|"]
        by = {}
        for row in ds["rows"]:
            by.setdefault(row["engine"], {})[row["variant"]] = row
        for engine, pair in by.items():
            cells, spe = [], {}
            for v in ("1t", "2t"):
                row = pair.get(v)
                if row is None or row["status"] != "ok":
                    cells.append(f"{row['status']}: {row.get('error')}" if row else "—")
                    continue
                sm = summary.summarize_runs(row["runs"])
                spe[v] = sm["seconds_per_epoch"]
                cells.append(summary.fmt_spread(sm, "seconds_per_epoch"))
            speed = f"{spe['1t'] / spe['2t']:.2f}×" if spe.get("1t") and spe.get("2t") else "—"
            r2 = pair.get("2t") or pair.get("1t")
            name = r2["label"].split(", 1 thread")[0].split(", 2 threads")[0]
            load = " / ".join(summary.load_range(p) for p in (pair.get("1t"), pair.get("2t")) if p)
            lines.append(f"| {name} | `{r2.get('command') or r2.get('settings') or ''}` | {cells[0]} | {cells[1]} | "
                         f"{speed} | {load} |")
        return "\n".join(lines) + "\n"

    # --- time to accuracy ----------------------------------------------------------------------------

    def curves(self, source, run, families, ranking=False):
        """Accuracy against training time, epoch count by epoch count, for the tuned setting of each
        engine of `families` ({family: [engine]}) on one train/test pair. Every point is a fit of
        its own with that many epochs (so it includes each fit's setup, as stopping there would);
        one run per point, the engines' points interleaved."""
        a = self.args
        chosen = {e: self._params_of(source, e) for e in (source.get("tuning") or {}).get("engines", {})}
        ds = {"name": source["name"] + "-curves", "kind": "curve", "metric": "NDCG@10" if ranking else "RMSE",
              "title": f"Time to accuracy on {source['title']}, fold/split {run['fold']}", "rows": [],
              "families": {}}
        jobs = []
        for family, engine_list in families.items():
            for engine in engine_list:
                params = chosen.get(engine)
                if engine not in a.engines or params is None:
                    continue
                if engine == "spark-als":
                    # One JVM for all its points: each epoch count is a run of its own.
                    multi = [dict(run, fold=f"t{t}", params=dict(params, epochs=t, curve=True))
                             for t in CURVE_EPOCHS[family]]
                    row = self.make_row(engine, "tuned", params, multi,
                                        {"rank": source.get("rank", a.rank), "als_iters": CURVE_EPOCHS[family][-1]})
                    row.update(curve_family=family, curve_epochs=None)
                    jobs.append(row)
                    continue
                for t in CURVE_EPOCHS[family]:
                    ctx = {"rank": a.implicit_rank if ranking else a.rank, "sgd_epochs": t, "als_iters": t,
                           "implicit_iters": t, "bpr_epochs": t, "ranking": ranking}
                    row = self.make_row(engine, "tuned", params, [run], ctx)
                    row.update(curve_family=family, curve_epochs=t)
                    jobs.append(row)
        if not jobs:
            return None
        self.log(f"dataset {ds['title']}: {len(jobs)} fits")
        self.run_jobs(jobs, repeats=1)
        key = "ndcg" if ranking else "rmse"
        for row in jobs:
            fam = ds["families"].setdefault(row["curve_family"], {"engines": {}})
            entry = fam["engines"].setdefault(row["engine"], {"label": row["label"], "points": [],
                                                               "settings": row.get("settings")})
            if row["status"] != "ok":
                entry["error"] = row.get("error")
                continue
            for r in row["runs"]:
                entry["points"].append({"epochs": r.get("epochs") if row["curve_epochs"] is None else
                                        row["curve_epochs"], "train_seconds": r.get("train_seconds"),
                                        "value": r.get(key)})
        for fam in ds["families"].values():
            finals = []
            for entry in fam["engines"].values():
                entry["points"].sort(key=lambda p: p["epochs"])
                values = [p["value"] for p in entry["points"] if p["value"] is not None]
                if values:
                    finals.append(max(values) if ranking else min(values))
            # The target: the best accuracy every engine of the family reaches (the worst engine's best).
            fam["target"] = (min(finals) if ranking else max(finals)) if finals else None
            for entry in fam["engines"].values():
                hit = next((p for p in entry["points"] if p["value"] is not None and fam["target"] is not None
                            and (p["value"] >= fam["target"] - 1e-12 if ranking
                                 else p["value"] <= fam["target"] + 1e-12)), None)
                entry["time_to_target"] = hit["train_seconds"] if hit else None
                entry["epochs_to_target"] = hit["epochs"] if hit else None
        return ds

    def markdown_curves(self, ds):
        lines = [f"### {ds['title']}", "",
                 f"Each point is a fit of its own with that many epochs/iterations, tuned settings (the sweep "
                 f"above), one run; `train s` is the training call. **Target** per family: the best {ds['metric']} "
                 "every engine of the family reaches (the least accurate engine's best); `time to target` is the "
                 "training time of the first point that reaches it.", ""]
        for family, fam in ds["families"].items():
            epochs = sorted({p["epochs"] for e in fam["engines"].values() for p in e["points"]})
            header = ["engine", f"time to target ({ds['metric']} {summary.fmt_metric(fam['target'])})"] + \
                [f"{t} ep.: s / {ds['metric']}" for t in epochs]
            out = []
            for engine, e in fam["engines"].items():
                by = {p["epochs"]: p for p in e["points"]}
                ttt = ("—" if e.get("time_to_target") is None else
                       f"{summary.fmt_seconds(e['time_to_target'])} s ({e['epochs_to_target']} ep.)")
                out.append([e["label"], e.get("error") or ttt] + [
                    f"{summary.fmt_seconds(by[t]['train_seconds'])} / {summary.fmt_metric(by[t]['value'])}"
                    if t in by else "—" for t in epochs])
            lines += [f"**{family}**", "", summary._table(header, out), ""]
        return "\n".join(lines) + "\n"

    # --- top-N serving ------------------------------------------------------------------------------

    def serving(self, name, title, train):
        """mf's `recommend --all-users` and `similar` against implicit's `recommend` and
        `similar_items` on the same factors (an mf implicit ALS model of `train`), interleaved."""
        a = self.args
        if self.peer_status("implicit-als") or "implicit-als" not in a.engines:
            return None
        work = os.path.join(a.out, "serving", name)
        os.makedirs(work, exist_ok=True)
        model, npy, lists = (os.path.join(work, "model.mf"), os.path.join(work, "npy"),
                             os.path.join(work, "lists.csv"))
        fit = ["--implicit", "--algorithm", "als", "--alpha", f"{a.alpha:g}", "--solver", "cg", "--rank",
               str(a.implicit_rank), "--epochs", str(a.implicit_iters), "--regularization", f"{a.implicit_reg:g}",
               "--threads", str(a.threads)]
        ds = {"name": name + "-serving", "kind": "serving", "title": title, "fit": "mf fit TRAIN " + " ".join(fit),
              "k": 10, "mf_recommend": [], "mf_similar": [], "implicit": [], "load": []}
        self.log(f"dataset {title}")
        for cmd in ([self.mf, "fit", train] + fit + ["--model", model, "--quiet"],
                    [self.mf, "export", "--format", "npy", "--output", npy, "--model", model]):
            r = run_child(cmd, timeout=a.timeout)
            if r["status"] != 0:
                ds["error"] = f"{os.path.basename(cmd[0])} {cmd[1]} failed: {tail(r['stderr'])}"
                return ds
        with open(os.path.join(npy, "item_ids.txt"), encoding="utf-8") as f:
            item = f.readline().strip()
        for rep in range(a.repeats):
            before = stamp.load_average()
            r = run_child([self.mf, "recommend", "--all-users", "--top", "10", "--output", lists, "--threads",
                           str(a.threads), "--model", model], timeout=a.timeout)
            if r["status"] != 0:
                ds["error"] = f"mf recommend --all-users failed: {tail(r['stderr'])}"
                return ds
            ds["mf_recommend"].append(r["wall_seconds"])
            r = run_child([self.mf, "similar", item, "--top", "10", "--model", model], timeout=a.timeout)
            ds["mf_similar"].append(r["wall_seconds"] if r["status"] == 0 else None)
            p = run_child([self.py, "-m", "harness.serving", "--npy", npy, "--train", train, "--mf-lists", lists,
                           "--repeats", "1", "--threads", str(a.threads)], cwd=HERE,
                          env=engines._env({"OPENBLAS_NUM_THREADS": "1"}), timeout=a.timeout)
            if p["status"] != 0:
                ds["error"] = f"harness.serving failed: {tail(p['stderr'])}"
                return ds
            ds["implicit"].append(json.loads(p["stdout"].strip().splitlines()[-1]))
            ds["load"].append({"repeat": rep, "before": before, "after": stamp.load_average()})
        return ds

    def markdown_serving(self, ds):
        lines = [f"### {ds['title']}", ""]
        if ds.get("error"):
            return "\n".join(lines + [f"Not run: {ds['error']}"]) + "\n"
        imp = ds["implicit"]
        fmt = lambda v: f"{summary.fmt_seconds(statistics.median(v))} ({summary.fmt_seconds(min(v))}–"\
                        f"{summary.fmt_seconds(max(v))})"  # noqa: E731
        rec = [x["recommend_all_seconds"]["median"] for x in imp]
        sim = [x["similar_items_all_seconds"]["median"] for x in imp]
        mf_sim = [v for v in ds["mf_similar"] if v is not None]
        load = summary.load_range(ds)
        lines += [f"Model: `{ds['fit']}` ({imp[0]['users']:,} users, {imp[0]['items']:,} items), exported with "
                  "`mf export --format npy` and loaded into implicit's `AlternatingLeastSquares` (same factors, "
                  f"b_i as an extra column), k = {ds['k']}, {len(rec)} interleaved repeats, load avg {load}.", "",
                  "| task | mf | implicit " + imp[0]["version"] + " | note |", "|---|---|---|---|",
                  f"| top-10 for every user, training items filtered | {fmt(ds['mf_recommend'])} s | {fmt(rec)} s | "
                  "mf: the whole `mf recommend --all-users --output FILE` command (start, model load, scoring, "
                  "writing the CSV); implicit: the `recommend(all users)` call alone |",
                  f"| 10 most similar items, every item | — | {fmt(sim)} s | implicit: `similar_items(all items)` "
                  "in one call; mf has no all-items mode |",
                  f"| 10 most similar items, one item | {fmt(mf_sim) if mf_sim else '—'} s | — | mf: the whole `mf "
                  "similar ITEM` command |", "",
                  f"Agreement of the top-10 lists: {statistics.mean(x['agreement_with_mf'] for x in imp):.4f} of "
                  "mf's items are in implicit's list for the same user (1 = identical sets)."]
        return "\n".join(lines) + "\n"

    def markdown_special(self, ds):
        return {"curve": self.markdown_curves, "serving": self.markdown_serving, "memory": self.markdown_memory,
                "threads": self.markdown_threads}[ds["kind"]](ds)

    def _params_of(self, ds, engine):
        """The setting the sweep chose for engine (highest NDCG for implicit feedback, else lowest RMSE)."""
        ranking = "NDCG" in (ds["tuning"].get("criterion") or "")
        return tuning.best([(p["params"], p["value"]) for p in ds["tuning"]["engines"].get(engine, [])],
                           higher_is_better=ranking)[0]

    # --- output -------------------------------------------------------------------------------------

    def add(self, ds):
        if ds is not None and ds.get("kind") in ("curve", "serving", "memory", "threads"):
            self.results["datasets"].append(ds)
            print(self.markdown_special(ds), flush=True)
            self.save()
            return
        if ds is None or (not ds.get("rows") and not ds.get("error")):
            return
        summary.compare_rows(ds["rows"])
        self.results["datasets"].append(ds)
        print(self.markdown_dataset(ds), flush=True)
        self.save()

    def markdown_dataset(self, ds):
        lines = [f"### {ds['title']}", ""]
        if ds.get("error"):
            lines.append(f"Not run: {ds['error']}")
            return "\n".join(lines) + "\n"
        if ds.get("generator"):
            lines += [f"Generator's model: {ds['generator']}", ""]
        lines.append(summary.dataset_table(ds))
        for note in ds.get("notes", []):
            lines += ["", note]
        if ds.get("split", {}).get("note"):
            lines += ["", "Split: " + ds["split"]["note"]]
        elif ds.get("split"):
            made_by = ds["split"]["made_by"].replace(os.path.dirname(ds["split"]["train"]) + os.sep, "")
            if ds.get("splits"):
                made_by = made_by.replace("--seed 1", "--seed S") + " for S = 1…5"
            lines += ["", "Split: `" + made_by + "`; both engines get `user,item,1` lines of its train file."]
        for note in ds.get("skipped", []):
            lines += ["", f"Skipped: {note}."]
        libmf_rows = [r for r in ds.get("rows", []) if r.get("engine") == "libmf" and r.get("status") == "ok"]
        if libmf_rows:
            total = sum(summary.restarts(r) for r in libmf_rows)
            runs = sum(len(r.get("runs", [])) for r in libmf_rows)
            lines += ["", f"{LIBMF_NOTE} In this table: {total} restarts over {runs} LIBMF runs; the times are those "
                          "of the completed runs."]
        for row in ds.get("rows", []):
            for note in sorted({n for run in row.get("runs", []) for n in (run.get("notes") or [])}):
                lines += ["", f"{row['label']}: {note}"]
        t = ds.get("tuning")
        table = summary.tuning_table(ds)
        if table:
            where = os.path.relpath(t["train"], self.args.out) if t["train"].startswith(self.args.out) else \
                os.path.basename(t["train"])
            beyond = ("further steps outward along a knob whose best value sat at an end of the values tried, "
                      "while each step won, up to the end of its ladder, marked" if t.get("edge_rule") == "walk" else
                      "one more step along a knob whose best value sat at an end of the grid, marked")
            lines += ["", f"**The sweep behind the tuned rows** (equal budget: {t['budget']} settings per engine, and "
                          f"{beyond}; "
                          f"fit on a seeded random 90% of `{where}`, scored on the other 10%, the test file unseen; "
                          f"criterion: {t['criterion']}; one run each):", "", table]
        return "\n".join(lines) + "\n"

    def markdown(self):
        m = self.results["meta"]
        mach = m.get("machine", {})
        ident = m.get("mf", {})
        la0, la1 = m.get("load_average_start"), m.get("load_average_end")
        lines = ["# mf vs peers", "",
                 f"Run {m.get('date')} with `python3 {m.get('command')}` on {mach.get('cores')} cores "
                 f"({mach.get('cpu', '?')}, SIMD {', '.join(mach.get('simd', []))}), {mach.get('memory_gib')} GiB; "
                 f"{m.get('java') or 'no java'}.", "",
                 f"mf binary: sha256 `{ident.get('sha256', ident.get('git', '?'))}`, built from "
                 f"{ident.get('built_from', ident.get('git', '?'))} ({ident.get('how', '?')}); "
                 f"compare.py from {m.get('compare_py_checkout', '?')}.", "",
                 "Load average (1, 5, 15 min): " + (f"{la0} at the start" if la0 else "not recorded at the start")
                 + (f", {la1} at the end" if la1 else "") + "; each row's `load avg` column is the range of the "
                 "1-minute figure read before and after each of its repeats.", ""]
        for note in m.get("notes", []):
            lines += [f"**Note**: {note}", ""]
        lines.append("Peers (pinned): " + "; ".join(
            f"{n} {p['version']}" if p.get("installed") else f"{n}: NOT INSTALLED ({p.get('error')})"
            for n, p in self.results["peers"].items()) + ".")
        lb = m.get("libmf_build") or {}
        if lb:
            if lb.get("error"):
                lines += ["", f"LIBMF: {lb['error']}"]
            else:
                cal = lb.get("calibration", {})
                chosen = lb.get("chosen", "?")
                flags = lb.get("flags", {})
                lines += ["", f"{LIBMF_LABEL}: built from the PyPI sdist's bundled 2017 LIBMF source: "
                              + (f"`{flags.get(chosen)}`" if flags.get(chosen) else
                                 " and ".join(f"`{f}`" for f in flags.values()) + " (not yet compared)")
                          + (f" (faster than the other build on {cal.get('set')}: "
                             + ", ".join(f"{k.upper()} {v:.4f} s/epoch" for k, v in cal.get("seconds_per_epoch", {}).items()
                                         if v is not None) + ")" if cal else "") + "."]
        lines += ["", "Ratios are mf ÷ peer (below 1: mf takes less time), against the mf row named in `vs` (defaults "
                      "against defaults, tuned against tuned); ΔRMSE = peer − mf (positive: the peer is less "
                      "accurate). Every timing ran `timings` times, the engines of a table interleaved (repeat 1 of "
                      "every engine, then repeat 2, …); times are medians with (min–max) over repeats (and folds); "
                      "s/epoch is each run's median epoch. train s is the training call alone, timed inside each "
                      "engine's process; wall s is the whole `mf fit` / LIBMF driver process (read + train + save). "
                      "**defaults** rows: each engine's own defaults but the rank; **tuned** rows: the best of an "
                      "equal sweep of each engine's main knobs on a validation split of the training data (table "
                      "under each data set).", ""]
        for ds in self.results["datasets"]:
            kind = ds.get("kind")
            lines.append(self.markdown_special(ds) if kind in ("curve", "serving", "memory", "threads")
                         else self.markdown_dataset(ds))
        return "\n".join(lines)

    def save(self):
        path = os.path.join(self.args.out, "results.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.results, f, indent=1, default=str)
        os.replace(path + ".tmp", path)
        with open(os.path.join(self.args.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(self.markdown())
        with open(os.path.join(self.args.out, "readme-tables.md"), "w", encoding="utf-8") as f:
            f.write(readme_tables.tables(self.results))

    def chart(self):
        if not self.py:
            self.log("no chart: no virtual environment")
            return None
        path = os.path.join(self.args.out, "chart.png")
        r = run_child([self.py, "-m", "harness.plot", os.path.join(self.args.out, "results.json"), path], cwd=HERE,
                      env=engines._env())
        if r["status"] != 0:
            self.log(f"chart failed: {tail(r['stderr'])}")
            return None
        return path


def main(argv=None):
    args = parse_args(argv)
    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    log = Log(os.path.join(args.out, "compare.log"))
    log(f"compare.py {' '.join(sys.argv[1:])}")
    h = Harness(args, log)
    if args.report_only:
        try:
            with open(os.path.join(args.out, "results.json"), encoding="utf-8") as f:
                h.results = json.load(f)
        except OSError as err:
            raise SystemExit(f"--report-only: {err}")
        h.py = env.venv_python() if os.path.exists(env.venv_python()) else None
        chart = h.chart()
        h.save()
        print(h.markdown())
        log(f"re-rendered {os.path.join(args.out, 'results.md')}" + (f" and {chart}" if chart else ""))
        return 0
    h.setup()
    for name, p in h.peers.items():
        log(f"peer {name}: " + (p["version"] if p.get("installed") else f"NOT INSTALLED: {p.get('error')}"))
    ml = h.ml100k_explicit() if "ml100k" in args.sets else None
    h.add(ml)
    if args.curves and ml and ml.get("tuning"):
        h.add(h.curves(ml, datasets.ml100k_folds(h.ml100k, ("u1",))[0],
                       {"sgd": ["mf-sgd", "libmf", "surprise-svd"], "als": ["mf-als", "spark-als"]}))
    rk = h.ml100k_ranking() if "ml100k-implicit" in args.sets else None
    h.add(rk)
    if args.curves and rk and rk.get("tuning"):
        h.add(h.curves(rk, {"fold": "split1", "train": rk["splits"][0]["train_binary"], "test": rk["splits"][0]["test"]},
                       {"implicit": ["mf-implicit-als", "implicit-als"],
                        "bpr": ["mf-bpr", "implicit-bpr", "lightfm-warp", "lightfm-bpr"]},
                       ranking=True))
    for model, sizes in (("biased", args.sizes if "synth" in args.sets else []),
                         ("unbiased", args.unbiased_sizes if "synth" in args.sets else [])):
        for size in sizes:
            try:
                ds = h.synthetic(size, model)
                h.add(ds)
                if args.curves and model == "biased" and ds.get("tuning") and size == min(args.sizes):
                    h.add(h.curves(ds, {"fold": ds["name"], **ds["files"]},
                                   {"sgd": ["mf-sgd", "libmf", "surprise-svd"], "als": ["mf-als", "spark-als"]}))
            except RuntimeError as err:
                log(f"synthetic {size} {model}: {err}")
                h.add({"name": f"synth-{size}-{model}", "kind": "explicit", "title": f"Synthetic {size} {model}",
                       "rows": [], "error": str(err)})
    if "serving" in args.sets:
        if rk and rk.get("splits"):
            h.add(h.serving("ml100k-implicit", "Top-N serving on MovieLens-100K implicit (split 1)",
                            rk["splits"][0]["train_binary"]))
        for size in args.sizes[:1] if "synth" in args.sets else []:
            info = datasets.synth_set(h.mf, args.out, size, log=h.log)
            h.add(h.serving(f"synth-{size}", f"Top-N serving on synthetic {datasets.size_label(size)} "
                            "(its ratings as implicit feedback)", info["train"]))
    if "threads" in args.sets:
        h.add(h.thread_scaling(args.threads_size))
    for size in args.memory_sizes if "memory" in args.sets else []:
        h.add(h.fit_memory(size))
    h.results["meta"]["load_average_end"] = stamp.load_average()
    chart = h.chart()
    h.save()
    log(f"wrote {os.path.join(args.out, 'results.json')}, {os.path.join(args.out, 'results.md')}"
        + (f", {chart}" if chart else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
