"""Running one engine in a child process: wall time, exit status, output and peak memory.

Peak resident memory: the child's VmHWM from /proc, polled until it exits (its own memory since
its exec). os.wait4's ru_maxrss (kept as rusage_maxrss_mib) is exact per child but on Linux it
includes the peak of the memory the child had before exec, i.e. the forking harness's own RSS,
so a large harness made every small engine's figure equal to the harness's.
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
        polled = {"peak": None, "stop": False}

        def poll():
            # The child's own peak (VmHWM of the memory it has since exec), sampled until it exits.
            while not polled["stop"]:
                v = proc_status_kib(proc.pid, "VmHWM")
                if v is not None:
                    polled["peak"] = max(v, polled["peak"] or 0)
                time.sleep(0.02)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            polled["stop"] = True
            if timer:
                timer.cancel()
        poller.join()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "status": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "wall_seconds": wall,
            # The child's VmHWM polled every 20 ms; the OS's ru_maxrss only when polling saw nothing
            # (a child shorter than one poll). ru_maxrss is not used first: on Linux it starts at
            # the peak of the memory the child had before its exec, the forking harness's (Python's
            # subprocess uses vfork: the parent's whole RSS), which floors every small figure.
            "peak_rss_mib": (polled["peak"] or usage.ru_maxrss) / 1024.0,  # KiB
            "rusage_maxrss_mib": usage.ru_maxrss / 1024.0,
            "timed_out": timed_out.is_set(),
        }


def proc_status_kib(pid, key):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_peak_rss(pid="self"):
    """Resets the kernel's peak-RSS mark (VmHWM) of a process to its current RSS (Linux ≥ 4.0:
    "5" written to /proc/PID/clear_refs); True when it could."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_child_fit_memory(cmd, ready, timeout=None, poll_seconds=0.005):
    """Runs cmd (stderr as lines) and measures the peak RSS of the part after `ready`.

    When a stderr line satisfies ready(line) (for mf: its "N ratings, … training …" line, printed
    once the ratings are read into its own structures), the child's peak-RSS mark is reset
    (reset_peak_rss) and its RSS read; a poller then reads VmHWM every poll_seconds until the child
    exits, keeping the last value. Returns run_child's fields plus fit_base_rss_mib (RSS at the
    reset), fit_peak_rss_mib (the peak after it) and load_peak_rss_mib (the peak before it), None
    when the reset could not be done. The reset also lowers the OS's figure for the whole process
    (peak_rss_mib here): the whole process's peak is the larger of load_peak and fit_peak.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        state = {"base": None, "peak": None, "before": None, "stop": False}
        lines = []

        def poll():
            while not state["stop"]:
                if state["base"] is not None:
                    v = proc_status_kib(proc.pid, "VmHWM")
                    if v is not None:
                        state["peak"] = v
                time.sleep(poll_seconds)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL)) if timeout else None
        if timer:
            timer.start()
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            if state["base"] is None and ready(line):
                before = proc_status_kib(proc.pid, "VmHWM")
                if not reset_peak_rss(proc.pid):
                    continue
                state["before"] = before
                state["base"] = proc_status_kib(proc.pid, "VmRSS")
                state["peak"] = state["base"]
        proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
        state["stop"] = True
        poller.join()
        if timer:
            timer.cancel()
        out.seek(0)
        return {"status": os.waitstatus_to_exitcode(status), "stdout": out.read().decode("utf-8", "replace"),
                "stderr": "".join(lines), "wall_seconds": time.perf_counter() - start,
                "peak_rss_mib": usage.ru_maxrss / 1024.0, "timed_out": False,
                "fit_base_rss_mib": state["base"] / 1024.0 if state["base"] is not None else None,
                "fit_peak_rss_mib": state["peak"] / 1024.0 if state["peak"] is not None else None,
                "load_peak_rss_mib": state["before"] / 1024.0 if state["before"] is not None else None}


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
