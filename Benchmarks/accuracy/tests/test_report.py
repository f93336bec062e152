"""The suite's pure parts: summaries, the grid's best point, verdicts, and the markdown rendered
from a recorded suite.json (tests/fixtures/suite-sample.json: a quick run's sparse set, plus a
hand-made two-fold set with a failed, a missing and a skipped peer, and a set that was not run).
Standard library only."""
import copy
import json
import os
import unittest

from suitelib import chart, report

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "suite-sample.json")


def load():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)


class Summaries(unittest.TestCase):
    def test_means_over_runs_and_spread(self):
        s = report.summarize_runs([{"rmse": 0.9, "mae": 0.7, "fit_seconds": 1.0, "train_seconds": 0.5},
                                   {"rmse": 0.8, "mae": 0.6, "fit_seconds": 3.0, "train_seconds": None}])
        self.assertEqual(s["runs"], 2)
        self.assertAlmostEqual(s["rmse"], 0.85)
        self.assertEqual((s["rmse_min"], s["rmse_max"]), (0.8, 0.9))
        self.assertAlmostEqual(s["fit_seconds"], 2.0)
        self.assertAlmostEqual(s["train_seconds"], 0.5)  # missing figures are left out, not zero

    def test_best_point_skips_failures_and_prefers_lower_rmse(self):
        grid = [{"status": "ok", "summary": {"rmse": 0.91, "fit_seconds": 1}, "regularization": 0.1, "epochs": 20},
                {"status": "failed", "error": "x", "regularization": 0.2, "epochs": 20},
                {"status": "ok", "summary": {"rmse": 0.90, "fit_seconds": 9}, "regularization": 0.05, "epochs": 120}]
        self.assertEqual(report.best_point(grid)["regularization"], 0.05)
        self.assertIsNone(report.best_point([grid[1]]))

    def test_verdict_from_recorded_rows(self):
        folds, sparse, _ = load()["datasets"]
        v = report.verdict(folds)
        self.assertAlmostEqual(v["vs_tuned"], 0.905 / 0.9035 - 1)
        self.assertTrue(v["within_tuned"])
        self.assertEqual(v["peers_compared"], 1)  # LIBMF failed, Surprise SVD not installed
        self.assertEqual(v["worse_than"], [])
        v = report.verdict(sparse)
        self.assertFalse(v["within_tuned"])
        self.assertEqual(v["worse_than"], ["Surprise SVD", "Surprise BaselineOnly"])


class Markdown(unittest.TestCase):
    def setUp(self):
        self.results = load()
        self.md = report.render_markdown(self.results)

    def test_header_names_the_binary_revision_command_and_peers(self):
        self.assertIn("# mf accuracy suite", self.md)
        self.assertIn("SMOKE RUN", self.md)
        self.assertIn("`python3 Benchmarks/accuracy/suite.py --quick", self.md)
        self.assertIn("git `572500f-dirty`", self.md)
        self.assertIn("scikit-surprise 1.1.5", self.md)
        self.assertIn("-DUSEAVX", self.md)
        self.assertNotIn("INCOMPLETE", self.md)

    def test_overview_rows(self):
        lines = self.md.splitlines()
        folds = next(l for l in lines if l.startswith("| ML-100K folds u1–u2 |"))
        self.assertEqual(folds, "| ML-100K folds u1–u2 | 0.9050 | 0.9035 (decaying, λ 0.05, 20 ep.) | failed | not installed "
                                "| 0.9450 | — | — | — | — | +0.17% ✓ | yes (1 peers) | — | — |")
        sparse = next(l for l in lines if l.startswith("| synth: very sparse, half stars |"))
        self.assertIn("| 0.9944 | 0.9533 (decaying, λ 0.05, 20 ep.) | 1.1818 | 0.9517 | 0.9513 | — | — | — | — "
                      "| +4.31% ✗ |", sparse)
        self.assertIn("no: Surprise SVD, Surprise BaselineOnly lower", sparse)
        missing = next(l for l in lines if l.startswith("| synth: 1M ratings |"))
        self.assertIn("not run", missing)

    def test_dataset_sections(self):
        self.assertIn("mf synth --ratings 28000 --users 9600 --items 3600 --user-exponent 0.5 --half-stars --seed 1", self.md)
        self.assertIn("ratings per user: median 2, mean 2.9", self.md)
        self.assertIn("half stars 0.5–5", self.md)
        self.assertIn("| mf defaults | **0.9050** | 0.9000–0.9100 |", self.md)
        # failures keep their reason, with table pipes escaped
        self.assertIn("| LIBMF | **failed** |", self.md)
        self.assertIn("bad \\| thing", self.md)
        self.assertIn("| Surprise SVD | **not installed** |", self.md)
        self.assertIn("Not run: mf synth failed: Error: Unknown option '--half-stars'", self.md)

    def test_grid_table_marks_the_best_point_and_failures(self):
        self.assertIn("| mf grid: test RMSE (fit s) | 20 epochs | 120 epochs |", self.md)
        self.assertIn("| decaying, λ 0.05 | **0.9035 (0.10 s)** | 0.9101 (0.21 s) |", self.md)
        self.assertIn("| decaying, λ 0.1 | 0.9122 (0.09 s) | failed |", self.md)
        self.assertIn("λ (`--regularization`) ∈ {0.05, 0.1} × epochs (`--epochs`) ∈ {20, 120}", self.md)

    def test_incomplete_and_full_runs_are_labelled(self):
        r = copy.deepcopy(self.results)
        r["meta"]["complete"] = False
        r["meta"]["mode"] = "full"
        md = report.render_markdown(r)
        self.assertIn("INCOMPLETE", md)
        self.assertNotIn("SMOKE RUN", md)

    def test_rendering_is_a_function_of_the_json(self):
        self.assertEqual(self.md, report.render_markdown(load()))


class ChartData(unittest.TestCase):
    def test_points_are_relative_to_mf_tuned(self):
        titles, rel, fit = chart.points(load())
        self.assertEqual(titles, ["ML-100K folds", "very sparse, half stars"])  # the set not run is left out
        self.assertAlmostEqual(rel["mf-tuned"][0], 1.0)
        self.assertAlmostEqual(rel["mf-default"][0], 0.905 / 0.9035)
        self.assertIsNone(rel["libmf"][0])
        self.assertAlmostEqual(rel["libmf"][1], 1.1818 / 0.953333, places=4)
        self.assertEqual(fit["mf-default"][0], 2.0)


if __name__ == "__main__":
    unittest.main()
