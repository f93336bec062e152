"""Parsing each engine's output (standard library only)."""
import json
import unittest

from harness.records import (ParseError, parse_gnu_time, parse_libmf, parse_mf_evaluate, parse_mf_fit,
                             parse_mf_ranking, parse_peer)

# The shape `mf fit … --json` prints (abridged from a real run).
MF_FIT = json.dumps({
    "algorithm": "sgd", "duplicates_dropped": 0, "epochs_run": 4,
    "history": [{"epoch": 1, "seconds": 0.5}, {"epoch": 2, "seconds": 0.25},
                {"epoch": 3, "seconds": 0.2}, {"epoch": 4, "seconds": 0.3}],
    "input_bytes": 1839994, "items": 2529, "kept_epoch": 4, "model": "m.mf", "rank": 32,
    "ratings": 90155, "read_seconds": 0.02, "seconds": 1.4, "skipped_lines": 0, "train_rmse": 0.91, "users": 666})

LIBMF = ('{"engine": "libmf", "k": 32, "iters": 3, "threads": 2, "lambda": 0.1, "eta": 0.1, "bins": 26, '
         '"users": 943, "items": 1650, "train_count": 80000, "test_count": 20000, "fallbacks": 32, '
         '"load_seconds": 0.04, "train_seconds": 0.5, "setup_seconds": 0.09, '
         '"epoch_seconds": [0.1, 0.3, 0.2], "train_rmse": 0.74, "rmse": 0.922, "mae": 0.73, '
         '"rmse_raw": 0.9226, "mae_raw": 0.731, "eval_seconds": 0.01}\n')


class MFParsing(unittest.TestCase):
    def test_fit(self):
        r = parse_mf_fit(MF_FIT)
        self.assertEqual(r["train_seconds"], 1.4)
        self.assertEqual(r["load_seconds"], 0.02)
        self.assertEqual(r["epoch_seconds"], [0.5, 0.25, 0.2, 0.3])
        self.assertAlmostEqual(r["seconds_per_epoch"], 0.275)  # median of four
        self.assertEqual(r["epochs"], 4)
        self.assertEqual(r["ratings"], 90155)

    def test_fit_with_noise_around_the_json(self):
        r = parse_mf_fit("note: something\n" + MF_FIT + "\n")
        self.assertEqual(r["train_seconds"], 1.4)

    def test_fit_errors(self):
        with self.assertRaises(ParseError):
            parse_mf_fit("")
        with self.assertRaises(ParseError):
            parse_mf_fit("Error: Unknown option '--implicit'")
        with self.assertRaises(ParseError):
            parse_mf_fit(json.dumps({"seconds": 1.0}))  # no history
        with self.assertRaises(ParseError):
            parse_mf_fit(json.dumps({"seconds": "fast", "history": []}))

    def test_evaluate(self):
        r = parse_mf_evaluate('{"count":20000,"fallbacks":32,"mae":0.722884,"rmse":0.918754}')
        self.assertEqual((r["rmse"], r["mae"], r["count"], r["fallbacks"]), (0.918754, 0.722884, 20000, 32))
        with self.assertRaises(ParseError):
            parse_mf_evaluate('{"count": 3}')

    def test_ranking(self):
        r = parse_mf_ranking('{"k": 10, "precision": 0.2, "recall": 0.25, "ndcg": 0.3, "map": 0.15, '
                             '"auc": 0.9, "coverage": 0.4, "users": 900}')
        self.assertEqual((r["k"], r["precision"], r["ndcg"], r["auc"], r["users"]), (10, 0.2, 0.3, 0.9, 900))
        with self.assertRaises(ParseError):
            parse_mf_ranking('{"k": 10, "recall": 0.1}')


class LIBMFParsing(unittest.TestCase):
    def test_driver_line(self):
        r = parse_libmf(LIBMF)
        self.assertEqual(r["train_seconds"], 0.5)
        self.assertEqual(r["epoch_seconds"], [0.1, 0.3, 0.2])
        self.assertAlmostEqual(r["seconds_per_epoch"], 0.2)
        self.assertEqual(r["epochs"], 3)
        self.assertEqual((r["rmse"], r["mae"], r["rmse_raw"]), (0.922, 0.73, 0.9226))
        self.assertEqual(r["load_seconds"], 0.04)

    def test_driver_without_epoch_lines_falls_back_to_mean(self):
        obj = json.loads(LIBMF)
        obj["epoch_seconds"] = []
        r = parse_libmf(json.dumps(obj))
        self.assertAlmostEqual(r["seconds_per_epoch"], 0.5 / 3)

    def test_libmf_fit_memory_fields(self):
        obj = json.loads(LIBMF)
        r = parse_libmf(json.dumps(dict(obj, fit_base_rss_kib=10240, fit_peak_rss_kib=20480, load_peak_rss_kib=30720)))
        self.assertEqual((r["fit_base_rss_mib"], r["fit_peak_rss_mib"], r["load_peak_rss_mib"]), (10.0, 20.0, 30.0))
        r = parse_libmf(json.dumps(dict(obj, fit_base_rss_kib=-1, fit_peak_rss_kib=-1)))
        self.assertIsNone(r["fit_peak_rss_mib"])
        self.assertIsNone(parse_libmf(LIBMF)["fit_peak_rss_mib"])

    def test_not_a_libmf_record(self):
        with self.assertRaises(ParseError):
            parse_libmf('{"engine": "other"}')
        with self.assertRaises(ParseError):
            parse_libmf("libmf_driver: cannot open x.csv")


class PeerParsing(unittest.TestCase):
    def test_surprise_like_record(self):
        out = json.dumps({"engine": "surprise-svd", "version": "1.1.5", "settings": "SVD",
                          "runs": [{"fold": "u1", "repeat": 0, "load_seconds": 0.2, "train_seconds": 0.4,
                                    "epochs": 4, "epoch_seconds": [0.1, 0.1, 0.12, 0.08], "rmse": 0.95,
                                    "mae": 0.75}]})
        r = parse_peer("Processing epoch 0\n" + out)
        run = r["runs"][0]
        self.assertEqual(r["version"], "1.1.5")
        self.assertAlmostEqual(run["seconds_per_epoch"], 0.1)
        self.assertEqual(run["rmse"], 0.95)

    def test_spark_like_record_per_iteration_given(self):
        out = json.dumps({"engine": "spark-als", "runs": [{"train_seconds": 20.0, "epochs": 10,
                                                           "seconds_per_epoch": 1.5, "rmse": 0.93, "mae": 0.74}],
                          "peak_rss_mib": 2000.0})
        r = parse_peer(out)
        self.assertEqual(r["runs"][0]["seconds_per_epoch"], 1.5)
        self.assertEqual(r["peak_rss_mib"], 2000.0)

    def test_record_without_per_epoch_times_divides(self):
        r = parse_peer(json.dumps({"engine": "surprise-baseline", "runs": [{"train_seconds": 1.0, "epochs": 10}]}))
        self.assertAlmostEqual(r["runs"][0]["seconds_per_epoch"], 0.1)

    def test_implicit_ranking_record(self):
        r = parse_peer(json.dumps({"engine": "implicit-als", "runs": [
            {"train_seconds": 0.7, "epochs": 15, "epoch_seconds": [0.05] * 15, "precision": 0.16, "ndcg": 0.23,
             "map": 0.12, "recall": 0.2, "auc": 0.85}]}))
        self.assertEqual(r["runs"][0]["ndcg"], 0.23)

    def test_failed_peer(self):
        with self.assertRaisesRegex(ParseError, "ModuleNotFoundError"):
            parse_peer(json.dumps({"engine": "spark-als", "error": "ModuleNotFoundError: No module named 'pyspark'"}))
        with self.assertRaises(ParseError):
            parse_peer(json.dumps({"engine": "x", "runs": []}))
        with self.assertRaises(ParseError):
            parse_peer(json.dumps({"runs": [{"train_seconds": 1}]}))


class GNUTime(unittest.TestCase):
    def test_max_rss(self):
        text = "\tCommand being timed: \"mf fit\"\n\tMaximum resident set size (kbytes): 548864\n\tExit status: 0\n"
        self.assertEqual(parse_gnu_time(text), 536.0)
        self.assertIsNone(parse_gnu_time("nothing"))


if __name__ == "__main__":
    unittest.main()
