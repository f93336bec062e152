"""Top-N serving on the same factors: implicit's `recommend` / `similar_items` against mf's.

    .venv/bin/python -m harness.serving --npy DIR --train TRAIN --mf-lists LISTS.csv [--k 10] [--repeats 3]

DIR is `mf export --format npy` of an implicit model (user/item factors, ids, item biases);
LISTS.csv is `mf recommend --all-users --top K --output LISTS.csv` of the same model. The factors
are loaded into an `implicit.cpu.als.AlternatingLeastSquares` (scores p_u·q_i, plus b_i as an
extra factor column when the model has item biases), so both engines rank with the same numbers.
Timed, each `--repeats` times (min/median/max): `recommend` for every user of the model at once
(N = k, the user's training items filtered out), and `similar_items` for every item at once
(cosine, N = k + 1 since implicit returns the item itself). Printed: one JSON object with those
timings and the agreement of implicit's top-k lists with mf's (the share of mf's items found in
implicit's list, averaged over users).
"""
import argparse
import json
import os
import statistics
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.readers import read_ratings  # noqa: E402


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "runs": len(values)}


def main(argv=None):
    import numpy as np
    import scipy.sparse as sp
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--mf-lists", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)

    def ids(name):
        with open(os.path.join(a.npy, name), encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]

    users, items = ids("user_ids.txt"), ids("item_ids.txt")
    U = np.load(os.path.join(a.npy, "user_factors.npy")).astype(np.float32)
    V = np.load(os.path.join(a.npy, "item_factors.npy")).astype(np.float32)
    bias_path = os.path.join(a.npy, "item_bias.npy")
    if os.path.exists(bias_path) and np.any(np.load(bias_path)):
        b = np.load(bias_path).astype(np.float32)
        U = np.hstack([U, np.ones((U.shape[0], 1), np.float32)])
        V = np.hstack([V, b[:, None]])
    u_index = {u: n for n, u in enumerate(users)}
    i_index = {i: n for n, i in enumerate(items)}
    rows, cols = [], []
    for u, i, _ in read_ratings(a.train):
        if u in u_index and i in i_index:
            rows.append(u_index[u])
            cols.append(i_index[i])
    seen = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(users), len(items)))
    seen.sum_duplicates()
    model = AlternatingLeastSquares(factors=U.shape[1], num_threads=a.threads)
    model.user_factors, model.item_factors = np.ascontiguousarray(U), np.ascontiguousarray(V)
    all_users = np.arange(len(users))
    all_items = np.arange(len(items))
    rec_times, sim_times = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        rec_ids, _ = model.recommend(all_users, seen, N=a.k, filter_already_liked_items=True)
        rec_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.similar_items(all_items, N=a.k + 1)
        sim_times.append(time.perf_counter() - t0)
    mf_lists = {}
    for u, _rank, i, _score in (line.rstrip("\n").split(",") for line in open(a.mf_lists, encoding="utf-8")
                                if line.strip() and not line.startswith("user,")):
        mf_lists.setdefault(u, []).append(i)
    agree = []
    for u, lst in mf_lists.items():
        if u in u_index and lst:
            theirs = {items[j] for j in rec_ids[u_index[u]] if j >= 0}
            agree.append(len(theirs & set(lst)) / len(lst))
    print(json.dumps({"version": implicit.__version__, "users": len(users), "items": len(items), "k": a.k,
                      "recommend_all_seconds": spread(rec_times), "similar_items_all_seconds": spread(sim_times),
                      "agreement_with_mf": statistics.mean(agree) if agree else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
