"""Benchmark: crawl throughput under the default politeness, against its bound and against Scrapy.

A local site of ``--pages`` article pages spread over ``--hosts`` host names (127.0.0.1,
127.0.0.2, … — loopback, nothing leaves the machine) is served by a separate process with
``--latency`` seconds added to every response. Each host has a robots.txt and an index page
linking to its articles.

curator crawls it with its default politeness (``FetchSettings()``: 1 s between request starts
per host, one request in flight per host, AutoThrottle on), extracting and storing every prompt
in a throw-away corpus. The *bound* those settings allow is: per host, requests start at least
``max(delay, latency)`` apart, so a host with n requests needs at least (n-1)·max(delay, latency)
+ latency seconds; hosts run in parallel. ``efficiency = bound / measured`` (target ≥ 0.9).

The peer is Scrapy with equivalent settings (DOWNLOAD_DELAY, no randomisation,
CONCURRENT_REQUESTS_PER_DOMAIN=1, ROBOTSTXT_OBEY, AutoThrottle), crawling the same site in the
same run. Scrapy is not a curator dependency: pass ``--install-scrapy`` to pip-install it into the
current environment, otherwise the peer is skipped with a message.

    .venv/bin/python scripts/bench/scrape.py                     # 500 pages, 10 hosts, ~2 minutes
    .venv/bin/python scripts/bench/scrape.py --pages 60 --delay 0.2   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))


def article(host_i: int, i: int) -> str:
    items = "".join(f"<li>Rewrite this text in tone number {host_i}-{i}-{k} for a {k}-year-old reader.</li>"
                    for k in range(5))
    return (f"<html><head><title>Prompts {host_i}-{i}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Prompts {host_i}-{i}</h1><p>Some prompts for rewriting text.</p>"
            f"<h2>Tone</h2><ol>{items}</ol></article><footer>© bench</footer></body></html>")


def serve(hosts: list[str], pages: int, latency: float) -> None:
    """Run the site (in this process) and print {host: port} as one JSON line."""
    from sites.server import LocalSite

    site = LocalSite(tuple(hosts), latency=latency).start()
    per_host = {h: [i for i in range(pages) if i % len(hosts) == n] for n, h in enumerate(hosts)}
    for n, h in enumerate(hosts):
        links = "".join(f"<li><a class='article' href='/a/{i}'>Article {i}</a></li>" for i in per_host[h])
        site.route("/", f"<html><body><h1>Index</h1><ul>{links}</ul></body></html>", host=h)
        for i in per_host[h]:
            site.route(f"/a/{i}", article(n, i), host=h)
    print(json.dumps({h: site.servers[h].server_address[1] for h in hosts}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    site.stop()


def bound_seconds(requests_per_host: list[int], delay: float, latency: float) -> float:
    gap = max(delay, latency)
    return max((n - 1) * gap + latency for n in requests_per_host)


def run_curator(ports: dict[str, int], delay: float) -> tuple[float, int, int]:
    from curator.scrape.fetch import FetchSettings
    from curator.scrape.site import scrape
    from curator.scrape.sources import Source
    from curator.workspace import Corpus

    sources = [Source(name=f"bench-{h}", kind="site", path=Path("bench.toml"), start_urls=[f"http://{h}:{p}/"],
                      follow="a.article", max_pages=100_000, max_depth=1) for h, p in ports.items()]
    settings = FetchSettings(delay=delay)
    import trafilatura  # noqa: F401  - import time is not crawl time (Scrapy's is not counted either)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus.init(Path(tmp) / "corpus")
        started = time.perf_counter()
        summary = scrape(corpus, sources, settings=settings)
        took = time.perf_counter() - started
        prompts = corpus.store.scalar("SELECT COUNT(*) FROM prompts")
        corpus.close()
    ok = sum(1 for p in summary.pages if p.outcome == "new")
    return took, ok, prompts


SCRAPY_SPIDER = textwrap.dedent("""
    import json, sys, time
    import scrapy
    from scrapy.crawler import CrawlerProcess

    ports, delay = json.loads(sys.argv[1]), float(sys.argv[2])
    count = {"pages": 0, "prompts": 0}

    class Bench(scrapy.Spider):
        name = "bench"
        start_urls = [f"http://{h}:{p}/" for h, p in ports.items()]

        def parse(self, response):
            count["pages"] += 1
            for li in response.css("article li::text").getall():
                count["prompts"] += 1
                yield {"prompt": li}
            for href in response.css("a.article::attr(href)").getall():
                yield response.follow(href, self.parse)

    process = CrawlerProcess(settings={
        "DOWNLOAD_DELAY": delay, "RANDOMIZE_DOWNLOAD_DELAY": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS": 16, "ROBOTSTXT_OBEY": True, "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": delay, "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, "LOG_LEVEL": "ERROR",
        "USER_AGENT": "curator-bench-scrapy", "TELNETCONSOLE_ENABLED": False, "HTTPCACHE_ENABLED": False,
    })
    process.crawl(Bench)
    started = time.perf_counter()
    process.start()
    print(json.dumps({"seconds": time.perf_counter() - started, **count}))
""")


def run_scrapy(ports: dict[str, int], delay: float, install: bool) -> dict | None:
    try:
        import scrapy  # noqa: F401
    except ImportError:
        if not install:
            return None
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "scrapy"], check=True)
    # a real file: Scrapy inspects the callbacks' source, which `python -c` does not have
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench_spider.py"
        script.write_text(SCRAPY_SPIDER, encoding="utf-8")
        out = subprocess.run([sys.executable, str(script), json.dumps(ports), str(delay)],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--delay", type=float, default=None, help="Per-host delay (default: curator's default)")
    ap.add_argument("--install-scrapy", action="store_true", help="pip install scrapy for the peer run")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    hosts = [f"127.0.0.{i + 1}" for i in range(args.hosts)]
    if args.serve:
        serve(hosts, args.pages, args.latency)
        return
    from curator.scrape.fetch import FetchSettings

    delay = FetchSettings().delay if args.delay is None else args.delay
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--pages", str(args.pages), "--hosts",
                               str(args.hosts), "--latency", str(args.latency)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(server.stdout.readline())
        per_host = [1 + 1 + sum(1 for i in range(args.pages) if i % args.hosts == n) for n in range(args.hosts)]
        bound = bound_seconds(per_host, delay, args.latency)
        print(f"site: {args.pages} pages on {args.hosts} hosts, latency {args.latency * 1000:.0f} ms, "
              f"delay {delay} s, one request per host in flight", file=sys.stderr)
        took, ok, prompts = run_curator(ports, delay)
        pages_total = ok
        print(f"curator_pages: {pages_total} pages")
        print(f"curator_prompts: {prompts} prompts")
        print(f"curator_seconds: {took:.2f} s")
        print(f"curator_pages_per_s: {pages_total / took:.3f} pages/s")
        print(f"bound_pages_per_s: {pages_total / bound:.3f} pages/s")
        print(f"curator_efficiency: {bound / took:.3f} ratio")
        peer = run_scrapy(ports, delay, args.install_scrapy)
        if peer is None:
            print("scrapy: skipped (not installed; pass --install-scrapy to pip-install it for this benchmark)",
                  file=sys.stderr)
        else:
            print(f"scrapy_pages: {peer['pages']} pages")
            print(f"scrapy_seconds: {peer['seconds']:.2f} s")
            print(f"scrapy_pages_per_s: {peer['pages'] / peer['seconds']:.3f} pages/s")
            print(f"curator_vs_scrapy: {(pages_total / took) / (peer['pages'] / peer['seconds']):.3f} ratio")
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
