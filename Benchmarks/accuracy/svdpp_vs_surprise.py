#!/usr/bin/env python3
"""SVD++ time per epoch and test RMSE: mf against Surprise's SVDpp on ML-100K folds.

Surprise (scikit-surprise) runs in the Python given (`--python`, a venv with scikit-surprise);
its SVDpp with its defaults (20 epochs, lr 0.007, reg 0.02, rank 20) and, for the per-epoch
time, with `n_epochs` given; mf runs `mf fit --algorithm svdpp` (its defaults, rank 32, and at
Surprise's rank 20 with its epochs) on the same folds. Per-epoch times: Surprise's fit seconds /
epochs; mf's median epoch seconds from `mf fit --json`.

    python3 Benchmarks/accuracy/svdpp_vs_surprise.py --python /path/to/venv/bin/python [--folds 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SURPRISE = r"""
import json, sys, time
from surprise import Dataset, Reader, SVDpp, accuracy
train_path, test_path, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
train = Dataset.load_from_file(train_path, reader).build_full_trainset()
test = Dataset.load_from_file(test_path, reader).build_full_trainset().build_testset()
algo = SVDpp(n_epochs=epochs, random_state=0)
start = time.perf_counter()
algo.fit(train)
seconds = time.perf_counter() - start
rmse = accuracy.rmse(algo.test(test), verbose=False)
print(json.dumps({"seconds": seconds, "rmse": rmse}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared/data/ml-100k"))
    ap.add_argument("--mf", default=os.path.join(ROOT, ".build/release/mf"))
    ap.add_argument("--python", required=True, help="a Python with scikit-surprise")
    ap.add_argument("--folds", default="1", help="comma-separated fold numbers (default 1)")
    ap.add_argument("--surprise-epochs", type=int, default=20, help="Surprise's epochs (its default 20)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mf-svdpp-")
    model = os.path.join(work, "m.mf")
    script = os.path.join(work, "surprise_svdpp.py")
    with open(script, "w") as f:
        f.write(SURPRISE)
    print("| fold | engine | rank | epochs | fit s | s per epoch | test RMSE |")
    print("|---|---|---|---|---|---|---|")
    for k in [int(x) for x in args.folds.split(",")]:
        train, test = f"{args.data}/u{k}.base", f"{args.data}/u{k}.test"
        for rank, extra in ((32, []), (20, ["--epochs", str(args.surprise_epochs)])):
            fit = json.loads(subprocess.run(
                [args.mf, "fit", train, "--algorithm", "svdpp", "--rank", str(rank), "--threads", "1", *extra,
                 "--quiet", "--json", "--model", model], check=True, capture_output=True, text=True).stdout)
            ev = json.loads(subprocess.run([args.mf, "evaluate", test, "--model", model, "--json"], check=True,
                                           capture_output=True, text=True).stdout)
            per_epoch = statistics.median(e["seconds"] for e in fit["history"])
            print(f"| u{k} | mf svdpp, 1 thread | {rank} | {fit['epochs_run']} | {fit['seconds']:.2f} | "
                  f"{per_epoch:.4f} | {ev['rmse']:.4f} |", flush=True)
        s = json.loads(subprocess.run([args.python, script, train, test, str(args.surprise_epochs)], check=True,
                                      capture_output=True, text=True).stdout)
        print(f"| u{k} | Surprise SVDpp (defaults) | 20 | {args.surprise_epochs} | {s['seconds']:.2f} | "
              f"{s['seconds'] / args.surprise_epochs:.4f} | {s['rmse']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
