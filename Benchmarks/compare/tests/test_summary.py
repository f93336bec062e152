"""Medians, mf ÷ peer ratios, ΔRMSE and the markdown tables (standard library only)."""
import unittest

from harness import summary


def run(train, per_epoch, rmse=None, mae=None, fold="u1", peak=100.0, wall=None, **extra):
    r = {"train_seconds": train, "seconds_per_epoch": per_epoch, "rmse": rmse, "mae": mae, "fold": fold,
         "peak_rss_mib": peak, "wall_seconds": wall, "load_seconds": 0.1}
    r.update(extra)
    return r


def row(engine, label, family, rank, runs, is_mf=False, primary=True, status="ok", error=None):
    return {"engine": engine, "label": label, "settings": "s", "family": family, "rank": rank, "epochs": 20,
            "is_mf": is_mf, "primary": primary, "status": status, "error": error, "runs": runs}


class Basics(unittest.TestCase):
    def test_median_ignores_missing(self):
        self.assertEqual(summary.median([3, None, 1, 2]), 2)
        self.assertEqual(summary.median([1, 2, 3, 4]), 2.5)
        self.assertIsNone(summary.median([None]))

    def test_ratio_is_mf_over_peer(self):
        self.assertAlmostEqual(summary.ratio(1.0, 4.0), 0.25)
        self.assertIsNone(summary.ratio(None, 1.0))
        self.assertIsNone(summary.ratio(1.0, 0.0))

    def test_difference_is_peer_minus_mf(self):
        self.assertAlmostEqual(summary.difference(0.95, 0.91), 0.04)
        self.assertIsNone(summary.difference(None, 0.9))

    def test_formats(self):
        self.assertEqual(summary.fmt_ratio(0.456), "0.46×")
        self.assertEqual(summary.fmt_delta(0.0123), "+0.0123")
        self.assertEqual(summary.fmt_delta(-0.5, 2), "-0.50")
        self.assertEqual(summary.fmt_seconds(123.4), "123")
        self.assertEqual(summary.fmt_seconds(0.0012345), "0.0012")
        self.assertEqual(summary.fmt_seconds(None), "—")


class Summaries(unittest.TestCase):
    def test_fold_medians_then_mean(self):
        runs = [run(1.0, 0.1, 0.90, 0.70, "u1"), run(3.0, 0.3, 0.92, 0.72, "u1"), run(2.0, 0.2, 0.94, 0.74, "u1"),
                run(5.0, 0.5, 0.80, 0.60, "u2")]
        s = summary.summarize_runs(runs)
        self.assertAlmostEqual(s["folds"]["u1"]["rmse"], 0.92)  # median of the three repeats
        self.assertAlmostEqual(s["rmse"], (0.92 + 0.80) / 2)  # mean over folds
        self.assertAlmostEqual(s["train_seconds"], 2.5)  # median over all runs
        self.assertEqual(s["runs"], 4)

    def test_ratios_against_the_mf_row_of_the_same_family_and_rank(self):
        rows = [
            row("mf-sgd", "mf SGD r32", "sgd", 32, [run(2.0, 0.2, 0.90)], is_mf=True),
            row("mf-sgd", "mf SGD r64", "sgd", 64, [run(4.0, 0.4, 0.89)], is_mf=True),
            row("mf-als", "mf ALS", "als", 32, [run(1.0, 0.1, 0.91)], is_mf=True),
            row("libmf", "LIBMF r32", "sgd", 32, [run(1.0, 0.1, 0.93)]),
            row("libmf", "LIBMF r64", "sgd", 64, [run(8.0, 0.8, 0.92)]),
            row("spark-als", "Spark", "als", 32, [run(10.0, 1.0, 0.95)]),
            row("surprise-baseline", "Baseline", "sgd", None, [run(0.5, 0.05, 0.96)]),
            row("spark-als", "Spark broken", "als", 32, [], status="not installed", error="no java"),
        ]
        summary.compare_rows(rows)
        libmf32, libmf64, spark, baseline, broken = rows[3], rows[4], rows[5], rows[6], rows[7]
        self.assertEqual(libmf32["vs"], "mf SGD r32")
        self.assertAlmostEqual(libmf32["ratios"]["seconds_per_epoch"], 2.0)  # mf 0.2 s ÷ LIBMF 0.1 s
        self.assertAlmostEqual(libmf32["ratios"]["train_seconds"], 2.0)
        self.assertAlmostEqual(libmf32["ratios"]["rmse_peer_minus_mf"], 0.03)
        self.assertEqual(libmf64["vs"], "mf SGD r64")
        self.assertAlmostEqual(libmf64["ratios"]["seconds_per_epoch"], 0.5)
        self.assertEqual(spark["vs"], "mf ALS")
        self.assertAlmostEqual(spark["ratios"]["seconds_per_epoch"], 0.1)
        self.assertEqual(baseline["vs"], "mf SGD r32")  # no rank: the family's first mf row
        self.assertNotIn("vs", broken)
        self.assertIsNone(broken["summary"])

    def test_non_primary_mf_rows_are_not_references(self):
        rows = [row("mf-sgd-preset", "preset", "sgd", 32, [run(9.0, 0.9, 0.80)], is_mf=True, primary=False),
                row("mf-sgd", "default", "sgd", 32, [run(1.0, 0.1, 0.90)], is_mf=True),
                row("libmf", "LIBMF", "sgd", 32, [run(1.0, 0.1, 0.92)])]
        summary.compare_rows(rows)
        self.assertEqual(rows[2]["vs"], "default")

    def test_failed_reference_gives_no_ratio(self):
        rows = [row("mf-implicit-als", "mf implicit", "implicit", 64, [], is_mf=True, status="failed",
                    error="Unknown option '--implicit'"),
                row("implicit-als", "implicit", "implicit", 64, [run(2.0, 0.1)])]
        summary.compare_rows(rows)
        self.assertNotIn("ratios", rows[1])


class Tables(unittest.TestCase):
    def rows(self):
        rows = [row("mf-sgd", "mf SGD", "sgd", 32, [run(2.0, 0.2, 0.90, 0.70, "u1"), run(2.0, 0.2, 0.92, 0.72, "u2")],
                    is_mf=True),
                row("libmf", "LIBMF", "sgd", 32, [run(1.0, 0.1, 0.93, 0.73, "u1"), run(1.0, 0.1, 0.93, 0.73, "u2")]),
                row("spark-als", "Spark", "als", 32, [], status="not installed", error="pip failed | badly")]
        return summary.compare_rows(rows)

    def test_folds_table(self):
        text = summary.dataset_table({"kind": "folds", "folds": ["u1", "u2"], "rows": self.rows()})
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("| engine | settings | u1 RMSE | u2 RMSE | mean RMSE"))
        self.assertIn("mf ÷ peer s/epoch", lines[0])
        self.assertIn("ΔRMSE (peer − mf)", lines[0])
        libmf = next(l for l in lines if l.startswith("| LIBMF"))
        self.assertIn("| 2.00× |", libmf)
        self.assertIn("| +0.0200 |", libmf)  # 0.93 − mean(0.90, 0.92)
        self.assertIn("**0.9300**", libmf)
        spark = next(l for l in lines if l.startswith("| Spark"))
        self.assertIn("not installed: pip failed \\| badly", spark)
        # every line has the same number of cells
        counts = {l.replace("\\|", "").count("|") for l in lines}
        self.assertEqual(len(counts), 1)

    def test_explicit_table(self):
        text = summary.dataset_table({"kind": "explicit", "rows": self.rows()})
        self.assertIn("| test RMSE | test MAE |", text)
        libmf = next(l for l in text.splitlines() if l.startswith("| LIBMF"))
        self.assertIn("| mf SGD |", libmf)
        mf = next(l for l in text.splitlines() if l.startswith("| mf SGD"))
        self.assertIn("(reference)", mf)

    def test_ranking_table(self):
        rows = [row("mf-implicit-als", "mf implicit", "implicit", 64,
                    [run(1.0, 0.05, precision=0.2, recall=0.3, ndcg=0.25, map=0.1, auc=0.9, mf_precision=0.2,
                         mf_ndcg=0.25)], is_mf=True),
                row("implicit-als", "implicit", "implicit", 64,
                    [run(2.0, 0.1, precision=0.18, recall=0.28, ndcg=0.22, map=0.09, auc=0.88)])]
        summary.compare_rows(rows)
        self.assertAlmostEqual(rows[1]["ratios"]["ndcg_peer_minus_mf"], -0.03)
        text = summary.dataset_table({"kind": "ranking", "k": 10, "rows": rows})
        self.assertIn("NDCG@10", text)
        peer = next(l for l in text.splitlines() if l.startswith("| implicit "))
        self.assertIn("| 0.50× |", peer)
        self.assertIn("| -0.0300 |", peer)
        mf = next(l for l in text.splitlines() if l.startswith("| mf implicit"))
        self.assertIn("0.2000 / 0.2500", mf)


if __name__ == "__main__":
    unittest.main()
