"""The ranking metrics (numpy): skipped where numpy is not installed."""
import math
import unittest

try:
    import numpy as np
except ImportError:  # the harness's tests must pass without numpy
    np = None

from harness import ranking


@unittest.skipIf(np is None, "numpy is not installed")
class RankingMetrics(unittest.TestCase):
    def test_one_user_by_hand(self):
        # 6 items; scores rank items 5,4,3,2,1,0; item 5 was seen in training; relevant: 4 and 1.
        scores = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
        m = ranking.user_metrics(scores, {5}, {4, 1}, k=3)
        # top 3 among candidates 0..4: items 4, 3, 2 → one hit at rank 1
        self.assertEqual(list(m["top"]), [4, 3, 2])
        self.assertAlmostEqual(m["precision"], 1 / 3)
        self.assertAlmostEqual(m["recall"], 1 / 2)
        idcg = 1 / math.log2(2) + 1 / math.log2(3)
        self.assertAlmostEqual(m["ndcg"], 1.0 / idcg)
        self.assertAlmostEqual(m["map"], (1 / 1) / 2)
        # candidates 0..4, positives {4, 1}, negatives {0, 2, 3}: pairs ordered right: 4 beats all 3,
        # 1 beats 0 only → 4 of 6
        self.assertAlmostEqual(m["auc"], 4 / 6)

    def test_ties_count_half_in_auc(self):
        m = ranking.user_metrics(np.zeros(4), set(), {0}, k=2)
        self.assertAlmostEqual(m["auc"], 0.5)

    def test_perfect_ranking(self):
        U = np.array([[1.0, 0.0], [0.0, 1.0]])
        V = np.array([[1.0, 0.0], [0.9, 0.0], [0.0, 1.0], [0.0, 0.8], [0.1, 0.1]])
        train = [("a", "i0"), ("b", "i2")]
        test = [("a", "i1"), ("b", "i3"), ("c", "i1"), ("a", "unknown")]  # c and unknown are not in the model
        out = ranking.ranking_metrics(U, V, ["a", "b"], ["i0", "i1", "i2", "i3", "i4"], train, test, k=2)
        self.assertEqual(out["users"], 2)
        self.assertAlmostEqual(out["precision"], 0.5)
        self.assertAlmostEqual(out["recall"], 1.0)
        self.assertAlmostEqual(out["ndcg"], 1.0)
        self.assertAlmostEqual(out["map"], 1.0)
        self.assertAlmostEqual(out["auc"], 1.0)

    def test_item_bias_changes_the_order(self):
        U = np.array([[1.0]])
        V = np.array([[1.0], [0.5]])
        out = ranking.ranking_metrics(U, V, ["u"], ["x", "y"], [], [("u", "y")], k=1, item_bias=[0.0, 1.0])
        self.assertAlmostEqual(out["precision"], 1.0)


if __name__ == "__main__":
    unittest.main()
