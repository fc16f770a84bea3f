"""Generation throughput: N requests to the local fake server (latency L) at concurrency C.

Real prompts (the shared procedural prompts, numbered when N exceeds them). Prints ``name: value
unit`` lines: the wall time of ``generate`` (journal, validation and sample storage included)
over the bound N·L/C (target ≤ 1.15); the same calls from a bare aiohttp loop (no journal: the
floor this machine and server allow) and from a bare httpx loop (the HTTP stack of the earlier
client); a plain sequential loop as the baseline ratio (measured on ``--sequential-sample``
requests, extrapolated). The fake server runs in its own process; its CPU share is printed to
show it is not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
SHARED = Path(os.environ.get("CURATOR_SHARED_DATA", REPO.parent / "shared" / "data"))

from curator import Corpus  # noqa: E402
from curator.generate import PickedPrompt, generate  # noqa: E402
from curator.text import content_id  # noqa: E402


def real_prompts(n: int) -> list[str]:
    base = json.loads((SHARED / "prompts" / "procedural_prompts.json").read_text())
    base = list(dict.fromkeys(base))
    return [base[i % len(base)] + (f" (variant {i // len(base)})" if i >= len(base) else "") for i in range(n)]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def body(text: str) -> bytes:
    return json.dumps({"model": "fake", "messages": [{"role": "user", "content": f'{text} "rewritten_text"'}]}).encode()


async def bare_aiohttp(url: str, prompts: list[str], concurrency: int) -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        sem = asyncio.Semaphore(concurrency)

        async def one(p: str) -> None:
            async with sem, session.post(url + "/chat/completions", data=body(p),
                                         headers={"Content-Type": "application/json"}) as r:
                json.loads(await r.read())

        await asyncio.gather(*(one(p) for p in prompts))


async def bare_httpx(url: str, prompts: list[str], concurrency: int) -> None:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url + "/", limits=limits, timeout=60) as client:
        sem = asyncio.Semaphore(concurrency)

        async def one(p: str) -> None:
            async with sem:
                (await client.post("chat/completions", content=body(p))).json()

        await asyncio.gather(*(one(p) for p in prompts))


def timed(server_pid: int, fn) -> tuple[float, float, float]:
    """(wall, client CPU, server CPU) seconds of fn()."""
    s0, c0, t = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t, time.process_time() - c0, cpu_seconds(server_pid) - s0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", "--sizes", dest="n", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--sequential-sample", type=int, default=30)
    ap.add_argument("--httpx-sample", type=int, default=1000, help="requests of the bare httpx loop (0: skip)")
    ap.add_argument("--quick", action="store_true", help="500 requests, small comparison samples")
    args = ap.parse_args()
    if args.quick:
        args.n, args.sequential_sample, args.httpx_sample = 500, 10, 300
    prompts = real_prompts(args.n)
    server = subprocess.Popen([sys.executable, str(TESTS / "fake_llm_server.py"), str(args.latency)],
                              stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    bound = args.n * args.latency / args.concurrency
    try:
        with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
            picks = [PickedPrompt(content_id(t), t, None) for t in prompts]
            result = {}

            def run_generate() -> None:
                result["s"] = generate(corpus, picks=picks, base_url=url, model="fake",
                                       concurrency=args.concurrency, timeout=30, min_words=5, retries=0)

            wall, client_cpu, server_cpu = timed(server.pid, run_generate)
            s = result["s"]
            assert s.samples_added == args.n and corpus.store.scalar("SELECT COUNT(*) FROM llm_calls") == args.n, \
                s.as_dict()
        raw_wall, raw_cpu, _ = timed(server.pid, lambda: asyncio.run(bare_aiohttp(url, prompts, args.concurrency)))
        hx = None
        if args.httpx_sample:
            k = min(args.httpx_sample, args.n)
            hx_wall, hx_cpu, _ = timed(server.pid, lambda: asyncio.run(bare_httpx(url, prompts[:k], args.concurrency)))
            hx = (hx_wall, hx_cpu, k)
        import httpx

        t = time.perf_counter()
        with httpx.Client(base_url=url + "/") as client:
            for p in prompts[: args.sequential_sample]:
                client.post("chat/completions", content=body(p))
        seq = (time.perf_counter() - t) / args.sequential_sample * args.n
    finally:
        server.kill()
    print(f"requests: {args.n} count")
    print(f"latency: {args.latency * 1000:.0f} ms")
    print(f"concurrency: {args.concurrency} count")
    print(f"bound: {bound:.2f} s")
    print(f"curator_wall: {wall:.2f} s")
    print(f"curator_client_cpu: {client_cpu:.2f} s")
    print(f"wall_over_bound: {wall / bound:.3f} ratio (target <= 1.15)")
    print(f"server_cpu_share: {server_cpu / wall:.2f} of one core (the fake server is not the bottleneck below ~0.8)")
    print(f"bare_aiohttp_wall: {raw_wall:.2f} s")
    print(f"bare_aiohttp_over_bound: {raw_wall / bound:.3f} ratio (the floor: no journal, no validation)")
    print(f"curator_over_bare_aiohttp: {wall / raw_wall:.3f} ratio")
    if hx:
        hx_bound = hx[2] * args.latency / args.concurrency
        print(f"bare_httpx_over_bound: {hx[0] / hx_bound:.3f} ratio ({hx[2]} requests, {hx[1]:.2f} s client CPU)")
    print(f"sequential_wall_extrapolated: {seq:.1f} s (from {args.sequential_sample} requests)")
    print(f"sequential_over_curator: {seq / wall:.1f} ratio")


if __name__ == "__main__":
    main()
