#!/usr/bin/env python3
"""MovieLens-100K accuracy table: train on uK.base, evaluate on uK.test, K = 1..5.

Runs the release `mf` binary exactly as a user would and prints a markdown table with the RMSE
of every fold, the mean, and the fit time (the wall time of the whole `mf fit` command), for each
configuration below; writes Benchmarks/accuracy/results/ml100k.{md,json}, stamped with the
binary's SHA-256, the revision it was built from, the machine and the load average.

    python3 Benchmarks/accuracy/ml100k.py [--data ../shared/data/ml-100k] [--mf-revision REV]
    python3 Benchmarks/accuracy/ml100k.py --report-only      # the markdown again, from the JSON
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = [
    ("default (self-tuned: SGD, or SVD++ when it validates better)", ["--rank", "32"]),
    ("default SGD (self-tuned, --algorithm sgd)", ["--rank", "32", "--algorithm", "sgd"]),
    ("default ALS (self-tuned)", ["--rank", "32", "--algorithm", "als"]),
    ("fixed defaults SGD (--no-tune)", ["--rank", "32", "--no-tune"]),
    ("fixed defaults ALS (--no-tune)", ["--rank", "32", "--algorithm", "als", "--no-tune"]),
    ("tuned SGD (--preset ml100k)", ["--preset", "ml100k"]),
    ("tuned ALS (--preset ml100k)", ["--preset", "ml100k", "--algorithm", "als"]),
    ("Bayesian MF (defaults: implicit feedback chosen per fold, 32 samples)", ["--rank", "32", "--algorithm", "bayes"]),
    ("Bayesian MF, 64 samples (implicit feedback chosen per fold)",
     ["--rank", "32", "--algorithm", "bayes", "--samples", "64", "--thinning", "3"]),
    ("Bayesian MF without implicit feedback", ["--rank", "32", "--algorithm", "bayes", "--no-implicit-feedback"]),
    ("SVD++ (defaults)", ["--rank", "32", "--algorithm", "svdpp"]),
    ("SVD++ (defaults), 1 thread", ["--rank", "32", "--algorithm", "svdpp", "--threads", "1"]),
]


def stamp_module():
    """Benchmarks/compare/harness/stamp.py: the binary's hash, the source revision, load average."""
    sys.path.insert(0, os.path.join(ROOT, "Benchmarks", "compare"))
    from harness import stamp  # noqa: E402

    return stamp


def machine():
    info = {"cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        pass
    return info


def timed(cmd):
    """(stdout, wall seconds of the whole command: process start to exit)."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out, time.perf_counter() - t0


def table(results):
    lines = [f"ML-100K five folds, `{results['mf']['binary_relpath']}` (sha256 `{results['mf']['sha256'][:16]}…`, "
             f"built from {results['mf']['built_from']}), {results['date']}, {results['machine'].get('cpu')}, "
             f"{results['machine'].get('cores')} cores. fit time = wall time of the whole `mf fit` command "
             "(process start to exit: reading, setting up, training, writing the model), median of the five "
             "folds (min–max); train s = the training alone (`seconds` of `mf fit --json`), median.",
             "", "| configuration | u1 | u2 | u3 | u4 | u5 | mean RMSE | mean MAE | fit time: median (min–max) "
             "| train s (median) | load avg before → after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in results["configurations"]:
        cells = " | ".join(f"{r:.4f}" for r in c["rmse"])
        w = c["wall_seconds"]
        # Bayesian MF's defaults choose implicit feedback per fold: say what they chose.
        chosen = [x for x in c.get("implicit_feedback", []) if x is not None]
        choice = ("; implicit feedback chosen: " + ", ".join("on" if x else "off" for x in chosen)) if chosen else ""
        lines.append(f"| {c['name']}{choice} `{' '.join(c['flags'])}` | {cells} | **{c['mean_rmse']:.4f}** | "
                     f"{c['mean_mae']:.4f} | {statistics.median(w):.2f} s ({min(w):.2f}–{max(w):.2f}) | "
                     f"{statistics.median(c['train_seconds']):.2f} s | {c['load_before'][0]:.1f} → "
                     f"{c['load_after'][0]:.1f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/ml-100k"))
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build/release/mf"))
    ap.add_argument("--mf-revision", default=None,
                    help="the git commit the binary was built from (default: this checkout's HEAD, with its "
                         "uncommitted source changes listed)")
    ap.add_argument("--output", default=None,
                    help="where the table is written as well (rewritten each run; default"
                         " Benchmarks/accuracy/results/ml100k.md, or nowhere with --only); the results"
                         " go to the same path with .json")
    ap.add_argument("--only", default=None,
                    help="run only the configurations whose name contains this text")
    ap.add_argument("--report-only", action="store_true", help="re-make the markdown from the .json")
    args = ap.parse_args()
    if args.output is None and args.only is None:
        args.output = os.path.join(ROOT, "Benchmarks/accuracy/results/ml100k.md")
    json_path = os.path.splitext(args.output)[0] + ".json" if args.output else None
    if args.report_only:
        with open(json_path) as f:
            results = json.load(f)
        with open(args.output, "w") as f:
            f.write(table(results))
        print(table(results))
        return
    if not os.path.exists(os.path.join(args.data, "u1.base")):
        sys.exit(f"MovieLens-100K not found in {args.data}")
    stamp = stamp_module()
    if not os.path.exists(args.mf):
        subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True)
    revision = ({"commit": args.mf_revision, "short": args.mf_revision[:7], "uncommitted_source_changes": []}
                if args.mf_revision else stamp.source_revision(ROOT))
    ident = stamp.mf_identity(args.mf, revision, "--mf-revision" if args.mf_revision else "this checkout's HEAD")
    ident["binary_relpath"] = os.path.relpath(args.mf, ROOT)
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "mf": ident, "machine": machine(),
               "command": " ".join(["python3", os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] + sys.argv[1:]),
               "data": args.data, "configurations": []}
    work = tempfile.mkdtemp(prefix="mf-ml100k-")
    model = os.path.join(work, "m.mf")
    for name, flags in CONFIGS:
        if args.only is not None and args.only.lower() not in name.lower():
            continue
        rmses, maes, times, walls, choices = [], [], [], [], []
        before = stamp.load_average()
        for k in range(1, 6):
            out, wall = timed([args.mf, "fit", f"{args.data}/u{k}.base", *flags, "--quiet", "--json", "--model",
                               model])
            fit = json.loads(out)
            ev = json.loads(subprocess.run(
                [args.mf, "evaluate", f"{args.data}/u{k}.test", "--model", model, "--json"],
                check=True, capture_output=True, text=True).stdout)
            rmses.append(ev["rmse"])
            maes.append(ev["mae"])
            times.append(fit["seconds"])
            walls.append(wall)
            choices.append((fit.get("tuning") or {}).get("implicit_feedback"))
        results["configurations"].append({
            "name": name, "flags": flags, "rmse": rmses, "mae": maes, "mean_rmse": statistics.mean(rmses),
            "mean_mae": statistics.mean(maes), "train_seconds": times, "wall_seconds": walls,
            "load_before": before, "load_after": stamp.load_average(), "implicit_feedback": choices})
        print(table(results).splitlines()[-1], flush=True)
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)
        with open(args.output, "w") as f:
            f.write(table(results))


if __name__ == "__main__":
    main()
