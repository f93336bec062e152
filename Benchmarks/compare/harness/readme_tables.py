"""The condensed tables the top-level README quotes, made from a results JSON (standard library only).

compare.py writes them to OUT/readme-tables.md with every run and every `--report-only`, so each
figure the README shows is in a results file, formatted the same way as in results.md.
"""
from harness import summary


def _ok(ds, engine, variant=None, rank=None):
    for row in ds.get("rows", []):
        if row.get("engine") == engine and row.get("status") == "ok" and row.get("summary") \
                and (variant is None or row.get("variant") == variant) and (rank is None or row.get("rank") == rank):
            return row
    return None


def _spe(row):
    return summary.fmt_spread(row["summary"], "seconds_per_epoch") if row else "—"


def _ratio(row):
    return summary.fmt_ratio((row.get("ratios") or {}).get("seconds_per_epoch")) if row else "—"


def _metric(row, key="rmse"):
    return summary.fmt_metric(row["summary"].get(key)) if row else "—"


def _variant_text(row):
    if not row:
        return "—"
    if row.get("variant") == "defaults":
        return "shared settings" if "shared settings" in row["label"] else "defaults"
    name = engine_name(row)
    return row["label"][len(name) + 2:] if len(row["label"]) > len(name) else (row.get("variant") or "—")


def engine_name(row):
    """The row's label without its variant: 'LIBMF (2017 src, PyPI libmf 0.9.2)' of '…, defaults'."""
    label = row["label"]
    for marker in (", defaults", ", tuned", ", shared settings"):
        if marker in label:
            return label.split(marker, 1)[0]
    return label


def sgd_table(results):
    header = ["set", "rank", "rows", "mf s/epoch", "LIBMF s/epoch", "mf ÷ LIBMF s/epoch", "mf RMSE", "LIBMF RMSE",
              "LIBMF restarts", "load avg"]
    out = []
    for ds in results.get("datasets", []):
        if ds.get("kind") != "explicit":
            continue
        ranks = sorted({r.get("rank") for r in ds["rows"] if r.get("engine") == "libmf"})
        for rank in ranks:
            for variant in ("defaults", "tuned"):
                mf, lib = _ok(ds, "mf-sgd", variant, rank), _ok(ds, "libmf", variant, rank)
                if not (mf or lib):
                    continue
                loads = summary.load_range({"load": (mf or {}).get("load", []) + (lib or {}).get("load", [])})
                out.append([ds["name"], rank, variant, _spe(mf), _spe(lib), _ratio(lib), _metric(mf), _metric(lib),
                            summary.restarts(lib) if lib else "—", loads])
    return summary._table(header, out) if out else ""


def als_table(results):
    header = ["set", "rows", "mf ALS s/iter", "Spark ALS s/iter", "mf ÷ Spark", "mf RMSE", "Spark RMSE",
              "mf implicit ALS s/iter", "implicit ALS s/iter", "mf ÷ implicit"]
    out = []
    for ds in results.get("datasets", []):
        if ds.get("kind") not in ("explicit", "folds"):
            continue
        for variant in ("defaults", "tuned"):
            mf, sp = _ok(ds, "mf-als", variant), _ok(ds, "spark-als", variant)
            mi, im = _ok(ds, "mf-implicit-als", variant), _ok(ds, "implicit-als", variant)
            if not (mf or sp or mi or im):
                continue
            out.append([ds["name"], variant, _spe(mf), _spe(sp), _ratio(sp), _metric(mf), _metric(sp), _spe(mi),
                        _spe(im), _ratio(im)])
    return summary._table(header, out) if out else ""


def ml100k_table(results):
    header = ["engine", "row", "epochs", "mean RMSE", "train s", "s/epoch", "mf ÷ peer s/epoch", "timings",
              "load avg"]
    for ds in results.get("datasets", []):
        if ds.get("kind") == "folds":
            out = [[engine_name(r), _variant_text(r), r.get("epochs"), summary.fmt_metric(r["summary"]["rmse"]),
                    summary.fmt_spread(r["summary"], "train_seconds"), _spe(r), _ratio(r), r["summary"]["runs"],
                    summary.load_range(r)]
                   if r.get("status") == "ok" and r.get("summary") else
                   [engine_name(r), _variant_text(r), r.get("epochs"), f"{r.get('status')}: {r.get('error')}", "—",
                    "—", "—", len(r.get("runs") or []), summary.load_range(r)]
                   for r in ds["rows"]]
            return summary._table(header, out)
    return ""


def ranking_table(results):
    header = ["engine", "row", "NDCG@10", "P@10", "s/iter", "mf ÷ peer s/iter", "train s", "load avg"]
    for ds in results.get("datasets", []):
        if ds.get("kind") == "ranking":
            out = [[engine_name(r), _variant_text(r), _metric(r, "ndcg"), _metric(r, "precision"), _spe(r),
                    _ratio(r), summary.fmt_spread(r["summary"], "train_seconds"), summary.load_range(r)]
                   for r in ds["rows"] if r.get("status") == "ok" and r.get("summary")]
            return summary._table(header, out)
    return ""


def tables(results):
    parts = ["# Tables quoted by the README", "",
             "Made by compare.py from results.json (the same run as results.md); see results.md for every "
             "column, the settings and the sweeps.", ""]
    for title, text in (("SGD: mf and LIBMF per epoch (synthetic sets)", sgd_table(results)),
                        ("ALS: mf against Spark, implicit ALS: mf against implicit", als_table(results)),
                        ("MovieLens-100K, five folds", ml100k_table(results)),
                        ("MovieLens-100K implicit (ratings ≥ 4), five splits", ranking_table(results))):
        if text:
            parts += [f"## {title}", "", text, ""]
    return "\n".join(parts)
