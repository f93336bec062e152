"""What a results file must name to be checked: the mf binary, the revision it was built from, the
machine's load (standard library only).

The revision is the one the binary was built from, not the state of the checkout when the results
were written: the harness records `git rev-parse HEAD` and whether anything that goes into the
binary (Sources/, Package.swift) differed from it at build time. Files the binary does not contain
(Benchmarks/, README.md) being edited does not make a binary "dirty".
"""
import hashlib
import os
import time

from harness.proc import run_child

BINARY_INPUTS = ("Sources", "Package.swift")


def sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def source_revision(root):
    """{"commit", "short", "uncommitted_source_changes": [paths]} of the checkout at root, now."""
    head = run_child(["git", "-C", root, "rev-parse", "HEAD"])["stdout"].strip() or None
    status = run_child(["git", "-C", root, "status", "--porcelain", "--"] + list(BINARY_INPUTS))["stdout"]
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": head, "short": head[:7] if head else None, "uncommitted_source_changes": changed}


def describe(rev):
    """'abc1234' or 'abc1234 + uncommitted changes to 2 source files'."""
    if not rev or not rev.get("commit"):
        return "unknown revision"
    changed = rev.get("uncommitted_source_changes") or []
    return rev["short"] + (f" + uncommitted changes to {len(changed)} source files" if changed else "")


def mf_identity(binary, revision=None, how=None):
    """The binary's hash, size and mtime, and the revision it was built from (when known)."""
    st = os.stat(binary)
    return {"binary": binary, "sha256": sha256(binary), "bytes": st.st_size,
            "modified": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(st.st_mtime)) + " UTC",
            "revision": revision, "built_from": describe(revision) if revision else
            "unknown (binary given with --mf and no --mf-revision)", "how": how}


def load_average():
    """The 1-, 5- and 15-minute load averages, or None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None
