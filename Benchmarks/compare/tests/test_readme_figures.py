"""Every figure in the README's comparison and accuracy tables, and in the prose of its speed and
design sections, comes from a results file (issue 14).

The tables checked: the ones under "## Accuracy on MovieLens-100K" before its first subsection, and
under "## Speed, side by side with the peers" before "### End to end" (that subsection has a
results file and a command of its own, end_to_end.py). Every decimal number in a table row (0.9086,
0.25×, 1.42) must appear, as written, in one of the results files of Benchmarks/compare/results or
Benchmarks/accuracy/results (the markdown the harness writes from its JSON, or the JSON itself).

The prose checked: every line that is not a table row, a heading or a code block, in "## Top-N
recommendations and implicit feedback", "## Bayesian MF", "## SVD++", "## Accuracy on MovieLens-100K"
(all its subsections), from "## Speed, side by side with the peers" to "### Micro-benchmarks" (End to
end included), in "## Distributed ALS" (with "### Scaling on this machine") and in "## Design". Its
decimal numbers must appear in a results file too (Benchmarks/mpi/results counts as one for
mf-mpi), except those inside a phrase of DERIVED: figures worked out from results-file figures (a
ratio of two of them, a span over several files), each listed with how; or of CONSTANTS: a bar or
setting that is not a measurement, each with the file that holds it (checked) or the issue that set
it. A derived figure or constant changed in the README no longer matches its phrase and is checked
like any other. Standard library only.
"""
import functools
import glob
import os
import re
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
README = os.path.join(ROOT, "README.md")
RESULTS = [os.path.join(ROOT, "Benchmarks", "compare", "results"), os.path.join(ROOT, "Benchmarks", "accuracy",
                                                                              "results"),
           os.path.join(ROOT, "Benchmarks", "mpi", "results")]

# (heading that starts a section, heading that ends the part checked)
SECTIONS = [("## Accuracy on MovieLens-100K", "### "), ("## Speed, side by side with the peers", "### End to end")]

# (heading that starts a section, heading that ends the part checked) for prose figures.
PROSE_SECTIONS = [("## Top-N recommendations and implicit feedback", "## "), ("## Bayesian MF (`--algorithm bayes`)", "## "),
                  ("## SVD++ (`--algorithm svdpp`)", "## "), ("## Accuracy on MovieLens-100K", "## "),
                  ("## Speed, side by side with the peers", "### Micro-benchmarks"),
                  ("## Distributed ALS (`mf-mpi`)", "## "), ("## Design", "## ")]

# Phrases of the README prose whose figures are worked out from results-file figures, not copied:
# {phrase: how}. The phrase is matched within one line.
DERIVED = {
    "Set-up in epochs' time: 2.0 at 10M, 1.6 at 25M, 2.0 at 100M": "results/end-to-end.json, each size's "
        "mf_20_epochs median setup_seconds over its median epoch_seconds (0.1156/0.0586, 0.2581/0.1583, "
        "1.3290/0.6691), to one decimal",
    "(2.0 epochs' time at 100M)": "results/end-to-end.json, 100M: setup_seconds 1.3290 over epoch_seconds 0.6691",
    "that is 2.0, 1.6 and 2.0 epochs' time": "the same three ratios as \"Set-up in epochs' time\" (End to end)",
    "within 0.004 of each other in NDCG@10": "the largest gap between the two λ 50 rows' NDCG@10 at one iteration "
                                             "count (results/ml100k-implicit-curves: 0.3068 against 0.3094) rounded up",
    "run: 0.0080 more accurate than SGD": "Benchmarks/accuracy/results/ml100k-defaults.md: default SGD's mean 0.9087 "
                                          "minus the default's 0.9007",
    "the mean by 0.0001": "default SGD's mean 0.9087 (results/ml100k-defaults.md) minus 0.9086 before the λ_b search "
                          "(results/ml100k.json, \"default (SGD, self-tuned)\" mean_rmse 0.9086074)",
    "0.951300, a margin in the fifth decimal": "Benchmarks/accuracy/results/suite.json, synth-sparse, "
                                               "surprise-baseline rmse 0.9512995403446171 to six decimals",
    "1.1 s, search 7.4 s at load 12–14": "Benchmarks/accuracy/results/large/suite.json, mf-default's read_seconds "
                                         "1.06211 and tuning seconds 7.36468, to one decimal",
    "SVD++'s trial trailed SGD's best by 0.3–38% there": "Benchmarks/accuracy/results/suite.json, the mf-default "
        "tuning trials: SVD++'s best_rmse over SGD's best, synth-sparse 0.947341/0.944781 to synth-no-bias "
        "0.935087/0.675351 (the sets of at most 200,000 ratings, where SVD++ gets a trial)",
    "both): 0.70× LIBMF's time": "Benchmarks/accuracy/results/time-to-quality.md: mf's 2.46 s over LIBMF's 3.52 s",
    "the measured solving (3.9–4.2 s)": "Benchmarks/mpi/results/scaling.md, solving (slowest process) at N = 2–4: "
                                        "3.866 to 4.233 s, to one decimal",
    "has the higher AUC by 0.002": "results/ml100k-implicit: implicit ALS's AUC 0.8464 minus mf's 0.8448, rounded",
    "costs 0.002–0.018 (table below)": "Benchmarks/accuracy/results/bayes-vs-myfm.md, mf (defaults then) minus mf "
                                       "plain over the six generated sets: dense 0.5755 − 0.5734 to very sparse "
                                       "0.9646 − 0.9464",
    "0.002–0.013 on the others": "the same differences over dense, low noise, high noise and no planted biases: "
                                 "0.5755 − 0.5734 to 1.0352 − 1.0219",
    "(12.13 against 12.14 MB a sweep at N = 2, 24.26 against 24.28 MB at N = 3)": "Benchmarks/mpi/results/scaling.json, "
        "inout_bytes against allgather_bytes at N = 2 and 3 (12132780/12139248, 24261732/24278496) in 10⁶ bytes",
}

# Phrases whose figures are bars or settings, not measurements: {phrase: (file under ROOT that holds the value,
# the text it holds) or (None, the issue that set the bar)}. A file given is checked to hold that text.
TESTS_ML100K = "Tests/MatrixFactorizationTests/MovieLensAccuracyTests.swift"
OPTIONS = "Sources/MatrixFactorization/Training/TrainingOptions.swift"
CONSTANTS = {
    "Issue 8's bar, ≤ 0.905": (TESTS_ML100K, "#expect(r.mean <= 0.905)"),
    "Bar: ≤ 0.905": (TESTS_ML100K, "algorithm == .sgd ? 0.905 : 0.910"),
    "< 0.9145)": (TESTS_ML100K, "#expect(rmse < 0.9145)"),
    "Bar: ≤ 0.910": (TESTS_ML100K, "algorithm == .sgd ? 0.905 : 0.910"),
    "Issue 9's bar, ≤ 0.895": (None, "issue 9: ML-100K mean RMSE of --algorithm bayes --rank 32 ≤ 0.895"),
    "Issue 9's bar, ≤ 0.905": (None, "issue 9: SVD++ ML-100K mean ≤ 0.905"),
    "(the target was ≤ 1.3×)": (None, "issue 11's target for 2 processes × 1 thread against "
                                      "single-process ALS with 2 threads"),
    "within the 0.2× target": (None, "issue 11's target for mf-mpi against Spark ALS on the 10M set"),
    "(0.566/√32)": (OPTIONS, "initScale: Float = 0.566"),
    "(0.566/√k)": (OPTIONS, "initScale: Float = 0.566"),
}

# A figure at the end of a sentence ("gave 0.9049.") is a figure too; "1.2.3" is not.
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?!\w|\.\d)")


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


def prose_numbers(lines, derived=None):
    """[(line, number)] for every decimal number in the prose of lines: not in table rows, headings or
    fenced code, not in backticks (commands), not inside a phrase of `derived` (DERIVED and CONSTANTS)."""
    derived = list(DERIVED) + list(CONSTANTS) if derived is None else derived
    found, fenced = [], False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("|") or line.startswith("#"):
            continue
        text = re.sub(r"`[^`]*`", "", line)
        for phrase in derived:
            text = text.replace(phrase, " ")
        found += [(line, n) for n in NUMBER.findall(text)]
    return found


def in_corpus(number, corpus):
    return re.search(r"(?<![\d.])" + re.escape(number) + r"(?!\d)", corpus) is not None


@functools.lru_cache(maxsize=1)
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

    def test_prose_skips_tables_code_commands_and_derived_phrases(self):
        lines = ["Took 1.25 s (`--learning-rate 0.04`), 2.5× the other.", "| 9.75 |", "```", "mf 7.5", "```",
                 "# 3.5", "set-up is 1.8 epochs' time here", "Version 1.2.3 gave 0.9049."]
        self.assertEqual([n for _, n in prose_numbers(lines, {})], ["1.25", "2.5", "1.8", "0.9049"])
        self.assertEqual([n for _, n in prose_numbers(lines, {"1.8 epochs' time": "0.29/0.159"})],
                         ["1.25", "2.5", "0.9049"])
        # A derived figure changed no longer matches its phrase, so it is checked against the files.
        self.assertEqual([n for _, n in prose_numbers(["set-up is 1.9 epochs' time"], {"1.8 epochs' time": ""})],
                         ["1.9"])

    def test_a_figure_no_file_holds_is_reported(self):
        corpus = "| mf | 0.9086 | 0.25× |\n{\"rmse\": 0.91284}"
        self.assertTrue(in_corpus("0.9086", corpus))
        self.assertTrue(in_corpus("0.25", corpus))
        self.assertFalse(in_corpus("0.9087", corpus))
        self.assertFalse(in_corpus("0.9128", corpus))  # a prefix of a longer number is not the figure
        self.assertFalse(in_corpus("1.9086", corpus))

    def test_section_bounds(self):
        text = "## A\n| 1.5 |\n### sub\n| 2.5 |\n## B\n| 3.5 |\n### End to end\n| 4.5 |\n"
        self.assertEqual(section(text, "## A", "### "), ["| 1.5 |"])
        self.assertEqual(section(text, "## B", "### End to end"), ["| 3.5 |"])


@unittest.skipUnless(os.path.exists(README), "README.md not found beside Benchmarks/")
class ReadmeFigures(unittest.TestCase):
    @staticmethod
    def unmatched(sections, numbers):
        """(figures checked, those in no results file) over the README's `sections`, each section's
        figures found by `numbers`."""
        with open(README, encoding="utf-8") as f:
            text = f.read()
        corpus = results_text()
        checked, missing = 0, []
        for start, stop in sections:
            lines = section(text, start, stop)
            assert lines, f"README has no section {start!r}"
            for line, number in numbers(lines):
                checked += 1
                if not in_corpus(number, corpus):
                    missing.append(f"{number} in: {line.strip()[:120]}")
        return checked, missing

    def test_every_table_figure_is_in_a_results_file(self):
        checked, missing = self.unmatched(SECTIONS, table_numbers)
        self.assertGreater(checked, 0)
        self.assertFalse(missing, "README table figures found in no results file:\n" + "\n".join(missing))

    def test_every_prose_figure_of_the_checked_sections_is_in_a_results_file(self):
        checked, missing = self.unmatched(PROSE_SECTIONS, prose_numbers)
        self.assertGreater(checked, 100)
        self.assertFalse(missing, "README prose figures found in no results file (quote the file's figure, or list a "
                                  "derived one in DERIVED with how it is worked out):\n" + "\n".join(missing))

    def test_every_derived_phrase_is_in_the_readme(self):
        with open(README, encoding="utf-8") as f:
            text = f.read()
        for phrase in list(DERIVED) + list(CONSTANTS):
            self.assertTrue(phrase in text, f"DERIVED or CONSTANTS lists a phrase the README no longer has: {phrase!r}")

    def test_every_constant_is_in_its_file(self):
        for phrase, (path, holds) in CONSTANTS.items():
            if path is None:
                continue
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                self.assertIn(holds, f.read(), f"{phrase!r}: {path} no longer holds {holds!r}")
            value = NUMBER.findall(phrase)
            self.assertTrue(value and all(v in holds for v in value), f"{phrase!r} quotes a value {holds!r} lacks")


if __name__ == "__main__":
    unittest.main()
