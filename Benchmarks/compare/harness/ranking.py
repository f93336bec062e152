"""Top-K ranking metrics from factor matrices: the one implementation used for every engine.

For each test user known to the model, every item known to the model that the user did not
interact with in training is a candidate; the score is p_u · q_i (+ b_i when the engine has item
biases; μ and b_u do not change a user's ranking). The relevant items are the user's test items
that the model knows and that are not among the user's training items.

    precision@K = hits / K
    recall@K    = hits / |relevant|
    NDCG@K      = Σ_{r ≤ K, item r relevant} 1/log2(r+1)  ÷  Σ_{r ≤ min(|relevant|, K)} 1/log2(r+1)
    MAP@K       = Σ_{r ≤ K, item r relevant} precision@r  ÷  min(|relevant|, K)
    AUC         = P(score of a relevant candidate > score of a non-relevant candidate), per user
                  over all candidates (ties count one half)
    coverage    = distinct items in all top-K lists ÷ items in the model

Each metric is the mean over evaluated users. numpy is imported inside the functions, so the
module imports without it.

    python -m harness.ranking --npy DIR --train TRAIN --test TEST [--k 10]

reads `mf export --format npy` output (user_factors.npy, item_factors.npy, item_bias.npy,
user_ids.txt, item_ids.txt) and prints the metrics as JSON.
"""
import argparse
import json
import math
import os
import sys


def _group(pairs, user_index, item_index):
    """{user row: set(item rows)} for pairs whose user and item are both known."""
    out = {}
    for u, i in pairs:
        ui = user_index.get(u)
        ii = item_index.get(i)
        if ui is None or ii is None:
            continue
        out.setdefault(ui, set()).add(ii)
    return out


def user_metrics(scores, train_items, relevant, k):
    """Metrics of one user: scores over all items (numpy vector), train item rows, relevant rows."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64).copy()
    n = scores.shape[0]
    candidates = np.ones(n, dtype=bool)
    if train_items:
        candidates[list(train_items)] = False
    scores[~candidates] = -np.inf
    kk = min(k, int(candidates.sum()))
    top = np.argpartition(-scores, kk - 1)[:kk] if kk > 0 else np.array([], dtype=int)
    top = top[np.argsort(-scores[top], kind="stable")]
    rel = np.zeros(n, dtype=bool)
    rel[list(relevant)] = True
    hits = rel[top]
    nrel = len(relevant)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits * discounts[: len(hits)]).sum())
    idcg = float(discounts[: min(nrel, k)].sum())
    cumulative = np.cumsum(hits)
    precisions = cumulative / np.arange(1, len(hits) + 1)
    ap = float((precisions * hits).sum()) / min(nrel, k)
    # AUC over candidates with average ranks for ties.
    cand_scores = scores[candidates]
    cand_rel = rel[candidates]
    npos = int(cand_rel.sum())
    nneg = cand_scores.shape[0] - npos
    auc = None
    if npos > 0 and nneg > 0:
        order = np.argsort(cand_scores, kind="mergesort")
        sorted_scores = cand_scores[order]
        ranks = np.empty(cand_scores.shape[0], dtype=np.float64)
        # average rank (1-based) for runs of equal scores
        boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
        starts = np.concatenate(([0], boundaries))
        ends = np.concatenate((boundaries, [sorted_scores.shape[0]]))
        avg = (starts + ends + 1) / 2.0
        ranks[order] = np.repeat(avg, ends - starts)
        auc = (ranks[cand_rel].sum() - npos * (npos + 1) / 2.0) / (npos * nneg)
    return {
        "precision": float(hits.sum()) / k,
        "recall": float(hits.sum()) / nrel,
        "ndcg": dcg / idcg if idcg > 0 else 0.0,
        "map": ap,
        "auc": auc,
        "top": top,
    }


def ranking_metrics(user_factors, item_factors, user_ids, item_ids, train_pairs, test_pairs, k=10,
                    item_bias=None):
    """Mean metrics over test users known to the model (see the module docstring)."""
    import numpy as np

    U = np.asarray(user_factors, dtype=np.float32)
    V = np.asarray(item_factors, dtype=np.float32)
    user_index = {str(u): r for r, u in enumerate(user_ids)}
    item_index = {str(i): r for r, i in enumerate(item_ids)}
    train = _group(train_pairs, user_index, item_index)
    test = _group(test_pairs, user_index, item_index)
    bias = None if item_bias is None else np.asarray(item_bias, dtype=np.float32)
    totals = {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "map": 0.0}
    auc_sum, auc_users, users = 0.0, 0, 0
    shown = set()
    rows = sorted(u for u, items in test.items() if items - train.get(u, set()))
    for start in range(0, len(rows), 512):
        block = rows[start:start + 512]
        scores = U[block] @ V.T
        if bias is not None:
            scores = scores + bias[None, :]
        for j, u in enumerate(block):
            seen = train.get(u, set())
            relevant = test[u] - seen
            m = user_metrics(scores[j], seen, relevant, k)
            for key in totals:
                totals[key] += m[key]
            if m["auc"] is not None:
                auc_sum += m["auc"]
                auc_users += 1
            shown.update(int(x) for x in m["top"])
            users += 1
    out = {key: (value / users if users else None) for key, value in totals.items()}
    out["auc"] = auc_sum / auc_users if auc_users else None
    out["coverage"] = len(shown) / V.shape[0] if V.shape[0] else None
    out["users"] = users
    out["k"] = k
    return out


def pairs_of(path):
    from harness.readers import read_ratings

    return [(u, i) for u, i, _ in read_ratings(path)]


def metrics_from_npy(folder, train, test, k=10):
    """Metrics of an `mf export --format npy` folder."""
    import numpy as np

    def ids(name):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]

    bias_path = os.path.join(folder, "item_bias.npy")
    bias = np.load(bias_path) if os.path.exists(bias_path) else None
    if bias is not None and not np.any(bias):
        bias = None
    return ranking_metrics(np.load(os.path.join(folder, "user_factors.npy")),
                           np.load(os.path.join(folder, "item_factors.npy")),
                           ids("user_ids.txt"), ids("item_ids.txt"), pairs_of(train), pairs_of(test), k,
                           item_bias=bias)


def main(argv=None):
    ap = argparse.ArgumentParser(description="ranking metrics of an mf npy export")
    ap.add_argument("--npy", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args(argv)
    result = metrics_from_npy(args.npy, args.train, args.test, args.k)
    print(json.dumps({key: (None if isinstance(v, float) and math.isnan(v) else v) for key, v in result.items()}))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main())
