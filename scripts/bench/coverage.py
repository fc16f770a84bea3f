"""Coverage + HTML report at scale: seconds and peak memory of `curator coverage --html` (and of
`curator cluster --k auto`) on a corpus of real prompts jittered to size.

The corpus: the real prompts under ../shared/data (their MiniLM vectors cached in ``--cache``),
copied to each size with a variant marker in the text and Gaussian noise (σ 0.02) on the vector;
vectors enter the store through ``embed_texts(encoder=...)`` (no model work, whatever the storage
layout); 2,000 of the labelled prompts (jittered) form the target set. Each command runs in a
fresh process, timed with its peak RSS, beside a baseline in the same run: `curator stats` on the
same corpus (the cost of merely opening it and reading every row). Each command runs
``--repeat`` times (3 by default): the figure is the median, ``name_range`` the spread and the
peak the highest of the runs (the same command varied 20-30 % from minute to minute on the
shared 2-core machine).

Usage: python scripts/bench/coverage.py [--sizes 25000,250000] [--quick] [--keep DIR]
Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import real_prompts  # noqa: E402

from curator import Corpus  # noqa: E402
from curator.embed import embed_texts  # noqa: E402
from curator.items import PromptRecord, Provenance, add_prompts  # noqa: E402

TARGETS = 2000


def build(root: Path, n: int, cache: str, sigma: float = 0.02) -> None:
    texts, labels = real_prompts()
    with Corpus.init(cache) as c:
        base = embed_texts(c, texts, progress=False)
    rng = np.random.default_rng(0)
    src = np.concatenate([np.arange(len(texts)), rng.integers(0, len(texts), max(0, n - len(texts)))])[:n]
    copies: dict[int, int] = {}
    train_texts = []
    for s in src:
        j = copies.get(s, 0)
        copies[s] = j + 1
        train_texts.append(texts[s] if j == 0 else f"{texts[s]} (variant {j})")
    labelled = [i for i, lb in enumerate(labels) if lb]
    tsrc = rng.choice(labelled, size=TARGETS, replace=True)
    target_texts = [f"{texts[s]} (target {i})" for i, s in enumerate(tsrc)]
    all_src = np.concatenate([src, tsrc])
    vec = base[all_src] + rng.normal(0, sigma, (len(all_src), base.shape[1])).astype(np.float32)
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    lookup = dict(zip(train_texts + target_texts, vec))

    def encoder(batch: list[str]) -> np.ndarray:
        return np.vstack([lookup[t] for t in batch]).astype(np.float32)

    with Corpus.init(root) as corpus:
        with corpus.store.transaction() as conn:
            add_prompts(conn, [PromptRecord(t, "public", Provenance("train", "prompts", row=i))
                               for i, t in enumerate(train_texts)])
            add_prompts(conn, [PromptRecord(t, "public", Provenance("test", "target", row=i))
                               for i, t in enumerate(target_texts)])
        embed_texts(corpus, train_texts + target_texts, encoder=encoder, progress=False)


def run(root: Path, *args: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one curator command in a fresh process."""
    # Peak from /proc's VmHWM (this process's own memory), not ru_maxrss: Linux carries the
    # parent's resident size into a child's ru_maxrss across fork+exec, so after building a 250k
    # corpus in this process every command read 1.76 GB whatever it used.
    code = ("import re, sys; from curator.cli import main\n"
            "try:\n    main(standalone_mode=False)\nfinally:\n"
            "    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
            "    print(f'PEAK {int(hwm) / 1024:.0f}', file=sys.stderr)")
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, "--corpus", str(root), *args], capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    secs = time.perf_counter() - t
    if p.returncode:
        raise SystemExit(f"{args}: exit {p.returncode}: {p.stderr[-2000:]}")
    peak = float(next(ln.split()[1] for ln in p.stderr.splitlines()[::-1] if ln.startswith("PEAK")))
    return secs, peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25000,250000")
    ap.add_argument("--quick", action="store_true", help="one size of 25,000")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "curator-bench" / "corpus"))
    ap.add_argument("--keep", help="build the corpora under this directory and keep them")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command, medians reported (default 3)")
    args = ap.parse_args(argv)
    sizes = [25_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="curator-bench-"))
    for n in sizes:
        root = work / f"c{n}"
        if not (root / "curator.db").exists():
            t = time.perf_counter()
            build(root, n, args.cache)
            print(f"n{n}_build: {time.perf_counter() - t:.1f} s")
        for name, cmd in (("stats_baseline", ["stats", "--json"]),
                          ("cluster_auto", ["cluster", "--k", "auto", "--json"]),
                          ("coverage", ["coverage", "--json"]),
                          ("coverage_html", ["coverage", "--html", str(root / "report.html"), "--json"])):
            runs = sorted(run(root, *cmd) for _ in range(max(1, args.repeat)))
            print(f"n{n}_{name}: {float(np.median([r[0] for r in runs])):.1f} s")
            if len(runs) > 1:
                print(f"n{n}_{name}_range: {runs[0][0]:.1f}–{runs[-1][0]:.1f} s")
            print(f"n{n}_{name}_peak_rss: {max(r[1] for r in runs):.0f} MiB")
            sys.stdout.flush()
        print(f"n{n}_report_size: {(root / 'report.html').stat().st_size / 1e6:.1f} MB")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
