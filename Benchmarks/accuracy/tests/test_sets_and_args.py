"""Data set selection, shapes of rating files, the suite's arguments and its fallback split
(standard library only; nothing is run)."""
import contextlib
import io
import os
import tempfile
import unittest

import suite
from suitelib import sets


class Selection(unittest.TestCase):
    def names(self, mode, only=None):
        return [s["name"] for s in sets.select_synth(mode, only)]

    def test_modes(self):
        self.assertEqual(self.names("quick"), ["synth-sparse", "synth-movielens"])
        full = self.names("full")
        self.assertNotIn("synth-10m", full)
        self.assertIn("synth-1m", full)
        self.assertEqual(self.names("large"), full + ["synth-10m"])
        self.assertEqual(self.names("large", ["synth-dense"]), ["synth-dense"])

    def test_generator_command(self):
        cmd = sets.synth_command(["--ratings", "100000"], "tr.csv", "te.csv")
        self.assertEqual(cmd, ["synth", "--ratings", "100000", "--seed", "1", "--test-fraction", "0.1",
                               "--output", "tr.csv", "--test-output", "te.csv", "--json"])
        self.assertEqual(sets.display_command(["--noise", "1.0"]),
                         "mf synth --noise 1.0 --seed 1 --test-fraction 0.1 --output train.csv --test-output test.csv")

    def test_every_set_documents_itself(self):
        names = [s["name"] for s in sets.SYNTH_SETS]
        self.assertEqual(len(names), len(set(names)))
        for s in sets.SYNTH_SETS:
            self.assertTrue(s["title"] and s["about"] and "--ratings" in s["flags"], s["name"])


class Shape(unittest.TestCase):
    def test_shape_of_a_small_split(self):
        with tempfile.TemporaryDirectory() as d:
            train, test = os.path.join(d, "train.csv"), os.path.join(d, "test.csv")
            with open(train, "w") as f:
                f.write("user,item,rating,timestamp\n1,a,4,10\n1,b,3.5,11\n2,a,5,12\n")
            with open(test, "w") as f:
                f.write("1\tc\t2\t13\n")  # tab-separated, no header
            s = sets.shape(train, test)
        self.assertEqual((s["ratings"], s["train"], s["test"], s["users"], s["items"]), (4, 3, 1, 2, 3))
        self.assertEqual(s["median_per_user"], 2)
        self.assertEqual(s["test_cold"], 1)  # item c is not in train
        self.assertTrue(s["half_stars"])
        self.assertEqual((s["rating_min"], s["rating_max"]), (2, 5))
        self.assertAlmostEqual(s["density"], 4 / 6)
        self.assertEqual(s["items_under_10"], 1.0)


class Arguments(unittest.TestCase):
    def test_quick_and_full_grids(self):
        a = suite.parse_args(["--quick"])
        self.assertEqual(a.mode, "quick")
        self.assertEqual(a.grid, suite.QUICK_GRID)
        a = suite.parse_args([])
        self.assertEqual(a.mode, "full")
        self.assertEqual(a.grid, suite.FULL_GRID)
        a = suite.parse_args(["--large", "--grid-regularization", "0.03,0.3", "--grid-epochs", "10"])
        self.assertEqual(a.mode, "large")
        self.assertEqual(a.grid, {"regularization": [0.03, 0.3], "epochs": [10], "schedules": ["decaying", "adaptive"]})

    def test_unknown_names_are_refused(self):
        for argv, message in ((["--engines", "mf-default,spark"], "unknown engines: spark"),
                              (["--sets", "synth-huge"], "unknown data sets: synth-huge"),
                              (["--quick", "--large"], "not allowed with argument --quick")):
            err = io.StringIO()
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(err):
                suite.parse_args(argv)
            self.assertIn(message, err.getvalue())

    def test_python_split_is_seeded_and_a_partition(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "u.data")
            with open(src, "w") as f:
                for u in range(50):
                    for i in range(20):
                        f.write(f"{u}\t{i}\t{(u + i) % 5 + 1}\t0\n")
            outs = []
            for _ in range(2):
                tr, te = os.path.join(d, "tr.csv"), os.path.join(d, "te.csv")
                suite.python_split(src, tr, te, 0.1, seed=3)
                outs.append((open(tr).read(), open(te).read()))
        self.assertEqual(outs[0], outs[1])
        train_lines = outs[0][0].splitlines()[1:]
        test_lines = outs[0][1].splitlines()[1:]
        self.assertEqual(len(train_lines) + len(test_lines), 1000)
        self.assertTrue(50 < len(test_lines) < 150)


if __name__ == "__main__":
    unittest.main()
