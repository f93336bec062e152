#!/usr/bin/env python3
"""mf-mpi against Spark MLlib ALS on the same cores, in one run, interleaved.

    python3 Benchmarks/mpi/spark_compare.py --spark-python VENV/bin/python [--repeats 2]

Spark (`pip install pyspark`, Java 17) runs `local[2]`, rank 32, regParam 0.1, as the comparison
harness runs it (Benchmarks/compare): seconds per iteration = (fit(maxIter=N) − fit(maxIter=1))
/ (N − 1), after a one-iteration warm-up fit. mf-mpi runs 2 processes × 1 thread, rank 32, N
sweeps. Both on the 10M set of scaling.py. Writes results/spark.json and results/spark.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SPARK = r'''
import json, sys, time
from pyspark.ml.recommendation import ALS
from pyspark.sql import SparkSession
from pyspark.sql.types import FloatType, IntegerType, StructField, StructType
path, iters = sys.argv[1], int(sys.argv[2])
spark = (SparkSession.builder.master("local[2]").appName("mf-mpi-compare")
         .config("spark.driver.memory", "8g").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
schema = StructType([StructField("user", IntegerType()), StructField("item", IntegerType()),
                     StructField("rating", FloatType()), StructField("timestamp", IntegerType())])
train = spark.read.csv(path, header=True, schema=schema).select("user", "item", "rating").cache()
train.count()
als = lambda n: ALS(rank=32, maxIter=n, regParam=0.1, userCol="user", itemCol="item",
                    ratingCol="rating", seed=42)
als(1).fit(train)  # warm-up, not timed
t0 = time.perf_counter(); als(iters).fit(train); t1 = time.perf_counter()
als(1).fit(train); t2 = time.perf_counter()
print(json.dumps({"version": spark.version, "iters": iters, "fit_seconds": t1 - t0,
                  "one_iteration_seconds": t2 - t1, "per_iteration": (t1 - t0 - (t2 - t1)) / (iters - 1)}))
spark.stop()
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spark-python", required=True)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--data", default=os.path.join(ROOT, "Benchmarks", "mpi", "out"))
    a = ap.parse_args()
    path = os.path.join(a.data, "synth-10000000.csv")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run scaling.py first (it generates the 10M set)")
    mfmpi = os.path.join(ROOT, ".build", "release", "mf-mpi")
    spark, mpi, loads = [], [], []
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for rep in range(a.repeats):
        out = subprocess.run([a.spark_python, "-c", SPARK, path, str(a.iterations)], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(out.stderr[-3000:])
        spark.append(json.loads(out.stdout.strip().splitlines()[-1]))
        loads.append(open("/proc/loadavg").read().split()[0])
        out = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", mfmpi, "fit", path,
                              "--epochs", str(a.iterations), "--convergence-tolerance", "0", "--threads", "1",
                              "--quiet", "--json", "--model", "/tmp/mf-mpi-spark-compare.mf"],
                             capture_output=True, text=True, check=True)
        j = json.loads(out.stdout.strip().splitlines()[-1])
        mpi.append(statistics.mean(s["seconds"] for s in j["sweeps"]))
        loads.append(open("/proc/loadavg").read().split()[0])
        print(f"rep {rep + 1}: Spark {spark[-1]['per_iteration']:.2f} s/iteration, mf-mpi {mpi[-1]:.2f} s/sweep", flush=True)
    s = statistics.median(r["per_iteration"] for r in spark)
    m = statistics.median(mpi)
    result = {"started": started, "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "spark": spark, "mf_mpi_sweep_seconds": mpi, "loads": loads,
              "spark_per_iteration": s, "mf_mpi_per_sweep": m, "ratio": m / s}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "spark.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = (f"# mf-mpi beside Spark ALS ({started} to {result['finished']})\n\n"
          f"10M set, rank 32, 2 cores: Spark {spark[0]['version']} `local[2]` (regParam 0.1),"
          f" {a.iterations} iterations, seconds per iteration by (fit(N) − fit(1))/(N − 1);"
          f" mf-mpi 2 processes × 1 thread, {a.iterations} sweeps; {a.repeats} interleaved repeats, medians."
          f" Load averages: {' '.join(loads)}.\n\n"
          f"| | s per iteration (sweep) |\n|---|---|\n| Spark ALS | {s:.2f} |\n| mf-mpi, 2 × 1 | {m:.2f} |\n"
          f"| mf-mpi ÷ Spark | **{m / s:.2f}×** |\n")
    with open(os.path.join(HERE, "results", "spark.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
