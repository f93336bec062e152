"""The equal tuning budget, the validation split, the stamps and the spread cells (standard library only)."""
import os
import tempfile
import unittest

from harness import stamp, summary, tuning


class Budget(unittest.TestCase):
    def test_every_engine_gets_the_same_number_of_settings(self):
        for engine in tuning.GRIDS:
            points = tuning.points(engine)
            self.assertEqual(len(points), tuning.GRID_POINTS, engine)
            self.assertEqual(len({tuple(sorted(p.items())) for p in points}), tuning.GRID_POINTS, engine)

    def test_a_choice_at_the_grids_edge_is_tried_one_step_outward(self):
        for engine, grid in tuning.GRIDS.items():
            for knob, values in grid.items():
                ladder = tuning.LADDERS[engine][knob]
                # The ladder holds the grid in order and at least one value beyond each end.
                start = ladder.index(min(values))
                self.assertGreaterEqual(start, 1, (engine, knob))
                self.assertEqual(ladder[start:start + len(values)], sorted(values), (engine, knob))
                self.assertGreater(len(ladder), start + len(values), (engine, knob))
        self.assertEqual(tuning.extension("mf-als", {"regularization": 0.15}), [])
        self.assertEqual(tuning.extension("implicit-als", {"regularization": 5.0}), [{"regularization": 10.0}])
        self.assertEqual(tuning.extension("mf-sgd", {"learning_rate": 0.04, "regularization": 0.1}),
                         [{"learning_rate": 0.08, "regularization": 0.1},
                          {"learning_rate": 0.04, "regularization": 0.2}])
        self.assertEqual(tuning.extension("libmf", {"eta": 0.1, "bins": 8}), [{"eta": 0.1, "bins": 4}])
        self.assertEqual(tuning.extension("mf-sgd", None), [])
        # Walking on: the edge is that of the values tried so far, up to the ladder's end.
        tried = [{"regularization": 10.0}]
        self.assertEqual(tuning.extension("implicit-als", {"regularization": 10.0}, tried),
                         [{"regularization": 20.0}])
        tried += [{"regularization": 20.0}, {"regularization": 50.0}, {"regularization": 100.0}]
        self.assertEqual(tuning.extension("implicit-als", {"regularization": 100.0}, tried), [])
        self.assertEqual(tuning.extension("implicit-als", {"regularization": 10.0}, tried), [])
        self.assertEqual(tuning.extension("mf-als", {"regularization": 0.5}, [{"regularization": 0.5}]), [])
        # LIBMF's bins walk on past 40 (chosen on the unbiased 1M set when 40 ended the ladder), to 160.
        self.assertEqual(tuning.extension("libmf", {"eta": 0.1, "bins": 40}, [{"eta": 0.1, "bins": 40}]),
                         [{"eta": 0.1, "bins": 80}])
        tried = [{"eta": 0.1, "bins": 40}, {"eta": 0.1, "bins": 80}, {"eta": 0.1, "bins": 160}]
        self.assertEqual(tuning.extension("libmf", {"eta": 0.1, "bins": 160}, tried), [])

    def test_best_lowest_rmse_or_highest_ndcg(self):
        results = [({"a": 1}, 0.92), ({"a": 2}, None), ({"a": 3}, 0.90)]
        self.assertEqual(tuning.best(results), ({"a": 3}, 0.90))
        self.assertEqual(tuning.best(results, higher_is_better=True), ({"a": 1}, 0.92))
        self.assertEqual(tuning.best([({"a": 1}, None)]), (None, None))

    def test_validation_split_is_seeded_and_disjoint(self):
        with tempfile.TemporaryDirectory() as d:
            train = os.path.join(d, "train.tsv")
            with open(train, "w") as f:
                f.writelines(f"{u}\t{i}\t{(u + i) % 5 + 1}\t0\n" for u in range(40) for i in range(25))
            fit, valid = tuning.validation_split(train, os.path.join(d, "a"))
            fit2, valid2 = tuning.validation_split(train, os.path.join(d, "b"))
            lines = lambda p: open(p).read().splitlines()[1:]  # noqa: E731
            self.assertEqual(lines(valid), lines(valid2))
            self.assertEqual(len(lines(fit)) + len(lines(valid)), 1000)
            self.assertTrue(50 < len(lines(valid)) < 150)
            self.assertFalse(set(lines(fit)) & set(lines(valid)))


class Stamps(unittest.TestCase):
    def test_describe_names_uncommitted_source_changes(self):
        self.assertEqual(stamp.describe({"commit": "abcdef0123", "short": "abcdef0"}), "abcdef0")
        self.assertEqual(stamp.describe({"commit": "abcdef0123", "short": "abcdef0",
                                         "uncommitted_source_changes": ["Sources/a.swift"]}),
                         "abcdef0 + uncommitted changes to 1 source files")
        self.assertEqual(stamp.describe(None), "unknown revision")

    def test_sha256_of_a_file(self):
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(b"abc")
        try:
            self.assertEqual(stamp.sha256(f.name),
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            ident = stamp.mf_identity(f.name, None)
            self.assertIn("unknown", ident["built_from"])
        finally:
            os.unlink(f.name)


class Spread(unittest.TestCase):
    def test_median_with_min_and_max(self):
        runs = [{"train_seconds": t, "seconds_per_epoch": t / 10, "repeat": i} for i, t in enumerate((1.0, 3.0, 2.0))]
        s = summary.summarize_runs(runs)
        self.assertEqual(summary.fmt_spread(s, "train_seconds"), "2.00 (1.00–3.00)")
        self.assertEqual(s["repeats"], 3)
        one = summary.summarize_runs(runs[:1])
        self.assertEqual(summary.fmt_spread(one, "train_seconds"), "1.00")

    def test_load_range_and_restarts(self):
        row = {"engine": "libmf", "load": [{"before": [1.0, 1, 1], "after": [2.5, 1, 1]},
                                           {"before": [3.0, 1, 1], "after": None}],
               "runs": [{"attempts": 1}, {"attempts": 3}]}
        self.assertEqual(summary.load_range(row), "1.0–3.0")
        self.assertEqual(summary.restarts(row), 2)
        self.assertIsNone(summary.restarts({"engine": "mf-sgd", "runs": []}))

    def test_reference_is_the_mf_row_of_the_same_variant(self):
        def row(engine, is_mf, variant):
            return {"engine": engine, "label": f"{engine} {variant}", "family": "sgd", "rank": 32, "is_mf": is_mf,
                    "variant": variant, "status": "ok", "runs": [{"train_seconds": 1.0}]}
        rows = [row("mf-sgd", True, "defaults"), row("mf-sgd", True, "tuned"), row("libmf", False, "tuned")]
        summary.compare_rows(rows)
        self.assertEqual(rows[2]["vs"], "mf-sgd tuned")


if __name__ == "__main__":
    unittest.main()


class ReadmeTables(unittest.TestCase):
    def test_tables_from_rows_of_every_kind(self):
        from harness import readme_tables

        def row(engine, label, variant, is_mf, family="sgd", rank=32):
            return {"engine": engine, "label": label, "variant": variant, "is_mf": is_mf, "family": family,
                    "rank": rank, "status": "ok", "epochs": 20,
                    "runs": [{"train_seconds": 1.0, "seconds_per_epoch": 0.05, "rmse": 0.9, "repeat": 0,
                              "fold": "u1"}]}
        folds = {"name": "ml100k", "kind": "folds", "rows": [
            row("mf-sgd", "mf SGD, defaults", "defaults", True),
            row("mf-sgd-preset", "mf SGD --preset ml100k", "preset", True),
            row("libmf", "LIBMF (2017 src, PyPI libmf 0.9.2), tuned (eta 0.1, bins 20)", "tuned", False)]}
        synth = {"name": "synth-1M", "kind": "explicit", "rows": [
            row("mf-sgd", "mf SGD r32, defaults", "defaults", True),
            row("libmf", "LIBMF r32, defaults", "defaults", False)]}
        for ds in (folds, synth):
            summary.compare_rows(ds["rows"])
        text = readme_tables.tables({"datasets": [folds, synth]})
        self.assertIn("| mf SGD --preset ml100k | preset |", text)
        self.assertIn("| synth-1M | 32 | defaults | 0.050 | 0.050 | 1.00× | 0.9000 | 0.9000 | 0 |", text)
        self.assertIn("tuned (eta 0.1, bins 20)", text)
