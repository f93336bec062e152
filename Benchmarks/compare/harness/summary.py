"""Medians, mf ÷ peer ratios, RMSE differences and the markdown tables (standard library only).

A dataset result is {"name", "title", "kind", "rows": [row, …]}; a row is
{"engine", "label", "settings", "rank", "epochs", "family", "is_mf", "status", "error",
 "runs": [run record, …]} (see records.py for run records). kind is "folds" (ML-100K, explicit),
"explicit" (one train/test pair), or "ranking" (implicit feedback with top-K metrics).

Ratios are mf ÷ peer: below 1 means mf takes less time. ΔRMSE is peer − mf: positive means the
peer's RMSE is higher (worse) than mf's. Each peer row is compared with the mf row of the same
family (sgd, als, implicit) and rank; the row says which in its "vs" cell.
"""
import statistics

RANK_KEYS = ("precision", "recall", "ndcg", "map", "auc")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def ratio(mf_value, peer_value):
    """mf ÷ peer, or None when either is missing or the peer's is zero."""
    if mf_value is None or peer_value is None or peer_value == 0:
        return None
    return mf_value / peer_value


def difference(peer_value, mf_value):
    """peer − mf, or None."""
    if peer_value is None or mf_value is None:
        return None
    return peer_value - mf_value


def summarize_runs(runs):
    """Medians of a row's runs; for fold runs, per-fold medians and their means too."""
    ok = [r for r in runs if r.get("train_seconds") is not None]
    out = {
        "runs": len(ok),
        "train_seconds": median(r.get("train_seconds") for r in ok),
        "load_seconds": median(r.get("load_seconds") for r in ok),
        "seconds_per_epoch": median(r.get("seconds_per_epoch") for r in ok),
        "wall_seconds": median(r.get("wall_seconds") for r in ok),
        "peak_rss_mib": max((r["peak_rss_mib"] for r in ok if r.get("peak_rss_mib") is not None), default=None),
        # The fit alone, the data already in the engine's own form (compare.py --sets memory).
        "fit_peak_rss_mib": max((r["fit_peak_rss_mib"] for r in ok if r.get("fit_peak_rss_mib") is not None),
                                default=None),
        "fit_base_rss_mib": median(r.get("fit_base_rss_mib") for r in ok),
        "load_peak_rss_mib": max((r["load_peak_rss_mib"] for r in ok if r.get("load_peak_rss_mib") is not None),
                                 default=None),
    }
    # The spread of every timing over repeats (and folds): min and max beside the median.
    for key in ("train_seconds", "seconds_per_epoch", "wall_seconds"):
        values = [r.get(key) for r in ok if r.get(key) is not None]
        out[key + "_min"] = min(values) if values else None
        out[key + "_max"] = max(values) if values else None
    out["repeats"] = len({r.get("repeat") for r in ok})
    folds = {}
    for r in ok:
        folds.setdefault(r.get("fold"), []).append(r)
    per_fold = {}
    for fold, fruns in folds.items():
        per_fold[fold] = {"rmse": median(r.get("rmse") for r in fruns), "mae": median(r.get("mae") for r in fruns)}
        for key in RANK_KEYS + ("mf_precision", "mf_recall", "mf_ndcg", "mf_map", "mf_auc", "coverage"):
            if any(key in r for r in fruns):
                per_fold[fold][key] = median(r.get(key) for r in fruns)
    out["folds"] = per_fold
    for key in ("rmse", "mae") + RANK_KEYS + ("mf_precision", "mf_recall", "mf_ndcg", "mf_map", "mf_auc", "coverage"):
        out[key] = mean(f.get(key) for f in per_fold.values())
    return out


def reference_row(rows, row):
    """The mf row a peer row is compared with: same family and rank (else same family)."""
    if row.get("is_mf"):
        return None
    family = row.get("family")
    candidates = [r for r in rows if r.get("is_mf") and r.get("family") == family and r.get("status") == "ok"
                  and r.get("primary", True)]
    # Defaults against defaults, tuned against tuned (rows without a variant: any).
    same_variant = [r for r in candidates if r.get("variant") == row.get("variant")]
    candidates = same_variant or candidates
    same_rank = [r for r in candidates if r.get("rank") == row.get("rank")]
    pick = same_rank or candidates
    return pick[0] if pick else None


def compare_rows(rows):
    """Adds "summary" and, for peers, "vs" (mf row label) and "ratios" to each row in place."""
    for row in rows:
        row["summary"] = summarize_runs(row.get("runs", [])) if row.get("status") == "ok" else None
    for row in rows:
        ref = reference_row(rows, row) if row.get("status") == "ok" else None
        if ref is None:
            continue
        a, b = ref["summary"], row["summary"]
        row["vs"] = ref["label"]
        row["ratios"] = {
            "train_seconds": ratio(a["train_seconds"], b["train_seconds"]),
            "seconds_per_epoch": ratio(a["seconds_per_epoch"], b["seconds_per_epoch"]),
            "wall_seconds": ratio(a["wall_seconds"], b["wall_seconds"]),
            "peak_rss_mib": ratio(a["peak_rss_mib"], b["peak_rss_mib"]),
            "rmse_peer_minus_mf": difference(b.get("rmse"), a.get("rmse")),
            "ndcg_peer_minus_mf": difference(b.get("ndcg"), a.get("ndcg")),
            "precision_peer_minus_mf": difference(b.get("precision"), a.get("precision")),
        }
    return rows


# --- formatting --------------------------------------------------------------------------------------

def fmt_seconds(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v:.4f}"


def fmt_ratio(v):
    return "—" if v is None else f"{v:.2f}×"


def fmt_metric(v, digits=4):
    return "—" if v is None else f"{v:.{digits}f}"


def fmt_delta(v, digits=4):
    if v is None:
        return "—"
    return f"{v:+.{digits}f}"


def fmt_mib(v):
    return "—" if v is None else f"{v:.0f}"


def fmt_spread(s, key, fmt=None):
    """'median (min–max)' of a timing, or the median alone when there was one run."""
    fmt = fmt or fmt_seconds
    med, lo, hi = s.get(key), s.get(key + "_min"), s.get(key + "_max")
    if med is None:
        return "—"
    if lo is None or hi is None or (s.get("runs") or 0) < 2:
        return fmt(med)
    return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"


def load_range(row):
    """'a–b': the lowest and highest 1-minute load average seen before and after the row's repeats."""
    values = [x[0] for entry in row.get("load") or [] for x in (entry.get("before"), entry.get("after")) if x]
    if not values:
        return "—"
    lo, hi = min(values), max(values)
    return f"{lo:.1f}" if abs(hi - lo) < 0.05 else f"{lo:.1f}–{hi:.1f}"


def restarts(row):
    """LIBMF runs started again after the end-of-training deadlock (None for other engines)."""
    if row.get("engine") != "libmf":
        return None
    return sum(max(0, (r.get("attempts") or 1) - 1) for r in row.get("runs", []))


def _restarts_cell(row):
    n = restarts(row)
    return "—" if n is None else str(n)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _status_cells(row, width):
    text = row.get("status", "failed")
    if row.get("error"):
        text += ": " + row["error"]
    return [text] + ["—"] * (width - 1)


def _ratio_of(row, key):
    return fmt_ratio((row.get("ratios") or {}).get(key))


def _vs(row):
    if row.get("vs"):
        return row["vs"]
    if row.get("is_mf"):
        return "(reference)" if row.get("primary", True) else "(mf)"
    return "—"


def folds_table(dataset):
    """ML-100K: per-fold RMSE, means, ΔRMSE and the time ratios."""
    folds = dataset.get("folds") or ["u1", "u2", "u3", "u4", "u5"]
    header = (["engine", "settings"] + [f"{f} RMSE" for f in folds] +
              ["mean RMSE", "mean MAE", "ΔRMSE (peer − mf)", "train s: median (min–max)", "mf ÷ peer train",
               "s/epoch: median (min–max)", "mf ÷ peer s/epoch", "peak RSS MiB", "timings", "load avg",
               "LIBMF restarts", "vs"])
    out = []
    for row in dataset["rows"]:
        s = row.get("summary")
        head = [row["label"], row.get("settings", "")]
        if s is None:
            out.append(head + _status_cells(row, len(header) - 2))
            continue
        per = [fmt_metric((s["folds"].get(f) or {}).get("rmse")) for f in folds]
        out.append(head + per + [
            f"**{fmt_metric(s['rmse'])}**", fmt_metric(s["mae"]),
            fmt_delta((row.get("ratios") or {}).get("rmse_peer_minus_mf")),
            fmt_spread(s, "train_seconds"), _ratio_of(row, "train_seconds"),
            fmt_spread(s, "seconds_per_epoch"), _ratio_of(row, "seconds_per_epoch"),
            fmt_mib(s["peak_rss_mib"]), s["runs"], load_range(row), _restarts_cell(row), _vs(row)])
    return _table(header, out)


def explicit_table(dataset):
    """One train/test pair: load, train, per-epoch time with ratios, RMSE, MAE, memory."""
    header = ["engine", "settings", "rank", "epochs", "load s", "train s: median (min–max)", "mf ÷ peer train",
              "s/epoch: median (min–max)", "mf ÷ peer s/epoch", "test RMSE", "test MAE", "ΔRMSE (peer − mf)",
              "peak RSS MiB", "wall s: median (min–max)", "timings", "load avg", "LIBMF restarts", "vs"]
    out = []
    for row in dataset["rows"]:
        s = row.get("summary")
        head = [row["label"], row.get("settings", "")]
        if s is None:
            out.append(head + _status_cells(row, len(header) - 2))
            continue
        out.append(head + [
            row.get("rank", "—"), row.get("epochs", "—"), fmt_seconds(s["load_seconds"]),
            fmt_spread(s, "train_seconds"), _ratio_of(row, "train_seconds"),
            fmt_spread(s, "seconds_per_epoch"), _ratio_of(row, "seconds_per_epoch"),
            fmt_metric(s["rmse"]), fmt_metric(s["mae"]),
            fmt_delta((row.get("ratios") or {}).get("rmse_peer_minus_mf")),
            fmt_mib(s["peak_rss_mib"]), fmt_spread(s, "wall_seconds"), s["runs"], load_range(row),
            _restarts_cell(row), _vs(row)])
    return _table(header, out)


def ranking_table(dataset):
    """Implicit feedback: the harness's top-10 metrics, mf's own figures, per-iteration time."""
    k = dataset.get("k", 10)
    header = ["engine", "settings", f"P@{k}", f"R@{k}", f"NDCG@{k}", f"MAP@{k}", "AUC",
              f"ΔNDCG@{k} (peer − mf)", f"mf evaluate P@{k} / NDCG@{k} (cross-check)",
              "s/iter: median (min–max)", "mf ÷ peer s/iter", "train s: median (min–max)", "peak RSS MiB", "timings",
              "load avg", "vs"]
    out = []
    for row in dataset["rows"]:
        s = row.get("summary")
        head = [row["label"], row.get("settings", "")]
        if s is None:
            out.append(head + _status_cells(row, len(header) - 2))
            continue
        cross = "—"
        if s.get("mf_precision") is not None or s.get("mf_ndcg") is not None:
            cross = f"{fmt_metric(s.get('mf_precision'))} / {fmt_metric(s.get('mf_ndcg'))}"
        out.append(head + [
            fmt_metric(s.get("precision")), fmt_metric(s.get("recall")), fmt_metric(s.get("ndcg")),
            fmt_metric(s.get("map")), fmt_metric(s.get("auc")),
            fmt_delta((row.get("ratios") or {}).get("ndcg_peer_minus_mf")), cross,
            fmt_spread(s, "seconds_per_epoch"), _ratio_of(row, "seconds_per_epoch"),
            fmt_spread(s, "train_seconds"), fmt_mib(s["peak_rss_mib"]), s["runs"], load_range(row),
            _vs(row)])
    return _table(header, out)


def dataset_table(dataset):
    kind = dataset.get("kind")
    if kind == "folds":
        return folds_table(dataset)
    if kind == "ranking":
        return ranking_table(dataset)
    return explicit_table(dataset)


def tuning_table(dataset):
    """The sweep behind the tuned rows: every setting of every engine with its validation figure."""
    t = dataset.get("tuning") or {}
    if not t.get("engines"):
        return None
    ranking = dataset.get("kind") == "ranking"
    header = ["engine", "setting", "validation NDCG@10" if ranking else "validation RMSE", "s/epoch", "chosen"]
    out = []
    for engine, points in t["engines"].items():
        values = [p["value"] for p in points if p.get("value") is not None]
        best = (max if ranking else min)(values) if values else None
        for p in points:
            setting = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in p["params"].items())
            if p.get("extension"):
                setting += " (past the grid's edge)"
            value = fmt_metric(p.get("value")) if p.get("status") == "ok" else f"{p.get('status')}: {p.get('error')}"
            out.append([engine, setting, value, fmt_seconds(p.get("seconds_per_epoch")),
                        "✓" if best is not None and p.get("value") == best else ""])
    return _table(header, out)
