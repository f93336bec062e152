"""The accuracy suite's library: data set definitions, shapes, summaries, markdown and chart.

Every module but chart uses the Python standard library only, so suite.py's orchestration and
the unit tests run under the system python3; chart runs inside the comparison harness's virtual
environment (Benchmarks/compare/.venv) and imports matplotlib inside its function.
"""
