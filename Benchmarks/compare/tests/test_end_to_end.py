"""end_to_end.py's summary and table, from recorded step results (no engine runs)."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import end_to_end  # noqa: E402


def fake_runs():
    return {
        "pandas_read_int": [{"seconds": 2.0}, {"seconds": 1.0}, {"seconds": 3.0}],
        "pandas_read_string": [{"seconds": 4.0}],
        "mf_read_int": [{"seconds": 0.5}],
        "mf_read_string": [{"seconds": 1.0}],
        "mf_20_epochs": [{"wall_seconds": 6.0, "peak_rss_mib": 300.0, "read_seconds": 0.5, "fit_seconds": 5.0,
                          "epoch_seconds": 0.2, "setup_seconds": 0.7}],
        "mf_defaults": [{"wall_seconds": 9.0, "peak_rss_mib": 310.0, "fit_seconds": 8.0, "test_rmse": 0.58}],
        "libmf_fit": [{"train_seconds": 8.0, "test_rmse": 0.65, "epoch_seconds": 0.4, "peak_rss_mib": 250.0}],
        "libmf_train": [{"read_seconds": 2.0, "train_seconds": 8.0, "save_seconds": 1.0, "ratings": 9,
                         "wall_seconds": 11.0, "peak_rss_mib": 220.0}],
    }


class SummaryTests(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.files = []
        for name, size in (("int.csv", 100_000_000), ("str.csv", 150_000_000)):
            path = os.path.join(self.folder, name)
            with open(path, "wb") as f:
                f.truncate(size)
            self.files.append(path)

    def test_medians_ratios_and_table(self):
        s = end_to_end.summarize(10_000_000, (self.files[0], self.files[1], None, None), fake_runs())
        # Median of 2, 1, 3 seconds is 2: 100 MB / 2 s.
        self.assertAlmostEqual(s["read_mb_per_s"]["pandas_int"], 50.0)
        self.assertAlmostEqual(s["read_mb_per_s"]["mf_int"], 200.0)
        self.assertAlmostEqual(s["read_mb_per_s"]["mf_string"], 150.0)
        self.assertAlmostEqual(s["reference_seconds"], 10.0)  # pandas 2 + LIBMF 8
        self.assertAlmostEqual(s["mf_20_epochs_over_reference"], 0.6)
        self.assertAlmostEqual(s["sgd_epoch_over_libmf"], 0.5)
        report = {"date": "d", "mf_revision": "r", "machine": {"cpu": "c", "cores": 2}, "pandas": "p",
                  "repeats": 3, "sets": [s]}
        table = end_to_end.markdown(report)
        self.assertIn("| 10.0M | 100 | 200 / 50 (4.00×) | 150 / 38 (4.00×) | 6.00 (0.50, 0.70, 0.200) |", table)
        self.assertIn("**0.60×**", table)

    def test_missing_steps_leave_dashes(self):
        runs = {k: v for k, v in fake_runs().items() if k.startswith("mf_")}
        s = end_to_end.summarize(100_000_000, (self.files[0], self.files[1], None, None), runs)
        self.assertIsNone(s["reference_seconds"])
        self.assertIsNone(s["mf_20_epochs_over_reference"])
        table = end_to_end.markdown({"date": "d", "mf_revision": "r", "machine": {}, "pandas": "p", "repeats": 1,
                                     "sets": [s]})
        self.assertIn("| 100.0M | 100 | 200 / – (–×) |", table)


if __name__ == "__main__":
    unittest.main()


class PeerTableTests(unittest.TestCase):
    def test_peer_rows_and_ratios(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "int.csv")
        with open(path, "wb") as f:
            f.truncate(1_000_000)
        runs = dict(fake_runs(),
                    mf_implicit=[{"wall_seconds": 4.0, "peak_rss_mib": 100.0}, {"wall_seconds": 2.0, "peak_rss_mib": 90.0},
                                 {"wall_seconds": 3.0, "peak_rss_mib": 95.0}],
                    implicit_als=[{"wall_seconds": 12.0, "peak_rss_mib": 400.0}],
                    surprise_svd=[{"wall_seconds": 60.0, "peak_rss_mib": 900.0}])
        s = end_to_end.summarize(10_000_000, (path, path, None, None), runs)
        table = end_to_end.markdown({"date": "d", "mf_revision": "r", "machine": {}, "pandas": "p", "repeats": 3,
                                     "sets": [s]})
        # Medians: mf implicit 3 s / 95 MiB against implicit 12 s; mf SGD 6 s against Surprise 60 s.
        self.assertIn("| 10.0M | 3.00 / 95 | 12.00 / 400 | 0.25× | 6.00 / 300 | 60.00 / 900 | 0.10× |", table)

    def test_spark_rows_and_a_failed_step(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "int.csv")
        with open(path, "wb") as f:
            f.truncate(1_000_000)
        runs = dict(fake_runs(), mf_als=[{"wall_seconds": 10.0, "peak_rss_mib": 300.0}],
                    spark_als=[{"wall_seconds": 100.0, "peak_rss_mib": 5000.0, "jvm_peak_mib": 4900.0,
                                "python_peak_mib": 100.0}])
        s = dict(end_to_end.summarize(10_000_000, (path, path, None, None), runs), errors={})
        big = dict(end_to_end.summarize(25_000_000, (path, path, None, None),
                                        dict(fake_runs(), mf_als=[{"wall_seconds": 20.0, "peak_rss_mib": 600.0}],
                                             spark_als=[])),
                   errors={"spark_als": "Spark ALS failed (timed out after 3600 s): … (after 3600 s)"})
        table = end_to_end.markdown({"date": "d", "mf_revision": "r", "machine": {}, "pandas": "p", "repeats": 1,
                                     "sets": [s, big]})
        self.assertIn("| 10.0M | 10.00 / 300 | 100.0 / 5000 (4900 + 100) | 0.10× | 1 / 1 |", table)
        self.assertIn("| 25.0M | 20.00 / 600 | failed: Spark ALS failed (timed out after 3600 s)", table)

    def test_no_peer_table_without_peer_runs(self):
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "int.csv")
        with open(path, "wb") as f:
            f.truncate(1_000_000)
        s = end_to_end.summarize(10_000_000, (path, path, None, None), fake_runs())
        table = end_to_end.markdown({"date": "d", "mf_revision": "r", "machine": {}, "pandas": "p", "repeats": 3,
                                     "sets": [s]})
        self.assertNotIn("Other engines", table)
