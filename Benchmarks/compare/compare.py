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
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from harness import datasets, engines, env, summary  # noqa: E402
from harness.proc import Log, run_child, tail  # noqa: E402

ALL_ENGINES = ("mf-sgd", "mf-sgd-preset", "mf-als", "mf-bayes", "mf-svdpp", "mf-implicit-als", "libmf", "myfm",
               "surprise-svd", "surprise-svdpp", "surprise-baseline", "implicit-als", "spark-als")
PEER_OF_ENGINE = {"libmf": "libmf", "myfm": "myfm", "surprise-svd": "scikit-surprise", "surprise-svdpp": "scikit-surprise",
                  "surprise-baseline": "scikit-surprise", "implicit-als": "implicit", "spark-als": "pyspark"}


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
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=None, help="repeats of short runs (default 3; --quick: 1)")
    ap.add_argument("--max-repeat-seconds", type=float, default=10.0,
                    help="a run whose training takes longer is not repeated")
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
    ap.add_argument("--alpha", type=float, default=10.0, help="confidence c = 1 + alpha·r for both implicit engines")
    ap.add_argument("--spark-max-size", type=int, default=None,
                    help="largest synthetic set Spark runs on (default 10000000; --quick: 0 = ML-100K only)")
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
    log("swift build -c release --product mf")
    r = run_child(["swift", "build", "-c", "release", "--product", "mf"], cwd=ROOT)
    if r["status"] != 0:
        raise SystemExit(f"swift build failed: {tail(r['stderr'] or r['stdout'], 10, 2000)}")
    b = run_child(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT)
    return os.path.join(b["stdout"].strip(), "mf")


def git_revision():
    r = run_child(["git", "-C", ROOT, "describe", "--always", "--dirty"])
    return r["stdout"].strip() or None


class Harness:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.results = {"meta": {}, "settings": {}, "peers": {}, "datasets": []}
        self.spec_dir = os.path.join(args.out, "specs")

    # --- setup ----------------------------------------------------------------------------------

    def setup(self):
        a = self.args
        self.mf = os.path.abspath(a.mf) if a.mf else build_mf(self.log)
        if not os.access(self.mf, os.X_OK):
            raise SystemExit(f"mf binary not found at {self.mf}")
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
            "mf": {"binary": self.mf, "git": git_revision()},
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

    def skip_or_missing(self, row, engine):
        reason = self.peer_status(engine)
        if reason:
            row["status"] = "not installed" if PEER_OF_ENGINE.get(engine) != "libmf" else "failed"
            row["error"] = reason
            return True
        return False

    def mf_row(self, row, runs, fit_args, ranking=False):
        self.log(f"  {row['label']}: mf fit {' '.join(fit_args)}")
        rk = {"venv_python": self.py or sys.executable, "k": 10} if ranking else None
        engines.run_mf_row(row, self.mf, runs, fit_args, self.args.repeats, self.args.max_repeat_seconds,
                           self.args.timeout, ranking=rk)
        self._report(row)
        return row

    def peer_row(self, row, runs, spec, extra_env=None):
        if self.skip_or_missing(row, row["engine"]):
            self._report(row)
            return row
        spec = dict(spec, engine=row["engine"], runs=runs, repeats=self.args.repeats,
                    max_repeat_seconds=self.args.max_repeat_seconds, threads=self.args.threads)
        self.log(f"  {row['label']}: {row['engine']} rank {spec.get('rank')} epochs {spec.get('epochs')}")
        engines.run_peer_row(row, self.py, spec, self.spec_dir, self.args.timeout, extra_env)
        self._report(row)
        return row

    def libmf_row(self, row, runs, k, iters):
        if self.skip_or_missing(row, "libmf"):
            self._report(row)
            return row
        exe = self.libmf["binaries"][self.libmf.get("chosen") or next(iter(self.libmf["binaries"]))]
        self.log(f"  {row['label']}: LIBMF k={k} iters={iters}")
        engines.run_libmf_row(row, exe, runs, k, iters, self.args.threads, 0.1, 0.1, self.args.repeats,
                              self.args.max_repeat_seconds, self.args.timeout)
        self._report(row)
        return row

    def _report(self, row):
        if row["status"] == "ok":
            s = summary.summarize_runs(row["runs"])
            rm = f" RMSE {s['rmse']:.4f}" if s.get("rmse") is not None else ""
            nd = f" NDCG@10 {s['ndcg']:.4f}" if s.get("ndcg") is not None else ""
            spe = s["seconds_per_epoch"]
            self.log(f"    ok: train {s['train_seconds']:.3f} s, "
                     f"{'%.4f' % spe if spe is not None else '—'} s/epoch{rm}{nd}")
        else:
            self.log(f"    {row['status']}: {row['error']}")

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
        t, rows = str(a.threads), ds["rows"]
        e = a.engines
        if "mf-sgd" in e:
            # --no-tune: the fixed defaults, whose epochs this harness times (mf fit now chooses λ
            # and the epochs from the data by default; the accuracy suite measures that).
            rows.append(self.mf_row(engines.new_row("mf-sgd", "mf SGD (fixed defaults)", f"--rank {a.rank} --no-tune "
                                                    f"--threads {t}: 120 epochs, η 0.01·0.985ᵗ, λ 0.1, λ_b 0.05", "sgd",
                                                    a.rank, 120, True), folds,
                                    ["--rank", str(a.rank), "--no-tune", "--threads", t]))
        if "mf-sgd-preset" in e:
            rows.append(self.mf_row(engines.new_row("mf-sgd-preset", "mf SGD --preset ml100k",
                                                    f"--preset ml100k --threads {t}: rank 256, 200 epochs, "
                                                    "η 0.005·0.99ᵗ, λ 0.07", "sgd", 256, 200, True, primary=False),
                                    folds, ["--preset", "ml100k", "--threads", t]))
        if "mf-als" in e:
            rows.append(self.mf_row(engines.new_row("mf-als", "mf ALS (fixed defaults)", f"--rank {a.rank} --algorithm "
                                                    f"als --no-tune --threads {t}: at most 15 sweeps, λ·n 0.15, λ_b 0.05",
                                                    "als", a.rank, 15, True), folds,
                                    ["--rank", str(a.rank), "--algorithm", "als", "--no-tune", "--threads", t]))
        bayes = BAYES_DEFAULTS
        if "mf-bayes" in e:
            rows.append(self.mf_row(engines.new_row("mf-bayes", "mf Bayesian MF (defaults)",
                                                    f"--rank {a.rank} --algorithm bayes --threads {t}: "
                                                    f"{bayes['sweeps']} Gibbs sweeps, {bayes['kept']} kept samples, "
                                                    "implicit feedback", "bayes", a.rank, bayes["sweeps"], True), folds,
                                    ["--rank", str(a.rank), "--algorithm", "bayes", "--threads", t]))
        if "mf-svdpp" in e:
            rows.append(self.mf_row(engines.new_row("mf-svdpp", "mf SVD++ (defaults)",
                                                    f"--rank {a.rank} --algorithm svdpp --threads {t}: 60 epochs",
                                                    "svdpp", a.rank, 60, True), folds,
                                    ["--rank", str(a.rank), "--algorithm", "svdpp", "--threads", t]))
        if "myfm" in e:
            rows.append(self.peer_row(engines.new_row("myfm", "myFM (Gibbs, one-hot user/item)", "", "bayes", a.rank,
                                                      bayes["sweeps"]), folds,
                                      {"rank": a.rank, "epochs": bayes["sweeps"], "rating_scale": [1, 5],
                                       "params": {"kept_sweeps": bayes["kept_sweeps"]}}))
        if "libmf" in e:
            rows.append(self.libmf_row(engines.new_row("libmf", "LIBMF", f"k={a.rank} 20 iters, λ_p=λ_q=0.1, η=0.1, "
                                                       f"26 bins (LIBMF defaults but k), {t} threads", "sgd", a.rank,
                                                       20), folds, a.rank, 20))
        for engine, label, epochs, rank in (("surprise-svd", "Surprise SVD", 20, a.rank),
                                            ("surprise-svdpp", "Surprise SVD++", 20, a.rank),
                                            ("surprise-baseline", "Surprise BaselineOnly", 10, None)):
            if engine in e:
                # Surprise's SVD++ is measured against mf's SVD++ (its own family), the others against SGD.
                family = "svdpp" if engine == "surprise-svdpp" else "sgd"
                rows.append(self.peer_row(engines.new_row(engine, label, "", family, rank, epochs), folds,
                                          {"rank": rank or 0, "epochs": epochs, "rating_scale": [1, 5]}))
        if "spark-als" in e:
            rows.append(self.peer_row(engines.new_row("spark-als", "Spark MLlib ALS", "", "als", a.rank, 15), folds,
                                      {"rank": a.rank, "epochs": 15, "rating_scale": [1, 5],
                                       "params": {"regParam": 0.1}}))
        return ds

    def ml100k_ranking(self):
        a = self.args
        title = (f"MovieLens-100K implicit: u.data ratings ≥ 4 as positives, five per-user random 80/20 splits "
                 f"(`mf split` seeds 1–5; metrics are means over the splits), "
                 f"rank {a.implicit_rank}, {a.implicit_iters} iterations, c = 1 + {a.alpha:g}·1, λ {a.implicit_reg:g}")
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
        self.implicit_rows(ds["rows"], runs, ranking=True)
        return ds

    def implicit_rows(self, rows, runs, ranking):
        a = self.args
        t = str(a.threads)
        settings = (f"rank {a.implicit_rank}, {a.implicit_iters} iterations, λ {a.implicit_reg:g}, "
                    f"c = 1 + {a.alpha:g}·r, CG (3 steps), {t} threads")
        if "mf-implicit-als" in a.engines:
            args = ["--implicit", "--algorithm", "als", "--alpha", f"{a.alpha:g}", "--solver", "cg", "--rank",
                    str(a.implicit_rank), "--epochs", str(a.implicit_iters), "--regularization",
                    f"{a.implicit_reg:g}", "--threads", t]
            # Speed rows (synthetic sets) are not scored: an implicit model has no RMSE.
            mf_runs = runs if ranking else [dict(r, test=None) for r in runs]
            rows.append(self.mf_row(engines.new_row("mf-implicit-als", "mf implicit ALS (CG)", " ".join(args),
                                                    "implicit", a.implicit_rank, a.implicit_iters, True,
                                                    series=f"mf implicit ALS r{a.implicit_rank}"),
                                    mf_runs, args, ranking=ranking))
        if "implicit-als" in a.engines:
            rows.append(self.peer_row(engines.new_row("implicit-als", "implicit ALS (CG)", settings, "implicit",
                                                      a.implicit_rank, a.implicit_iters,
                                                      series=f"implicit ALS r{a.implicit_rank}"), runs,
                                      {"rank": a.implicit_rank, "epochs": a.implicit_iters,
                                       "mode": "ranking" if ranking else "speed", "k": 10,
                                       "params": {"alpha": a.alpha, "regularization": a.implicit_reg}},
                                      extra_env={"OPENBLAS_NUM_THREADS": "1"}))

    def synthetic(self, size):
        a = self.args
        info = datasets.synth_set(self.mf, a.out, size, log=self.log)
        label = datasets.size_label(size)
        ds = {"name": f"synth-{label}", "kind": "explicit", "ratings": size, "train_ratings": info.get("train_count"),
              "title": f"Synthetic {label} (`mf synth --ratings {size} --seed 1`: {info.get('train_count'):,} train / "
                       f"{info.get('test_count'):,} test ratings, {info.get('users'):,} users, {info.get('items'):,} items, "
                       f"{info['train_mb']} MB CSV)", "rows": [], "files": {"train": info["train"], "test": info["test"]}}
        self.log(f"dataset {ds['title']}")
        runs = [{"fold": label, "train": info["train"], "test": info["test"]}]
        t, e, rows = str(a.threads), a.engines, ds["rows"]
        if self.libmf and not self.libmf.get("error") and "chosen" not in self.libmf:
            self.choose_libmf(info["train"], info["test"])
        for rank in a.ranks:
            if "mf-sgd" in e:
                # mf's default schedule (η 0.01·0.985ᵗ) is made for 120 epochs; for a 20-epoch race
                # it gets a faster one, chosen on the 500K set (test RMSE 0.671 against LIBMF's 0.674).
                rows.append(self.mf_row(engines.new_row("mf-sgd", f"mf SGD r{rank}", f"--rank {rank} --epochs "
                                                        f"{a.epochs} --learning-rate {a.mf_lr:g} --learning-rate-decay "
                                                        f"{a.mf_decay:g} --no-tune --threads {t} (λ 0.1)", "sgd",
                                                        rank, a.epochs, True, series=f"mf SGD r{rank}"), runs,
                                        ["--rank", str(rank), "--epochs", str(a.epochs), "--learning-rate",
                                         f"{a.mf_lr:g}", "--learning-rate-decay", f"{a.mf_decay:g}", "--no-tune",
                                         "--threads", t]))
            if "libmf" in e:
                rows.append(self.libmf_row(engines.new_row("libmf", f"LIBMF r{rank}", f"k={rank} {a.epochs} iters, "
                                                           f"λ 0.1, η 0.1, 26 bins, {t} threads", "sgd", rank,
                                                           a.epochs, series=f"LIBMF r{rank}"), runs, rank, a.epochs))
        if "surprise-svd" in e and size <= a.surprise_max_size:
            rows.append(self.peer_row(engines.new_row("surprise-svd", f"Surprise SVD r{a.rank}", "", "sgd", a.rank,
                                                      a.epochs, series=f"Surprise SVD r{a.rank}"), runs,
                                      {"rank": a.rank, "epochs": a.epochs, "rating_scale": [1, 5]}))
        if "mf-als" in e:
            rows.append(self.mf_row(engines.new_row("mf-als", f"mf ALS r{a.rank}", f"--algorithm als --rank {a.rank} "
                                                    f"--epochs {a.als_iters} --regularization {a.als_reg:g} "
                                                    f"--threads {t}", "als", a.rank, a.als_iters, True,
                                                    series=f"mf ALS r{a.rank}"), runs,
                                    ["--algorithm", "als", "--rank", str(a.rank), "--epochs", str(a.als_iters),
                                     "--regularization", f"{a.als_reg:g}", "--threads", t]))
        if "spark-als" in e and size <= a.spark_max_size:
            rows.append(self.peer_row(engines.new_row("spark-als", f"Spark ALS r{a.rank}", "", "als", a.rank,
                                                      a.als_iters, series=f"Spark ALS r{a.rank}"), runs,
                                      {"rank": a.rank, "epochs": a.als_iters, "rating_scale": [1, 5],
                                       "params": {"regParam": a.als_reg}}))
        self.implicit_rows(rows, runs, ranking=False)
        skipped = []
        if "surprise-svd" in e and size > a.surprise_max_size:
            skipped.append(f"Surprise SVD (single-threaded) runs only up to {a.surprise_max_size:,} ratings")
        if "spark-als" in e and size > a.spark_max_size:
            skipped.append("Spark ALS runs on MovieLens-100K only in --quick mode" if a.spark_max_size == 0 else
                           f"Spark ALS runs only up to {a.spark_max_size:,} ratings (--spark-max-size)")
        if skipped:
            ds["skipped"] = skipped
        return ds

    # --- output -------------------------------------------------------------------------------------

    def add(self, ds):
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
        lines.append(summary.dataset_table(ds))
        if ds.get("split", {}).get("note"):
            lines += ["", "Split: " + ds["split"]["note"]]
        elif ds.get("split"):
            made_by = ds["split"]["made_by"].replace(os.path.dirname(ds["split"]["train"]) + os.sep, "")
            if ds.get("splits"):
                made_by = made_by.replace("--seed 1", "--seed S") + " for S = 1…5"
            lines += ["", "Split: `" + made_by + "`; both engines get `user,item,1` lines of its train file."]
        for note in ds.get("skipped", []):
            lines += ["", f"Skipped: {note}."]
        for row in ds.get("rows", []):
            restarts = sum(max(0, (r.get("attempts") or 1) - 1) for r in row.get("runs", []))
            if restarts:
                hit = sum(1 for r in row.get("runs", []) if (r.get("attempts") or 1) > 1)
                lines += ["", f"{row['label']}: LIBMF deadlocked at the end of training {restarts} times (in {hit} "
                              f"of {len(row['runs'])} runs) and was started again (see libmf_driver.cpp); "
                              "the times are those of the completed runs."]
            for run in row.get("runs", []):
                for note in run.get("notes") or []:
                    lines += ["", f"{row['label']}: {note}"]
        return "\n".join(lines) + "\n"

    def markdown(self):
        m = self.results["meta"]
        mach = m.get("machine", {})
        lines = ["# mf vs peers", "",
                 f"Run {m.get('date')} with `python3 {m.get('command')}` on {mach.get('cores')} cores "
                 f"({mach.get('cpu', '?')}, SIMD {', '.join(mach.get('simd', []))}), {mach.get('memory_gib')} GiB; "
                 f"mf {m.get('mf', {}).get('git')}; {m.get('java') or 'no java'}.", ""]
        lines.append("Peers: " + "; ".join(
            f"{n} {p['version']}" if p.get("installed") else f"{n}: NOT INSTALLED ({p.get('error')})"
            for n, p in self.results["peers"].items()) + ".")
        lb = m.get("libmf_build") or {}
        if lb:
            if lb.get("error"):
                lines += ["", f"LIBMF: {lb['error']}"]
            else:
                cal = lb.get("calibration", {})
                chosen = lb.get("chosen", "?")
                lines += ["", f"LIBMF {lb.get('version')} built from the PyPI sdist: `{lb.get('flags', {}).get(chosen, '')}`"
                          + (f" (faster than the other build on {cal.get('set')}: "
                             + ", ".join(f"{k.upper()} {v:.4f} s/epoch" for k, v in cal.get("seconds_per_epoch", {}).items()
                                         if v is not None) + ")" if cal else "") + "."]
        lines += ["", "Ratios are mf ÷ peer (below 1: mf takes less time), against the mf row named in `vs`; "
                      "ΔRMSE = peer − mf (positive: the peer is less accurate). Times are medians over repeats "
                      "(and epochs for s/epoch); train s is the training call alone, timed inside each engine's "
                      "process; wall s is the whole `mf fit` / LIBMF driver process (read + train + save).", ""]
        for ds in self.results["datasets"]:
            lines.append(self.markdown_dataset(ds))
        return "\n".join(lines)

    def save(self):
        path = os.path.join(self.args.out, "results.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.results, f, indent=1, default=str)
        os.replace(path + ".tmp", path)
        with open(os.path.join(self.args.out, "results.md"), "w", encoding="utf-8") as f:
            f.write(self.markdown())

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
    h.add(h.ml100k_explicit())
    h.add(h.ml100k_ranking())
    for size in args.sizes:
        try:
            h.add(h.synthetic(size))
        except RuntimeError as err:
            log(f"synthetic {size}: {err}")
            h.add({"name": f"synth-{size}", "kind": "explicit", "title": f"Synthetic {size}", "rows": [],
                   "error": str(err)})
    chart = h.chart()
    h.save()
    log(f"wrote {os.path.join(args.out, 'results.json')}, {os.path.join(args.out, 'results.md')}"
        + (f", {chart}" if chart else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
