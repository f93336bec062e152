#!/usr/bin/env python3
"""Time to quality: test RMSE against fit time, epoch by epoch, for mf's defaults and LIBMF.

    python3 Benchmarks/accuracy/time_to_quality.py --train big.csv --test big-test.csv

Data: any rating files (the README's figures use `mf synth --ratings 10000000 --seed 1`).
Writes Benchmarks/accuracy/results/time-to-quality.{json,md,png}, rewriting them each run.

- **mf SGD, defaults** (`mf fit TRAIN --rank 32 --json`, as a user runs it) gives the self-tuning
  search's seconds and the settings it chose. The final fit is then run again with those settings
  given explicitly and `--validation TEST`, which only scores the test file after each epoch (the
  model is the same, bit for bit): epoch e is plotted at (search seconds + that run's seconds since
  its start after epoch e, which include the test scoring, so mf's times are over-, not
  under-estimated; test RMSE after epoch e).
- **mf ALS, defaults**: `mf fit TRAIN --rank 32 --algorithm als --json` likewise (its own search),
  its final fit re-run with `--validation TEST`.
- **LIBMF**: the comparison harness's driver (LIBMF 0.9.2, defaults but k = 32, 2 threads) run for
  t = 1, 2, 4, 8, 12, 16, 20 iterations; each point is (its `mf_train` seconds, test RMSE). Reading
  the file is excluded for every engine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIBMF_ITERATIONS = [1, 2, 4, 8, 12, 16, 20]


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def explicit_flags(options):
    """The flags that give a fit exactly the options stored in a model summary."""
    flags = ["--rank", str(options["rank"]), "--epochs", str(options["epochs"]), "--seed", str(options["seed"]),
             "--threads", str(options["threads"]), "--regularization", repr(options["regularization"]),
             "--bias-regularization", repr(options["bias_regularization"]), "--init-scale", repr(options["init_scale"])]
    if options["algorithm"] == "sgd":
        flags += ["--schedule", options.get("schedule", "decaying"), "--learning-rate", repr(options["learning_rate"]),
                  "--learning-rate-decay", repr(options["learning_rate_decay"])]
    else:
        flags += ["--algorithm", "als", "--regularization-exponent", repr(options["regularization_exponent"])]
    return flags


def mf_curve(mf, train, test, extra, work):
    model = os.path.join(work, "m.mf")
    default = run_json([mf, "fit", train, "--rank", "32", *extra, "--model", model, "--json", "--quiet"])
    info = run_json([mf, "info", "--model", model, "--json"])
    ev = run_json([mf, "evaluate", test, "--model", model, "--json"])
    search = (default.get("tuning") or {}).get("seconds", 0.0)
    again = run_json([mf, "fit", train, *explicit_flags(info["options"]), "--convergence-tolerance",
                      repr(info["options"].get("convergence_tolerance", 0) or 0), "--validation", test,
                      "--model", os.path.join(work, "again.mf"), "--json", "--quiet"])
    points = []
    for h in again["history"]:
        points.append({"epoch": h["epoch"], "seconds": search + h.get("elapsed_seconds", 0.0),
                       "rmse": h["validation_rmse"]})
    return {"default_fit": {"seconds": default["seconds"], "search_seconds": search, "epochs": default["epochs_run"],
                            "tuning": default.get("tuning"), "test_rmse": ev["rmse"]},
            "options": info["options"], "points": points,
            "same_model": abs(points[-1]["rmse"] - ev["rmse"]) < 1e-6 if points else False}


def libmf_curve(driver, train, test):
    points = []
    for t in LIBMF_ITERATIONS:
        r = run_json([driver, "--train", train, "--test", test, "--k", "32", "--iters", str(t), "--threads", "2",
                      "--lambda", "0.1", "--eta", "0.1"])
        points.append({"epoch": t, "seconds": r["train_seconds"], "rmse": r["rmse"]})
    return {"points": points}


def render(results):
    lines = ["# Time to quality", "",
             f"Run {results['when']} on `{results['train']}` / `{results['test']}`; mf `{results['mf']}` at "
             f"{results['revision']}. Rewritten by `python3 Benchmarks/accuracy/time_to_quality.py` "
             "(see its docstring for what is timed).", ""]
    libmf_final = results["libmf"]["points"][-1]
    for key, label in [("mf_sgd", "mf SGD, defaults"), ("mf_als", "mf ALS, defaults")]:
        c = results[key]
        d = c["default_fit"]
        reach = next((p for p in c["points"] if p["rmse"] <= libmf_final["rmse"]), None)
        lines.append(f"- **{label}**: search {d['search_seconds']:.2f} s, whole fit {d['seconds']:.2f} s, "
                     f"{d['epochs']} epochs, test RMSE {d['test_rmse']:.4f}; reaches LIBMF's 20-epoch RMSE "
                     + (f"at epoch {reach['epoch']}, {reach['seconds']:.2f} s" if reach else "never") + ".")
    lines.append(f"- **LIBMF, 20 iterations**: {libmf_final['seconds']:.2f} s of training, test RMSE "
                 f"{libmf_final['rmse']:.4f}.")
    lines += ["", "| engine | epoch | seconds | test RMSE |", "|---|---|---|---|"]
    for key, label in [("mf_sgd", "mf SGD"), ("mf_als", "mf ALS"), ("libmf", "LIBMF")]:
        for p in results[key]["points"]:
            lines.append(f"| {label} | {p['epoch']} | {p['seconds']:.2f} | {p['rmse']:.4f} |")
    return "\n".join(lines) + "\n"


def chart(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, label, style in [("mf_sgd", "mf SGD (defaults: search, then final fit)", "-o"),
                              ("mf_als", "mf ALS (defaults)", "-s"), ("libmf", "LIBMF 0.9.2 (defaults, k=32)", "--^")]:
        pts = results[key]["points"]
        ax.plot([p["seconds"] for p in pts], [p["rmse"] for p in pts], style, ms=3, label=label)
    ax.set_xlabel("fit seconds (reading excluded)")
    ax.set_ylabel("test RMSE")
    ax.set_title("Time to quality, " + os.path.basename(results["train"]))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build", "release", "mf"))
    ap.add_argument("--libmf", default=os.path.join(ROOT, "Benchmarks", "compare", "out", "libmf", "libmf_driver-avx"),
                    help="the comparison harness's LIBMF driver (built by Benchmarks/compare or the accuracy suite)")
    ap.add_argument("--output", default=os.path.join(HERE, "results", "time-to-quality"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mf-ttq-")
    revision = subprocess.run(["git", "-C", ROOT, "describe", "--always"], capture_output=True,
                              text=True).stdout.strip()
    # Only changes outside the results folder (which the suites rewrite) make the checkout dirty.
    changes = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".",
                              ":(exclude)Benchmarks/accuracy/results"], capture_output=True, text=True).stdout.strip()
    if changes:
        revision += "-dirty"
    results = {"when": time.strftime("%Y-%m-%d %H:%M"), "train": a.train, "test": a.test, "revision": revision,
               "mf": os.path.relpath(a.mf, ROOT), "mf_sgd": mf_curve(a.mf, a.train, a.test, [], work),
               "mf_als": mf_curve(a.mf, a.train, a.test, ["--algorithm", "als"], work),
               "libmf": libmf_curve(a.libmf, a.train, a.test)}
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    with open(a.output + ".json", "w") as f:
        json.dump(results, f, indent=1)
    with open(a.output + ".md", "w") as f:
        f.write(render(results))
    drew = chart(results, a.output + ".png")
    print(render(results))
    print("chart:", a.output + ".png" if drew else "not drawn (matplotlib missing; run with the harness venv's python)")


if __name__ == "__main__":
    main()
