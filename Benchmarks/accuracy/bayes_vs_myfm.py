#!/usr/bin/env python3
"""Bayesian MF beside myFM on the accuracy suite's data sets (issue 9).

For each set — MovieLens-100K's five folds and the suite's `mf synth` sets (suitelib/sets.py,
the same flags and 90/10 split; the 10M set only with --large) — it runs

  * `mf fit TRAIN --algorithm bayes --rank 32` (mf's defaults: 200 sweeps, 32 samples kept 6
    apart after 8 of burn-in), then `mf evaluate TEST`;
  * myFM's MyFMRegressor on the one-hot encodings of user and item (biased MF as an FM), the same
    rank and 200 sweeps, keeping its default 195 samples, predictions clipped to the training
    rating range (as mf clamps);

and writes the test RMSEs, the seconds per sweep (mf: the median sweep of `mf fit --json`; myFM:
its fit time / sweeps) and their ratio to Benchmarks/accuracy/results/bayes-vs-myfm.md.

Run it with a Python that has myFM (`pip install myfm scipy`), e.g. the comparison harness's
virtual environment:

    Benchmarks/compare/.venv/bin/python Benchmarks/accuracy/bayes_vs_myfm.py [--sets a,b] [--large]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sps
import myfm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from suitelib import sets  # noqa: E402


def read(path):
    triples = list(sets.read_triples(path))
    return [t[0] for t in triples], [t[1] for t in triples], np.array([t[2] for t in triples])


def id_order(x):
    """Numeric ids in numeric order (as myfm_ml100k.py and scikit-learn's OneHotEncoder order them)."""
    return (0, int(x), "") if x.isdigit() else (1, 0, x)


def one_hot(users, items, user_index, item_index):
    rows, cols = [], []
    for n, (u, i) in enumerate(zip(users, items)):
        if u in user_index:
            rows.append(n)
            cols.append(user_index[u])
        if i in item_index:
            rows.append(n)
            cols.append(len(user_index) + item_index[i])
    return sps.csr_matrix((np.ones(len(rows)), (rows, cols)),
                          shape=(len(users), len(user_index) + len(item_index)))


def run_myfm(train, test, rank, sweeps):
    tu, ti, tr = read(train)
    eu, ei, er = read(test)
    user_index = {u: n for n, u in enumerate(sorted(set(tu), key=id_order))}
    item_index = {i: n for n, i in enumerate(sorted(set(ti), key=id_order))}
    fm = myfm.MyFMRegressor(rank=rank, random_seed=42)
    start = time.time()
    fm.fit(one_hot(tu, ti, user_index, item_index), tr, n_iter=sweeps, n_kept_samples=sweeps - 5)
    seconds = time.time() - start
    predicted = np.clip(fm.predict(one_hot(eu, ei, user_index, item_index)), tr.min(), tr.max())
    return float(np.sqrt(np.mean((predicted - er) ** 2))), seconds / sweeps


def run_mf(mf, train, test, rank, model, threads):
    fit = json.loads(subprocess.run(
        [mf, "fit", train, "--algorithm", "bayes", "--rank", str(rank), "--threads", str(threads),
         "--quiet", "--json", "--model", model], check=True, capture_output=True, text=True).stdout)
    ev = json.loads(subprocess.run([mf, "evaluate", test, "--model", model, "--json"], check=True,
                                   capture_output=True, text=True).stdout)
    per_sweep = statistics.median(e["seconds"] for e in fit["history"])
    return ev["rmse"], per_sweep, fit["epochs_run"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build", "release", "mf"))
    ap.add_argument("--ml100k", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "ml-100k"))
    ap.add_argument("--sets", default=None, help="comma-separated set names (default: all but the 10M set)")
    ap.add_argument("--large", action="store_true", help="add the 10M-rating set")
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default=os.path.join(HERE, "results", "bayes-vs-myfm.md"))
    args = ap.parse_args()
    names = set(args.sets.split(",")) if args.sets else None
    work = os.path.join(HERE, "out", "bayes")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "m.mf")
    jobs = []  # (set name, title, [(train, test)])
    if (names is None or "ml100k-folds" in names) and os.path.exists(os.path.join(args.ml100k, "u1.base")):
        jobs.append(("ml100k-folds", "ML-100K folds u1–u5",
                     [(f"{args.ml100k}/u{k}.base", f"{args.ml100k}/u{k}.test") for k in range(1, 6)]))
    for s in sets.select_synth("large" if args.large else "full", names):
        train = os.path.join(work, s["name"] + "-train.csv")
        test = os.path.join(work, s["name"] + "-test.csv")
        if not (os.path.exists(train) and os.path.exists(test)):
            subprocess.run([args.mf] + sets.synth_command(s["flags"], train, test), check=True,
                           capture_output=True)
        jobs.append((s["name"], "synth: " + s["title"], [(train, test)]))
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    lines = [f"Bayesian MF (`mf fit --algorithm bayes --rank {args.rank}`, defaults, {args.threads} threads, "
             f"mf at {revision}) beside myFM {myfm.__version__} (MyFMRegressor, rank {args.rank}, 200 sweeps, "
             f"195 kept), {datetime.date.today()}; test RMSE (mean over the files of a set) and seconds per "
             "sweep (median sweep for mf, fit time / sweeps for myFM).", "",
             "| data set | mf RMSE | myFM RMSE | mf ≤ myFM | mf s/sweep | myFM s/sweep | mf ÷ myFM time |",
             "|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for name, title, pairs in jobs:
        mf_rmse, mf_time, fm_rmse, fm_time = [], [], [], []
        for train, test in pairs:
            r, t, sweeps = run_mf(args.mf, train, test, args.rank, model, args.threads)
            mf_rmse.append(r)
            mf_time.append(t)
            r, t = run_myfm(train, test, args.rank, sweeps)
            fm_rmse.append(r)
            fm_time.append(t)
        a, b = statistics.mean(mf_rmse), statistics.mean(fm_rmse)
        ta, tb = statistics.median(mf_time), statistics.median(fm_time)
        line = (f"| {title} | {a:.4f} | {b:.4f} | {'yes' if a <= b else 'no'} | {ta:.4f} | {tb:.4f} | "
                f"{ta / tb:.2f}× |")
        lines.append(line)
        print(line, flush=True)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
