#!/usr/bin/env python3
"""Bayesian MF beside myFM on the accuracy suite's data sets (issue 9).

For each set — MovieLens-100K's five folds, u.data split 90/10 with the suite's three seeds, and
the suite's `mf synth` sets (suitelib/sets.py, the same flags and 90/10 split; the 10M set only
with --large) — it runs, on the same files:

  * `mf fit TRAIN --algorithm bayes --rank 32` (mf's defaults: implicit feedback on both sides or
    none, whichever validates better on 10% of the training file — it was always on before that
    choice existed, as in results/bayes-vs-myfm.md —, 200 sweeps, 32 samples kept 6 apart after 8
    of burn-in), then `mf evaluate TEST`;
  * the same with `--no-implicit-feedback` (plain Bayesian MF over user and item);
  * myFM's MyFMRegressor on the one-hot encodings of user and item (biased MF as an FM, "myFM");
  * myFM with the same implicit feedback as mf ("myFM implicit"): grouped features through
    myFM's relation blocks, a user block [one-hot(u) | N(u)/√|N(u)|] and an item block
    [one-hot(i) | M(i)/√|M(i)|] (the items the user rated, the users who rated the item, in the
    training file), each of the four groups with its own prior (`group_shapes`), as in myFM's
    MovieLens example;

myFM at the same rank and sweeps as mf, keeping as many samples as mf (n_kept_samples: its last
sweeps; mf thins),
predictions clipped to the training rating range (as mf clamps). It writes the test RMSEs (the
mean over a set's files, and each file's), the seconds per sweep (mf: the median sweep of
`mf fit --json`; myFM: its fit time / sweeps) and their ratios to
Benchmarks/accuracy/results/bayes-vs-myfm.{json,md}.

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

os.environ.setdefault("TQDM_DISABLE", "1")  # myFM draws a progress bar per fit
import numpy as np
import scipy.sparse as sps
import myfm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "Benchmarks", "compare"))
from harness.peer_runner import one_hot  # noqa: E402  (the comparison harness's encoding)
from suitelib import sets  # noqa: E402


def read(path):
    triples = list(sets.read_triples(path))
    return [t[0] for t in triples], [t[1] for t in triples], np.array([t[2] for t in triples])


def id_order(x):
    """Numeric ids in numeric order (as myfm_ml100k.py and scikit-learn's OneHotEncoder order them)."""
    return (0, int(x), "") if x.isdigit() else (1, 0, x)


def indices(train_users, train_items):
    user_index = {u: n for n, u in enumerate(sorted(set(train_users), key=id_order))}
    item_index = {i: n for n, i in enumerate(sorted(set(train_items), key=id_order))}
    return user_index, item_index


def implicit_blocks(users, items, user_index, item_index, seen_by_user, seen_by_item):
    """myFM relation blocks for `users`/`items`: a user block [one-hot(u) | N(u)/√|N(u)|] and an
    item block [one-hot(i) | M(i)/√|M(i)|]; an id absent from training maps to an all-zero row."""
    def block(keys, index, seen, other_count):
        rows, cols, vals = [], [], []
        for r, key in enumerate(index):  # index is ordered by its values (dict insertion order)
            rows.append(r)
            cols.append(index[key])
            vals.append(1.0)
            others = seen.get(key, [])
            for o in others:
                rows.append(r)
                cols.append(len(index) + o)
                vals.append(1.0 / np.sqrt(len(others)))
        data = sps.csr_matrix((vals, (rows, cols)), shape=(len(index) + 1, len(index) + other_count))
        to_block = np.array([index.get(k, len(index)) for k in keys], dtype=np.int64)
        return myfm.RelationBlock(to_block, data)
    return [block(users, user_index, seen_by_user, len(item_index)),
            block(items, item_index, seen_by_item, len(user_index))]


def run_myfm(train, test, rank, sweeps, kept_sweeps, implicit):
    """myFM's test RMSE averaging the samples of the sweeps mf kept (`kept_sweeps`, 1-based), its
    RMSE with its default n_kept_samples (all sweeps but the first 5), and seconds per sweep."""
    tu, ti, tr = read(train)
    eu, ei, er = read(test)
    user_index, item_index = indices(tu, ti)
    fm = myfm.MyFMRegressor(rank=rank, random_seed=42)
    if implicit:
        by_user, by_item = {}, {}
        for u, i in zip(tu, ti):
            by_user.setdefault(u, []).append(item_index[i])
            by_item.setdefault(i, []).append(user_index[u])
        (nu, ni) = (len(user_index), len(item_index))
        x_train = sps.csr_matrix((len(tu), 0))
        x_test = sps.csr_matrix((len(eu), 0))
        rel_test = implicit_blocks(eu, ei, user_index, item_index, by_user, by_item)
        start = time.time()
        fm.fit(x_train, tr, X_rel=implicit_blocks(tu, ti, user_index, item_index, by_user, by_item),
               n_iter=sweeps, n_kept_samples=sweeps - 5, group_shapes=[nu, ni, ni, nu])
        seconds = time.time() - start
    else:
        x_test = one_hot(eu, ei, user_index, item_index)
        rel_test = []
        start = time.time()
        fm.fit(one_hot(tu, ti, user_index, item_index), tr, n_iter=sweeps, n_kept_samples=sweeps - 5)
        seconds = time.time() - start
    samples = fm.predictor_.samples  # the sweeps 6 … `sweeps`, in order
    first = sweeps - len(samples) + 1

    def rmse(chosen):
        predicted = np.mean([m.predict_score(x_test, rel_test) for m in chosen], axis=0)
        predicted = np.clip(predicted, tr.min(), tr.max())
        return float(np.sqrt(np.mean((predicted - er) ** 2)))
    same = [samples[t - first] for t in kept_sweeps if t >= first]
    return rmse(same), rmse(samples), seconds / sweeps


def run_mf(mf, train, test, rank, model, threads, extra):
    """mf's test RMSE, median seconds per sweep, sweeps and the (1-based) sweeps it kept."""
    fit = json.loads(subprocess.run(
        [mf, "fit", train, "--algorithm", "bayes", "--rank", str(rank), "--threads", str(threads),
         "--quiet", "--json", "--model", model] + extra, check=True, capture_output=True, text=True).stdout)
    ev = json.loads(subprocess.run([mf, "evaluate", test, "--model", model, "--json"], check=True,
                                   capture_output=True, text=True).stdout)
    options = json.loads(subprocess.run([mf, "info", "--model", model, "--json"], check=True,
                                        capture_output=True, text=True).stdout)["options"]
    kept = [options["burn_in"] + t * options["thinning"] for t in range(1, options["samples"] + 1)]
    per_sweep = statistics.median(e["seconds"] for e in fit["history"])
    return ev["rmse"], per_sweep, fit["epochs_run"], kept


# The configurations, in the order they run on each file (interleaved, so that the machine's load
# falls on all of them alike); each myFM fit gives two rows (the samples of mf's kept sweeps, and
# myFM's default of all but the first 5).
CONFIGS = [("mf", "mf bayes (defaults: implicit feedback chosen per data set since 0744784; always on before)"),
           ("myfm-implicit", "myFM with the same implicit feedback (groups), averaging the sweeps mf keeps"),
           ("myfm-implicit-all", "the same myFM fit averaging its default n_kept_samples (sweeps − 5)"),
           ("mf-plain", "mf bayes --no-implicit-feedback"),
           ("myfm", "myFM on user/item one-hots, averaging the sweeps mf keeps"),
           ("myfm-all", "the same myFM fit averaging its default n_kept_samples (sweeps − 5)")]


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
    if (names is None or "ml100k-random" in names) and os.path.exists(os.path.join(args.ml100k, "u.data")):
        pairs = []
        for seed in (1, 2, 3):  # the suite's ml100k-random split (`mf split`, 90/10, seeds 1-3)
            train = os.path.join(work, f"ml100k-random-{seed}-train.csv")
            test = os.path.join(work, f"ml100k-random-{seed}-test.csv")
            if not (os.path.exists(train) and os.path.exists(test)):
                subprocess.run([args.mf, "split", os.path.join(args.ml100k, "u.data"), "--train-output", train,
                                "--test-output", test, "--strategy", "random", "--test-fraction", "0.1",
                                "--seed", str(seed)], check=True, capture_output=True)
            pairs.append((train, test))
        jobs.append(("ml100k-random", "ML-100K u.data 90/10, seeds 1–3", pairs))
    for s in sets.select_synth("large" if args.large else "full", names):
        train = os.path.join(work, s["name"] + "-train.csv")
        test = os.path.join(work, s["name"] + "-test.csv")
        if not (os.path.exists(train) and os.path.exists(test)):
            subprocess.run([args.mf] + sets.synth_command(s["flags"], train, test), check=True,
                           capture_output=True)
        jobs.append((s["name"], "synth: " + s["title"], [(train, test)]))
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    load = os.getloadavg()
    results = {"date": str(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")),
               "mf_revision": revision, "myfm_version": myfm.__version__, "rank": args.rank,
               "threads": args.threads, "load_average_at_start": load,
               "configurations": dict(CONFIGS), "sets": []}
    for name, title, pairs in jobs:
        record = {"name": name, "title": title, "files": []}
        for train, test in pairs:
            row = {"train": os.path.basename(train)}
            sweeps = kept = None
            for key in ("mf", "myfm-implicit", "mf-plain", "myfm"):
                if key.startswith("mf"):
                    extra = ["--no-implicit-feedback"] if key == "mf-plain" else []
                    r, t, sweeps, kept = run_mf(args.mf, train, test, args.rank, model, args.threads, extra)
                    row[key] = {"rmse": r, "seconds_per_sweep": t}
                else:
                    r, r_all, t = run_myfm(train, test, args.rank, sweeps, kept, key == "myfm-implicit")
                    row[key] = {"rmse": r, "seconds_per_sweep": t}
                    row[key + "-all"] = {"rmse": r_all, "seconds_per_sweep": t}
                print(f"{name} {row['train']} {key}: RMSE {r:.4f}, {t:.4f} s/sweep", flush=True)
            record["files"].append(row)
        for key, _ in CONFIGS:
            record[key] = {"rmse": statistics.mean(f[key]["rmse"] for f in record["files"]),
                           "seconds_per_sweep": statistics.median(f[key]["seconds_per_sweep"] for f in record["files"])}
        results["sets"].append(record)
        write(args.output, results)
    write(args.output, results)


def write(output, results):
    """results/bayes-vs-myfm.json and the Markdown table rendered from it."""
    base = os.path.splitext(output)[0]
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=1)
    lines = [f"Bayesian MF beside myFM {results['myfm_version']}, written by `bayes_vs_myfm.py` "
             f"({results['date']}, mf at {results['mf_revision']}, rank {results['rank']}, "
             f"{results['threads']} threads, load average at start {results['load_average_at_start'][0]:.2f}). "
             "Test RMSE: the mean over a set's files; seconds per sweep: the median over its files (mf: its "
             "median sweep; myFM: fit time / sweeps). myFM runs the sweeps mf ran; its predictions average "
             "the samples of the sweeps mf keeps (the same kept samples), and, in the \"all\" columns, its "
             "default n_kept_samples (all sweeps but the first 5) from the same fit.",
             "", "Configurations: " + "; ".join(f"**{k}** = {v}" for k, v in results["configurations"].items()), "",
             "| data set | mf | myFM implicit | mf ≤ | myFM implicit, all | mf plain | myFM | mf plain ≤ | "
             "myFM, all | mf s/sweep | myFM implicit s/sweep | ratio | mf plain s/sweep | myFM s/sweep | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["sets"]:
        a, b, b2, c, d, d2 = (r[k]["rmse"] for k, _ in CONFIGS)
        ta, tb, tc, td = (r[k]["seconds_per_sweep"] for k in ("mf", "myfm-implicit", "mf-plain", "myfm"))
        lines.append(f"| {r['title']} | {a:.4f} | {b:.4f} | {'yes' if a <= b else 'no'} | {b2:.4f} | {c:.4f} | "
                     f"{d:.4f} | {'yes' if c <= d else 'no'} | {d2:.4f} | {ta:.4f} | {tb:.4f} | {ta / tb:.2f}× | "
                     f"{tc:.4f} | {td:.4f} | {tc / td:.2f}× |")
    per_file = [r for r in results["sets"] if len(r["files"]) > 1]
    for r in per_file:
        lines += ["", f"{r['title']}, per file (test RMSE):", "",
                  "| file | " + " | ".join(k for k, _ in CONFIGS) + " |", "|---|" + "---|" * len(CONFIGS)]
        for f in r["files"]:
            lines.append(f"| {f['train']} | " + " | ".join(f"{f[k]['rmse']:.4f}" for k, _ in CONFIGS) + " |")
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
