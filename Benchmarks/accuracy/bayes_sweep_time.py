#!/usr/bin/env python3
"""Seconds per Gibbs sweep: `mf fit --algorithm bayes` beside myFM on the suite's 1M and 10M
generated sets (issue 9: mf's sweep ≤ 0.3× myFM's at rank 32, 2 threads, same run).

For each set (`mf synth` with the accuracy suite's flags, suitelib/sets.py) and each of
--repeats rounds, interleaved so that the machine's load falls on every configuration alike:

  * mf, defaults (implicit feedback on both sides): `mf fit TRAIN --algorithm bayes --rank 32
    --threads 2 --samples 1 --burn-in 5 --thinning 1 --json`, the median of its 6 sweeps
    (`history[].seconds`);
  * the same with --no-implicit-feedback;
  * myFM (MyFMRegressor, rank 32) with the same implicit feedback (relation blocks, as in
    bayes_vs_myfm.py) and on user/item one-hots: fit time of --myfm-sweeps sweeps / sweeps
    (inputs built before the clock starts). myFM's sampler is single-threaded C++ (it has no
    thread setting for MCMC regression); mf uses the 2 threads.

The figure per configuration is the median over the rounds; the ratios pair mf's defaults with
myFM implicit and mf plain with myFM one-hot. Writes results/bayes-sweep-time.{json,md}.

    Benchmarks/compare/.venv/bin/python Benchmarks/accuracy/bayes_sweep_time.py [--sets synth-1m,synth-10m]
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
from suitelib import sets  # noqa: E402
from bayes_vs_myfm import implicit_blocks, indices, one_hot, read  # noqa: E402


def mf_sweep(mf, train, rank, threads, extra):
    fit = json.loads(subprocess.run(
        [mf, "fit", train, "--algorithm", "bayes", "--rank", str(rank), "--threads", str(threads),
         "--samples", "1", "--burn-in", "5", "--thinning", "1", "--quiet", "--json", "--model",
         os.path.join(HERE, "out", "bayes", "sweep.mf")] + extra,
        check=True, capture_output=True, text=True).stdout)
    return statistics.median(e["seconds"] for e in fit["history"])


def myfm_inputs(train):
    users, items, ratings = read(train)
    user_index, item_index = indices(users, items)
    by_user, by_item = {}, {}
    for u, i in zip(users, items):
        by_user.setdefault(u, []).append(item_index[i])
        by_item.setdefault(i, []).append(user_index[u])
    return {"y": ratings, "onehot": one_hot(users, items, user_index, item_index),
            "empty": sps.csr_matrix((len(users), 0)),
            "blocks": implicit_blocks(users, items, user_index, item_index, by_user, by_item),
            "groups": [len(user_index), len(item_index), len(item_index), len(user_index)]}


def myfm_sweep(inputs, rank, sweeps, implicit):
    fm = myfm.MyFMRegressor(rank=rank, random_seed=42)
    start = time.time()
    if implicit:
        fm.fit(inputs["empty"], inputs["y"], X_rel=inputs["blocks"], n_iter=sweeps, n_kept_samples=1,
               group_shapes=inputs["groups"])
    else:
        fm.fit(inputs["onehot"], inputs["y"], n_iter=sweeps, n_kept_samples=1)
    return (time.time() - start) / sweeps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build", "release", "mf"))
    ap.add_argument("--sets", default="synth-1m,synth-10m")
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--myfm-sweeps", type=int, default=3)
    ap.add_argument("--output", default=os.path.join(HERE, "results", "bayes-sweep-time"))
    args = ap.parse_args()
    work = os.path.join(HERE, "out", "bayes")
    os.makedirs(work, exist_ok=True)
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "mf_revision": revision, "myfm_version": myfm.__version__, "rank": args.rank,
               "threads": args.threads, "repeats": args.repeats, "myfm_sweeps": args.myfm_sweeps, "sets": []}
    wanted = args.sets.split(",")
    for spec in [s for s in sets.SYNTH_SETS if s["name"] in wanted]:
        train = os.path.join(work, spec["name"] + "-train.csv")
        test = os.path.join(work, spec["name"] + "-test.csv")
        if not (os.path.exists(train) and os.path.exists(test)):
            subprocess.run([args.mf] + sets.synth_command(spec["flags"], train, test), check=True,
                           capture_output=True)
        inputs = myfm_inputs(train)
        runs = {"mf": [], "myfm-implicit": [], "mf-plain": [], "myfm": []}
        loads = []
        for _ in range(args.repeats):
            loads.append(os.getloadavg()[0])
            runs["mf"].append(mf_sweep(args.mf, train, args.rank, args.threads, []))
            runs["myfm-implicit"].append(myfm_sweep(inputs, args.rank, args.myfm_sweeps, True))
            runs["mf-plain"].append(mf_sweep(args.mf, train, args.rank, args.threads, ["--no-implicit-feedback"]))
            runs["myfm"].append(myfm_sweep(inputs, args.rank, args.myfm_sweeps, False))
            print(spec["name"], {k: round(v[-1], 4) for k, v in runs.items()}, flush=True)
        record = {"name": spec["name"], "title": spec["title"], "ratings": len(inputs["y"]),
                  "load_averages": loads, "runs": runs,
                  "median": {k: statistics.median(v) for k, v in runs.items()}}
        record["ratio_implicit"] = record["median"]["mf"] / record["median"]["myfm-implicit"]
        record["ratio_plain"] = record["median"]["mf-plain"] / record["median"]["myfm"]
        results["sets"].append(record)
        write(args.output, results)


def write(base, results):
    with open(base + ".json", "w") as f:
        json.dump(results, f, indent=1)
    lines = [f"Seconds per Gibbs sweep at rank {results['rank']}, written by `bayes_sweep_time.py` "
             f"({results['date']}, mf at {results['mf_revision']} with {results['threads']} threads, myFM "
             f"{results['myfm_version']}): the median over {results['repeats']} interleaved rounds (mf: the median "
             f"of 6 sweeps; myFM: fit time of {results['myfm_sweeps']} sweeps / sweeps). Load average (1 min) "
             "at each round's start in the last column: the machine was shared.", "",
             "| data set | training ratings | mf (implicit feedback) | myFM implicit | ratio | mf plain | "
             "myFM one-hot | ratio | load |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results["sets"]:
        m = r["median"]
        lines.append(f"| {r['title']} | {r['ratings']:,} | {m['mf']:.3f} | {m['myfm-implicit']:.3f} | "
                     f"{r['ratio_implicit']:.2f}× | {m['mf-plain']:.3f} | {m['myfm']:.3f} | {r['ratio_plain']:.2f}× | "
                     + ", ".join(f"{x:.1f}" for x in r["load_averages"]) + " |")
    with open(base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
