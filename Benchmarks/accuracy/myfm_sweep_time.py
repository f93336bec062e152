#!/usr/bin/env python3
"""Seconds per Gibbs sweep of myFM on a rating file, for the time-per-sweep comparison with
`mf fit --algorithm bayes` on sets too large for a full 200-sweep run (README, "Bayesian MF").

    .venv/bin/python Benchmarks/accuracy/myfm_sweep_time.py TRAIN.csv [SWEEPS] [--rank 32]

MyFMRegressor on the one-hot encodings of user and item (user,item,rating[,…] lines with a
header, as `mf synth` writes), rank 32, SWEEPS sweeps (default 3); prints fit seconds / sweeps.
mf's figure is the median sweep of `mf fit TRAIN --algorithm bayes --samples 1 --burn-in 5
--thinning 1 --json` (its `history`).
"""
import argparse
import time

import numpy as np
import scipy.sparse as sps
import myfm


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("sweeps", type=int, nargs="?", default=3)
    ap.add_argument("--rank", type=int, default=32)
    args = ap.parse_args()
    with open(args.train) as f:
        rows = [line.rstrip("\n").split(",")[:3] for line in f.readlines()[1:]]
    users = {u: n for n, u in enumerate(sorted({r[0] for r in rows}))}
    items = {i: n for n, i in enumerate(sorted({r[1] for r in rows}))}
    n = len(rows)
    cols = np.empty(2 * n, dtype=np.int64)
    cols[0::2] = [users[r[0]] for r in rows]
    cols[1::2] = [len(users) + items[r[1]] for r in rows]
    x = sps.csr_matrix((np.ones(2 * n), (np.repeat(np.arange(n), 2), cols)), shape=(n, len(users) + len(items)))
    y = np.array([float(r[2]) for r in rows])
    fm = myfm.MyFMRegressor(rank=args.rank, random_seed=42)
    start = time.time()
    fm.fit(x, y, n_iter=args.sweeps, n_kept_samples=1)
    seconds = time.time() - start
    print(f"myFM {myfm.__version__}: {args.sweeps} sweeps in {seconds:.2f} s, {seconds / args.sweeps:.3f} s per sweep")


if __name__ == "__main__":
    main()
