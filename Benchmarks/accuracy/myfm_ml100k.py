#!/usr/bin/env python3
"""myFM on the MovieLens-100K folds, beside `mf fit --algorithm bayes` (README, "Bayesian MF").

The reference Bayesian factorization machine: MyFMRegressor (myFM 0.4.x, Gibbs sampling with
per-dimension Normal-Gamma priors) on the one-hot encodings of user and item (an FM over them is
biased MF), rank 32, 200 sweeps, keeping the last 195 samples (myFM's default n_kept_samples for
n_iter = 200 is all of them but 5), seed 42. Train on uK.base, predict uK.test clipped to [1, 5],
K = 1..5; a test user or item absent from training is an all-zero one-hot block (the baseline).

    python3 -m venv .venv && .venv/bin/pip install myfm scipy
    .venv/bin/python Benchmarks/accuracy/myfm_ml100k.py [--data ../shared/data/ml-100k]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sps
import myfm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Benchmarks", "compare"))
from harness.peer_runner import one_hot  # noqa: E402  (users' columns first, then items')


def read(path):
    rows = [line.split("\t")[:3] for line in open(path) if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows], np.array([float(r[2]) for r in rows])


def id_order(x):
    """Numeric ids in numeric order (as a DataFrame of ints gives them to OneHotEncoder)."""
    return (0, int(x), "") if x.isdigit() else (1, 0, x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/ml-100k"))
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--sweeps", type=int, default=200)
    args = ap.parse_args()
    rmses, times = [], []
    for k in range(1, 6):
        tu, ti, tr = read(f"{args.data}/u{k}.base")
        eu, ei, er = read(f"{args.data}/u{k}.test")
        user_index = {u: n for n, u in enumerate(sorted(set(tu), key=id_order))}
        item_index = {i: n for n, i in enumerate(sorted(set(ti), key=id_order))}
        fm = myfm.MyFMRegressor(rank=args.rank, random_seed=42)
        start = time.time()
        fm.fit(one_hot(tu, ti, user_index, item_index), tr, n_iter=args.sweeps,
               n_kept_samples=args.sweeps - 5)
        times.append(time.time() - start)
        predicted = np.clip(fm.predict(one_hot(eu, ei, user_index, item_index)), 1, 5)
        rmses.append(float(np.sqrt(np.mean((predicted - er) ** 2))))
        print(f"u{k}: RMSE {rmses[-1]:.4f}, fit {times[-1]:.2f} s", flush=True)
    cells = " | ".join(f"{r:.4f}" for r in rmses)
    print(f"| myFM {myfm.__version__} MyFMRegressor rank {args.rank}, {args.sweeps} sweeps, "
          f"{args.sweeps - 5} kept | {cells} | **{statistics.mean(rmses):.4f}** | "
          f"{statistics.median(times):.2f} s |")


if __name__ == "__main__":
    main()
