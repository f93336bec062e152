"""Runs one Python peer inside the harness's virtual environment and prints one JSON record.

    .venv/bin/python -m harness.peer_runner SPEC.json

SPEC: {"engine": "myfm" | "surprise-svd" | "surprise-svdpp" | "surprise-baseline" | "implicit-als" |
        "spark-als",
       "runs": [{"train": PATH, "test": PATH, "fold": "u1"}, …], "repeats": 3,
       "max_repeat_seconds": 10, "rank": 32, "epochs": 20, "threads": 2, "params": {…},
       "rating_scale": [1, 5], "mode": "explicit" | "ranking" | "speed", "k": 10}

Every run times the training call alone (load_seconds is reported apart). A run's repeats stop
early once one repeat's training takes longer than max_repeat_seconds (long runs are not noisy in
proportion). The third-party packages are imported inside the engine functions.

Output: {"engine", "version", "settings", "runs": [{fold, repeat, load_seconds, train_seconds,
epochs, epoch_seconds?, seconds_per_epoch?, rmse?, mae?, precision?, …}], "notes": [...]}, or
{"engine", "error"} when the engine failed.
"""
import json
import math
import os
import sys
import time
import traceback

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.proc import proc_status_kib as _status_kib  # noqa: E402
from harness.readers import file_format, read_ratings  # noqa: E402


class LineStamps:
    """A stand-in for sys.stdout that records when each line was written."""

    def __init__(self):
        self.lines = []
        self._buffer = ""

    def write(self, text):
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self.lines.append((time.perf_counter(), line))
        return len(text)

    def flush(self):
        pass


# --- peak memory of the fit alone ----------------------------------------------------------------
#
# With spec["fit_memory"], each run measures the memory of its training call alone: once the data is
# in the engine's own form (Surprise's Trainset, implicit's CSR matrix with the loader's arrays
# dropped, Spark's cached and counted DataFrame), the kernel's peak-RSS mark of this process (and of
# Spark's JVM) is reset to the current RSS ("5" to /proc/PID/clear_refs); VmHWM read right after the
# fit is the peak during it. fit_base_rss_mib is the RSS at the reset (interpreter, libraries, data).

def fit_memory_start(pids=("self",)):
    """Resets the peak-RSS marks of pids; returns (their summed RSS, their summed peak before the
    reset) in MiB, or None if not possible."""
    total = before = 0
    for pid in pids:
        before += _status_kib(pid, "VmHWM") or 0
        try:
            with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
                f.write("5")
        except OSError:
            return None
        total += _status_kib(pid, "VmRSS") or 0
    return total / 1024.0, before / 1024.0


def fit_memory_end(start, pids=("self",)):
    """{fit_base_rss_mib, fit_peak_rss_mib, load_peak_rss_mib}: the summed VmHWM of pids since
    fit_memory_start, the RSS then and the peak before it (loading; the reset lowers the OS's
    whole-process figure, so this is what is left of it)."""
    if start is None:
        return {"fit_base_rss_mib": None, "fit_peak_rss_mib": None, "load_peak_rss_mib": None}
    base, before = start
    return {"fit_base_rss_mib": base, "fit_peak_rss_mib": sum(_status_kib(p, "VmHWM") or 0 for p in pids) / 1024.0,
            "load_peak_rss_mib": before}


def _clamp(value, lo, hi):
    return min(hi, max(lo, value))


def _errors(pairs):
    n = 0
    se = ae = 0.0
    for est, true in pairs:
        e = est - true
        se += e * e
        ae += abs(e)
        n += 1
    return (math.sqrt(se / n), ae / n) if n else (None, None)


def _repeat_loop(spec, one_run):
    """Calls one_run(run, repeat) for each run and repeat; stops a run's repeats once it is long."""
    results = []
    for run in spec["runs"]:
        for repeat in range(int(spec.get("repeats", 1))):
            record = one_run(run, repeat)
            record.setdefault("fold", run.get("fold"))
            record["repeat"] = repeat
            results.append(record)
            if record["train_seconds"] > float(spec.get("max_repeat_seconds", 10)):
                break
    return results


# --- Surprise -------------------------------------------------------------------------------------

def run_surprise(spec):
    import surprise

    kind = spec["engine"]
    k, epochs = int(spec["rank"]), int(spec["epochs"])
    params = spec.get("params", {})
    lo, hi = spec.get("rating_scale", [1, 5])

    def make():
        if kind == "surprise-svd":
            return surprise.SVD(n_factors=k, n_epochs=epochs, lr_all=params.get("lr", 0.005),
                                reg_all=params.get("reg", 0.02), random_state=42, verbose=True)
        if kind == "surprise-svdpp":
            return surprise.SVDpp(n_factors=k, n_epochs=epochs, lr_all=params.get("lr", 0.007),
                                  reg_all=params.get("reg", 0.02), random_state=42, verbose=True)
        if kind == "surprise-baseline":
            return surprise.BaselineOnly(bsl_options={"method": "als", "n_epochs": epochs,
                                                      "reg_u": params.get("reg_u", 15),
                                                      "reg_i": params.get("reg_i", 10)},
                                         verbose=False)
        raise ValueError(f"unknown engine {kind}")

    def one_run(run, repeat):
        sep, header, nfields = file_format(run["train"])
        fmt = "user item rating timestamp" if nfields >= 4 else "user item rating"
        reader = surprise.Reader(line_format=fmt, sep=sep, skip_lines=1 if header else 0,
                                 rating_scale=(lo, hi))
        t0 = time.perf_counter()
        trainset = surprise.Dataset.load_from_file(run["train"], reader=reader).build_full_trainset()
        load = time.perf_counter() - t0
        algo = make()
        stamps = LineStamps()
        saved = sys.stdout
        sys.stdout = stamps
        memory = fit_memory_start() if spec.get("fit_memory") else None
        try:
            t1 = time.perf_counter()
            algo.fit(trainset)
            t2 = time.perf_counter()
        finally:
            sys.stdout = saved
        memory = fit_memory_end(memory) if spec.get("fit_memory") else {}
        starts = [t for t, line in stamps.lines if "processing epoch" in line.lower()]
        epoch_seconds = [b - a for a, b in zip(starts, starts[1:] + [t2])] if starts else None
        test = read_ratings(run["test"])
        predictions = algo.test(test)  # Surprise clips estimates to the rating scale
        rmse, mae = _errors((p.est, p.r_ui) for p in predictions)
        fallbacks = sum(1 for p in predictions if p.details.get("was_impossible"))
        return dict({"load_seconds": load, "train_seconds": t2 - t1, "epochs": epochs,
                     "epoch_seconds": epoch_seconds, "rmse": rmse, "mae": mae, "fallbacks": fallbacks}, **memory)

    settings = {
        "surprise-svd": f"SVD n_factors={k} n_epochs={epochs} lr_all={params.get('lr', 0.005)} "
                        f"reg_all={params.get('reg', 0.02)}" + ("" if params else " (Surprise defaults but n_factors)"),
        "surprise-svdpp": f"SVDpp n_factors={k} n_epochs={epochs} lr_all={params.get('lr', 0.007)} "
                          f"reg_all={params.get('reg', 0.02)} (Surprise defaults but n_factors)",
        "surprise-baseline": f"BaselineOnly ALS n_epochs={epochs} reg_u={params.get('reg_u', 15)} "
                             f"reg_i={params.get('reg_i', 10)} (Surprise defaults)",
    }[kind]
    return {"version": surprise.__version__, "settings": settings, "runs": _repeat_loop(spec, one_run),
            "notes": ["single-threaded (Surprise has no threads option)"]}


# --- implicit ---------------------------------------------------------------------------------------

def _load_numeric(path):
    """(user ids, item ids, values) as numpy arrays; ids kept as strings when not integers."""
    import numpy as np

    sep, header, nfields = file_format(path)
    cols = (0, 1, 2) if nfields >= 3 else (0, 1)
    try:
        data = np.loadtxt(path, delimiter=sep, skiprows=1 if header else 0, usecols=cols,
                          dtype=np.float64, ndmin=2)
        users = data[:, 0].astype(np.int64).astype(str)
        items = data[:, 1].astype(np.int64).astype(str)
        values = data[:, 2].astype(np.float32) if nfields >= 3 else np.ones(len(data), np.float32)
        return users, items, values
    except ValueError:
        rows = read_ratings(path)
        return (np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
                np.array([r[2] for r in rows], dtype=np.float32))


def run_implicit(spec):
    import numpy as np
    import scipy.sparse as sp
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    k, iters, threads = int(spec["rank"]), int(spec["epochs"]), int(spec["threads"])
    params = spec.get("params", {})
    alpha = float(params.get("alpha", 10.0))
    reg = float(params.get("regularization", 0.05))
    mode = spec.get("mode", "speed")
    bpr = spec["engine"] == "implicit-bpr"
    lr = float(params.get("learning_rate", 0.01))
    if bpr:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

    def one_run(run, repeat):
        t0 = time.perf_counter()
        users, items, values = _load_numeric(run["train"])
        user_ids, urow = np.unique(users, return_inverse=True)
        item_ids, icol = np.unique(items, return_inverse=True)
        # implicit 0.7 uses the matrix value itself as the confidence c (its CG solver weighs
        # Yᵀ(C−I)Y and YᵀC·p), after multiplying by its own alpha. mf's confidence is c = 1 + α·r,
        # so implicit is given the matrix 1 + α·r with its alpha left at 1: the same objective.
        conf = (1.0 + alpha * values).astype(np.float32)
        matrix = sp.csr_matrix((conf, (urow, icol)), shape=(len(user_ids), len(item_ids)))
        matrix.sum_duplicates()
        load = time.perf_counter() - t0
        if bpr:
            # BPR reads the matrix as binary (any stored value is a positive); x̂_ui = b_i + p_u·q_i
            # (implicit appends the bias as an extra factor column), as mf's BPR.
            model = BayesianPersonalizedRanking(factors=k, learning_rate=lr, regularization=reg, iterations=iters,
                                                num_threads=threads, random_state=42)
        else:
            model = AlternatingLeastSquares(factors=k, regularization=reg, alpha=1.0, iterations=iters,
                                            use_cg=True, num_threads=threads, random_state=42,
                                            calculate_training_loss=False)
        per_iter = []
        n_users, n_items = int(len(user_ids)), int(len(item_ids))
        memory = None
        if spec.get("fit_memory") and mode != "ranking":
            # Only the CSR matrix is implicit's input: the loader's arrays go before the reset.
            import gc

            del users, items, values, conf, user_ids, item_ids, urow, icol
            gc.collect()
            memory = fit_memory_start()
        t1 = time.perf_counter()
        model.fit(matrix, show_progress=False, callback=lambda it, elapsed, *rest: per_iter.append(elapsed))
        t2 = time.perf_counter()
        record = {"load_seconds": load, "train_seconds": t2 - t1, "epochs": iters,
                  "epoch_seconds": per_iter, "users": n_users, "items": n_items}
        if spec.get("fit_memory") and mode != "ranking":
            record.update(fit_memory_end(memory))
        if mode == "ranking":
            from harness.ranking import pairs_of, ranking_metrics

            uf = model.user_factors
            itf = model.item_factors
            if hasattr(uf, "to_numpy"):
                uf, itf = uf.to_numpy(), itf.to_numpy()
            train_pairs = list(zip(users.tolist(), items.tolist()))
            metrics = ranking_metrics(uf, itf, user_ids.tolist(), item_ids.tolist(), train_pairs,
                                      pairs_of(run["test"]), int(spec.get("k", 10)))
            record.update(metrics)
        return record

    if bpr:
        return {"version": implicit.__version__,
                "settings": f"BayesianPersonalizedRanking factors={k} learning_rate={lr} regularization={reg} "
                            f"iterations={iters} num_threads={threads}",
                "runs": _repeat_loop(spec, one_run),
                "notes": ["seconds per iteration from implicit's own fit callback"]}
    return {"version": implicit.__version__,
            "settings": f"AlternatingLeastSquares factors={k} regularization={reg} iterations={iters} "
                        f"use_cg=True num_threads={threads}; matrix = 1 + {alpha}·r, alpha=1",
            "runs": _repeat_loop(spec, one_run),
            "notes": ["OPENBLAS_NUM_THREADS=1 as implicit recommends",
                      "seconds per iteration from implicit's own fit callback"]}


# --- LightFM ---------------------------------------------------------------------------------------

def run_lightfm(spec):
    """LightFM (pure collaborative filtering: no features, so each user and item has one embedding
    and one bias) with its WARP or BPR loss, one fit_partial call per epoch so each epoch is timed.
    For ranking, p_u·q_i + b_i is what LightFM's predict orders a user's items by (its user bias is
    the same for all of them): the item bias is passed as an extra column, as for implicit's BPR."""
    import numpy as np
    import scipy.sparse as sp
    import lightfm
    from lightfm import LightFM

    loss = "warp" if spec["engine"] == "lightfm-warp" else "bpr"
    k, epochs, threads = int(spec["rank"]), int(spec["epochs"]), int(spec["threads"])
    params = spec.get("params", {})
    lr = float(params.get("learning_rate", 0.05))
    alpha = float(params.get("alpha", 0.0))
    mode = spec.get("mode", "speed")

    def one_run(run, repeat):
        t0 = time.perf_counter()
        users, items, _ = _load_numeric(run["train"])
        user_ids, urow = np.unique(users, return_inverse=True)
        item_ids, icol = np.unique(items, return_inverse=True)
        matrix = sp.coo_matrix((np.ones(len(urow), np.float32), (urow, icol)), shape=(len(user_ids), len(item_ids)))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        load = time.perf_counter() - t0
        model = LightFM(no_components=k, loss=loss, learning_rate=lr, item_alpha=alpha, user_alpha=alpha,
                        random_state=42)
        memory = fit_memory_start() if spec.get("fit_memory") else None
        per_epoch = []
        t1 = time.perf_counter()
        for _ in range(epochs):
            e0 = time.perf_counter()
            model.fit_partial(matrix, epochs=1, num_threads=threads)
            per_epoch.append(time.perf_counter() - e0)
        t2 = time.perf_counter()
        record = {"load_seconds": load, "train_seconds": t2 - t1, "epochs": epochs, "epoch_seconds": per_epoch,
                  "users": int(len(user_ids)), "items": int(len(item_ids))}
        if spec.get("fit_memory"):
            record.update(fit_memory_end(memory))
        if mode == "ranking":
            from harness.ranking import pairs_of, ranking_metrics

            ub, ue = model.get_user_representations()
            ib, ie = model.get_item_representations()
            uf = np.hstack([ue, np.ones((len(ue), 1), ue.dtype)])
            itf = np.hstack([ie, ib.reshape(-1, 1).astype(ie.dtype)])
            record.update(ranking_metrics(uf, itf, user_ids.tolist(), item_ids.tolist(),
                                          list(zip(users.tolist(), items.tolist())), pairs_of(run["test"]),
                                          int(spec.get("k", 10))))
        return record

    return {"version": lightfm.__version__,
            "settings": f"LightFM(no_components={k}, loss='{loss}', learning_rate={lr}, item_alpha=user_alpha={alpha})"
                        f", {epochs} × fit_partial(epochs=1, num_threads={threads})",
            "runs": _repeat_loop(spec, one_run),
            "notes": ["no user or item features: one embedding and bias per id; seconds per epoch timed around "
                      "each fit_partial call"]}


# --- Spark MLlib ----------------------------------------------------------------------------------

def run_spark(spec):
    import pyspark
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession, functions as F
    from pyspark.sql.types import FloatType, IntegerType, StructField, StructType

    k, iters, threads = int(spec["rank"]), int(spec["epochs"]), int(spec["threads"])
    params = spec.get("params", {})
    reg = float(params.get("regParam", 0.1))
    memory = params.get("driver_memory", "8g")
    lo, hi = spec.get("rating_scale", [1, 5])
    spark = (SparkSession.builder.master(f"local[{threads}]").appName("mf-compare")
             .config("spark.driver.memory", memory)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(max(4, 2 * threads)))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    notes = [f"local[{threads}], spark.driver.memory={memory}, spark.sql.shuffle.partitions={max(4, 2 * threads)}"]

    def frame(path):
        sep, header, nfields = file_format(path)
        fields = [StructField("user", IntegerType()), StructField("item", IntegerType()),
                  StructField("rating", FloatType())]
        if nfields >= 4:
            fields.append(StructField("timestamp", IntegerType()))
        df = spark.read.csv(path, sep=sep or " ", header=header, schema=StructType(fields))
        return df.select("user", "item", "rating")

    def als(max_iter, reg=reg):
        return ALS(rank=k, maxIter=max_iter, regParam=reg, implicitPrefs=False, userCol="user",
                   itemCol="item", ratingCol="rating", coldStartStrategy="nan", seed=42)

    warmed = {"done": False}

    def one_run(run, repeat):
        # A run may carry its own regParam: the tuning sweep runs all its settings in one JVM.
        r_reg = float((run.get("params") or {}).get("regParam", reg))
        iters_ = int((run.get("params") or {}).get("epochs", iters))
        t0 = time.perf_counter()
        train = frame(run["train"]).cache()
        count = train.count()
        load = time.perf_counter() - t0
        if not warmed["done"] and count <= int(params.get("warmup_max_ratings", 5_000_000)):
            als(1).fit(train)  # JIT warm-up, not timed
            warmed["done"] = True
        pids = ("self", spark.sparkContext._gateway.proc.pid) if spec.get("fit_memory") else ()
        memory = fit_memory_start(pids) if spec.get("fit_memory") else None
        t1 = time.perf_counter()
        model = als(iters_, r_reg).fit(train)  # ALS.fit materializes the factors (eager)
        t2 = time.perf_counter()
        memory = fit_memory_end(memory, pids) if spec.get("fit_memory") else {}
        one = None
        if iters_ > 1 and not (run.get("params") or {}).get("curve"):
            t3 = time.perf_counter()
            als(1, r_reg).fit(train)
            one = time.perf_counter() - t3
        mean = train.agg(F.avg("rating")).first()[0]
        test = frame(run["test"])
        pred = model.transform(test)
        p = F.when(F.isnan(F.col("prediction")), F.lit(mean)).otherwise(F.col("prediction"))
        p = F.least(F.greatest(p, F.lit(float(lo))), F.lit(float(hi)))
        row = pred.select(((p - F.col("rating")) ** 2).alias("se"), F.abs(p - F.col("rating")).alias("ae"),
                          F.isnan(F.col("prediction")).cast("int").alias("fb")) \
            .agg(F.avg("se"), F.avg("ae"), F.sum("fb")).first()
        train.unpersist()
        per_iter = (t2 - t1 - one) / (iters_ - 1) if one is not None else (t2 - t1)
        return {"load_seconds": load, "train_seconds": t2 - t1, "epochs": iters_,
                "seconds_per_epoch": max(per_iter, 0.0), "one_iteration_fit_seconds": one,
                "rmse": math.sqrt(row[0]), "mae": row[1], "fallbacks": int(row[2] or 0), "regParam": r_reg,
                **memory}

    try:
        runs = _repeat_loop(spec, one_run)
        jvm_peak = _jvm_peak_mib(spark)
    finally:
        _stop_spark(spark)
    record = {"version": pyspark.__version__,
              "settings": f"ALS rank={k} maxIter={iters} regParam={reg} implicitPrefs=False seed=42",
              "runs": runs,
              "notes": notes + ["seconds per iteration = (fit(maxIter=N) − fit(maxIter=1)) / (N − 1); "
                                "fit time includes Spark's job scheduling",
                                "peak RSS = JVM VmHWM + Python driver peak"]}
    if jvm_peak is not None:
        # The driver's own VmHWM (its ru_maxrss would start at the forking harness's peak).
        record["peak_rss_mib"] = jvm_peak + (_status_kib("self", "VmHWM") or 0) / 1024.0
    return record


def _jvm_peak_mib(spark):
    try:
        pid = spark.sparkContext._gateway.proc.pid
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except Exception:  # noqa: BLE001 - the figure is optional
        return None
    return None


def _stop_spark(spark):
    proc = getattr(getattr(spark.sparkContext, "_gateway", None), "proc", None)
    spark.stop()
    if proc is not None:
        try:
            proc.stdin.close()
            proc.wait(timeout=30)
        except Exception:  # noqa: BLE001
            proc.kill()


# --- myFM -------------------------------------------------------------------------------------------

def one_hot(users, items, user_index, item_index):
    """The FM design of (user, item) pairs for biased MF: the user's one-hot column, then the
    item's (after all user columns); an id absent from its index is an all-zero block (the
    baseline). Shared with Benchmarks/accuracy's myFM scripts."""
    import numpy as np
    import scipy.sparse as sps

    rows, cols = [], []
    for n, (u, i) in enumerate(zip(users, items)):
        if u in user_index:
            rows.append(n)
            cols.append(user_index[u])
        if i in item_index:
            rows.append(n)
            cols.append(len(user_index) + item_index[i])
    return sps.csr_matrix((np.ones(len(rows)), (rows, cols)),
                          shape=(len(users), len(user_index) + len(item_index)))


def run_myfm(spec):
    """myFM's MyFMRegressor (Gibbs sampling) on the one-hot encodings of user and item: Bayesian
    biased MF as an FM. `epochs` is the number of sweeps; params.kept_sweeps (1-based) the sweeps
    whose samples the prediction averages, as mf keeps every `thinning`-th after its burn-in (the
    last consecutive sweeps, myFM's own choice, are strongly correlated: on ML-100K its last 32
    of 200 gave 0.9189 against 0.9005 for the same count thinned like mf's), else params.kept
    (n_kept_samples: the last ones); seed 42; predictions clipped to the rating scale (as mf
    clamps). An id absent from training is an all-zero block (the baseline)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bar on stderr
    import numpy as np
    import myfm

    k, sweeps = int(spec["rank"]), int(spec["epochs"])
    params = spec.get("params", {})
    kept_sweeps = params.get("kept_sweeps")
    kept = sweeps - min(kept_sweeps) + 1 if kept_sweeps else int(params.get("kept", sweeps - 5))
    lo, hi = spec.get("rating_scale", [1, 5])

    def one_run(run, repeat):
        t0 = time.perf_counter()
        train = read_ratings(run["train"])
        users = {u: n for n, u in enumerate(sorted({r[0] for r in train}))}
        items = {i: n for n, i in enumerate(sorted({r[1] for r in train}))}
        x = one_hot([r[0] for r in train], [r[1] for r in train], users, items)
        y = np.array([r[2] for r in train])
        load = time.perf_counter() - t0
        fm = myfm.MyFMRegressor(rank=k, random_seed=42)
        t1 = time.perf_counter()
        fm.fit(x, y, n_iter=sweeps, n_kept_samples=kept)
        t2 = time.perf_counter()
        test = read_ratings(run["test"])
        x_test = one_hot([r[0] for r in test], [r[1] for r in test], users, items)
        if kept_sweeps:
            samples = fm.predictor_.samples  # sweeps sweeps − kept + 1 … sweeps, in order
            chosen = [samples[t - (sweeps - kept + 1)] for t in kept_sweeps]
            predicted = np.mean([m.predict_score(x_test, []) for m in chosen], axis=0)
        else:
            predicted = fm.predict(x_test)
        predicted = np.clip(predicted, lo, hi)
        rmse, mae = _errors(zip(predicted, (r[2] for r in test)))
        fallbacks = sum(1 for r in test if r[0] not in users or r[1] not in items)
        return {"load_seconds": load, "train_seconds": t2 - t1, "epochs": sweeps,
                "epoch_seconds": None, "rmse": rmse, "mae": mae, "fallbacks": fallbacks}

    return {"version": myfm.__version__,
            "settings": f"MyFMRegressor rank={k} n_iter={sweeps} on user/item one-hots, averaging "
                        + (f"the samples of {len(kept_sweeps)} sweeps ({kept_sweeps[0]}, {kept_sweeps[1] if len(kept_sweeps) > 1 else ''}… {kept_sweeps[-1]})"
                           if kept_sweeps else f"its last {kept} samples"),
            "runs": _repeat_loop(spec, one_run),
            "notes": ["single-threaded Gibbs sampler (myFM has no thread setting for it)"]}


ENGINES = {
    "myfm": run_myfm,
    "surprise-svd": run_surprise,
    "surprise-svdpp": run_surprise,
    "surprise-baseline": run_surprise,
    "implicit-als": run_implicit,
    "spark-als": run_spark,
    "implicit-bpr": run_implicit,
    "lightfm-warp": run_lightfm,
    "lightfm-bpr": run_lightfm,
}


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    engine = spec["engine"]
    try:
        record = ENGINES[engine](spec)
        record["engine"] = engine
    except Exception as e:  # noqa: BLE001 - reported, not raised
        record = {"engine": engine, "error": f"{type(e).__name__}: {e}",
                  "traceback": traceback.format_exc()[-2000:]}
    print(json.dumps(record, default=_json_default))
    return 0 if "error" not in record else 1


def _json_default(value):
    try:
        return value.item()  # numpy scalars
    except AttributeError:
        return str(value)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
