"""The data every engine is given: MovieLens-100K folds, `mf synth` sets, the implicit split.

Standard library only. Generated files are cached under OUT/data and reused when present.
"""
import filecmp
import json
import os
import random

from harness.proc import run_child, tail
from harness.readers import read_ratings

FOLDS = ("u1", "u2", "u3", "u4", "u5")


def ml100k_folds(folder, folds=FOLDS):
    """[{fold, train, test}] for the folds present in the MovieLens-100K folder."""
    out = []
    for fold in folds:
        train = os.path.join(folder, f"{fold}.base")
        test = os.path.join(folder, f"{fold}.test")
        if os.path.exists(train) and os.path.exists(test):
            out.append({"fold": fold, "train": train, "test": test})
    return out


def size_label(n):
    """1000000 → '1M', 25000000 → '25M', 500000 → '500K'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}K"
    return str(n)


def synth_set(mf, out_dir, ratings, seed=1, log=print, extra_args=(), tag="", reuse_dir=None):
    """Generates (or reuses) `mf synth --ratings N --seed S [extra_args]` train/test CSVs; returns their info.

    reuse_dir: a folder with synth-N.csv and synth-N-test.csv said to come from the same command
    (seed 1, no extra_args; end_to_end.py's files). The set is generated again into OUT/data
    (for the generator's figures) and compared byte for byte: when identical, the harness
    links reuse_dir's files and deletes its own copies (one copy on disk); else it keeps its own.
    """
    folder = os.path.join(out_dir, "data", f"synth-{ratings}-seed{seed}{tag}")
    os.makedirs(folder, exist_ok=True)
    train = os.path.join(folder, "train.csv")
    test = os.path.join(folder, "test.csv")
    stamp = os.path.join(folder, "synth.json")
    src = os.path.join(reuse_dir, f"synth-{ratings}.csv") if reuse_dir else None
    src_test = os.path.join(reuse_dir, f"synth-{ratings}-test.csv") if reuse_dir else None
    if (src and seed == 1 and not extra_args and os.path.exists(src) and os.path.exists(src_test)
            and not os.path.exists(stamp)):
        log(f"mf synth --ratings {ratings} --seed 1 into {folder}, compared with {src}")
        r = run_child([mf, "synth", "--ratings", str(ratings), "--seed", str(seed), "--output", train,
                       "--test-output", test, "--json"])
        if r["status"] != 0:
            raise RuntimeError(f"mf synth failed: {tail(r['stderr'])}")
        if filecmp.cmp(train, src, shallow=False) and filecmp.cmp(test, src_test, shallow=False):
            for mine, theirs in ((train, src), (test, src_test)):
                os.remove(mine)
                os.symlink(os.path.abspath(theirs), mine)
            log("identical: linked")
        else:
            log("not identical: keeping the harness's own files")
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(r["stdout"])
    if not (os.path.exists(train) and os.path.exists(test) and os.path.exists(stamp)):
        log(f"generating {ratings:,} synthetic ratings into {folder}")
        r = run_child([mf, "synth", "--ratings", str(ratings), "--seed", str(seed), "--output", train,
                       "--test-output", test, "--json"] + list(extra_args))
        if r["status"] != 0:
            raise RuntimeError(f"mf synth failed: {tail(r['stderr'])}")
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(r["stdout"])
    with open(stamp, encoding="utf-8") as f:
        info = json.loads(f.read())
    info["train_count"], info["test_count"] = info.get("train"), info.get("test")
    info.update({"train": train, "test": test, "ratings": ratings, "seed": seed,
                 "train_mb": round(os.path.getsize(train) / 1e6, 1)})
    return info


def python_split(ratings_path, train_path, test_path, min_rating=4.0, test_fraction=0.2, seed=42):
    """Per-user random holdout of ratings ≥ min_rating (the harness's fallback for `mf split`)."""
    rng = random.Random(seed)
    by_user = {}
    for user, item, rating in read_ratings(ratings_path):
        if rating >= min_rating:
            by_user.setdefault(user, []).append((item, rating))
    with open(train_path, "w", encoding="utf-8") as tr, open(test_path, "w", encoding="utf-8") as te:
        tr.write("user,item,rating\n")
        te.write("user,item,rating\n")
        for user in sorted(by_user, key=lambda u: (len(u), u)):
            items = by_user[user]
            rng.shuffle(items)
            n_test = int(round(len(items) * test_fraction)) if len(items) > 1 else 0
            for j, (item, rating) in enumerate(items):
                (te if j < n_test else tr).write(f"{user},{item},{rating:g}\n")


def binary_pairs(src, dst):
    """Writes src's (user, item) pairs as `user,item,1` lines: every positive gets value 1."""
    with open(dst, "w", encoding="utf-8") as f:
        f.write("user,item,rating\n")
        for user, item, _ in read_ratings(src):
            f.write(f"{user},{item},1\n")


def implicit_split(mf, out_dir, ratings_path, seed=42, test_fraction=0.2, min_rating=4, log=print):
    """Train/test files of positives (rating ≥ min_rating) from u.data, made by `mf split`.

    Returns {train, test, train_binary, made_by, note}. When `mf split` fails (not built yet),
    the harness's own per-user random split is used instead and the reason is kept in `note`.
    """
    folder = os.path.join(out_dir, "data", f"ml100k-implicit-min{min_rating}-seed{seed}")
    os.makedirs(folder, exist_ok=True)
    train = os.path.join(folder, "train.csv")
    test = os.path.join(folder, "test.csv")
    binary = os.path.join(folder, "train-binary.csv")
    cmd = [mf, "split", ratings_path, "--train-output", train, "--test-output", test, "--strategy", "random",
           "--test-fraction", str(test_fraction), "--min-rating", str(min_rating), "--seed", str(seed)]
    r = run_child(cmd)
    made_by, note = "mf split " + " ".join(cmd[2:]).replace(ratings_path, os.path.basename(ratings_path)), None
    if r["status"] != 0 or not os.path.exists(train) or not os.path.exists(test):
        note = f"`mf split` failed ({tail(r['stderr'], 2, 300)}); used the harness's own per-user random split"
        log(note)
        python_split(ratings_path, train, test, min_rating, test_fraction, seed)
        made_by = f"harness python_split(min_rating={min_rating}, test_fraction={test_fraction}, seed={seed})"
    binary_pairs(train, binary)
    return {"train": train, "test": test, "train_binary": binary, "made_by": made_by, "note": note}
