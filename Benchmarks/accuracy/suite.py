#!/usr/bin/env python3
"""The accuracy suite: mf's defaults against mf's best grid setting and the peers' defaults.

    python3 Benchmarks/accuracy/suite.py              # full suite (all but the 10M set)
    python3 Benchmarks/accuracy/suite.py --large      # … and the 10M-rating set
    python3 Benchmarks/accuracy/suite.py --quick      # smoke run: a few small sets, a 2×2 grid

For each data set (MovieLens-100K's five folds, ML-100K u.data split 90/10 with three seeds, and
`mf synth` sets of several shapes) it runs, each in a child process on the same files:
`mf fit TRAIN --rank 32` (mf's defaults), a grid of `--regularization` × `--epochs` (the best
point is "mf tuned"), LIBMF with its defaults but k = 32 (built from the PyPI sdist by the
comparison harness), Surprise SVD (n_factors = 32) and BaselineOnly with their defaults; and
writes Benchmarks/accuracy/results/suite.json, suite.md (rendered from the JSON) and suite.png.

mf is the binary given by --mf (default: .build/release/mf of this checkout, built if missing);
the suite only calls its command line, so it measures whatever that binary does. Peers live in
the comparison harness's virtual environment (Benchmarks/compare/.venv). Generated data and
models go to Benchmarks/accuracy/out (git-ignored). See Benchmarks/accuracy/README.md.
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
COMPARE = os.path.join(ROOT, "Benchmarks", "compare")
sys.path.insert(0, HERE)
sys.path.insert(0, COMPARE)

from harness import engines, env  # noqa: E402  (the comparison harness)
from harness.proc import Log, run_child, tail  # noqa: E402
from harness.records import ParseError, parse_mf_evaluate  # noqa: E402
from suitelib import report, sets  # noqa: E402

ALL_ENGINES = tuple(report.ENGINES)
FULL_GRID = {"regularization": [0.02, 0.05, 0.1, 0.2], "epochs": [20, 50, 120],
             "schedules": ["decaying", "adaptive"]}
QUICK_GRID = {"regularization": [0.05, 0.1], "epochs": [20, 120], "schedules": ["decaying", "adaptive"]}
# The flags of each SGD step schedule in the grid: the decaying one at mf's fixed defaults
# (η 0.01·0.985ᵗ), the adaptive one at the step size self-tuning starts from (η 0.05, no decay).
SCHEDULE_FLAGS = {"decaying": ["--schedule", "decaying"],
                  "adaptive": ["--schedule", "adaptive", "--learning-rate", "0.05", "--learning-rate-decay", "1"]}
ML100K_SETS = ("ml100k-folds", "ml100k-random")
# mf's Bayesian defaults (BayesSettings): 8 + 32 × 6 = 200 sweeps, 32 samples kept every 6th sweep
# after 8; myFM runs the same sweeps and averages the samples of the same sweeps.
BAYES = {"sweeps": 200, "kept": 32, "kept_sweeps": [8 + 6 * t for t in range(1, 33)]}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true",
                      help="smoke run: ML-100K u1 and one random split, the sparse and MovieLens-like "
                           "generated sets, a 2×2 grid")
    mode.add_argument("--large", action="store_true", help="add the 10M-rating generated set (slow)")
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build", "release", "mf"),
                    help="the mf binary to measure (default: .build/release/mf of this checkout; built if missing)")
    ap.add_argument("--synth-mf", default=None,
                    help="the mf binary that generates the data sets and splits (default: --mf); for binaries "
                         "whose `mf synth` lacks the shape options")
    ap.add_argument("--ml100k", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "ml-100k"))
    ap.add_argument("--sets", default=None,
                    help="comma-separated data set names to run (default: all of the mode): "
                         + ", ".join(list(ML100K_SETS) + [s["name"] for s in sets.SYNTH_SETS]))
    ap.add_argument("--engines", default=",".join(ALL_ENGINES), help="comma-separated subset of "
                                                                     + ",".join(ALL_ENGINES))
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--grid-regularization", default=None,
                    help="λ values of the grid (default 0.02,0.05,0.1,0.2; --quick: 0.05,0.1)")
    ap.add_argument("--grid-epochs", default=None, help="epoch counts of the grid (default 20,50,120; --quick: 20,120)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="LIBMF's threads (default: all cores, as mf's default); Surprise has none")
    ap.add_argument("--mf-quiet", action="store_true",
                    help="pass --quiet to mf fit (default: progress on, as a user runs it)")
    ap.add_argument("--surprise-svdpp-max-ratings", type=int, default=200_000,
                    help="largest training file Surprise's SVD++ runs on (about 300× slower per epoch than mf's)")
    ap.add_argument("--surprise-max-ratings", type=int, default=1_000_000,
                    help="largest training file Surprise runs on (single-threaded, in-memory)")
    ap.add_argument("--out", default=os.path.join(HERE, "out"), help="work folder for data and models")
    ap.add_argument("--results", default=os.path.join(HERE, "results"), help="where suite.md/json/png go")
    ap.add_argument("--no-install", action="store_true", help="do not pip install; use what the venv has")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before one child process is killed")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render suite.md (and suite.png) from RESULTS/suite.json without running anything")
    args = ap.parse_args(argv)
    args.mode = "quick" if args.quick else "large" if args.large else "full"
    grid = QUICK_GRID if args.quick else FULL_GRID
    args.grid = {
        "regularization": _floats(args.grid_regularization) or grid["regularization"],
        "epochs": [int(x) for x in _floats(args.grid_epochs)] or grid["epochs"],
        "schedules": grid["schedules"],
    }
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - set(ALL_ENGINES)
    if unknown:
        ap.error(f"unknown engines: {', '.join(sorted(unknown))}")
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()] if args.sets else None
    known = set(ML100K_SETS) | {s["name"] for s in sets.SYNTH_SETS}
    if args.sets and set(args.sets) - known:
        ap.error(f"unknown data sets: {', '.join(sorted(set(args.sets) - known))}")
    return args


def _floats(text):
    return [float(x) for x in (text or "").split(",") if x.strip()]


class EngineError(RuntimeError):
    """A child process failed; the message goes into the table."""


def check(result, what):
    if result["timed_out"]:
        raise EngineError(f"{what} timed out after {result['wall_seconds']:.0f} s")
    if result["status"] != 0:
        raise EngineError(f"{what} exited {result['status']}: {tail(result['stderr'] or result['stdout'], 3, 400)}")


def last_json(text, what):
    """The last line of `text` that is a JSON object (mf prints exactly one with --json)."""
    for line in reversed((text or "").strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise EngineError(f"{what}: no JSON object in its output: {(text or '')[:200]!r}")


# --- the binary under test ------------------------------------------------------------------------

def git_of(path):
    """{root, commit, describe, branch, committed} of the git checkout holding `path`, or None."""
    folder = os.path.dirname(os.path.realpath(path))
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent

    def git(*a):
        r = run_child(["git", "-C", folder] + list(a))
        return r["stdout"].strip() if r["status"] == 0 else None

    # Changes to the suite's own results files (which every run rewrites) do not make the
    # checkout dirty: they are this run's output, not the code it measures.
    changes = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                  ":(exclude)Benchmarks/accuracy/results")
    describe = git("describe", "--always")
    if describe and changes:
        describe += "-dirty"
    return {"root": folder, "commit": git("rev-parse", "HEAD"), "describe": describe,
            "branch": git("rev-parse", "--abbrev-ref", "HEAD"), "committed": git("log", "-1", "--format=%cI")}


def binary_info(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path)).astimezone()
    info = {"binary": path, "sha256": h.hexdigest(), "mtime": mtime.isoformat(timespec="seconds"), "git": git_of(path)}
    g = info["git"] or {}
    notes = []
    if g.get("describe", "").endswith("-dirty"):
        notes.append("the checkout had uncommitted changes when the suite ran")
    if g.get("commit"):
        # Only commits that touched what the binary is built from count (Package.swift, Sources/).
        last_source = run_child(["git", "-C", g["root"], "log", "-1", "--format=%cI", "--", "Package.swift", "Sources"])
        built_from = (last_source["stdout"].strip() if last_source["status"] == 0 else "") or g.get("committed")
        committed = datetime.datetime.fromisoformat(built_from)
        if mtime < committed:
            notes.append("the binary is older than the checkout's last change to its sources, so it may not be built from it")
    if notes:
        info["note"] = "; ".join(notes) + "."
    return info


def resolve_mf(args, log):
    path = os.path.abspath(args.mf)
    default = os.path.join(ROOT, ".build", "release", "mf")
    if not os.access(path, os.X_OK) and path == default:
        log("swift build -c release --product mf")
        r = run_child(["swift", "build", "-c", "release", "--product", "mf"], cwd=ROOT)
        if r["status"] != 0:
            raise SystemExit(f"swift build failed: {tail(r['stderr'] or r['stdout'], 10, 2000)}")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"mf binary not found at {path}")
    return path


# --- the suite ------------------------------------------------------------------------------------

class Suite:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.started = time.perf_counter()
        self.results = {"schema": 1, "meta": {}, "settings": {}, "engines": [], "datasets": []}
        self.work = tempfile.mkdtemp(prefix="mf-accuracy-", dir=args.out)

    # setup

    def setup(self):
        a = self.args
        self.mf = resolve_mf(a, self.log)
        self.synth_mf = os.path.abspath(a.synth_mf) if a.synth_mf else self.mf
        self.py = None
        peers = {}
        wanted = {"scikit-surprise": env.PEER_PACKAGES["scikit-surprise"]} \
            if {"surprise-svd", "surprise-baseline", "surprise-svdpp"} & set(a.engines) else {}
        if "myfm" in a.engines:
            wanted["myfm"] = env.PEER_PACKAGES["myfm"]
        try:
            self.py = env.ensure_venv(log=self.log)
            if a.no_install:
                versions = env.installed_versions(self.py, list(env.BASE_PACKAGES) + list(wanted))
                peers = {n: {"installed": v is not None, "version": v,
                             "error": None if v else "not installed (--no-install)"} for n, v in versions.items()}
            else:
                peers = env.ensure_packages(self.py, self.log, wanted)
        except RuntimeError as err:
            self.log(f"no virtual environment: {err}")
            for name in list(env.BASE_PACKAGES) + list(wanted):
                peers[name] = {"installed": False, "version": None, "error": str(err)}
        self.peers = peers
        self.libmf = None
        libmf_meta = {}
        if "libmf" in a.engines:
            build = env.build_libmf(self.py or sys.executable, os.path.join(COMPARE, "out"), self.log)
            if build.get("error"):
                self.log(f"LIBMF: {build['error']}")
                libmf_meta = {"version": env.LIBMF_VERSION, "error": build["error"]}
            else:
                simd = env.machine().get("simd", [])
                bins = build["binaries"]
                chosen = "avx" if "avx" in bins and "avx" in simd else next(iter(bins))
                self.libmf = bins[chosen]
                libmf_meta = {"version": build.get("version"), "flags": build["flags"][chosen], "chosen": chosen,
                              "binary": self.libmf, "compile_errors": build.get("compile_errors")}
        mf_info = binary_info(self.mf)
        self.results["meta"] = {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "command": " ".join(["python3", os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:]),
            "mode": a.mode,
            "complete": False,
            "machine": env.machine(),
            "mf": mf_info,
            "synth_mf": mf_info if self.synth_mf == self.mf else binary_info(self.synth_mf),
            "peers": peers,
            "libmf": libmf_meta,
        }
        self.results["settings"] = {
            "rank": a.rank, "grid": a.grid, "threads": a.threads, "mf_quiet": a.mf_quiet, "engines": a.engines,
            "surprise_max_ratings": a.surprise_max_ratings, "ml100k": a.ml100k, "sets": a.sets,
        }
        self.results["engines"] = self.engine_docs()

    def engine_docs(self):
        a = self.args
        quiet = " --quiet" if a.mf_quiet else ""
        progress = "" if a.mf_quiet else " (progress on, as a user runs it)"
        docs = {
            "mf-default": {"given": f"`mf fit TRAIN --rank {a.rank}{quiet}`{progress}: every other setting at the "
                                    "binary's defaults.",
                           "timed": "the whole `mf fit` process (start, reading the CSV, training, writing the "
                                    "model) as fit s; mf's own training seconds (`seconds` of `--json`) as train s."},
            "mf-tuned": {"given": f"`mf fit TRAIN --rank {a.rank} --regularization λ --epochs E{quiet}` for each grid "
                                  "point; the best point's figures.",
                         "timed": "as mf defaults, for the best point."},
            "libmf": {"given": f"LIBMF {env.LIBMF_VERSION} through the comparison harness's driver "
                               f"(`libmf_driver.cpp`): `mf_get_default_param()` but k = {a.rank} and "
                               f"{a.threads} threads: 20 iterations, λ_p = λ_q = 0.1 (L2), η = 0.1 (adaptive "
                               "per-coordinate steps), no biases.",
                      "timed": "reading the training file plus the `mf_train` call, by the driver's own clock, as "
                               "fit s; `mf_train` alone as train s."},
            "surprise-svd": {"given": f"`SVD(n_factors={a.rank})`, Surprise's defaults otherwise: 20 epochs, "
                                      "lr 0.005, reg 0.02, biased, random_state 42; single-threaded.",
                             "timed": "loading the training file into a Trainset plus `algo.fit`, inside the "
                                      "peer's Python process, as fit s; `algo.fit` alone as train s."},
            "surprise-baseline": {"given": "`BaselineOnly()` defaults: ALS, 10 epochs, reg_u 15, reg_i 10.",
                                  "timed": "as Surprise SVD."},
            "mf-bayes": {"given": f"`mf fit TRAIN --rank {a.rank} --algorithm bayes{quiet}`: Bayesian MF by Gibbs "
                                  f"sampling at its defaults ({BAYES['sweeps']} sweeps, {BAYES['kept']} kept samples; "
                                  "implicit feedback on or off, whichever a 56-sweep chain of each validates better "
                                  "on 10% of each user's training ratings: the choice is shown per set).",
                         "timed": "as mf defaults."},
            "myfm": {"given": f"myFM's `MyFMRegressor(rank={a.rank})` on user/item one-hots, {BAYES['sweeps']} sweeps, "
                              f"averaging the samples of the {BAYES['kept']} sweeps mf keeps (every 6th after 8: mf's "
                              "sweeps and kept samples), seed 42, predictions clipped to the rating range; "
                              "single-threaded sampler.",
                     "timed": "reading the training file and one-hot encoding it plus `fit`, inside the peer's Python "
                              "process, as fit s; `fit` alone as train s."},
            "mf-svdpp": {"given": f"`mf fit TRAIN --rank {a.rank} --algorithm svdpp{quiet}`: SVD++ by SGD at its "
                                  "defaults (60 epochs).",
                         "timed": "as mf defaults."},
            "surprise-svdpp": {"given": f"`SVDpp(n_factors={a.rank})`, Surprise's defaults otherwise: 20 epochs, "
                                        "lr 0.007, reg 0.02; single-threaded; only up to --surprise-svdpp-max-ratings "
                                        "training ratings.",
                               "timed": "as Surprise SVD."},
        }
        return [dict(id=e, label=report.ENGINES[e], **docs[e]) for e in ALL_ENGINES if e in a.engines]

    # data sets

    def wanted(self, name):
        return self.args.sets is None or name in self.args.sets

    def datasets(self):
        a = self.args
        if self.wanted("ml100k-folds"):
            yield self.ml100k_folds
        if self.wanted("ml100k-random"):
            yield self.ml100k_random
        for spec in sets.select_synth(a.mode, a.sets):
            yield lambda spec=spec: self.synthetic(spec)

    def ml100k_folds(self):
        folds = ["u1"] if self.args.quick else ["u1", "u2", "u3", "u4", "u5"]
        ds = {"name": "ml100k-folds", "title": "ML-100K folds " + ("u1" if len(folds) == 1 else "u1–u5"),
              "short": "ML-100K folds", "kind": "ml100k",
              "about": "the five standard disjoint 80/20 splits of MovieLens-100K (uK.base / uK.test) as "
                       "they are; the table shows the mean over the folds",
              "provenance": [f"{self.args.ml100k}/{f}.base, {f}.test" for f in folds]}
        runs = []
        for f in folds:
            train = os.path.join(self.args.ml100k, f"{f}.base")
            test = os.path.join(self.args.ml100k, f"{f}.test")
            if os.path.exists(train) and os.path.exists(test):
                runs.append({"fold": f, "train": train, "test": test})
        if not runs:
            ds["error"] = f"MovieLens-100K not found in {self.args.ml100k}"
            return ds, []
        ds["shape"] = sets.shape(runs[0]["train"], runs[0]["test"])
        ds["shape_of"] = f"{runs[0]['fold']}.base + {runs[0]['fold']}.test"
        return ds, runs

    def ml100k_random(self):
        seeds = [1] if self.args.quick else [1, 2, 3]
        udata = os.path.join(self.args.ml100k, "u.data")
        ds = {"name": "ml100k-random", "title": "ML-100K u.data 90/10 " + ("seed 1" if len(seeds) == 1 else "seeds 1–3"),
              "short": "ML-100K 90/10", "kind": "ml100k",
              "about": "all of u.data split by `mf split --strategy random` (each user's ratings held out at random "
                       "with fraction 0.1, every user keeps at least one in training); the table shows the mean over "
                       "the seeds", "provenance": [], "notes": []}
        if not os.path.exists(udata):
            ds["error"] = f"{udata} not found"
            return ds, []
        runs = []
        for seed in seeds:
            folder = os.path.join(self.args.out, "data", f"ml100k-random-seed{seed}")
            os.makedirs(folder, exist_ok=True)
            train, test = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
            cmd = ["split", udata, "--train-output", train, "--test-output", test, "--strategy", "random",
                   "--test-fraction", "0.1", "--seed", str(seed)]
            r = run_child([self.synth_mf] + cmd, timeout=self.args.timeout)
            if r["status"] == 0:
                ds["provenance"].append(f"mf split u.data --strategy random --test-fraction 0.1 --seed {seed} "
                                        "--train-output train.csv --test-output test.csv")
            else:
                note = (f"`mf split` failed ({tail(r['stderr'], 2, 300)}); seed {seed} uses the suite's own global "
                        "random 90/10 split (python random.Random(seed))")
                self.log(note)
                ds["notes"].append(note)
                python_split(udata, train, test, 0.1, seed)
                ds["provenance"].append(f"suite.py python_split(u.data, test_fraction=0.1, seed={seed})")
            runs.append({"fold": f"seed{seed}", "train": train, "test": test})
        ds["shape"] = sets.shape(runs[0]["train"], runs[0]["test"])
        ds["shape_of"] = "seed 1"
        return ds, runs

    def synthetic(self, spec):
        folder = os.path.join(self.args.out, "data", spec["name"])
        os.makedirs(folder, exist_ok=True)
        train, test = os.path.join(folder, "train.csv"), os.path.join(folder, "test.csv")
        ds = {"name": spec["name"], "title": f"synth: {spec['title']}", "short": spec["title"], "kind": "synth",
              "about": spec["about"], "provenance": [sets.display_command(spec["flags"])],
              "generator_flags": spec["flags"] + sets.SYNTH_COMMON}
        cmd = sets.synth_command(spec["flags"], train, test)
        stamp_path = os.path.join(folder, "synth.json")
        key = {"command": cmd, "mf_sha256": self.results["meta"]["synth_mf"]["sha256"]}
        stamp = None
        if os.path.exists(stamp_path) and os.path.exists(train) and os.path.exists(test):
            with open(stamp_path, encoding="utf-8") as f:
                stamp = json.load(f)
        if not stamp or stamp.get("key") != key:
            self.log(f"generating {spec['name']}: {ds['provenance'][0]}")
            r = run_child([self.synth_mf] + cmd, timeout=self.args.timeout)
            if r["status"] != 0:
                ds["error"] = f"mf synth failed: {tail(r['stderr'] or r['stdout'], 3, 400)}"
                if "Unknown option" in (r["stderr"] or ""):
                    ds["error"] += (" (this binary's `mf synth` predates the shape options; "
                                    "generate the data with a newer one: --synth-mf PATH)")
                return ds, []
            stamp = {"key": key, "synth": last_json(r["stdout"], "mf synth")}
            with open(stamp_path, "w", encoding="utf-8") as f:
                json.dump(stamp, f)
        ds["synth"] = stamp["synth"]
        ds["shape"] = sets.shape(train, test)
        return ds, [{"fold": spec["name"], "train": train, "test": test}]

    # engines

    def mf_run(self, run, fit_args, keep_report=False):
        model = os.path.join(self.work, "model.mf")
        cmd = [self.mf, "fit", run["train"]] + list(fit_args) + ["--model", model, "--json"]
        if self.args.mf_quiet:
            cmd.append("--quiet")
        r = run_child(cmd, timeout=self.args.timeout)
        check(r, "mf fit")
        fit = last_json(r["stdout"], "mf fit")
        e = run_child([self.mf, "evaluate", run["test"], "--model", model, "--json"], timeout=self.args.timeout)
        check(e, "mf evaluate")
        try:
            ev = parse_mf_evaluate(e["stdout"])
        except ParseError as err:
            raise EngineError(str(err))
        record = {"fold": run["fold"], "rmse": ev["rmse"], "mae": ev["mae"], "count": ev["count"],
                  "fallbacks": ev["fallbacks"], "fit_seconds": r["wall_seconds"], "train_seconds": fit.get("seconds"),
                  "read_seconds": fit.get("read_seconds"), "epochs_run": fit.get("epochs_run"),
                  "peak_rss_mib": r["peak_rss_mib"]}
        if keep_report:
            # mf's own account of the fit (e.g. the settings its defaults chose), minus the per-epoch history.
            record["mf_fit"] = {k: v for k, v in fit.items() if k != "history"}
        return record

    def mf_flags_row(self, engine, flags, runs):
        """`mf fit TRAIN FLAGS` on every run: mf's defaults (`--rank k`), or an algorithm's
        (`--rank k --algorithm bayes|svdpp`)."""
        row = self.new_row(engine, "`mf fit TRAIN " + " ".join(flags) + "`")
        try:
            row["runs"] = [self.mf_run(run, flags, keep_report=True) for run in runs]
            row["status"] = "ok"
        except EngineError as err:
            row.update(status="failed", error=str(err))
        return row

    def mf_tuned_row(self, runs):
        a = self.args
        grid = []
        for schedule in a.grid.get("schedules", ["decaying"]):
          for lam in a.grid["regularization"]:
            for epochs in a.grid["epochs"]:
                flags = (["--rank", str(a.rank), "--regularization", f"{lam:g}", "--epochs", str(epochs)]
                         + SCHEDULE_FLAGS[schedule])
                point = {"regularization": lam, "epochs": epochs, "schedule": schedule, "flags": " ".join(flags),
                         "status": "ok", "error": None, "runs": []}
                try:
                    point["runs"] = [self.mf_run(run, flags) for run in runs]
                    point["summary"] = report.summarize_runs(point["runs"])
                    self.log(f"    grid {schedule} λ {lam:g}, {epochs} epochs: RMSE {point['summary']['rmse']:.4f}, "
                             f"fit {point['summary']['fit_seconds']:.2f} s")
                except EngineError as err:
                    point.update(status="failed", error=str(err))
                    self.log(f"    grid λ {lam:g}, {epochs} epochs: failed: {err}")
                grid.append(point)
        row = self.new_row("mf-tuned", f"`mf fit TRAIN --rank {a.rank} --regularization λ --epochs E`")
        row["grid"] = grid
        best = report.best_point(grid)
        if best is None:
            row.update(status="failed", error=next((p["error"] for p in grid if p.get("error")), "no grid point ran"))
            return row
        row.update(status="ok", runs=best["runs"], best={"regularization": best["regularization"],
                                                          "epochs": best["epochs"],
                                                          "schedule": best.get("schedule", "decaying")})
        row["settings"] = f"`mf fit TRAIN {best['flags']}`"
        return row

    def libmf_row(self, runs):
        a = self.args
        row = self.new_row("libmf", f"k={a.rank}, 20 iterations, λ 0.1, η 0.1, {a.threads} threads (LIBMF defaults "
                                    "but k and threads)")
        if not self.libmf:
            row.update(status="failed", error="LIBMF was not built: " + (self.results["meta"]["libmf"].get("error")
                                                                         or "unknown reason"))
            return row
        try:
            out = []
            for run in runs:
                rec = engines.libmf_run(self.libmf, run["train"], run["test"], a.rank, 20, a.threads, 0.1, 0.1,
                                        timeout=a.timeout)
                out.append({"fold": run["fold"], "rmse": rec["rmse"], "mae": rec["mae"], "rmse_raw": rec.get("rmse_raw"),
                            "fit_seconds": (rec.get("load_seconds") or 0) + rec["train_seconds"],
                            "train_seconds": rec["train_seconds"], "load_seconds": rec.get("load_seconds"),
                            "wall_seconds": rec.get("wall_seconds"), "attempts": rec.get("attempts"),
                            "fallbacks": rec.get("fallbacks"), "peak_rss_mib": rec.get("peak_rss_mib")})
            row.update(status="ok", runs=out)
        except (engines.EngineError, ParseError) as err:
            row.update(status="failed", error=str(err))
        return row

    def surprise_row(self, engine, runs, ds):
        a = self.args
        row = self.new_row(engine, "")
        p = self.peers.get("scikit-surprise") or {}
        if not self.py or not p.get("installed"):
            row.update(status="not installed", error=p.get("error") or "scikit-surprise is not installed")
            return row
        train_count = (ds.get("shape") or {}).get("train") or 0
        if engine == "surprise-svdpp" and train_count > a.surprise_svdpp_max_ratings:
            row.update(status="skipped", error=f"Surprise SVD++ runs only up to {a.surprise_svdpp_max_ratings:,} "
                                               f"training ratings (--surprise-svdpp-max-ratings); this set has "
                                               f"{train_count:,}")
            return row
        if train_count > a.surprise_max_ratings:
            row.update(status="skipped", error=f"Surprise runs only up to {a.surprise_max_ratings:,} training "
                                               f"ratings (--surprise-max-ratings); this set has {train_count:,}")
            return row
        shape = ds.get("shape") or {}
        scale = [0.5, 5] if shape.get("half_stars") else [1, 5]
        svd = engine in ("surprise-svd", "surprise-svdpp")
        spec = {"rank": a.rank if svd else 0, "epochs": 20 if svd else 10, "rating_scale": scale,
                "threads": 1, "repeats": 1, "max_repeat_seconds": 1e12, "engine": engine, "runs": runs}
        engines.run_peer_row(row, self.py, spec, os.path.join(self.work, "specs"), a.timeout)
        for run in row.get("runs", []):
            run["fit_seconds"] = (run.get("load_seconds") or 0) + run["train_seconds"]
        if row["status"] == "ok":
            row["settings"] = (row.get("settings") or "") + f", rating_scale {scale[0]:g}–{scale[1]:g}"
        return row

    def myfm_row(self, runs, ds):
        """myFM at mf's Bayesian rank, sweeps and kept samples (issue 9), through the harness's
        peer runner."""
        a = self.args
        row = self.new_row("myfm", "")
        p = self.peers.get("myfm") or {}
        if not self.py or not p.get("installed"):
            row.update(status="not installed", error=p.get("error") or "myfm is not installed")
            return row
        scale = [0.5, 5] if (ds.get("shape") or {}).get("half_stars") else [1, 5]
        spec = {"rank": a.rank, "epochs": BAYES["sweeps"], "params": {"kept_sweeps": BAYES["kept_sweeps"]},
                "rating_scale": scale,
                "threads": 1, "repeats": 1, "max_repeat_seconds": 1e12, "engine": "myfm", "runs": runs}
        engines.run_peer_row(row, self.py, spec, os.path.join(self.work, "specs"), a.timeout)
        for run in row.get("runs", []):
            run["fit_seconds"] = (run.get("load_seconds") or 0) + run["train_seconds"]
        return row

    def new_row(self, engine, settings):
        return {"engine": engine, "label": report.ENGINES[engine], "settings": settings, "status": "pending",
                "error": None, "runs": []}

    def run_dataset(self, make):
        ds, runs = make()
        self.log(f"data set {ds['title']}" + (f": {ds['error']}" if ds.get("error") else ""))
        ds["runs"] = runs
        ds["rows"] = []
        if ds.get("error"):
            return ds
        if ds.get("shape"):
            self.log("  " + report.shape_line(ds["shape"]))
        e = self.args.engines
        k = str(self.args.rank)
        steps = [("mf-default", lambda: self.mf_flags_row("mf-default", ["--rank", k], runs)), ("mf-tuned", lambda: self.mf_tuned_row(runs)),
                 ("libmf", lambda: self.libmf_row(runs)),
                 ("surprise-svd", lambda: self.surprise_row("surprise-svd", runs, ds)),
                 ("surprise-baseline", lambda: self.surprise_row("surprise-baseline", runs, ds)),
                 ("mf-bayes", lambda: self.mf_flags_row("mf-bayes", ["--rank", k, "--algorithm", "bayes"], runs)),
                 ("myfm", lambda: self.myfm_row(runs, ds)),
                 ("mf-svdpp", lambda: self.mf_flags_row("mf-svdpp", ["--rank", k, "--algorithm", "svdpp"], runs)),
                 ("surprise-svdpp", lambda: self.surprise_row("surprise-svdpp", runs, ds))]
        for engine, step in steps:
            if engine not in e:
                continue
            self.log(f"  {report.ENGINES[engine]}")
            row = step()
            if row["status"] == "ok":
                row["summary"] = report.summarize_runs(row["runs"])
                s = row["summary"]
                self.log(f"    RMSE {s['rmse']:.4f}, fit {s['fit_seconds']:.2f} s")
            else:
                self.log(f"    {row['status']}: {row['error']}")
            ds["rows"].append(row)
        return ds

    # output

    def save(self, complete=False):
        res = self.results
        res["meta"]["complete"] = complete
        res["meta"]["duration_seconds"] = round(time.perf_counter() - self.started, 1)
        os.makedirs(self.args.results, exist_ok=True)
        path = os.path.join(self.args.results, "suite.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, default=str)
        os.replace(path + ".tmp", path)
        render(self.args.results)

    def chart(self):
        png = os.path.join(self.args.results, "suite.png")
        if not self.py:
            self.log("no chart: no virtual environment")
            return None
        r = run_child([self.py, "-m", "suitelib.chart", os.path.join(self.args.results, "suite.json"), png], cwd=HERE)
        if r["status"] != 0:
            self.log(f"chart failed: {tail(r['stderr'])}")
            return None
        return png

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)


def python_split(path, train, test, fraction, seed):
    """A global random split of a rating file (the fallback when `mf split` fails)."""
    rows = list(sets.read_triples(path))
    rng = random.Random(seed)
    with open(train, "w", encoding="utf-8") as tr, open(test, "w", encoding="utf-8") as te:
        tr.write("user,item,rating\n")
        te.write("user,item,rating\n")
        for user, item, rating in rows:
            (te if rng.random() < fraction else tr).write(f"{user},{item},{rating:g}\n")


def render(results_dir):
    """suite.md from suite.json alone (the only source of the markdown's figures)."""
    with open(os.path.join(results_dir, "suite.json"), encoding="utf-8") as f:
        results = json.load(f)
    text = report.render_markdown(results)
    with open(os.path.join(results_dir, "suite.md"), "w", encoding="utf-8") as f:
        f.write(text)
    return results, text


def main(argv=None):
    args = parse_args(argv)
    args.out = os.path.abspath(args.out)
    args.results = os.path.abspath(args.results)
    if args.report_only:
        try:
            results, text = render(args.results)
        except OSError as err:
            raise SystemExit(f"--report-only: {err}")
        py = env.venv_python()
        if os.path.exists(py):
            run_child([py, "-m", "suitelib.chart", os.path.join(args.results, "suite.json"),
                       os.path.join(args.results, "suite.png")], cwd=HERE)
        print(text)
        return 0
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.results, exist_ok=True)
    for name in ("suite.json", "suite.md", "suite.png"):  # never leave a previous run's files beside this one's
        try:
            os.remove(os.path.join(args.results, name))
        except FileNotFoundError:
            pass
    log = Log(os.path.join(args.out, "suite.log"))
    log(f"suite.py {' '.join(sys.argv[1:])}")
    suite = Suite(args, log)
    try:
        suite.setup()
        for name, p in suite.peers.items():
            log(f"package {name}: " + (p["version"] if p.get("installed") else f"NOT INSTALLED: {p.get('error')}"))
        log("LIBMF: " + (suite.results["meta"]["libmf"].get("flags") or suite.results["meta"]["libmf"].get("error")
                         or "not requested"))
        for make in suite.datasets():
            suite.results["datasets"].append(suite.run_dataset(make))
            suite.save()
        suite.save(complete=True)
        png = suite.chart()
        if png:
            suite.results["chart"] = "suite.png"
        suite.save(complete=True)
    finally:
        suite.close()
    _, text = render(args.results)
    print(text)
    log(f"wrote {args.results}/suite.json, suite.md" + (", suite.png" if suite.results.get("chart") else "")
        + f" in {time.perf_counter() - suite.started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
