"""Running one engine in a child process: wall time, exit status, output and peak memory.

Peak resident memory comes from the OS: os.wait4 returns the rusage of exactly the child that was
waited for (on Linux its ru_maxrss covers the child and the descendants it waited for), so figures
do not leak from one run into the next as a running maximum of getrusage(RUSAGE_CHILDREN) would.
"""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time


def run_child(cmd, timeout=None, cwd=None, env=None):
    """Runs cmd; returns {status, stdout, stderr, wall_seconds, peak_rss_mib, timed_out}."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                    env=env, start_new_session=True)
        except OSError as e:
            return {"status": 127, "stdout": "", "stderr": f"{cmd[0]}: {e}", "wall_seconds": 0.0,
                    "peak_rss_mib": None, "timed_out": False}
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the child's own process group only
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "status": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "wall_seconds": wall,
            "peak_rss_mib": usage.ru_maxrss / 1024.0,  # Linux reports KiB
            "timed_out": timed_out.is_set(),
        }


def tail(text, lines=6, chars=600):
    """The last few lines of a command's output, for error messages."""
    kept = [line.strip() for line in (text or "").strip().splitlines()[-lines:] if line.strip()]
    return " / ".join(kept)[-chars:]


class Log:
    """Timestamped progress lines, to stderr and appended to a log file (both harnesses use it)."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")
        self.start = time.perf_counter()

    def __call__(self, message):
        line = f"[{time.perf_counter() - self.start:7.1f}s] {message}"
        print(line, file=sys.stderr, flush=True)
        self.file.write(line + "\n")
        self.file.flush()
