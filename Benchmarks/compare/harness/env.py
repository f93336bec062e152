"""The harness's virtual environment, the peers installed in it, LIBMF's build, and versions.

Standard library only: it runs under the system python3 that started compare.py.
"""
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile

from harness.proc import run_child, tail

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # Benchmarks/compare
VENV = os.path.join(HERE, ".venv")

# Exact versions (issue 14): a results file names what ran, and a re-run installs the same.
BASE_REQUIREMENTS = {"numpy": "numpy==2.4.6", "scipy": "scipy==1.17.1", "matplotlib": "matplotlib==3.11.2"}
BASE_PACKAGES = list(BASE_REQUIREMENTS)
# name shown in the results → pip requirement
PEER_PACKAGES = {
    "libmf": "libmf==0.9.2",
    "scikit-surprise": "scikit-surprise==1.1.5",
    "myfm": "myfm==0.4.0",
    "implicit": "implicit==0.7.3",
    "pyspark": "pyspark==4.3.0",
    "lightfm": "lightfm==1.17",
}
LIBMF_VERSION = "0.9.2"


def venv_python(venv=VENV):
    return os.path.join(venv, "bin", "python")


def ensure_venv(venv=VENV, log=print):
    """Creates the venv if missing; returns its python (or raises with the reason)."""
    py = venv_python(venv)
    if not os.path.exists(py):
        log(f"creating the virtual environment {venv}")
        r = run_child([sys.executable, "-m", "venv", venv])
        if r["status"] != 0:
            raise RuntimeError(f"python3 -m venv failed: {tail(r['stderr'])}")
        run_child([py, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], timeout=600)
    return py


def installed_versions(py, names):
    """{distribution name: version or None} as the venv sees them."""
    code = ("import json, sys, importlib.metadata as m\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: out[n] = None\n"
            "print(json.dumps(out))")
    r = run_child([py, "-c", code] + list(names))
    if r["status"] != 0:
        return {n: None for n in names}
    return json.loads(r["stdout"])


def install(py, requirement, log=print, timeout=1800):
    """pip install one requirement; returns None on success, else the reason."""
    log(f"pip install {requirement}")
    r = run_child([py, "-m", "pip", "install", "--quiet", requirement], timeout=timeout)
    if r["status"] == 0:
        return None
    return f"pip install {requirement} failed (exit {r['status']}): {tail(r['stderr'] or r['stdout'], 4)}"


def ensure_packages(py, log=print, peers=PEER_PACKAGES):
    """Installs what is missing; returns {name: {installed, version, error}} for base and peers."""
    status = {}
    wanted = dict(BASE_REQUIREMENTS, **peers)
    have = installed_versions(py, wanted)
    for name, requirement in wanted.items():
        error = None
        pinned = requirement.split("==", 1)[1] if "==" in requirement else None
        if have.get(name) is None or (pinned and have.get(name) != pinned):
            error = install(py, requirement, log)
        version = installed_versions(py, [name]).get(name) if error is None else None
        if error is None and version is None:
            error = f"{requirement}: pip reported success but the package is not importable by name"
        status[name] = {"installed": error is None, "version": version, "error": error,
                        "requirement": requirement}
    return status


def java_version():
    java = shutil.which("java")
    if not java:
        return None
    r = run_child([java, "-version"])
    first = (r["stderr"] or r["stdout"]).strip().splitlines()
    return first[0] if first else None


def build_libmf(py, out_dir, log=print, threads=2):
    """Downloads the libmf sdist from PyPI, compiles LIBMF with the driver twice (SSE and AVX).

    Returns {"binaries": {"sse": path, "avx": path}, "source": folder, "flags": {...}, "error"}.
    Nothing of LIBMF is kept in the repository: the sdist is downloaded into OUT/libmf.
    """
    folder = os.path.join(out_dir, "libmf")
    os.makedirs(folder, exist_ok=True)
    sources = glob.glob(os.path.join(folder, f"libmf-{LIBMF_VERSION}", "src_cpp", "mf.cpp"))
    if not sources:
        archives = glob.glob(os.path.join(folder, f"libmf-{LIBMF_VERSION}.tar.gz"))
        if not archives:
            log(f"pip download libmf=={LIBMF_VERSION} --no-binary :all: --no-deps")
            r = run_child([py, "-m", "pip", "download", f"libmf=={LIBMF_VERSION}", "--no-binary", ":all:",
                           "--no-deps", "-d", folder], timeout=600)
            archives = glob.glob(os.path.join(folder, f"libmf-{LIBMF_VERSION}.tar.gz"))
            if r["status"] != 0 or not archives:
                return {"error": f"pip download of the libmf sdist failed: {tail(r['stderr'])}"}
        with tarfile.open(archives[0]) as tar:
            tar.extractall(folder, filter="data") if sys.version_info >= (3, 12) else tar.extractall(folder)
        sources = glob.glob(os.path.join(folder, f"libmf-{LIBMF_VERSION}", "src_cpp", "mf.cpp"))
        if not sources:
            return {"error": "the libmf sdist has no src_cpp/mf.cpp"}
    src = os.path.dirname(sources[0])
    driver = os.path.join(HERE, "libmf_driver.cpp")
    cxx = shutil.which("g++")
    if not cxx:
        return {"error": "g++ is not installed"}
    flags = {}
    procs = {}
    binaries = {}
    for simd in ("sse", "avx"):
        exe = os.path.join(folder, f"libmf_driver-{simd}")
        cmd = [cxx, "-O3", "-march=native", "-fopenmp", f"-DUSE{simd.upper()}", "-DUSEOMP", "-std=c++11",
               "-pthread", "-I", src, driver, os.path.join(src, "mf.cpp"), "-o", exe]
        flags[simd] = (f"g++ -O3 -march=native -fopenmp -DUSE{simd.upper()} -DUSEOMP -std=c++11 -pthread "
                       "libmf_driver.cpp mf.cpp")
        binaries[simd] = exe
        stamp = exe + ".stamp"
        if (os.path.exists(exe) and os.path.exists(stamp) and open(stamp).read() == " ".join(cmd)
                and os.path.getmtime(exe) >= os.path.getmtime(driver)):
            continue
        log(f"compiling LIBMF ({simd.upper()}): {flags[simd]}")
        procs[simd] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
                       stamp, " ".join(cmd))
    errors = []
    for simd, (proc, stamp, line) in procs.items():
        output, _ = proc.communicate()
        if proc.returncode != 0:
            errors.append(f"{simd}: {tail(output)}")
            binaries.pop(simd, None)
        else:
            with open(stamp, "w") as f:
                f.write(line)
    result = {"binaries": binaries, "source": src, "flags": flags, "version": LIBMF_VERSION}
    if errors:
        result["compile_errors"] = errors
    if not binaries:
        result["error"] = "LIBMF did not compile: " + "; ".join(errors)
    return result


def machine():
    info = {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
            f.seek(0)
            flags = next((l for l in f if l.startswith("flags")), "")
            info["simd"] = [x for x in ("sse4_2", "avx", "avx2", "avx512f", "fma") if f" {x}" in flags]
    except OSError:
        pass
    return info
