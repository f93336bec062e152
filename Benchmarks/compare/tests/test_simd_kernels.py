"""simd_kernels.py's table, from a recorded report (no mf runs)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import simd_kernels  # noqa: E402


class TableTests(unittest.TestCase):
    def test_medians_spread_ratio_and_kernels(self):
        report = {"date": "2026-11-30 21:40", "mf_revision": "abc1234", "mf_binary_sha256": "0" * 64,
                  "machine": {"cpu": "CPU", "cores": 2}, "ratings": 10_000_000, "epochs": 8, "repeats": 3,
                  "load_min": 1.04, "load_max": 2.26,
                  "rows": [{"rank": 32, "threads": 1, "schedule": "decaying",
                            "runs": {"avx2+fma": [0.12, 0.1, 0.11], "portable": [0.16, 0.15, 0.2]},
                            "kernels": ["avx2+fma: avx2+fma", "portable: portable"] * 3}]}
        text = simd_kernels.markdown(report)
        self.assertIn("| 32 | 1 | decaying | 0.1100 (0.1000–0.1200) | 0.1600 (0.1500–0.2000) | **0.69×** | "
                      "avx2+fma: avx2+fma, portable: portable |", text)
        self.assertIn("10.0M-rating set, 8 epochs a run", text)
        self.assertIn("1.0–2.3", text)


if __name__ == "__main__":
    unittest.main()
