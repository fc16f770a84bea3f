"""Generation throughput: N requests to the local fake server (latency L) at concurrency C.

Prints the wall time of `generate` (journal, validation and sample storage included) divided by
the bound N·L/C (target ≤ 1.15), and a plain sequential loop (one call after another, as the
competitor's first version did) as the baseline ratio; the sequential loop is measured
on ``--sequential-sample`` requests and extrapolated to N (stated in the output).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import subprocess  # noqa: E402

TESTS = Path(__file__).resolve().parents[2] / "tests"

from curator import Corpus  # noqa: E402
from curator.generate import GenerateOptions, PickedPrompt, generate  # noqa: E402
from curator.llm import LLMConfig, run_sync  # noqa: E402
from curator.text import content_id  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--sequential-sample", type=int, default=50)
    args = ap.parse_args()
    prompts = [f"Rewrite this as style number {i}." for i in range(args.n)]
    picks = [PickedPrompt(content_id(t), t, None) for t in prompts]
    # the server runs in its own process so its CPU time is not charged to the client under test
    server = subprocess.Popen([sys.executable, str(TESTS / "fake_llm_server.py"), str(args.latency)],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    try:
        wall, seq = run(args, prompts, picks, url)
    finally:
        server.kill()
    bound = args.n * args.latency / args.concurrency
    print(f"requests: {args.n} count")
    print(f"curator_wall: {wall:.2f} s")
    print(f"bound: {bound:.2f} s")
    print(f"wall_over_bound: {wall / bound:.3f} ratio")
    print(f"sequential_wall_extrapolated: {seq:.1f} s (from {args.sequential_sample} requests)")
    print(f"sequential_over_curator: {seq / wall:.1f} ratio")


def run(args, prompts, picks, url) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        with Corpus.init(Path(tmp) / "c") as corpus:
            cfg = LLMConfig(base_url=url, model="fake", concurrency=args.concurrency, timeout=30)
            t = time.perf_counter()
            res = run_sync(generate(corpus, picks, cfg, GenerateOptions(min_words=5, retries=0)))
            wall = time.perf_counter() - t
            assert res.samples_added == args.n, res.stage1
        import httpx

        t = time.perf_counter()
        with httpx.Client(base_url=url + "/") as client:
            for p in prompts[: args.sequential_sample]:
                client.post("chat/completions", json={"model": "fake", "messages": [{"role": "user", "content": p}]})
        seq = (time.perf_counter() - t) / args.sequential_sample * args.n
    return wall, seq


if __name__ == "__main__":
    main()
