"""The comparison harness: mf against LIBMF, Surprise, implicit and Spark MLlib.

Every module here but peer_runner, ranking and plot uses the Python standard library only, so the
tests (and compare.py's orchestration) run without the peers, numpy or matplotlib installed.
peer_runner, ranking and plot run inside the harness's virtual environment and import their
third-party packages lazily, inside functions.
"""
