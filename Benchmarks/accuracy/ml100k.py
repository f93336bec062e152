#!/usr/bin/env python3
"""MovieLens-100K accuracy table: train on uK.base, evaluate on uK.test, K = 1..5.

Runs the release `mf` binary exactly as a user would and prints a markdown table with the RMSE
of every fold, the mean, and the median fit time, for each configuration below.

    python3 Benchmarks/accuracy/ml100k.py [--data ../shared/data/ml-100k]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = [
    ("default (SGD, self-tuned)", ["--rank", "32"]),
    ("default ALS (self-tuned)", ["--rank", "32", "--algorithm", "als"]),
    ("fixed defaults SGD (--no-tune)", ["--rank", "32", "--no-tune"]),
    ("fixed defaults ALS (--no-tune)", ["--rank", "32", "--algorithm", "als", "--no-tune"]),
    ("tuned SGD (--preset ml100k)", ["--preset", "ml100k"]),
    ("tuned ALS (--preset ml100k)", ["--preset", "ml100k", "--algorithm", "als"]),
    ("Bayesian MF (defaults: implicit feedback, 32 samples)", ["--rank", "32", "--algorithm", "bayes"]),
    ("Bayesian MF, 64 samples", ["--rank", "32", "--algorithm", "bayes", "--samples", "64", "--thinning", "3"]),
    ("Bayesian MF without implicit feedback", ["--rank", "32", "--algorithm", "bayes", "--no-implicit-feedback"]),
    ("SVD++ (defaults)", ["--rank", "32", "--algorithm", "svdpp"]),
    ("SVD++ (defaults), 1 thread", ["--rank", "32", "--algorithm", "svdpp", "--threads", "1"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/ml-100k"))
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build/release/mf"))
    ap.add_argument("--output", default=None,
                    help="where the table is written as well (rewritten each run; default"
                         " Benchmarks/accuracy/results/ml100k.md, or nowhere with --only)")
    ap.add_argument("--only", default=None,
                    help="run only the configurations whose name contains this text")
    args = ap.parse_args()
    if args.output is None and args.only is None:
        args.output = os.path.join(ROOT, "Benchmarks/accuracy/results/ml100k.md")
    if not os.path.exists(os.path.join(args.data, "u1.base")):
        sys.exit(f"MovieLens-100K not found in {args.data}")
    if not os.path.exists(args.mf):
        subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="mf-ml100k-")
    model = os.path.join(work, "m.mf")
    revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    lines = [f"ML-100K five folds, `{os.path.relpath(args.mf, ROOT)}` at {revision}; fit time = the median of"
             " the folds' training seconds (`seconds` of `mf fit --json`, reading excluded).", "",
             "| configuration | u1 | u2 | u3 | u4 | u5 | mean RMSE | mean MAE | fit time (median) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for line in lines[2:]:
        print(line)
    for name, flags in CONFIGS:
        if args.only is not None and args.only.lower() not in name.lower():
            continue
        rmses, maes, times = [], [], []
        for k in range(1, 6):
            fit = json.loads(subprocess.run(
                [args.mf, "fit", f"{args.data}/u{k}.base", *flags, "--quiet", "--json", "--model", model],
                check=True, capture_output=True, text=True).stdout)
            ev = json.loads(subprocess.run(
                [args.mf, "evaluate", f"{args.data}/u{k}.test", "--model", model, "--json"],
                check=True, capture_output=True, text=True).stdout)
            rmses.append(ev["rmse"])
            maes.append(ev["mae"])
            times.append(fit["seconds"])
        cells = " | ".join(f"{r:.4f}" for r in rmses)
        line = (f"| {name} `{' '.join(flags)}` | {cells} | **{statistics.mean(rmses):.4f}** | "
                f"{statistics.mean(maes):.4f} | {statistics.median(times):.2f} s |")
        lines.append(line)
        print(line, flush=True)
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
