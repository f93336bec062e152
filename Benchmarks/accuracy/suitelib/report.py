"""Summaries of the suite's runs and the markdown rendered from suite.json (standard library only).

Everything the markdown shows comes from the results object (the parsed suite.json): the suite
writes the JSON first and renders the markdown from what it wrote, and `suite.py --report-only`
renders it again from the file alone.

A row is one engine on one data set: {"engine", "label", "settings", "timed", "status", "error",
"runs": [{"fold", "rmse", "mae", "fit_seconds", "train_seconds", …}], "summary": {…}}. Statuses:
"ok", "failed" (the engine ran and failed, or could not be built), "not installed" (its package
could not be installed) and "skipped" (not run on this set by design, e.g. Surprise above
--surprise-max-ratings).
"""
import math
import os
import statistics

# The engines of every data set, in table order: id → column title.
ENGINES = {
    "mf-default": "mf defaults",
    "mf-tuned": "mf tuned (grid)",
    "libmf": "LIBMF",
    "surprise-svd": "Surprise SVD",
    "surprise-baseline": "Surprise BaselineOnly",
    "mf-bayes": "mf Bayesian MF",
    "myfm": "myFM",
    "mf-svdpp": "mf SVD++",
    "surprise-svdpp": "Surprise SVD++",
}
# The peers mf's defaults (SGD) are checked against; the Bayesian and SVD++ engines are checked
# against their own peers (RIVALS).
PEERS = ("libmf", "surprise-svd", "surprise-baseline")
# Issue 9: mf's Bayesian MF against myFM (same rank, sweeps and kept samples), mf's SVD++ against
# Surprise's.
RIVALS = {"mf-bayes": "myfm", "mf-svdpp": "surprise-svdpp"}
# The target: mf's defaults within 0.5% of mf's best grid setting.
TUNED_TOLERANCE = 0.005


def mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def summarize_runs(runs):
    """Means over a row's runs (folds or seeds) and the spread of the test RMSE."""
    rmses = [r.get("rmse") for r in runs if r.get("rmse") is not None]
    return {
        "runs": len(runs),
        "rmse": mean(rmses),
        "rmse_min": min(rmses) if rmses else None,
        "rmse_max": max(rmses) if rmses else None,
        "mae": mean(r.get("mae") for r in runs),
        "fit_seconds": mean(r.get("fit_seconds") for r in runs),
        "train_seconds": mean(r.get("train_seconds") for r in runs),
    }


def best_point(grid):
    """The grid point with the lowest mean test RMSE over its runs (None if none succeeded)."""
    ok = [p for p in grid if p.get("status") == "ok" and (p.get("summary") or {}).get("rmse") is not None]
    if not ok:
        return None
    return min(ok, key=lambda p: (p["summary"]["rmse"], p["summary"].get("fit_seconds") or 0))


def row_of(ds, engine):
    for row in ds.get("rows", []):
        if row.get("engine") == engine:
            return row
    return None


def rmse_of(ds, engine):
    row = row_of(ds, engine)
    if not row or row.get("status") != "ok":
        return None
    return (row.get("summary") or {}).get("rmse")


def verdict(ds):
    """The issue's two checks for a data set, from its rows.

    {"vs_tuned": relative gap of mf defaults to mf tuned (0.004 = 0.4% worse), "within_tuned":
    bool, "worse_than": [peer labels whose RMSE is lower than mf defaults'], "peers_compared":
    count of peers with a result}; None entries when a figure is missing.
    """
    default = rmse_of(ds, "mf-default")
    tuned = rmse_of(ds, "mf-tuned")
    out = {"vs_tuned": None, "within_tuned": None, "worse_than": [], "peers_compared": 0}
    if default is None:
        return out
    if tuned:
        out["vs_tuned"] = default / tuned - 1
        out["within_tuned"] = out["vs_tuned"] <= TUNED_TOLERANCE
    for peer in PEERS:
        value = rmse_of(ds, peer)
        if value is None:
            continue
        out["peers_compared"] += 1
        if value < default:
            out["worse_than"].append(ENGINES[peer])
    return out


# --- formatting -------------------------------------------------------------------------------

def f4(value):
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def secs(value):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def pct(value):
    return "—" if value is None else f"{100 * value:+.2f}%"


def count(value):
    return "—" if value is None else f"{value:,}"


def cell(ds, engine):
    """An overview cell: the mean test RMSE, or why there is none."""
    row = row_of(ds, engine)
    if row is None:
        return "—"
    if row.get("status") != "ok":
        return row.get("status", "?")
    s = row.get("summary") or {}
    text = f4(s.get("rmse"))
    if engine == "mf-tuned" and row.get("best"):
        text += f" ({row['best'].get('schedule', 'decaying')}, λ {row['best']['regularization']:g}, {row['best']['epochs']} ep.)"
    return text


def shape_line(shape):
    if not shape:
        return ""
    stars = "half stars" if shape.get("half_stars") else "whole stars"
    return (f"{count(shape.get('train'))} train / {count(shape.get('test'))} test ratings, "
            f"{count(shape.get('users'))} users, {count(shape.get('items'))} items "
            f"(density {100 * (shape.get('density') or 0):.2f}%), "
            f"ratings per user: median {shape.get('median_per_user'):g}, mean {shape.get('mean_per_user'):.1f}; "
            f"items rated < 10 times: {100 * (shape.get('items_under_10') or 0):.0f}%; "
            f"{stars} {shape.get('rating_min'):g}–{shape.get('rating_max'):g}, mean {shape.get('mean_rating'):.3f}; "
            f"{count(shape.get('test_cold'))} test ratings of a user or item absent from train")


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def overview(results):
    header = (["data set"] + list(ENGINES.values()) + ["defaults vs tuned", "defaults ≤ every peer"]
              + [f"{ENGINES[a]} ≤ {ENGINES[b]}" for a, b in RIVALS.items()])
    rows = []
    for ds in results.get("datasets", []):
        if ds.get("error"):
            rows.append([ds["title"]] + ["not run"] * len(ENGINES) + ["—", "—"] + ["—"] * len(RIVALS))
            continue
        rivals = []
        for mine, theirs in RIVALS.items():
            a, b = rmse_of(ds, mine), rmse_of(ds, theirs)
            rivals.append("—" if a is None or b is None else ("yes" if a <= b else "no"))
        v = verdict(ds)
        if v["peers_compared"] == 0:
            peers = "—"
        elif v["worse_than"]:
            peers = "no: " + ", ".join(v["worse_than"]) + " lower"
        else:
            peers = f"yes ({v['peers_compared']} peers)"
        gap = pct(v["vs_tuned"])
        if v["within_tuned"] is not None:
            gap += " ✓" if v["within_tuned"] else " ✗"
        rows.append([ds["title"]] + [cell(ds, e) for e in ENGINES] + [gap, peers] + rivals)
    return _table(header, rows)


def bayes_choices(row):
    """mf Bayesian MF: the implicit feedback its defaults chose on each run ("on", "off", or
    per run "on, off, …"), from the `mf fit --json` tuning report kept with the run; "" if none."""
    if row.get("engine") != "mf-bayes":
        return ""
    choices = []
    for run in row.get("runs", []):
        tuning = (run.get("mf_fit") or {}).get("tuning") or {}
        if tuning.get("tuned_implicit_feedback"):
            choices.append("on" if tuning.get("implicit_feedback") else "off")
    if not choices:
        return ""
    return choices[0] if len(set(choices)) == 1 else ", ".join(choices)


def engine_table(ds):
    header = ["engine", "test RMSE", "per run (min–max)", "MAE", "fit s", "train s", "settings"]
    rows = []
    for row in ds.get("rows", []):
        s = row.get("summary") or {}
        if row.get("status") != "ok":
            rows.append([row["label"], f"**{row.get('status')}**", "—", "—", "—", "—",
                         (row.get("error") or "").replace("|", "\\|")[:300]])
            continue
        spread = "—" if (s.get("runs") or 0) < 2 else f"{f4(s.get('rmse_min'))}–{f4(s.get('rmse_max'))}"
        settings = row.get("settings", "")
        if row.get("engine") == "mf-tuned" and row.get("best"):
            settings = (f"best of the grid: {row['best'].get('schedule', 'decaying')} step, λ {row['best']['regularization']:g}, "
                        f"{row['best']['epochs']} epochs; " + settings)
        chosen = bayes_choices(row)
        if chosen:
            settings += f"; implicit feedback chosen: {chosen}"
        rows.append([row["label"], f"**{f4(s.get('rmse'))}**", spread, f4(s.get("mae")), secs(s.get("fit_seconds")),
                     secs(s.get("train_seconds")), settings.replace("|", "\\|")])
    return _table(header, rows)


def grid_table(ds):
    row = row_of(ds, "mf-tuned")
    grid = (row or {}).get("grid") or []
    if not grid:
        return ""
    lambdas = sorted({(p.get("schedule", "decaying"), p["regularization"]) for p in grid})
    epochs = sorted({p["epochs"] for p in grid})
    at = {(p.get("schedule", "decaying"), p["regularization"], p["epochs"]): p for p in grid}
    best = row.get("best") or {}
    rows = []
    for schedule, lam in lambdas:
        cells = [f"{schedule}, λ {lam:g}"]
        for e in epochs:
            p = at.get((schedule, lam, e))
            if p is None:
                cells.append("—")
            elif p.get("status") != "ok":
                cells.append(p.get("status", "?"))
            else:
                text = f"{f4(p['summary']['rmse'])} ({secs(p['summary'].get('fit_seconds'))} s)"
                if (best.get("regularization") == lam and best.get("epochs") == e
                        and best.get("schedule", "decaying") == schedule):
                    text = f"**{text}**"
                cells.append(text)
        rows.append(cells)
    return _table(["mf grid: test RMSE (fit s)"] + [f"{e} epochs" for e in epochs], rows)


def dataset_section(ds):
    lines = [f"### {ds['title']}", ""]
    if ds.get("about"):
        lines += [ds["about"][0].upper() + ds["about"][1:] + ".", ""]
    for p in ds.get("provenance", []):
        lines.append(f"- `{p}`")
    if ds.get("provenance"):
        lines.append("")
    if ds.get("shape"):
        lines += [("Shape" + (f" ({ds['shape_of']})" if ds.get("shape_of") else "") + ": " + shape_line(ds["shape"])
                   + "."), ""]
    for note in ds.get("notes", []):
        lines += [f"Note: {note}", ""]
    if ds.get("error"):
        lines += [f"Not run: {ds['error']}", ""]
        return "\n".join(lines)
    lines += [engine_table(ds), ""]
    g = grid_table(ds)
    if g:
        lines += [g, ""]
    return "\n".join(lines)


def header(results):
    m = results.get("meta", {})
    mf = m.get("mf", {})
    git = mf.get("git") or {}
    mach = m.get("machine", {})
    lines = ["# mf accuracy suite", ""]
    if not m.get("complete", True):
        lines += ["> **INCOMPLETE**: the suite was still running (or stopped) when this was written.", ""]
    if m.get("mode") == "quick":
        lines += ["> **SMOKE RUN (`--quick`)**: a subset of the data sets and a small grid, to check that the suite "
                  "works. Do not quote these figures.", ""]
    lines += [f"Run {m.get('date')} ({secs(m.get('duration_seconds'))} s) with `{m.get('command')}` on "
              f"{mach.get('cores')} cores ({mach.get('cpu', '?')}), {mach.get('memory_gib')} GiB, "
              f"Python {mach.get('python')}.", ""]
    rev = git.get("describe") or "unknown revision"
    text = (f"mf binary: `{mf.get('binary')}`, git `{rev}`"
            + (f" (commit {git.get('commit', '')[:12]}, branch {git.get('branch')}, committed {git.get('committed')})"
               if git.get("commit") else "")
            + f"; binary built {mf.get('mtime')}, sha256 {str(mf.get('sha256'))[:16]}….")
    if mf.get("note"):
        text += f" Note: {mf['note']}"
    synth = m.get("synth_mf")
    if synth and synth.get("binary") != mf.get("binary"):
        sg = synth.get("git") or {}
        text += f" Generated sets made by `{synth.get('binary')}` (git `{sg.get('describe')}`)."
    lines += [text, ""]
    peers = m.get("peers", {})
    if peers:
        lines += ["Python packages (the comparison harness's venv): " + "; ".join(
            f"{n} {p.get('version')}" if p.get("installed") else f"{n}: NOT INSTALLED ({p.get('error')})"
            for n, p in peers.items()) + ".", ""]
    lb = m.get("libmf") or {}
    if lb:
        if lb.get("error"):
            lines += [f"LIBMF: NOT BUILT ({lb['error']}).", ""]
        else:
            lines += [f"LIBMF {lb.get('version')} from the PyPI sdist, built by the comparison harness: "
                      f"`{lb.get('flags')}`.", ""]
    return "\n".join(lines)


def method(results):
    st = results.get("settings", {})
    grid = st.get("grid", {})
    lines = ["## What each engine is given, and what is timed", ""]
    for e in results.get("engines", []):
        lines.append(f"- **{e['label']}**: {e['given']} Timed: {e['timed']}")
    lines += ["", f"The grid (mf tuned): SGD step schedule ∈ {{{', '.join(grid.get('schedules', ['decaying']))}}} "
                  "(decaying: mf's fixed η 0.01·0.985ᵗ; adaptive: `--schedule adaptive --learning-rate 0.05 "
                  f"--learning-rate-decay 1`) × λ (`--regularization`) ∈ {{{', '.join(f'{x:g}' for x in grid.get('regularization', []))}}}"
                  f" × epochs (`--epochs`) ∈ {{{', '.join(str(x) for x in grid.get('epochs', []))}}}, every other flag "
                  f"at its default, with `--rank {st.get('rank')}`; the point with the lowest mean test RMSE over the "
                  "set's runs is kept. It is chosen on the test files themselves: the best the grid can do (an "
                  "oracle), not a tuned model one could ship.",
              "",
              "Test RMSE is the mean over the set's runs (five folds, three seeds, or one generated split); "
              "fit s and train s are means over the same runs, from one run each (no repeats: the machine is "
              "shared, compare times loosely). Every engine predicts a test user or item missing from the "
              "training file with its own fallback (mf: μ + b_i, μ + b_u or μ; Surprise: its baseline; "
              "LIBMF: the training mean), and predictions are clamped to the training rating range.", ""]
    return "\n".join(lines)


def render_markdown(results):
    parts = [header(results), "## Overview", "",
             "Mean test RMSE (lower is better). *defaults vs tuned*: how much higher mf's default RMSE is than the "
             f"grid's best (✓ within {100 * TUNED_TOLERANCE:g}%, the issue's target); *defaults ≤ every peer*: whether "
             "no peer's defaults beat mf's.", "", overview(results), ""]
    if results.get("chart"):
        parts += [f"![suite chart]({os.path.basename(results['chart'])})", ""]
    parts.append(method(results))
    parts += ["## Data sets", ""]
    for ds in results.get("datasets", []):
        parts.append(dataset_section(ds))
    return "\n".join(parts).rstrip() + "\n"
