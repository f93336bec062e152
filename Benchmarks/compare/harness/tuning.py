"""An equal tuning budget: the same number of settings for every engine, chosen on a validation split.

Standard library only. The validation split is carved from the training file alone (the test file
is never looked at): a seeded random 10% of the training ratings (the rest is the fit part). Each
engine gets GRID_POINTS settings of its own main knobs, all at the same epochs/iterations as the
other engines of its family, and the one with the best validation figure (lowest RMSE; highest
NDCG@10 for implicit feedback) is what its "tuned" row runs on the real train/test pair.
"""
import itertools
import os
import random

from harness.readers import read_ratings

GRID_POINTS = 6

# engine → (knob names, the values swept). Every grid has GRID_POINTS points.
GRIDS = {
    # mf SGD, 20 epochs, η_t = η·0.95ᵗ: the initial step and λ.
    "mf-sgd": {"learning_rate": [0.02, 0.04], "regularization": [0.02, 0.05, 0.1]},
    # LIBMF, 20 iterations: the issue's two knobs, its step and its block count (upstream's default
    # is 20 bins; the Python binding's 26; fewer bins mean less scheduler overhead per rating).
    "libmf": {"eta": [0.05, 0.1, 0.2], "bins": [8, 20]},
    # Surprise SVD, 20 epochs: lr_all and reg_all.
    "surprise-svd": {"lr": [0.005, 0.01], "reg": [0.02, 0.05, 0.1]},
    # ALS-WR (λ scaled by each row's count in both): λ.
    "mf-als": {"regularization": [0.03, 0.05, 0.1, 0.15, 0.2, 0.3]},
    "spark-als": {"regParam": [0.03, 0.05, 0.1, 0.15, 0.2, 0.3]},
    # Implicit ALS (same objective in both): λ.
    "mf-implicit-als": {"regularization": [0.01, 0.05, 0.1, 0.5, 1.0, 5.0]},
    "implicit-als": {"regularization": [0.01, 0.05, 0.1, 0.5, 1.0, 5.0]},
    # BPR: the step and λ (mf's defaults are η 0.05, λ 0.01; implicit's 0.01 and 0.01).
    "mf-bpr": {"learning_rate": [0.01, 0.05], "regularization": [0.001, 0.01, 0.1]},
    "implicit-bpr": {"learning_rate": [0.01, 0.05], "regularization": [0.001, 0.01, 0.1]},
    # LightFM (WARP and BPR losses): its step (default 0.05) and its L2 penalty on both sides
    # (item_alpha = user_alpha; default 0).
    "lightfm-warp": {"learning_rate": [0.025, 0.05], "alpha": [0.0, 1e-6, 1e-5]},
    "lightfm-bpr": {"learning_rate": [0.025, 0.05], "alpha": [0.0, 1e-6, 1e-5]},
}

# Every knob's ordered ladder: the grid's values and at least one step beyond each end. When the
# sweep's best setting sits at an end of what has been tried along a knob, that knob is tried one
# step further out (the other knobs held at their chosen values); while the step wins, the next one
# is tried, up to the end of the ladder; the best of all the settings tried is kept. The same rule
# for every engine, so a grid edge does not cap one engine's tuned row more than another's. The
# ladders go one step beyond the grid, except the implicit ALS λ, which goes on to 20, 50 and 100
# (both implicit engines chose λ 10, the old ladder's end, on MovieLens-100K implicit), and LIBMF's
# bins, which go on to 80 and 160 (LIBMF chose 40, the old ladder's end, on the unbiased 1M set).
LADDERS = {
    "mf-sgd": {"learning_rate": [0.01, 0.02, 0.04, 0.08], "regularization": [0.01, 0.02, 0.05, 0.1, 0.2]},
    "libmf": {"eta": [0.025, 0.05, 0.1, 0.2, 0.4], "bins": [4, 8, 20, 40, 80, 160]},
    "surprise-svd": {"lr": [0.0025, 0.005, 0.01, 0.02], "reg": [0.01, 0.02, 0.05, 0.1, 0.2]},
    "mf-als": {"regularization": [0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]},
    "spark-als": {"regParam": [0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]},
    "mf-implicit-als": {"regularization": [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 20.0, 50.0, 100.0]},
    "implicit-als": {"regularization": [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 20.0, 50.0, 100.0]},
    "mf-bpr": {"learning_rate": [0.005, 0.01, 0.05, 0.1], "regularization": [0.0003, 0.001, 0.01, 0.1, 0.3]},
    "implicit-bpr": {"learning_rate": [0.005, 0.01, 0.05, 0.1], "regularization": [0.0003, 0.001, 0.01, 0.1, 0.3]},
    "lightfm-warp": {"learning_rate": [0.01, 0.025, 0.05, 0.1], "alpha": [None, 0.0, 1e-6, 1e-5, 1e-4]},
    "lightfm-bpr": {"learning_rate": [0.01, 0.025, 0.05, 0.1], "alpha": [None, 0.0, 1e-6, 1e-5, 1e-4]},
}


def extension(engine, best, tried=()):
    """The settings one step outward from `best` along each knob where it is at an end of the values
    tried so far (the grid's, and `tried`'s), the other knobs unchanged; [] when best is inside them
    on every knob or the ladder ends there."""
    if best is None or engine not in LADDERS:
        return []
    out = []
    for knob, values in GRIDS[engine].items():
        ladder = LADDERS[engine][knob]
        seen = [v for v in list(values) + [p.get(knob) for p in tried] if v is not None]
        v = best[knob]
        lo, hi = min(seen), max(seen)
        i = ladder.index(v)
        for at_edge, j in ((v == lo, i - 1), (v == hi, i + 1)):
            if at_edge and 0 <= j < len(ladder) and ladder[j] is not None:  # None: nothing below 0
                out.append(dict(best, **{knob: ladder[j]}))
    return out


def points(engine):
    """[{knob: value}] for the engine's grid, in a fixed order."""
    grid = GRIDS[engine]
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def describe(params):
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items())


def validation_split(train_path, folder, fraction=0.1, seed=1):
    """Writes FOLDER/fit.csv and FOLDER/valid.csv (user,item,rating) from train_path; returns them.

    A seeded random `fraction` of the lines goes to valid.csv. Ratings whose user or item would be
    seen only in valid.csv stay in valid.csv: every engine falls back for them the same way it does
    on the test file.
    """
    os.makedirs(folder, exist_ok=True)
    fit, valid = os.path.join(folder, "fit.csv"), os.path.join(folder, "valid.csv")
    if os.path.exists(fit) and os.path.exists(valid):
        return fit, valid
    rng = random.Random(seed)
    with open(fit + ".tmp", "w", encoding="utf-8") as f, open(valid + ".tmp", "w", encoding="utf-8") as v:
        f.write("user,item,rating\n")
        v.write("user,item,rating\n")
        for user, item, rating in read_ratings(train_path):
            (v if rng.random() < fraction else f).write(f"{user},{item},{rating:g}\n")
    os.replace(fit + ".tmp", fit)
    os.replace(valid + ".tmp", valid)
    return fit, valid


def best(results, higher_is_better=False):
    """The (params, value) with the best validation figure among [(params, value or None)]."""
    ok = [(p, v) for p, v in results if v is not None]
    if not ok:
        return None, None
    return (max if higher_is_better else min)(ok, key=lambda pv: pv[1])
