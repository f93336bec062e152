#!/usr/bin/env python3
"""End to end: a rating CSV to a saved model, wall time and peak memory, mf beside LIBMF and pandas.

    python3 Benchmarks/compare/end_to_end.py [--sizes 10000000,25000000] [--repeats 3] [--mf PATH]

For each size, `mf synth --ratings N --seed 1` writes a CSV (user,item,rating,timestamp with a
header, integer ids) into Benchmarks/compare/out/e2e/ (never committed), and from it a copy with
string ids ("u17", "i42") and LIBMF's own text format ("user item rating", 0-based). Then, in
each repeat, every step below runs once, in an order rotated from repeat to repeat so that a
machine's changing load falls on all of them alike; the tables give medians.

  read, integer ids   pandas.read_csv(CSV) and mf's reader (`read_seconds` of `mf fit`), MB/s
  read, string ids    the same on the string-id copy
  mf, 20 epochs       `mf fit CSV --rank 32 --no-tune --epochs 20 --model M` with its default
                      progress output on (stderr to a pipe): wall time and peak RSS of the command
  mf, defaults        `mf fit CSV --rank 32 --model M` (self-tuned), wall time, peak RSS, and test
                      RMSE by `mf evaluate`
  LIBMF fit           libmf_driver (LIBMF 2017 source bundled in PyPI libmf 0.9.2; -O3 -march=native,
                      AVX, OpenMP): k 32, 20 iterations, 2 threads, its other defaults;
                      `train_seconds` is the mf_train call alone, test RMSE from its predictions
  LIBMF mf-train      libmf_train (upstream mf-train's flow: read_problem on LIBMF's own text
                      format, mf_train, mf_save_model, quiet): wall time and peak RSS
  reference           pandas read_csv + LIBMF's mf_train seconds (the issue's yardstick)

With --peers, the other engines' whole commands too, each CSV → saved model, wall time and peak RSS
of the process (2 threads, rank 32):

  mf implicit ALS     `mf fit CSV --implicit --rank 32 --epochs 15 --model M` (the rating is the
                      interaction's value; confidence 1 + 10·r, λ 0.1, CG 3 steps: mf's defaults)
  implicit ALS        implicit 0.7 AlternatingLeastSquares(factors=32, iterations=15, alpha=10,
                      regularization=0.1, num_threads=2; CG as its default) on a user × item CSR built
                      from pandas.read_csv, factors saved with numpy.save
  mf SGD, 20 epochs   (the row above)
  Surprise SVD        Surprise's SVD(n_factors=32, n_epochs=20) on Dataset.load_from_df(pandas frame),
                      model saved with surprise.dump (one thread: Surprise has no others); only up to
                      10M ratings, where it already takes minutes, and in the first repeat only

With --peers spark (or implicit,surprise,spark), explicit ALS end to end:

  mf ALS              `mf fit CSV --algorithm als --rank 32 --epochs 10 --regularization 0.1
                      --convergence-tolerance 0 --no-tune --threads 2 --model M`
  Spark ALS           pyspark 4.3.0, local[2], spark.driver.memory --spark-memory (12g):
                      spark.read.csv with a schema, ALS(rank=32, maxIter=10, regParam=0.1).fit,
                      model.write().save(); peak RSS = the JVM's VmHWM + the Python driver's peak

Writes results/end-to-end.{md,json} (--results NAME: results/NAME.{md,json}); every figure in the README's end-to-end table comes from there.
"""
import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from harness.env import build_libmf, ensure_venv, machine  # noqa: E402
from harness.proc import Log, run_child, tail  # noqa: E402

OUT = os.path.join(HERE, "out", "e2e")
RESULTS = os.path.join(HERE, "results")

IMPLICIT_FIT = """
import os, sys, time
import numpy as np, pandas as pd, scipy.sparse as sp
from threadpoolctl import threadpool_limits
from implicit.cpu.als import AlternatingLeastSquares
frame = pd.read_csv(sys.argv[1])
users, user_index = np.unique(frame.iloc[:, 0].to_numpy(), return_inverse=True)
items, item_index = np.unique(frame.iloc[:, 1].to_numpy(), return_inverse=True)
matrix = sp.csr_matrix((frame.iloc[:, 2].to_numpy(np.float32), (user_index, item_index)),
                       shape=(len(users), len(items)))
del frame
with threadpool_limits(1, "blas"):
    model = AlternatingLeastSquares(factors=32, iterations=15, alpha=10.0, regularization=0.1,
                                    num_threads=2, random_state=1)
    model.fit(matrix, show_progress=False)
np.save(sys.argv[2] + "-users.npy", model.user_factors)
np.save(sys.argv[2] + "-items.npy", model.item_factors)
"""

SURPRISE_FIT = """
import sys
import pandas as pd
from surprise import SVD, Dataset, Reader, dump
frame = pd.read_csv(sys.argv[1])
data = Dataset.load_from_df(frame.iloc[:, :3], Reader(rating_scale=(frame.iloc[:, 2].min(), frame.iloc[:, 2].max())))
del frame
trainset = data.build_full_trainset()
algo = SVD(n_factors=32, n_epochs=20, random_state=1)
algo.fit(trainset)
dump.dump(sys.argv[2], algo=algo)
"""

SPARK_FIT = """
import json, os, sys
from pyspark.sql import SparkSession
from pyspark.sql.types import FloatType, IntegerType, LongType, StructField, StructType
from pyspark.ml.recommendation import ALS
csv, path, memory = sys.argv[1], sys.argv[2], sys.argv[3]
spark = (SparkSession.builder.master("local[2]").appName("mf-e2e").config("spark.driver.memory", memory)
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
schema = StructType([StructField("user", IntegerType()), StructField("item", IntegerType()),
                     StructField("rating", FloatType()), StructField("timestamp", LongType())])
frame = spark.read.csv(csv, header=True, schema=schema).select("user", "item", "rating")
model = ALS(rank=32, maxIter=10, regParam=0.1, userCol="user", itemCol="item", ratingCol="rating",
            coldStartStrategy="nan", seed=1).fit(frame)
model.write().overwrite().save(path)
proc = spark.sparkContext._gateway.proc
jvm = None
with open(f"/proc/{proc.pid}/status") as f:
    for line in f:
        if line.startswith("VmHWM:"):
            jvm = int(line.split()[1]) / 1024.0
spark.stop()
try:
    proc.stdin.close()
    proc.wait(timeout=60)
except Exception:
    proc.kill()
with open("/proc/self/status") as f:
    py = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024.0
print(json.dumps({"jvm_peak_mib": jvm, "python_peak_mib": py}))
"""

# Steps run in the first repeat only (minutes each): their figure is one run, not a median.
ONCE = {"surprise_svd"}

PANDAS_READ = """
import json, sys, time
import pandas as pd
t = time.perf_counter()
frame = pd.read_csv(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "rows": len(frame)}))
"""


def check(result, what):
    if result["timed_out"] or result["status"] != 0:
        how = (f"timed out after {result['wall_seconds']:.0f} s" if result["timed_out"]
               else f"exit {result['status']}")
        raise RuntimeError(f"{what} failed ({how}): {tail(result['stderr'] or result['stdout'])}")
    return result


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in: {tail(text)}")


def git_revision():
    r = run_child(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    rev = r["stdout"].strip() or "unknown"
    dirty = run_child(["git", "-C", ROOT, "status", "--porcelain", "--", "Sources", "Package.swift"])
    return rev + ("-dirty" if dirty["stdout"].strip() else "")


def write_results(name, report, markdown):
    """Writes results/NAME.json (the report) and results/NAME.md (its markdown), and prints the latter."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + ".json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(RESULTS, name + ".md"), "w") as f:
        f.write(markdown(report))
    print(markdown(report))


def make_data(mf, n, log):
    """(int CSV, string-id CSV, LIBMF text file, test CSV) for n ratings, generated once."""
    os.makedirs(OUT, exist_ok=True)
    base = os.path.join(OUT, f"synth-{n}")
    csv, test, strings, libmf = base + ".csv", base + "-test.csv", base + "-strings.csv", base + ".libmf"
    if not (os.path.exists(csv) and os.path.exists(test)):
        log(f"mf synth --ratings {n} --seed 1")
        check(run_child([mf, "synth", "--ratings", str(n), "--seed", "1", "--output", csv, "--test-output", test]),
              "mf synth")
    if not os.path.exists(strings):
        log(f"string-id copy of {os.path.basename(csv)}")
        with open(csv) as src, open(strings + ".tmp", "w") as dst:
            dst.write(src.readline())
            for line in src:
                u, i, rest = line.split(",", 2)
                dst.write(f"u{u},i{i},{rest}")
        os.replace(strings + ".tmp", strings)
    if not os.path.exists(libmf):
        log(f"LIBMF text copy of {os.path.basename(csv)}")
        with open(csv) as src, open(libmf + ".tmp", "w") as dst:
            src.readline()
            for line in src:
                u, i, r, _ = line.split(",", 3)
                dst.write(f"{int(u) - 1} {int(i) - 1} {r}\n")
        os.replace(libmf + ".tmp", libmf)
    return csv, strings, libmf, test


def build_libmf_train(libmf_source, folder):
    exe = os.path.join(folder, "libmf_train-avx")
    source = os.path.join(HERE, "libmf_train.cpp")
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(source):
        return exe
    check(run_child(["g++", "-O3", "-march=native", "-fopenmp", "-DUSEAVX", "-DUSEOMP", "-std=c++11", "-pthread",
                     "-I", libmf_source, source, os.path.join(libmf_source, "mf.cpp"), "-o", exe]),
          "compiling libmf_train")
    return exe


def steps(mf, py, driver, trainer, files, workdir, size, peers, spark_memory="12g", spark_timeout=3600):
    csv, strings, libmf, test = files
    model = os.path.join(workdir, "m.mf")

    def pandas_read(path):
        r = check(run_child([py, "-c", PANDAS_READ, path]), "pandas.read_csv")
        return {"seconds": last_json(r["stdout"])["seconds"]}

    def mf_read(path):
        r = check(run_child([mf, "fit", path, "--rank", "32", "--no-tune", "--epochs", "1", "--json", "--quiet",
                             "--model", model]), "mf fit (read)")
        return {"seconds": last_json(r["stdout"])["read_seconds"]}

    def mf_twenty():
        # Progress on: stderr goes to a pipe (run_child's temporary file) as a user's terminal would.
        r = check(run_child([mf, "fit", csv, "--rank", "32", "--no-tune", "--epochs", "20", "--json",
                             "--model", model]), "mf fit --epochs 20")
        fit = last_json(r["stdout"])
        epochs = [h["seconds"] for h in fit["history"]]
        return {"wall_seconds": r["wall_seconds"], "peak_rss_mib": r["peak_rss_mib"],
                "read_seconds": fit["read_seconds"], "fit_seconds": fit["seconds"],
                "epoch_seconds": statistics.median(epochs),
                "setup_seconds": fit["history"][0]["elapsed_seconds"] - epochs[0]}

    def mf_defaults():
        r = check(run_child([mf, "fit", csv, "--rank", "32", "--json", "--model", model]), "mf fit (defaults)")
        fit = last_json(r["stdout"])
        e = check(run_child([mf, "evaluate", test, "--model", model, "--json"]), "mf evaluate")
        return {"wall_seconds": r["wall_seconds"], "peak_rss_mib": r["peak_rss_mib"],
                "fit_seconds": fit["seconds"], "test_rmse": last_json(e["stdout"])["rmse"]}

    def libmf_fit():
        for _ in range(4):  # exit 75: the driver's watchdog caught LIBMF 0.9.2's end-of-training hang
            r = run_child([driver, "--train", csv, "--test", test, "--k", "32", "--iters", "20", "--threads", "2"])
            if r["status"] != 75:
                break
        out = last_json(check(r, "libmf_driver")["stdout"])
        return {"train_seconds": out["train_seconds"], "test_rmse": out["rmse"],
                "epoch_seconds": statistics.median(out["epoch_seconds"]) if out.get("epoch_seconds") else None,
                "peak_rss_mib": r["peak_rss_mib"]}

    def libmf_train():
        r = check(run_child([trainer, "-k", "32", "-t", "20", "-s", "2", libmf, os.path.join(workdir, "m.libmf")]),
                  "libmf_train")
        out = last_json(r["stdout"])
        return dict(out, wall_seconds=r["wall_seconds"], peak_rss_mib=r["peak_rss_mib"])

    def whole_command(cmd, what):
        r = check(run_child(cmd), what)
        return {"wall_seconds": r["wall_seconds"], "peak_rss_mib": r["peak_rss_mib"]}

    def spark_als():
        # The JVM is the Python driver's child: its peak is read from /proc before it stops and
        # added to the driver's own (the OS's figure for the driver would be the larger of the two).
        r = check(run_child([py, "-c", SPARK_FIT, csv, os.path.join(workdir, "spark-model"), spark_memory],
                            timeout=spark_timeout), "Spark ALS")
        out = last_json(r["stdout"])
        peak = (out["jvm_peak_mib"] or 0) + out["python_peak_mib"] if out.get("jvm_peak_mib") else None
        return {"wall_seconds": r["wall_seconds"], "peak_rss_mib": peak, "jvm_peak_mib": out.get("jvm_peak_mib"),
                "python_peak_mib": out.get("python_peak_mib")}

    peer_steps = {
        "mf_implicit": lambda: whole_command(
            [mf, "fit", csv, "--implicit", "--rank", "32", "--epochs", "15", "--threads", "2", "--model", model],
            "mf fit --implicit"),
        "implicit_als": lambda: whole_command(
            [py, "-c", IMPLICIT_FIT, csv, os.path.join(workdir, "implicit")], "implicit ALS"),
        "surprise_svd": lambda: whole_command(
            [py, "-c", SURPRISE_FIT, csv, os.path.join(workdir, "surprise.dump")], "Surprise SVD"),
        # Explicit ALS, CSV → saved model: mf's 10 sweeps against Spark MLlib's (rank 32, λ 0.1 in
        # both, ALS-WR scaling in both), 2 threads / local[2].
        "mf_als": lambda: whole_command(
            [mf, "fit", csv, "--algorithm", "als", "--rank", "32", "--epochs", "10", "--regularization", "0.1",
             "--convergence-tolerance", "0", "--no-tune", "--threads", "2", "--model", model], "mf fit --algorithm als"),
        "spark_als": spark_als,
    }
    if not peers:
        peer_steps = {}
    elif size > 10_000_000:
        peer_steps.pop("surprise_svd")
    groups = {"implicit": ("mf_implicit", "implicit_als"), "surprise": ("surprise_svd",),
              "spark": ("mf_als", "spark_als")}
    wanted = {step for g in (peers or "").split(",") if g.strip() for step in groups.get(g.strip(), ())}
    peer_steps = {k: v for k, v in peer_steps.items() if k in wanted}
    return dict({
        "pandas_read_int": lambda: pandas_read(csv),
        "pandas_read_string": lambda: pandas_read(strings),
        "mf_read_int": lambda: mf_read(csv),
        "mf_read_string": lambda: mf_read(strings),
        "mf_20_epochs": mf_twenty,
        "mf_defaults": mf_defaults,
        "libmf_fit": libmf_fit,
        "libmf_train": libmf_train,
    }, **peer_steps)


def median_of(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(size, files, runs):
    csv, strings, _, _ = files
    mb_int, mb_str = os.path.getsize(csv) / 1e6, os.path.getsize(strings) / 1e6
    m = {name: {k: median_of(rs, k) for k in rs[0]} for name, rs in runs.items() if rs}

    def get(step, key):
        return m.get(step, {}).get(key)

    def ratio(a, b):
        return a / b if a is not None and b else None

    reference = (get("pandas_read_int", "seconds") + get("libmf_fit", "train_seconds")
                 if get("pandas_read_int", "seconds") and get("libmf_fit", "train_seconds") else None)
    return {
        "ratings": size, "csv_mb": mb_int, "strings_csv_mb": mb_str, "medians": m, "runs": runs,
        "read_mb_per_s": {
            "pandas_int": ratio(mb_int, get("pandas_read_int", "seconds")),
            "mf_int": ratio(mb_int, get("mf_read_int", "seconds")),
            "pandas_string": ratio(mb_str, get("pandas_read_string", "seconds")),
            "mf_string": ratio(mb_str, get("mf_read_string", "seconds"))},
        "reference_seconds": reference,
        "mf_20_epochs_over_reference": ratio(get("mf_20_epochs", "wall_seconds"), reference),
        "mf_defaults_over_reference": ratio(get("mf_defaults", "wall_seconds"), reference),
        "sgd_epoch_over_libmf": ratio(get("mf_20_epochs", "epoch_seconds"), get("libmf_fit", "epoch_seconds")),
    }


def markdown(report):
    lines = [
        "# End to end: rating CSV to saved model",
        "",
        f"Generated by `python3 Benchmarks/compare/end_to_end.py` on {report['date']} (mf {report['mf_revision']}; "
        f"{report['machine'].get('cpu', '?')}, {report['machine'].get('cores')} cores; pandas {report['pandas']}; "
        "LIBMF = the 2017 LIBMF source bundled in PyPI libmf 0.9.2, -O3 -march=native AVX OpenMP). "
        f"Medians of {report['repeats']} repeats, steps interleaved. Data: `mf synth --ratings N --seed 1` (planted "
        "rank 8, user and item biases, Zipf activity), 90/10 split by the generator; rank 32, 2 threads throughout.",
        "",
        "Rows from an earlier run of the script (kept with `--append`) are marked with their own date "
        "and revision below the table.",
        "",
        "| ratings | CSV MB | read MB/s: mf / pandas (int ids) | read MB/s: mf / pandas (string ids) | "
        "mf 20 epochs, CSV→model, progress on: wall s (read, set-up, epoch) | peak RSS MiB | "
        "pandas read + LIBMF fit s | ratio | LIBMF mf-train (own format) wall s / RSS MiB | "
        "mf defaults wall s / RMSE | LIBMF 20 it. RMSE |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    def num(value, spec):
        return "–" if value is None else format(value, spec)

    for s in report["sets"]:
        m = s["medians"]
        r = s["read_mb_per_s"]
        t = m.get("mf_20_epochs", {})
        d = m.get("mf_defaults", {})
        lf = m.get("libmf_fit", {})
        lt = m.get("libmf_train", {})
        read_int = r["mf_int"] / r["pandas_int"] if r["mf_int"] and r["pandas_int"] else None
        read_str = r["mf_string"] / r["pandas_string"] if r["mf_string"] and r["pandas_string"] else None
        lines.append(
            f"| {s['ratings'] / 1e6:.1f}M | {s['csv_mb']:.0f} | {num(r['mf_int'], '.0f')} / {num(r['pandas_int'], '.0f')} "
            f"({num(read_int, '.2f')}×) | {num(r['mf_string'], '.0f')} / {num(r['pandas_string'], '.0f')} "
            f"({num(read_str, '.2f')}×) | {num(t.get('wall_seconds'), '.2f')} ({num(t.get('read_seconds'), '.2f')}, "
            f"{num(t.get('setup_seconds'), '.2f')}, {num(t.get('epoch_seconds'), '.3f')}) | "
            f"{num(t.get('peak_rss_mib'), '.0f')} (LIBMF fit {num(lf.get('peak_rss_mib'), '.0f')}) | "
            f"{num(s['reference_seconds'], '.2f')} | **{num(s['mf_20_epochs_over_reference'], '.2f')}×** | "
            f"{num(lt.get('wall_seconds'), '.2f')} / {num(lt.get('peak_rss_mib'), '.0f')} | "
            f"{num(d.get('wall_seconds'), '.2f')} / {num(d.get('test_rmse'), '.4f')} | {num(lf.get('test_rmse'), '.4f')} |")
    lines += [
        "",
        "Ratio = mf's whole 20-epoch command (read, set-up, 20 epochs with their progress lines, model "
        "written) over pandas.read_csv + LIBMF's mf_train call alone. SGD epoch ratio (mf / LIBMF, same run): "
        + ", ".join(f"{s['ratings'] / 1e6:.1f}M {s['sgd_epoch_over_libmf']:.2f}×" for s in report["sets"]
                    if s["sgd_epoch_over_libmf"]) + ".",
        "",
    ]
    peer_sets = [s for s in report["sets"] if any(k in s["medians"] for k in ("mf_implicit", "implicit_als", "surprise_svd"))]
    if peer_sets:
        lines += [
            "**Other engines, CSV → saved model** (`--peers`; each engine's whole process, read with pandas for the "
            "Python ones; rank 32; medians): implicit feedback, mf `--implicit` against implicit's ALS, both 15 "
            "iterations, 2 threads, confidence 1 + 10·r, λ 0.1; rating prediction, mf SGD 20 epochs (from the table "
            "above) against Surprise's SVD, 20 epochs, one thread (Surprise has no others; one run).",
            "",
            "| ratings | mf implicit ALS: wall s / RSS MiB | implicit ALS: wall s / RSS MiB | ratio | "
            "mf SGD 20 ep.: wall s / RSS MiB | Surprise SVD: wall s / RSS MiB | ratio |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in peer_sets:
            m = s["medians"]
            a, b = m.get("mf_implicit", {}), m.get("implicit_als", {})
            c, d = m.get("mf_20_epochs", {}), m.get("surprise_svd", {})
            def pair(x):
                return f"{num(x.get('wall_seconds'), '.2f')} / {num(x.get('peak_rss_mib'), '.0f')}"
            def over(x, y):
                return num(x["wall_seconds"] / y["wall_seconds"], '.2f') + "×" if x.get("wall_seconds") and y.get("wall_seconds") else "–"
            lines.append(f"| {s['ratings'] / 1e6:.1f}M | {pair(a)} | {pair(b)} | {over(a, b)} | {pair(c)} | {pair(d)} | {over(c, d)} |")
        lines.append("")
    spark_sets = [s for s in report["sets"] if "spark_als" in s["medians"] or "spark_als" in s.get("errors", {})]
    if spark_sets:
        lines += [
            "**Spark MLlib's ALS, CSV → saved model** (`--peers spark`): `mf fit CSV --algorithm als --rank 32 "
            "--epochs 10 --regularization 0.1 --convergence-tolerance 0 --no-tune --threads 2 --model M` against "
            "pyspark's `ALS(rank=32, maxIter=10, regParam=0.1)` on `spark.read.csv` with a schema, `local[2]`, "
            "`model.write().save(path)`; the whole process's wall time; peak RSS: mf's from the OS, Spark's the "
            "JVM's VmHWM + the Python driver's peak. Medians of the repeats (count beside).",
            "",
            "| ratings | mf ALS: wall s / RSS MiB | Spark ALS: wall s / RSS MiB (JVM + Python) | mf ÷ Spark wall | runs |",
            "|---|---|---|---|---|",
        ]
        for s in spark_sets:
            m = s["medians"]
            a, b = m.get("mf_als", {}), m.get("spark_als", {})
            err = s.get("errors", {}).get("spark_als")
            spark_cell = (f"{num(b.get('wall_seconds'), '.1f')} / {num(b.get('peak_rss_mib'), '.0f')} "
                          f"({num(b.get('jvm_peak_mib'), '.0f')} + {num(b.get('python_peak_mib'), '.0f')})"
                          if b else f"failed: {err}")
            over = (num(a["wall_seconds"] / b["wall_seconds"], ".2f") + "×"
                    if a.get("wall_seconds") and b.get("wall_seconds") else "–")
            lines.append(f"| {s['ratings'] / 1e6:.1f}M | {num(a.get('wall_seconds'), '.2f')} / "
                         f"{num(a.get('peak_rss_mib'), '.0f')} | {spark_cell} | {over} | "
                         f"{len(s['runs'].get('mf_als', []))} / {len(s['runs'].get('spark_als', []))} |")
        lines.append("")
    loads = [r[k] for s in report["sets"] if not s.get("from_run") for rs in s["runs"].values() for r in rs
             for k in ("load_before", "load_after") if r.get(k) is not None]
    if loads:
        lines += [f"Load average (1 min) before and after each step: {min(loads):.1f}–{max(loads):.1f} "
                  f"(a shared 2-core machine); mf binary SHA-256 {report.get('mf_binary_sha256', '?')[:16]}….", ""]
    for s in report["sets"]:
        if s.get("from_run"):
            f = s["from_run"]
            lines.append(f"- {s['ratings'] / 1e6:.1f}M: from the run of {f['date']} (mf {f['mf_revision']}, "
                         f"{f['repeats']} repeat(s)).")
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000000,25000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build", "release", "mf"))
    ap.add_argument("--steps", default=None,
                    help="comma-separated subset of the steps (default: all), e.g. for a size no peer fits")
    ap.add_argument("--peers", nargs="?", const="implicit,surprise", default=None,
                    help="also time other engines end to end beside mf's: implicit's ALS and Surprise's SVD "
                         "(≤ 10M) by default; 'spark' (or 'implicit,surprise,spark') adds Spark MLlib's ALS "
                         "against mf's ALS (pyspark 4.3.0 in the venv, local[2])")
    ap.add_argument("--spark-memory", default="12g", help="spark.driver.memory of the Spark step")
    ap.add_argument("--spark-timeout", type=float, default=3600, help="seconds before the Spark step is killed")
    ap.add_argument("--results", default="end-to-end",
                    help="results file name under Benchmarks/compare/results (NAME.json, NAME.md)")
    ap.add_argument("--append", action="store_true",
                    help="keep the sets already in results/end-to-end.json (other sizes) and add these")
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    log = Log(os.path.join(OUT, "log.txt"))
    py = ensure_venv(log=log)
    have_pandas = run_child([py, "-c", "import pandas; print(pandas.__version__)"])
    if have_pandas["status"] != 0:
        check(run_child([py, "-m", "pip", "install", "--quiet", "pandas==3.1.1"], timeout=1200),
              "pip install pandas==3.1.1")  # the version of the results so far
        have_pandas = run_child([py, "-c", "import pandas; print(pandas.__version__)"])
    wanted_steps = set(args.steps.split(",")) if args.steps else None
    driver = trainer = None
    if wanted_steps is None or wanted_steps & {"libmf_fit", "libmf_train"}:  # LIBMF built only when it runs
        libmf = build_libmf(py, os.path.join(HERE, "out"), log=log)
        if libmf.get("error"):
            raise SystemExit(libmf["error"])
        driver = libmf["binaries"]["avx"]
        trainer = build_libmf_train(libmf["source"], os.path.dirname(driver))
    with open(args.mf, "rb") as f:
        binary_sha256 = hashlib.sha256(f.read()).hexdigest()
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "mf_revision": git_revision(), "machine": machine(),
              "mf_binary_sha256": binary_sha256,
              "pandas": have_pandas["stdout"].strip(), "repeats": args.repeats, "sets": []}
    if args.append and os.path.exists(os.path.join(RESULTS, args.results + ".json")):
        with open(os.path.join(RESULTS, args.results + ".json")) as f:
            kept = json.load(f)
        sizes = {int(x) for x in args.sizes.split(",")}
        for old in kept["sets"]:
            if old["ratings"] not in sizes:
                old["from_run"] = old.get("from_run") or {"date": kept["date"], "mf_revision": kept["mf_revision"],
                                                          "repeats": kept["repeats"]}
                report["sets"].append(old)
    workdir = os.path.join(OUT, "work")
    os.makedirs(workdir, exist_ok=True)
    for size in [int(s) for s in args.sizes.split(",")]:
        files = make_data(args.mf, size, log)
        named = steps(args.mf, py, driver, trainer, files, workdir, size, args.peers,
                      args.spark_memory, args.spark_timeout)
        if args.steps:
            named = {k: v for k, v in named.items() if k in args.steps.split(",")}
        runs = {name: [] for name in named}
        errors = {}
        order = list(named)
        for repeat in range(args.repeats):
            rotated = order[repeat % len(order):] + order[:repeat % len(order)]
            for name in rotated:
                if (name in ONCE and repeat > 0) or name in errors:
                    continue
                log(f"{size}: repeat {repeat + 1}, {name}")
                before = os.getloadavg()[0]
                start = time.perf_counter()
                try:
                    result = named[name]()
                except RuntimeError as err:
                    # Recorded (with the time it took) rather than aborting the other steps.
                    log(f"{size}: {name} failed: {err}")
                    errors[name] = f"{err} (after {time.perf_counter() - start:.0f} s)"
                    continue
                runs[name].append(dict(result, load_before=before, load_after=os.getloadavg()[0]))
        report["sets"].append(dict(summarize(size, files, runs), errors=errors))
        report["sets"].sort(key=lambda x: x["ratings"])
        with open(os.path.join(RESULTS, args.results + ".json"), "w") as f:
            json.dump(report, f, indent=1)
    with open(os.path.join(RESULTS, args.results + ".md"), "w") as f:
        f.write(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
