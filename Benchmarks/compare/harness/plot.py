"""The chart of a results JSON: seconds per epoch vs data size, and RMSE / NDCG on ML-100K.

    .venv/bin/python -m harness.plot results.json chart.png

matplotlib (Agg backend) is imported inside plot(), so the module imports without it.
"""
import json
import os
import sys


def series(results):
    """{engine label: [(train ratings, seconds per epoch)]} over the synthetic sets."""
    out = {}
    for ds in results.get("datasets", []):
        if ds.get("kind") != "explicit" or not ds.get("train_ratings"):
            continue
        for row in ds.get("rows", []):
            s = row.get("summary")
            if row.get("status") != "ok" or not s or s.get("seconds_per_epoch") is None:
                continue
            out.setdefault(row["series"], []).append((ds["train_ratings"], s["seconds_per_epoch"]))
    return {k: sorted(v) for k, v in out.items()}


def bars(results, kind, key):
    for ds in results.get("datasets", []):
        if ds.get("kind") == kind:
            return ds.get("title", ds["name"]), [(row["label"], row["summary"][key]) for row in ds.get("rows", [])
                                                  if row.get("status") == "ok" and row.get("summary")
                                                  and row["summary"].get(key) is not None]
    return None, []


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(19, 6.2), gridspec_kw={"width_ratios": [1.35, 1, 0.8]})
    ax = axes[0]
    markers = "osD^v<>pPX*h"
    ordered = sorted(series(results).items(), key=lambda kv: (not kv[0].startswith("mf"), kv[0]))
    for j, (label, points) in enumerate(ordered):
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        style = "-" if label.startswith("mf") else "--"
        ax.plot(xs, ys, style, marker=markers[j % len(markers)], label=label, linewidth=2 if label.startswith("mf") else 1.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training ratings (mf synth sets)")
    ax.set_ylabel("seconds per epoch / iteration (median)")
    ax.set_title(f"Time per epoch vs data size ({results.get('settings', {}).get('threads', '?')} threads)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    for ax, (kind, key, xlabel, lower_better) in zip(
            axes[1:], (("folds", "rmse", "mean test RMSE over folds (lower is better)", True),
                       ("ranking", "ndcg", "NDCG@10 (higher is better)", False))):
        _, items = bars(results, kind, key)
        title = ("MovieLens-100K explicit: RMSE" if kind == "folds"
                 else "MovieLens-100K implicit (ratings ≥ 4): NDCG@10")
        if not items:
            ax.text(0.5, 0.5, f"no {kind} results", ha="center", va="center")
            ax.set_axis_off()
            continue
        labels = [i[0] for i in items]
        values = [i[1] for i in items]
        colors = ["tab:blue" if l.startswith("mf") else "tab:gray" for l in labels]
        ax.barh(range(len(items)), values, color=colors)
        ax.set_yticks(range(len(items)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        lo, hi = min(values), max(values)
        span = max(hi - lo, 1e-3)
        if lower_better:
            ax.set_xlim(max(0, lo - 0.6 * span), hi + 0.35 * span)
        else:
            ax.set_xlim(0, hi * 1.25)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.4f}", va="center", fontsize=8)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
    meta = results.get("meta", {})
    fig.suptitle(f"mf vs peers — {meta.get('date', '')}, {meta.get('machine', {}).get('cores', '?')} cores"
                 f"{' (quick mode)' if results.get('settings', {}).get('quick') else ''}", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(results, path):
    """Time to accuracy: one panel per (data set, family), accuracy against training seconds."""
    panels = [(ds, family, fam) for ds in results.get("datasets", []) if ds.get("kind") == "curve"
              for family, fam in ds.get("families", {}).items()]
    if not panels:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.3 * cols, 4.6 * rows), squeeze=False)
    for ax, (ds, family, fam) in zip(axes.flat, panels):
        for engine, e in fam["engines"].items():
            pts = [p for p in e["points"] if p.get("value") is not None and p.get("train_seconds") is not None]
            if not pts:
                continue
            mf = engine.startswith("mf")
            ax.plot([p["train_seconds"] for p in pts], [p["value"] for p in pts], "-" if mf else "--", marker="o",
                    label=e["label"].split(", tuned")[0], linewidth=2 if mf else 1.3)
        if fam.get("target") is not None:
            ax.axhline(fam["target"], color="gray", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_xlabel("training seconds (log)")
        ax.set_ylabel(ds.get("metric", "RMSE"))
        ax.set_title(f"{ds['name'].replace('-curves', '')}: {family}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    fig.suptitle("Time to accuracy (tuned settings; each point a fit of its own with that many epochs)", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        results = json.load(f)
    plot(results, argv[2])
    plot_curves(results, os.path.join(os.path.dirname(argv[2]), "curves.png"))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main(sys.argv))
