#!/usr/bin/env python3
"""Scaling study of mf-mpi (distributed ALS over OpenMPI) on this machine, and a cost model.

Runs, interleaved and repeated (medians reported):
  * strong scaling: the 10M-rating set (`mf synth --ratings 10000000 --seed 1`) on 1-4 processes
    of 1 thread each, and single-process `mf fit --algorithm als --no-tune` with 1 and 2 threads;
  * weak scaling: 2.5M ratings per process (2.5M, 5M, 7.5M, 10M on 1-4 processes);
and writes results/scaling.json and results/scaling.md: seconds per sweep (median over sweeps and
repeats), its split into solving rows (compute) and the rest (communication: the all-gather of
solved rows and the agreement that every row was solved), bytes per sweep (all-gather, as run, and
Spark-style in/out blocks, as counted), the load average, and the cost model for 1B ratings.

    python3 Benchmarks/mpi/scaling.py [--repeats 3] [--epochs 4] [--data DIR] [--skip-weak]

Needs OpenMPI (`mpirun`) and builds `mf` and `mf-mpi` (release) unless --no-build.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "Benchmarks", "mpi", "results")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def load():
    return open("/proc/loadavg").read().split()[0]


def run_json(cmd, cwd):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def synth(binaries, data, ratings):
    path = os.path.join(data, f"synth-{ratings}.csv")
    if not os.path.exists(path):
        subprocess.run([os.path.join(binaries, "mf"), "synth", "--ratings", str(ratings), "--seed", "1",
                        "--output", path, "--test-output", os.path.join(data, f"synth-{ratings}-test.csv")],
                       check=True, capture_output=True)
    return path


def single(binaries, path, threads, epochs, work):
    """Single-process `mf fit --algorithm als --no-tune`: seconds of each sweep."""
    j = run_json([os.path.join(binaries, "mf"), "fit", path, "--algorithm", "als", "--no-tune",
                  "--epochs", str(epochs), "--convergence-tolerance", "0", "--threads", str(threads),
                  "--quiet", "--json", "--model", "single.mf"], work)
    return {"sweep": [h["seconds"] for h in j["history"]], "load": load()}


def distributed(binaries, path, processes, threads, epochs, work):
    """`mpirun -np N mf-mpi fit`: sweep seconds, the slowest process's solving seconds, bytes."""
    j = run_json(MPIRUN + ["-np", str(processes), os.path.join(binaries, "mf-mpi"), "fit", path,
                           "--epochs", str(epochs), "--convergence-tolerance", "0", "--threads",
                           str(threads), "--quiet", "--json", "--model", "mpi.mf"], work)
    compute = max(p["compute_seconds"] for p in j["per_process"])
    return {
        "sweep": [s["seconds"] for s in j["sweeps"]],
        "compute": compute,
        "bytes_allgather": j["allgather_bytes_per_sweep"],
        "bytes_inout": j["inout_block_bytes_per_sweep"],
        "setup": j["setup_seconds"],
        "users": j["users"], "items": j["items"], "ratings": j["ratings"],
        "owned": [p["ratings_owned"] for p in j["per_process"]],
        "load": load(),
    }


def median_sweep(runs):
    """Seconds per sweep: the mean over a run's sweeps (as the processes report their solving
    time), then the median over the repeats."""
    return statistics.median(statistics.mean(r["sweep"]) for r in runs)


def flops(ratings, users, items, k):
    """Floating-point work of one ALS sweep (both halves), as the row solves do it: per entry a
    rank-1 update of the (k+1)² Gram (ssyrk) and the right-hand side; per row a Cholesky solve."""
    r = k + 1
    return 2 * ratings * (r * r + 2 * r) + (users + items) * (r ** 3 / 3 + 2 * r * r)


def touched_fraction(degrees, machines):
    """Expected fraction of rows whose entries reach a given machine's block of the other side
    when that side is split into `machines` blocks: 1 - (1 - 1/M)^n averaged over the rows."""
    return sum(1 - (1 - 1 / machines) ** n for n in degrees) / len(degrees)


def degrees(path):
    users, items = {}, {}
    with open(path) as f:
        next(f)
        for line in f:
            u, i, _ = line.split(",", 2)
            users[u] = users.get(u, 0) + 1
            items[i] = items.get(i, 0) + 1
    return list(users.values()), list(items.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--data", default=os.path.join(ROOT, "Benchmarks", "mpi", "out"))
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--skip-weak", action="store_true")
    ap.add_argument("--reanalyze", action="store_true", help="recompute the tables from results/scaling.json's raw runs")
    a = ap.parse_args()
    if a.reanalyze:
        old = json.load(open(os.path.join(RESULTS, "scaling.json")))
        strong = old["raw"]["strong"]
        weak = {int(n): runs for n, runs in old["raw"]["weak"].items()}
        a.epochs, a.repeats = old["epochs"], old["repeats"]
        analyze(a, strong, weak, old["commit"], old["started"], old["finished"], os.path.join(a.data, "synth-10000000.csv"))
        return
    os.makedirs(a.data, exist_ok=True)
    os.makedirs(RESULTS, exist_ok=True)
    if not a.no_build:
        for product in ["mf", "mf-mpi"]:
            subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=ROOT, check=True)
    # Frozen copies: the worktree may be rebuilt while this runs.
    binaries = tempfile.mkdtemp(prefix="mf-mpi-bench-")
    for b in ["mf", "mf-mpi"]:
        shutil.copy(os.path.join(ROOT, ".build", "release", b), binaries)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="mf-mpi-work-")
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    path = synth(binaries, a.data, 10_000_000)

    configs = [("single", 1), ("single", 2), ("mpi", 1), ("mpi", 2), ("mpi", 3), ("mpi", 4)]
    strong = {f"{kind}-{n}": [] for kind, n in configs}
    for rep in range(a.repeats):
        for kind, n in configs:
            r = single(binaries, path, n, a.epochs, work) if kind == "single" else distributed(binaries, path, n, 1, a.epochs, work)
            strong[f"{kind}-{n}"].append(r)
            print(f"rep {rep + 1} {kind} {n}: sweep {statistics.median(r['sweep']):.3f} s, load {r['load']}", flush=True)

    weak = {}
    if not a.skip_weak:
        for n in [1, 2, 3, 4]:
            p = synth(binaries, a.data, 2_500_000 * n)
            weak[n] = [distributed(binaries, p, n, 1, a.epochs, work) for _ in range(max(1, a.repeats - 1))]
            print(f"weak {n}: sweep {median_sweep(weak[n]):.3f} s", flush=True)

    analyze(a, strong, weak, commit, started, time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), path)


def analyze(a, strong, weak, commit, started, finished, path):
    """Writes results/scaling.json and .md from the raw runs."""
    k = 32
    mpi1 = strong["mpi-1"][0]
    f10 = flops(mpi1["ratings"], mpi1["users"], mpi1["items"], k)
    compute1 = statistics.median(r["compute"] for r in strong["mpi-1"])
    rate = f10 / compute1  # flop/s of one core (one process, one thread) in the row solves
    single2 = median_sweep(strong["single-2"])
    single1 = median_sweep(strong["single-1"])
    parallelism = single1 / single2  # what 2 threads give over 1 on this machine
    rows = []
    for n in [1, 2, 3, 4]:
        runs = strong[f"mpi-{n}"]
        sweep = median_sweep(runs)
        compute = statistics.median(r["compute"] for r in runs)
        rows.append({
            "processes": n, "sweep_seconds": sweep, "compute_seconds": compute,
            "communication_seconds": max(0.0, sweep - compute),
            # n processes share the cores' effective parallelism (measured: 1 vs 2 threads).
            "predicted_compute_seconds": f10 / rate / min(n, max(1.0, parallelism)),
            "allgather_bytes": runs[0]["bytes_allgather"], "inout_bytes": runs[0]["bytes_inout"],
            "predicted_allgather_bytes": (n - 1) * (mpi1["users"] + mpi1["items"]) * (k + 1) * 4,
            "owned": runs[0]["owned"], "setup_seconds": statistics.median(r["setup"] for r in runs),
            "loads": [r["load"] for r in runs],
        })
    ratio = rows[1]["sweep_seconds"] / single2

    # Cost model: 1B ratings of the same shape (mf synth: N/150 users, 8·√N items), rank 32,
    # machines of 16 cores at the per-core rate measured here, ring all-gather.
    udeg, ideg = degrees(path)
    n_ratings = 1_000_000_000
    users, items = n_ratings // 150, int(8 * n_ratings ** 0.5)
    f1b = flops(n_ratings, users, items, k)
    item_scale = (n_ratings / items) / (mpi1["ratings"] / mpi1["items"])
    ideg_1b = [n * item_scale for n in ideg]
    row_bytes = (k + 1) * 4
    spark_per_rating_core = 11.6 * 2 / 9e6  # README: Spark ALS 11.6 s/iteration, 9M ratings, local[2]
    model = []
    for machines in [8, 16, 32, 64]:
        cores = 16 * machines
        compute = f1b / (rate * cores)
        allgather = (users + items) * (1 - 1 / machines) * row_bytes
        # A machine receives the touched rows it does not own (1 - 1/M of them). Ratings per
        # user stay about 150 at any size of this shape; ratings per item grow as √N/8.
        inout = (users * touched_fraction(udeg, machines) + items * touched_fraction(ideg_1b, machines)) \
            * (1 - 1 / machines) * row_bytes
        entry = {"machines": machines, "cores": cores, "compute_seconds": compute,
                 "allgather_bytes_per_machine": allgather, "inout_bytes_per_machine": inout,
                 "spark_seconds_linear": spark_per_rating_core * n_ratings / cores}
        for gbps in [10, 25, 100]:
            latency = (machines - 1) * 50e-6 * 2  # two all-gathers a half-sweep
            entry[f"allgather_seconds_{gbps}g"] = allgather * 8 / (gbps * 1e9) + latency
            entry[f"inout_seconds_{gbps}g"] = inout * 8 / (gbps * 1e9) + latency
        model.append(entry)

    result = {
        "commit": commit, "started": started, "finished": finished,
        "epochs": a.epochs, "repeats": a.repeats, "rank": k, "data": "mf synth --ratings 10000000 --seed 1 (train part)",
        "users": mpi1["users"], "items": mpi1["items"], "ratings": mpi1["ratings"],
        "single_process_sweep_seconds": {"1 thread": single1, "2 threads": single2},
        "effective_parallelism_of_2_threads": parallelism,
        "strong": rows, "two_processes_over_single_two_threads": ratio,
        "weak": [{"processes": n, "ratings": weak[n][0]["ratings"], "sweep_seconds": median_sweep(weak[n]),
                  "compute_seconds": statistics.median(r["compute"] for r in weak[n])} for n in weak],
        "per_core_flops": rate, "cost_model_1b": model, "raw": {"strong": strong, "weak": weak},
    }
    with open(os.path.join(RESULTS, "scaling.json"), "w") as f:
        json.dump(result, f, indent=1)

    md = [f"# mf-mpi scaling (commit {commit}, {started} to {result['finished']})", "",
          f"10M set: {mpi1['ratings']} training ratings, {mpi1['users']} users, {mpi1['items']} items; rank {k};"
          f" {a.epochs} sweeps a run, median over sweeps and {a.repeats} interleaved repeats. 2 cores, shared.", "",
          f"Single process (`mf fit --algorithm als --no-tune`): {single1:.3f} s per sweep with 1 thread,"
          f" {single2:.3f} s with 2.", "",
          f"2 threads give {parallelism:.2f}× one thread here; the predicted solving time of n processes is"
          f" the measured 1-process flop rate over min(n, max(1, {parallelism:.2f})).", "",
          "| processes × 1 thread | s/sweep | solving (slowest process) | predicted solving | communication + waiting | bytes/sweep all-gather (as run) | bytes/sweep in/out blocks (counted) | load averages |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['processes']} | {r['sweep_seconds']:.3f} | {r['compute_seconds']:.3f} | {r['predicted_compute_seconds']:.3f} | {r['communication_seconds']:.3f} |"
                  f" {r['allgather_bytes'] / 1e6:.1f} MB | {r['inout_bytes'] / 1e6:.1f} MB | {' '.join(r['loads'])} |")
    md += ["", f"2 processes × 1 thread ÷ single process × 2 threads: **{ratio:.2f}×**", ""]
    if weak:
        md += ["Weak scaling (2.5M ratings per process):", "", "| processes | ratings | s/sweep | solving |", "|---|---|---|---|"]
        for w in result["weak"]:
            md.append(f"| {w['processes']} | {w['ratings']} | {w['sweep_seconds']:.3f} | {w['compute_seconds']:.3f} |")
        md.append("")
    md += [f"Cost model, 1B ratings ({users} users, {items} items, rank {k}), 16 cores a machine at the"
           f" measured {rate / 1e9:.2f} Gflop/s per core; communication per half-sweep pair:", "",
           "| machines | compute s | all-gather MB/machine | in/out MB/machine | all-gather s at 10/25/100 Gb/s | in/out s at 10/25/100 Gb/s | Spark ALS s (linear extrapolation) |",
           "|---|---|---|---|---|---|---|"]
    for m in model:
        md.append(f"| {m['machines']} | {m['compute_seconds']:.2f} | {m['allgather_bytes_per_machine'] / 1e6:.0f} | {m['inout_bytes_per_machine'] / 1e6:.0f} |"
                  f" {m['allgather_seconds_10g']:.2f} / {m['allgather_seconds_25g']:.2f} / {m['allgather_seconds_100g']:.2f} |"
                  f" {m['inout_seconds_10g']:.2f} / {m['inout_seconds_25g']:.2f} / {m['inout_seconds_100g']:.2f} | {m['spark_seconds_linear']:.1f} |")
    with open(os.path.join(RESULTS, "scaling.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
