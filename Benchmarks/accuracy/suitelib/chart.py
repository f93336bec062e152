"""The suite's chart, drawn from suite.json: RMSE relative to mf's tuned setting, and fit time.

    Benchmarks/compare/.venv/bin/python -m suitelib.chart suite.json suite.png

Run with Benchmarks/accuracy as the working folder (or on PYTHONPATH). matplotlib (Agg backend)
is imported inside plot(), so the module imports without it.
"""
import json
import os
import sys

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from suitelib.report import ENGINES, TUNED_TOLERANCE, rmse_of, row_of  # noqa: E402

COLORS = {"mf-default": "tab:blue", "mf-tuned": "lightsteelblue", "libmf": "tab:orange",
          "surprise-svd": "tab:green", "surprise-baseline": "tab:gray", "mf-bayes": "tab:purple",
          "myfm": "plum", "mf-svdpp": "tab:red", "surprise-svdpp": "lightcoral"}


def points(results):
    """([data set titles], {engine: [relative RMSE or None]}, {engine: [fit seconds or None]})."""
    titles, rel, fit = [], {e: [] for e in ENGINES}, {e: [] for e in ENGINES}
    for ds in results.get("datasets", []):
        if ds.get("error"):
            continue
        titles.append(ds.get("short") or ds["title"])
        tuned = rmse_of(ds, "mf-tuned")
        for e in ENGINES:
            value = rmse_of(ds, e)
            rel[e].append(value / tuned if value is not None and tuned else None)
            row = row_of(ds, e)
            ok = row is not None and row.get("status") == "ok"
            fit[e].append((row.get("summary") or {}).get("fit_seconds") if ok else None)
    return titles, rel, fit


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    titles, rel, fit = points(results)
    n = len(titles)
    fig, axes = plt.subplots(2, 1, figsize=(max(9, 1.5 * n + 3), 9), sharex=True)
    width = 0.8 / len(ENGINES)
    for ax, values, ylabel in ((axes[0], rel, "test RMSE ÷ mf tuned (grid best)"),
                               (axes[1], fit, "fit seconds (log)")):
        for j, (engine, label) in enumerate(ENGINES.items()):
            xs = [i + (j - (len(ENGINES) - 1) / 2) * width for i in range(n) if values[engine][i] is not None]
            ys = [v for v in values[engine] if v is not None]
            ax.bar(xs, ys, width, label=label, color=COLORS[engine], edgecolor="black", linewidth=0.3)
        ax.set_ylabel(ylabel)
        ax.grid(True, axis="y", alpha=0.3)
    present = [v for e in ENGINES for v in rel[e] if v is not None]
    if present:
        lo, hi = min(present), max(present)
        axes[0].set_ylim(max(0, min(0.99, lo - 0.01)), max(1.02, hi + 0.01))
    axes[0].axhline(1 + TUNED_TOLERANCE, color="tab:red", linestyle="--", linewidth=1,
                    label=f"+{100 * TUNED_TOLERANCE:g}% (target for mf defaults)")
    axes[0].legend(fontsize=8, ncol=6, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes[1].set_yscale("log")
    axes[1].set_xticks(range(n))
    axes[1].set_xticklabels(titles, rotation=25, ha="right", fontsize=8)
    meta = results.get("meta", {})
    git = (meta.get("mf", {}).get("git") or {}).get("describe", "?")
    quick = " — SMOKE RUN (--quick), do not quote" if meta.get("mode") == "quick" else ""
    fig.suptitle(f"mf accuracy suite, mf {git}, {meta.get('date', '')}{quick}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        results = json.load(f)
    plot(results, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
