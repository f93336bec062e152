"""Readers, splits, the child-process runner, the peer runner's helpers and the CLI defaults."""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

from harness import datasets, peer_runner, proc, readers


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Readers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_movielens_tab_file(self):
        p = write(os.path.join(self.dir, "u1.base"), "1\t1\t5\t874965758\n1\t2\t3\t876893171\n")
        self.assertEqual(readers.file_format(p), ("\t", False, 4))
        self.assertEqual(readers.read_ratings(p), [("1", "1", 5.0), ("1", "2", 3.0)])

    def test_synth_csv_with_header(self):
        p = write(os.path.join(self.dir, "train.csv"), "user,item,rating,timestamp\n1,1165,3,909501547\n")
        self.assertEqual(readers.file_format(p), (",", True, 4))
        self.assertEqual(readers.read_ratings(p), [("1", "1165", 3.0)])

    def test_two_column_pairs(self):
        p = write(os.path.join(self.dir, "pairs.csv"), "user,item\n7,8\n7,9\n")
        self.assertEqual(readers.file_format(p), (",", True, 2))
        self.assertEqual(readers.read_ratings(p), [("7", "8", 1.0), ("7", "9", 1.0)])

    def test_double_colon(self):
        p = write(os.path.join(self.dir, "ratings.dat"), "1::10::4.5::0\n")
        self.assertEqual(readers.read_ratings(p), [("1", "10", 4.5)])

    def test_size_labels(self):
        self.assertEqual(datasets.size_label(1_000_000), "1M")
        self.assertEqual(datasets.size_label(25_000_000), "25M")
        self.assertEqual(datasets.size_label(500_000), "500K")
        self.assertEqual(datasets.size_label(1_500_000), "1.5M")


class Splits(unittest.TestCase):
    def test_python_split_keeps_positives_and_holds_out_per_user(self):
        d = tempfile.mkdtemp()
        lines = [f"{u}\t{i}\t{(u + i) % 5 + 1}\t0" for u in range(1, 21) for i in range(1, 31)]
        src = write(os.path.join(d, "u.data"), "\n".join(lines) + "\n")
        train, test = os.path.join(d, "train.csv"), os.path.join(d, "test.csv")
        datasets.python_split(src, train, test, min_rating=4, test_fraction=0.2, seed=1)
        tr, te = readers.read_ratings(train), readers.read_ratings(test)
        self.assertTrue(all(r >= 4 for _, _, r in tr + te))
        positives = sum(1 for l in lines if int(l.split("\t")[2]) >= 4)
        self.assertEqual(len(tr) + len(te), positives)
        self.assertFalse({(u, i) for u, i, _ in tr} & {(u, i) for u, i, _ in te})
        self.assertEqual({u for u, _, _ in te}, {u for u, _, _ in tr})  # every user keeps train items
        binary = os.path.join(d, "binary.csv")
        datasets.binary_pairs(train, binary)
        self.assertEqual({r for _, _, r in readers.read_ratings(binary)}, {1.0})


class ChildProcess(unittest.TestCase):
    def test_status_output_wall_and_memory(self):
        r = proc.run_child([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); "
                                                  "x = bytearray(60 * 1024 * 1024); sys.exit(3)"])
        self.assertEqual(r["status"], 3)
        self.assertEqual(r["stdout"].strip(), "out")
        self.assertEqual(r["stderr"].strip(), "err")
        self.assertGreater(r["wall_seconds"], 0)
        self.assertGreater(r["peak_rss_mib"], 55)

    def test_each_child_has_its_own_peak(self):
        big = proc.run_child([sys.executable, "-c", "x = bytearray(80 * 1024 * 1024)"])
        small = proc.run_child([sys.executable, "-c", "pass"])
        self.assertGreater(big["peak_rss_mib"], small["peak_rss_mib"] + 50)

    def test_timeout_and_missing_program(self):
        r = proc.run_child([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
        self.assertTrue(r["timed_out"])
        self.assertNotEqual(r["status"], 0)
        r = proc.run_child(["/nonexistent/mf"])
        self.assertEqual(r["status"], 127)

    def test_a_large_harness_does_not_floor_a_small_childs_peak(self):
        ballast = bytearray(200 * 1024 * 1024)  # the harness's own memory, touched
        for i in range(0, len(ballast), 4096):
            ballast[i] = 1
        r = proc.run_child([sys.executable, "-c", "import time; time.sleep(0.2)"])
        del ballast
        self.assertLess(r["peak_rss_mib"], 100)

    def test_peak_of_the_part_after_the_ready_line(self):
        # 150 MiB touched before the line, freed; 40 MiB after it: the fit's peak sees the 40 only.
        code = ("import sys, time\n"
                "a = bytearray(150 * 1024 * 1024); del a\n"
                "print('100 ratings, 2 users, 3 items; training', file=sys.stderr, flush=True)\n"
                "time.sleep(0.3); b = bytearray(40 * 1024 * 1024); time.sleep(0.3)\n")
        r = proc.run_child_fit_memory([sys.executable, "-c", code], lambda line: "; training" in line)
        self.assertEqual(r["status"], 0)
        self.assertIsNotNone(r["fit_base_rss_mib"])
        self.assertGreater(r["fit_peak_rss_mib"] - r["fit_base_rss_mib"], 35)
        self.assertLess(r["fit_peak_rss_mib"], 140)
        self.assertGreater(r["load_peak_rss_mib"], 140)  # the peak before the line

    def test_tail(self):
        self.assertEqual(proc.tail("a\nb\n\nc\n", 2), "c")
        self.assertEqual(proc.tail("a\nb\nc", 2), "b / c")


class PeerRunnerHelpers(unittest.TestCase):
    def test_line_stamps(self):
        s = peer_runner.LineStamps()
        s.write("Processing epoch 0\nProcessing ")
        s.write("epoch 1\n")
        self.assertEqual([line for _, line in s.lines], ["Processing epoch 0", "Processing epoch 1"])
        self.assertLessEqual(s.lines[0][0], s.lines[1][0])

    def test_errors(self):
        rmse, mae = peer_runner._errors([(4.0, 5.0), (3.0, 3.0), (2.0, 4.0)])
        self.assertAlmostEqual(rmse, (5 / 3) ** 0.5)
        self.assertAlmostEqual(mae, 1.0)

    def test_repeat_loop_stops_on_long_runs(self):
        spec = {"runs": [{"fold": "u1"}, {"fold": "u2"}], "repeats": 3, "max_repeat_seconds": 10}
        times = iter([1.0, 2.0, 3.0, 20.0])
        out = peer_runner._repeat_loop(spec, lambda run, rep: {"train_seconds": next(times)})
        self.assertEqual([(r["fold"], r["repeat"]) for r in out], [("u1", 0), ("u1", 1), ("u1", 2), ("u2", 0)])

    def test_unknown_engine_is_reported_as_json(self):
        d = tempfile.mkdtemp()
        spec = write(os.path.join(d, "spec.json"), json.dumps({"engine": "nope", "runs": []}))
        out = io.StringIO()
        with redirect_stderr(io.StringIO()):
            saved, sys.stdout = sys.stdout, out
            try:
                status = peer_runner.main(["peer_runner", spec])
            except KeyError:
                status = None
            finally:
                sys.stdout = saved
        if status is not None:
            self.assertEqual(status, 1)
            self.assertIn("error", json.loads(out.getvalue()))


class CommandLine(unittest.TestCase):
    def test_defaults_and_quick(self):
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        sys.path.insert(0, here)
        import compare

        full = compare.parse_args([])
        self.assertEqual(full.sizes, [1_000_000, 10_000_000, 25_000_000])
        self.assertEqual((full.repeats, full.threads, full.ranks), (3, 2, [32, 64]))
        self.assertIn("surprise-svdpp", full.engines)
        quick = compare.parse_args(["--quick"])
        self.assertEqual((quick.sizes, quick.repeats, quick.ranks, quick.spark_max_size), ([500_000], 1, [32], 0))
        self.assertNotIn("surprise-svdpp", quick.engines)
        chosen = compare.parse_args(["--engines", "mf-sgd,libmf", "--sizes", "1e6"])
        self.assertEqual((chosen.engines, chosen.sizes), (["mf-sgd", "libmf"], [1_000_000]))
        with redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            compare.parse_args(["--engines", "nope"])


if __name__ == "__main__":
    unittest.main()
