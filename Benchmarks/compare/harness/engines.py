"""Running each engine on a dataset and collecting its runs into a table row (standard library only).

Every engine runs in a child process: mf and the LIBMF driver once per run (as a user would run
them), each Python peer once per dataset (peer_runner loops over the folds and repeats inside, so
Spark's JVM starts once). The training call is timed inside the child; wall time and peak memory
come from the OS (proc.run_child).
"""
import json
import os
import shutil
import tempfile

from harness.proc import run_child, run_child_fit_memory, tail
from harness.records import (ParseError, parse_libmf, parse_mf_evaluate, parse_mf_fit, parse_mf_ranking,
                             parse_peer)

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


LIBMF_ATTEMPTS = 10  # on a loaded machine 4 were not always enough (issue 14's ML-100K run)


class EngineError(RuntimeError):
    """An engine could not run; the message goes into the table."""


def new_row(engine, label, settings, family, rank=None, epochs=None, is_mf=False, primary=True, series=None):
    return {"engine": engine, "label": label, "settings": settings, "family": family, "rank": rank,
            "epochs": epochs, "is_mf": is_mf, "primary": primary, "series": series or label,
            "status": "pending", "error": None, "runs": []}


def _repeat(runs, repeats, max_repeat_seconds, one_run):
    """[(run, repeat) results]: repeats per run, stopping early once one repeat is long."""
    out = []
    for run in runs:
        for repeat in range(repeats):
            record = one_run(run)
            record["fold"] = run.get("fold")
            record["repeat"] = repeat
            out.append(record)
            if record["train_seconds"] > max_repeat_seconds:
                break
    return out


def _check(result, what):
    if result["timed_out"]:
        raise EngineError(f"{what} timed out after {result['wall_seconds']:.0f} s")
    if result["status"] != 0:
        raise EngineError(f"{what} exited {result['status']}: {tail(result['stderr'] or result['stdout'], 3, 400)}")


# --- mf -------------------------------------------------------------------------------------------------

def mf_explicit_run(mf, train, test, fit_args, workdir, timeout=None):
    model = os.path.join(workdir, "model.mf")
    r = run_child([mf, "fit", train] + list(fit_args) + ["--model", model, "--json", "--quiet"], timeout=timeout)
    _check(r, "mf fit")
    record = parse_mf_fit(r["stdout"])
    record["wall_seconds"] = r["wall_seconds"]
    record["peak_rss_mib"] = r["peak_rss_mib"]
    if test:
        e = run_child([mf, "evaluate", test, "--model", model, "--json"], timeout=timeout)
        _check(e, "mf evaluate")
        record.update(parse_mf_evaluate(e["stdout"]))
    return record


def mf_ranking_run(mf, train, test, fit_args, workdir, venv_python, k=10, timeout=None):
    """Implicit fit, then the harness's ranking metrics from the exported factors and mf's own."""
    model = os.path.join(workdir, "model.mf")
    r = run_child([mf, "fit", train] + list(fit_args) + ["--model", model, "--json", "--quiet"], timeout=timeout)
    _check(r, "mf fit --implicit")
    record = parse_mf_fit(r["stdout"])
    record["wall_seconds"] = r["wall_seconds"]
    record["peak_rss_mib"] = r["peak_rss_mib"]
    notes = []
    e = run_child([mf, "evaluate", test, "--model", model, "--ranking", "--k", str(k), "--json"], timeout=timeout)
    try:
        _check(e, "mf evaluate --ranking")
        own = parse_mf_ranking(e["stdout"])
        for key in ("precision", "recall", "ndcg", "map", "auc"):
            record["mf_" + key] = own.get(key)
    except (EngineError, ParseError) as err:
        notes.append(str(err))
    npy = os.path.join(workdir, "npy")
    shutil.rmtree(npy, ignore_errors=True)
    x = run_child([mf, "export", "--format", "npy", "--output", npy, "--model", model], timeout=timeout)
    _check(x, "mf export --format npy")
    m = run_child([venv_python, "-m", "harness.ranking", "--npy", npy, "--train", train, "--test", test,
                   "--k", str(k)], cwd=HERE, env=_env(), timeout=timeout)
    _check(m, "harness.ranking on mf's factors")
    metrics = json.loads(m["stdout"].strip().splitlines()[-1])
    for key in ("precision", "recall", "ndcg", "map", "auc", "coverage", "users"):
        record[key] = metrics.get(key)
    if notes:
        record["notes"] = notes
    return record


def _mf_read_done(line):
    """mf fit's progress line printed once the ratings are read: "N ratings, U users, I items; training …"."""
    return " ratings, " in line and "; training " in line


def mf_fit_memory_run(mf, train, fit_args, workdir, timeout=None):
    """`mf fit` with its progress on, the peak-RSS mark reset once the ratings are read (see
    proc.run_child_fit_memory): the fit's peak with the data already in mf's own form. The poll
    runs until the process exits, so writing the model (streamed from the model's arrays) is inside."""
    model = os.path.join(workdir, "model.mf")
    r = run_child_fit_memory([mf, "fit", train] + list(fit_args) + ["--model", model, "--json"], _mf_read_done,
                             timeout=timeout)
    _check(r, "mf fit")
    record = parse_mf_fit(r["stdout"])
    record.update(wall_seconds=r["wall_seconds"], peak_rss_mib=r["peak_rss_mib"],
                  fit_base_rss_mib=r["fit_base_rss_mib"], fit_peak_rss_mib=r["fit_peak_rss_mib"],
                  load_peak_rss_mib=r["load_peak_rss_mib"])
    return record


def run_mf_row(row, mf, runs, fit_args, repeats, max_repeat_seconds, timeout=None, ranking=None,
               fit_memory=False):
    """Fills row["runs"] with mf runs; ranking = {"venv_python", "k"} for implicit rows."""
    workdir = tempfile.mkdtemp(prefix="mf-compare-")
    try:
        def one(run):
            if fit_memory:
                return mf_fit_memory_run(mf, run["train"], fit_args, workdir, timeout)
            if ranking:
                return mf_ranking_run(mf, run["train"], run["test"], fit_args, workdir, ranking["venv_python"],
                                      ranking.get("k", 10), timeout)
            return mf_explicit_run(mf, run["train"], run["test"], fit_args, workdir, timeout)

        row["runs"] = _repeat(runs, repeats, max_repeat_seconds, one)
        row["status"] = "ok"
        row["command"] = "mf fit TRAIN " + " ".join(fit_args)
    except (EngineError, ParseError) as err:
        row["status"] = "failed"
        row["error"] = str(err)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return row


# --- LIBMF ----------------------------------------------------------------------------------------------

def libmf_run(exe, train, test, k, iters, threads, lam, eta, timeout=None, bins=None):
    cmd = [exe, "--train", train, "--test", test, "--k", str(k), "--iters", str(iters), "--threads", str(threads),
           "--lambda", str(lam), "--eta", str(eta)] + (["--bins", str(bins)] if bins else [])
    # Exit status 75: the driver's watchdog caught LIBMF's termination deadlock (see
    # libmf_driver.cpp); the run is started again, at most LIBMF_ATTEMPTS times in all.
    for attempt in range(1, LIBMF_ATTEMPTS + 1):
        r = run_child(cmd, timeout=timeout)
        if r["status"] != 75:
            break
    _check(r, "libmf driver")
    record = parse_libmf(r["stdout"])
    record["attempts"] = attempt
    record["wall_seconds"] = r["wall_seconds"]
    record["peak_rss_mib"] = r["peak_rss_mib"]
    return record


def run_libmf_row(row, exe, runs, k, iters, threads, lam, eta, repeats, max_repeat_seconds, timeout=None,
                  bins=None):
    try:
        row["runs"] = _repeat(runs, repeats, max_repeat_seconds,
                              lambda run: libmf_run(exe, run["train"], run["test"], k, iters, threads, lam, eta,
                                                    timeout, bins))
        row["status"] = "ok"
    except (EngineError, ParseError) as err:
        row["status"] = "failed"
        row["error"] = str(err)
    return row


# --- Python peers ---------------------------------------------------------------------------------------

def _env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra or {})
    return env


def run_peer_row(row, venv_python, spec, spec_dir, timeout=None, extra_env=None):
    """Runs peer_runner once for the row (all folds and repeats); fills row["runs"]."""
    os.makedirs(spec_dir, exist_ok=True)
    spec_path = os.path.join(spec_dir, f"{row['engine']}-{row.get('rank')}-{os.getpid()}.json")
    with open(spec_path, "w", encoding="utf-8") as f:
        json.dump(spec, f)
    r = run_child([venv_python, "-m", "harness.peer_runner", spec_path], cwd=HERE, env=_env(extra_env),
                  timeout=timeout)
    try:
        if r["timed_out"]:
            raise EngineError(f"timed out after {r['wall_seconds']:.0f} s")
        record = parse_peer(r["stdout"])
        peak = record.get("peak_rss_mib") or r["peak_rss_mib"]
        for run in record["runs"]:
            run["peak_rss_mib"] = peak
            # One child ran every fold and repeat: its wall time is a run's only when there is one.
            run["wall_seconds"] = r["wall_seconds"] if len(record["runs"]) == 1 else None
        row["runs"] = record["runs"]
        row["version"] = record.get("version")
        row["settings"] = record.get("settings") or row["settings"]
        row["notes"] = record.get("notes", [])
        row["child_wall_seconds"] = r["wall_seconds"]
        row["status"] = "ok"
    except ParseError as err:
        row["status"] = "failed"
        row["error"] = f"{err} {tail(r['stderr'], 2, 300)}".strip()
    except EngineError as err:
        row["status"] = "failed"
        row["error"] = str(err)
    return row
