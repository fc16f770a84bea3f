"""Scaling: every later stage on corpora of 10k, 100k, 250k and 1M real prompts (jittered to size),
in pipeline order: cluster and coverage work on the canonical prompts dedup kept, far fewer than N
at 1M because σ 0.02 copies of a real prompt are near-duplicates of it. Wall time, CPU time and
peak memory of each `curator` process.

Each corpus is built by ``_data.bench_corpus``: the ≈13.4k real prompts of ../shared/data, then
word-level jittered copies; their MiniLM vectors (σ 0.02 jitter beyond the real ones) written
straight into the vector store, 5% of the prompts also a target set. Then each stage runs as a
user runs it, one ``curator`` process at a time (CLI start-up included), in pipeline order:

- ``vector_load``: the bulk loader, ids of every prompt → matrix, in-process (no start-up);
  ``vector_load_by_text``: the same through ``embed_texts(texts)`` (hashing every text first),
  what dedup, cluster and coverage call today;
- ``embed_noop``: ``curator embed`` when everything is embedded;
- ``dedup``: ``curator dedup`` (plan and apply);
- ``cluster``: ``curator cluster --k auto`` on the canonical prompts dedup left (pipeline order;
  with σ 0.02 jitter most copies of a real prompt are near-duplicates of it, so at 1M this is far
  fewer than 1M points);
- ``coverage``: ``curator coverage --html`` (table and report);
- ``listing_first_row`` / ``listing``: ``curator prompts --limit 0`` piped: first row, all rows.

Prints ``stage@N: seconds s`` (wall), ``stage.cpu@N: seconds s`` (user + system CPU of that
process: on a shared machine the wall time grows with the load, the CPU time much less) and
``stage.peak@N: N MiB`` (peak RSS); a stage that exceeds ``--timeout`` prints ``timeout`` and is
not run at larger sizes. Up to ``--repeat-upto`` prompts each stage runs ``--repeat`` times (a
stage that changes the corpus, dedup and cluster, on a copy of the corpus as it was before its
first run) and the figures are the medians, with ``stage.range@N: min–max s``: the same command
on this 2-core virtual machine varied by 20-30 % from one minute to the next (session 14).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[2]
CHANGES_CORPUS = {"dedup", "cluster"}  # stages whose repeats start from a copy of the corpus before them
LOAD_SNIPPET = """
import sys, time
from curator import Corpus
from curator.embed import load_vectors
c = Corpus.open(sys.argv[1])
from curator.embed import embed_texts
rows = c.store.query("SELECT id, text FROM prompts")
ids = [r[0] for r in rows]
load_vectors(c, ids[:10], progress=False)  # one-off costs (imports, the legacy-layout check) apart
t = time.perf_counter()
x = load_vectors(c, ids, progress=False)
by_id = time.perf_counter() - t
t = time.perf_counter()
y = embed_texts(c, [r[1] for r in rows], progress=False)
by_text = time.perf_counter() - t
assert x.shape[0] == len(ids) and (x == y).all()
print(f"{by_id:.3f} {by_text:.3f}")
"""


def run_measured(cmd: list[str], timeout: float, first_line: bool = False):
    """(wall seconds, None on timeout; peak RSS in MiB of the child from ``wait4``; seconds to the
    first stdout line; stdout text)."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    errfile = tempfile.TemporaryFile()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, env=env)
    first = None
    chunks: list[bytes] = []
    if first_line:
        line = proc.stdout.readline()
        first = time.perf_counter() - t if line else None
        while proc.stdout.read(1 << 20):
            if time.perf_counter() - t > timeout:
                break
    else:
        deadline = t + timeout
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.perf_counter() < deadline:
            if sel.select(timeout=0.5):
                data = proc.stdout.read1(1 << 16)
                if not data:
                    break
                chunks.append(data)
        sel.close()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t > timeout:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None, 0.0, first, ""
        time.sleep(0.05)
    run_measured.cpu = usage.ru_utime + usage.ru_stime  # type: ignore[attr-defined]
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    errfile.seek(0)
    err = errfile.read().decode(errors="replace")
    if code != 0:
        print(f"# {' '.join(cmd[-3:])} failed ({code}): {err.strip().splitlines()[-1] if err.strip() else ''}",
              file=sys.stderr)
        return float("nan"), usage.ru_maxrss / 1024, first, ""
    return wall, usage.ru_maxrss / 1024, first, b"".join(chunks).decode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000,250000,1000000")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per stage and size")
    ap.add_argument("--quick", action="store_true", help="sizes 2000,10000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage, medians reported (default 3)")
    ap.add_argument("--repeat-upto", type=int, default=250_000,
                    help="repeat only at sizes up to this (default 250000; 1M runs once)")
    ap.add_argument("--build", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:  # in its own process, so this one stays small (a child inherits its parent's peak RSS)
        from _data import bench_corpus

        bench_corpus(Path(args.build[0]), int(args.build[1])).close()
        return
    sizes = [2000, 10000] if args.quick else [int(s) for s in args.sizes.split(",")]
    curator = [sys.executable, "-m", "curator.cli"]
    stopped: set[str] = set()
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"curator-scale-{n}-"))
        try:
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--build", str(tmp / "c"), str(n)], check=True,
                           env=dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")))
            print(f"# built {n} prompts in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
            root = str(tmp / "c")
            stages = [
                ("vector_load", [sys.executable, "-c", LOAD_SNIPPET, root], False),
                ("embed_noop", curator + ["--corpus", root, "embed"], False),
                ("dedup", curator + ["--corpus", root, "dedup"], False),
                ("cluster", curator + ["--corpus", root, "cluster", "--k", "auto"], False),
                ("coverage", curator + ["--corpus", root, "coverage", "--html", str(tmp / "r.html")], False),
                ("listing", curator + ["--corpus", root, "prompts", "--limit", "0"], True),
            ]
            repeat = max(1, args.repeat) if n <= args.repeat_upto else 1
            for name, cmd, first_line in stages:
                if name in stopped:
                    print(f"{name}@{n}: skipped s", flush=True)
                    continue
                runs = []
                snapshot = tmp / "before"
                for r in range(repeat):
                    if repeat > 1 and name in CHANGES_CORPUS:
                        if r == 0:
                            shutil.copytree(root, snapshot)
                        else:  # the corpus as the first run found it
                            shutil.rmtree(root)
                            shutil.copytree(snapshot, root)
                    wall, peak, first, out = run_measured(cmd, args.timeout, first_line)
                    if wall is None:
                        break
                    runs.append((wall, peak, first, out, run_measured.cpu))
                shutil.rmtree(snapshot, ignore_errors=True)
                if len(runs) < repeat:
                    stopped.add(name)
                    print(f"{name}@{n}: timeout({args.timeout:.0f}) s", flush=True)
                    continue
                walls = sorted(r[0] for r in runs)
                wall = float(np.median(walls))
                first = float(np.median([r[2] for r in runs])) if first_line and runs[0][2] is not None else None
                peak, out, cpu = max(r[1] for r in runs), runs[-1][3], float(np.median([r[4] for r in runs]))
                if name == "vector_load" and out.strip():
                    pairs = [tuple(map(float, r[3].strip().splitlines()[-1].split())) for r in runs]
                    wall = float(np.median([p[0] for p in pairs]))
                    walls = sorted(p[0] for p in pairs)
                    print(f"vector_load_by_text@{n}: {float(np.median([p[1] for p in pairs])):.2f} s", flush=True)
                if first is not None:
                    print(f"listing_first_row@{n}: {first:.2f} s", flush=True)
                print(f"{name}@{n}: {wall:.2f} s", flush=True)
                if repeat > 1:
                    print(f"{name}.range@{n}: {walls[0]:.2f}–{walls[-1]:.2f} s", flush=True)
                print(f"{name}.peak@{n}: {peak:.0f} MiB", flush=True)
                if name != "vector_load":  # CPU seconds: what the wall time would be on an idle machine, roughly
                    print(f"{name}.cpu@{n}: {cpu:.2f} s", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
