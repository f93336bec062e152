"""Parsing each engine's output into one run record (standard library only).

A run record is a dict with these keys (None where an engine does not report the figure):

    train_seconds      the training call alone, timed inside the engine's process
    load_seconds       reading the training file into the engine's structures
    epoch_seconds      list of per-epoch (per-iteration) seconds, when the engine reports them
    seconds_per_epoch  median of epoch_seconds, or train_seconds / epochs when not reported
    epochs             epochs / iterations run
    rmse, mae          on the test file (predictions clamped to the training rating range)
    wall_seconds       wall time of the whole child process (set by the caller)
    peak_rss_mib       peak resident memory of the child process (set by the caller)
"""
import json
import statistics


class ParseError(ValueError):
    """An engine's output is not what the harness expects."""


def _json_object(text, what):
    """The JSON object in `text`: the whole text, else the last line that parses as an object."""
    text = (text or "").strip()
    if not text:
        raise ParseError(f"{what}: no output")
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except json.JSONDecodeError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    raise ParseError(f"{what}: no JSON object in the output: {text[:200]!r}")


def _number(obj, key, what, required=True):
    value = obj.get(key)
    if value is None:
        if required:
            raise ParseError(f"{what}: missing '{key}'")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{what}: '{key}' is not a number: {value!r}")
    return float(value)


def median_or_none(values):
    values = [v for v in (values or []) if v is not None]
    return statistics.median(values) if values else None


def parse_mf_fit(stdout):
    """`mf fit … --json`: seconds (training), read_seconds, history[].seconds, train_rmse."""
    what = "mf fit"
    obj = _json_object(stdout, what)
    train = _number(obj, "seconds", what)
    history = obj.get("history")
    if not isinstance(history, list):
        raise ParseError(f"{what}: missing 'history' list")
    epochs = []
    for entry in history:
        if not isinstance(entry, dict):
            raise ParseError(f"{what}: a history entry is not an object: {entry!r}")
        epochs.append(_number(entry, "seconds", what))
    count = obj.get("epochs_run", len(epochs))
    return {
        "train_seconds": train,
        "load_seconds": _number(obj, "read_seconds", what, required=False),
        "epoch_seconds": epochs,
        "seconds_per_epoch": median_or_none(epochs) if epochs else (train / count if count else None),
        "epochs": int(count) if count is not None else len(epochs),
        "train_rmse": _number(obj, "train_rmse", what, required=False),
        "ratings": obj.get("ratings"),
        "users": obj.get("users"),
        "items": obj.get("items"),
        "rank": obj.get("rank"),
        "algorithm": obj.get("algorithm"),
    }


def parse_mf_evaluate(stdout):
    """`mf evaluate TEST --json`: {rmse, mae, count, fallbacks}."""
    what = "mf evaluate"
    obj = _json_object(stdout, what)
    return {
        "rmse": _number(obj, "rmse", what),
        "mae": _number(obj, "mae", what),
        "count": obj.get("count"),
        "fallbacks": obj.get("fallbacks"),
    }


RANKING_KEYS = ("precision", "recall", "ndcg", "map", "auc")


def parse_mf_ranking(stdout):
    """`mf evaluate TEST --ranking --k 10 --json`: {k, precision, recall, ndcg, map, auc, coverage, users}."""
    what = "mf evaluate --ranking"
    obj = _json_object(stdout, what)
    out = {key: _number(obj, key, what, required=key in ("precision", "ndcg")) for key in RANKING_KEYS}
    out["k"] = obj.get("k")
    out["coverage"] = obj.get("coverage")
    out["users"] = obj.get("users")
    return out


def parse_libmf(stdout):
    """The LIBMF driver's JSON line (libmf_driver.cpp)."""
    what = "libmf driver"
    obj = _json_object(stdout, what)
    if obj.get("engine") != "libmf":
        raise ParseError(f"{what}: not a libmf record: {obj!r}"[:300])
    epochs = obj.get("epoch_seconds")
    if not isinstance(epochs, list):
        raise ParseError(f"{what}: missing 'epoch_seconds' list")
    epochs = [float(e) for e in epochs]
    train = _number(obj, "train_seconds", what)
    iters = int(obj.get("iters") or len(epochs))
    return {
        "train_seconds": train,
        "load_seconds": _number(obj, "load_seconds", what, required=False),
        "setup_seconds": _number(obj, "setup_seconds", what, required=False),
        "epoch_seconds": epochs,
        "seconds_per_epoch": median_or_none(epochs) if epochs else train / max(1, iters),
        "epochs": iters,
        "rmse": _number(obj, "rmse", what),
        "mae": _number(obj, "mae", what),
        "rmse_raw": _number(obj, "rmse_raw", what, required=False),
        "mae_raw": _number(obj, "mae_raw", what, required=False),
        "train_rmse": _number(obj, "train_rmse", what, required=False),
        "fallbacks": obj.get("fallbacks"),
        # The fit alone, with the ratings in LIBMF's own nodes (libmf_driver.cpp; -1: not measured).
        "fit_base_rss_mib": obj["fit_base_rss_kib"] / 1024.0 if (obj.get("fit_base_rss_kib") or -1) >= 0 else None,
        "fit_peak_rss_mib": obj["fit_peak_rss_kib"] / 1024.0 if (obj.get("fit_peak_rss_kib") or -1) >= 0 else None,
        "load_peak_rss_mib": obj["load_peak_rss_kib"] / 1024.0 if (obj.get("load_peak_rss_kib") or -1) >= 0 else None,
    }


def parse_peer(stdout):
    """The record peer_runner prints: {"engine", "version", "runs": [run, …], …}.

    Each run carries train_seconds and epochs, and optionally load_seconds, epoch_seconds,
    seconds_per_epoch, rmse, mae, fold, and ranking metrics.
    """
    what = "peer runner"
    obj = _json_object(stdout, what)
    if "engine" not in obj:
        raise ParseError(f"{what}: missing 'engine'")
    if obj.get("error"):
        raise ParseError(f"{what}: {obj['engine']} failed: {obj['error']}")
    runs = obj.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ParseError(f"{what}: missing 'runs' list")
    parsed = []
    for run in runs:
        if not isinstance(run, dict):
            raise ParseError(f"{what}: a run is not an object: {run!r}")
        train = _number(run, "train_seconds", what)
        epochs = run.get("epochs")
        per_epoch = run.get("epoch_seconds")
        record = dict(run)
        record["train_seconds"] = train
        record["load_seconds"] = _number(run, "load_seconds", what, required=False)
        if isinstance(per_epoch, list) and per_epoch:
            record["epoch_seconds"] = [float(e) for e in per_epoch]
            record.setdefault("seconds_per_epoch", median_or_none(record["epoch_seconds"]))
        if record.get("seconds_per_epoch") is None and epochs:
            record["seconds_per_epoch"] = train / float(epochs)
        for key in ("rmse", "mae") + RANKING_KEYS:
            if key in run and run[key] is not None:
                record[key] = _number(run, key, what)
        parsed.append(record)
    out = dict(obj)
    out["runs"] = parsed
    return out


def parse_gnu_time(stderr):
    """Peak resident set size (MiB) from `/usr/bin/time -v` output, or None."""
    for line in (stderr or "").splitlines():
        line = line.strip()
        if line.startswith("Maximum resident set size (kbytes):"):
            return int(line.rsplit(":", 1)[1]) / 1024.0
    return None
