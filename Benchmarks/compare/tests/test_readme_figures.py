"""Every figure in the README's comparison and accuracy tables comes from a results file (issue 14).

The tables checked: the ones under "## Accuracy on MovieLens-100K" before its first subsection, and
under "## Speed, side by side with the peers" before "### End to end" (that subsection has a
results file and a command of its own, end_to_end.py). Every decimal number in a table row (0.9086,
0.25×, 1.42) must appear, as written, in one of the results files of Benchmarks/compare/results or
Benchmarks/accuracy/results (the markdown the harness writes from its JSON, or the JSON itself).
Standard library only.
"""
import glob
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
README = os.path.join(ROOT, "README.md")
RESULTS = [os.path.join(ROOT, "Benchmarks", "compare", "results"), os.path.join(ROOT, "Benchmarks", "accuracy",
                                                                              "results")]

# (heading that starts a section, heading that ends the part checked)
SECTIONS = [("## Accuracy on MovieLens-100K", "### "), ("## Speed, side by side with the peers", "### End to end")]

NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def section(text, start, stop):
    """The lines from the heading `start` to the next heading beginning with `stop` (or any ##)."""
    lines = text.splitlines()
    out, inside = [], False
    for line in lines:
        if line.strip() == start:
            inside = True
            continue
        if inside and (line.startswith(stop) or (line.startswith("## ") and line.strip() != start)):
            break
        if inside:
            out.append(line)
    return out


def table_numbers(lines):
    """[(line, number)] for every decimal number in the markdown table rows of lines."""
    found = []
    for line in lines:
        if not line.startswith("|") or set(line.replace("|", "").strip()) <= set("-: "):
            continue
        # Text in backticks is a command line (flags such as --learning-rate 0.04), not a figure.
        cells = re.sub(r"`[^`]*`", "", line)
        found += [(line, n) for n in NUMBER.findall(cells)]
    return found


def results_text():
    texts = []
    for folder in RESULTS:
        for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
            if path.endswith((".md", ".json")):
                with open(path, encoding="utf-8") as f:
                    texts.append(f.read())
    return "\n".join(texts)


class Extraction(unittest.TestCase):
    def test_only_table_rows_and_not_commands(self):
        lines = ["Prose 1.23 is not checked.", "| a | b |", "|---|---|",
                 "| mf `--learning-rate 0.04` | **0.9086** | 0.25× | 12 |"]
        self.assertEqual([n for _, n in table_numbers(lines)], ["0.9086", "0.25"])

    def test_section_bounds(self):
        text = "## A\n| 1.5 |\n### sub\n| 2.5 |\n## B\n| 3.5 |\n### End to end\n| 4.5 |\n"
        self.assertEqual(section(text, "## A", "### "), ["| 1.5 |"])
        self.assertEqual(section(text, "## B", "### End to end"), ["| 3.5 |"])


@unittest.skipUnless(os.path.exists(README), "README.md not found beside Benchmarks/")
class ReadmeFigures(unittest.TestCase):
    def test_every_table_figure_is_in_a_results_file(self):
        with open(README, encoding="utf-8") as f:
            text = f.read()
        corpus = results_text()
        checked, missing = 0, []
        for start, stop in SECTIONS:
            lines = section(text, start, stop)
            self.assertTrue(lines, f"README has no section {start!r}")
            for line, number in table_numbers(lines):
                checked += 1
                if not re.search(r"(?<![\d.])" + re.escape(number) + r"(?!\d)", corpus):
                    missing.append(f"{number} in: {line[:120]}")
        self.assertGreater(checked, 0)
        self.assertFalse(missing, "README table figures found in no results file:\n" + "\n".join(missing))


if __name__ == "__main__":
    unittest.main()
