"""Safe fetching against a real local server: where redirects may go, what a 429 does to the whole
host (measured on the server side), network failures named as such, decompressed-size and time caps."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib

import pytest

from curator.scrape import safety
from curator.scrape.fetch import FetchSettings, Fetcher
from sites.server import LocalSite, page, sequence

FAST = dict(delay=0.0, retries=1, backoff=0.05, connect_timeout=1.0, read_timeout=0.5, total_timeout=3.0,
            max_bytes=1 << 20, autothrottle=False)


def run(coro):
    return asyncio.run(coro)


async def fetch(url, **kw):
    opts = {k: kw.pop(k) for k in ("start", "hosts") if k in kw}
    async with Fetcher(FetchSettings(**{**FAST, **kw})) as f:
        return await f.fetch(url, **opts)


@pytest.fixture
def two():
    with LocalSite(hosts=("127.0.0.1", "127.0.0.2")) as s:
        yield s


# -- the whole host waits -------------------------------------------------------------------
def test_retry_after_pauses_the_whole_host_measured_on_the_server(two):
    h = "127.0.0.1"
    two.route("/busy", sequence((429, {"Retry-After": "2"}, "slow down"), (200, {}, page("linkedin_pulse.html"))), h)
    for i in range(8):
        two.route(f"/p{i}", page("aihabit_editing.html"), h)
    two.route("/other", page("aihabit_editing.html"), "127.0.0.2")

    async def go():
        async with Fetcher(FetchSettings(**{**FAST, "delay": 0.05, "per_host_concurrency": 2, "retries": 2})) as f:
            first = asyncio.create_task(f.fetch(two.url("/busy", h)))
            await asyncio.sleep(0.15)  # the 429 has arrived; now 8 more pages of that host and one elsewhere
            rest = await asyncio.gather(*(f.fetch(two.url(f"/p{i}", h)) for i in range(8)),
                                        f.fetch(two.url("/other", "127.0.0.2")))
            return await first, rest

    busy, rest = run(go())
    assert busy.ok and all(r.ok for r in rest)
    first_429 = two.requests(h, "/busy")[0]
    pause_from, pause_to = first_429["end"], first_429["end"] + 2.0
    inside = [e["path"] for e in two.requests(h) if pause_from < e["start"] < pause_to - 0.05]
    assert inside == []  # not one request to that host inside the 2 s it asked for
    assert two.requests(h, "/busy")[1]["start"] >= pause_to - 0.05
    other = two.requests("127.0.0.2", "/other")[0]
    assert other["start"] < pause_to - 1.0  # another host is not held up


def test_repeated_429_without_retry_after_backs_the_host_off_exponentially(two):
    h = "127.0.0.1"
    two.route("/rl", sequence(*[(429, {}, "no")] * 3, (200, {}, "<p>ok</p>")), h)
    r = run(fetch(two.url("/rl", h), retries=4, backoff=0.2))
    assert r.ok and r.attempts == 4
    gaps = two.gaps(h)[1:]  # robots.txt first
    # attempt n waits base·2^n·U(0.5, 1.5): each gap at least half its nominal value, and growing overall
    for n, gap in enumerate(gaps):
        assert gap >= 0.5 * 0.2 * 2 ** n - 0.02, gaps
    assert gaps[-1] > gaps[0]


def test_a_longer_retry_after_fails_the_hosts_other_pages_fast(two):
    h = "127.0.0.1"
    two.route("/down", (503, {"Retry-After": "3600"}, "maintenance"), h)
    two.route("/p", page("aihabit_editing.html"), h)

    async def go():
        async with Fetcher(FetchSettings(**FAST)) as f:
            a = await f.fetch(two.url("/down", h))
            b = await f.fetch(two.url("/p", h))
            return a, b

    started = time.monotonic()
    down, p = run(go())
    assert "Retry-After 3600" in down.error and "host asked to pause" in p.error
    assert time.monotonic() - started < 2 and two.requests(h, "/p") == []


# -- where redirects may go -----------------------------------------------------------------
def test_redirect_to_another_site_is_refused_unless_the_source_names_the_host(two):
    two.route("/go", (302, {"Location": two.url("/landing", "127.0.0.2")}, ""), "127.0.0.1")
    two.route("/landing", page("linkedin_pulse.html"), "127.0.0.2")
    refused = run(fetch(two.url("/go", "127.0.0.1")))
    assert refused.outcome == "blocked" and "another site" in refused.error and "redirect_hosts" in refused.error
    assert two.requests("127.0.0.2") == []
    allowed = run(fetch(two.url("/go", "127.0.0.1"), hosts=("127.0.0.2",)))
    assert allowed.ok and allowed.final_url == two.url("/landing", "127.0.0.2")


def test_redirect_from_a_public_start_url_never_reaches_internal_addresses(two, monkeypatch):
    """127.0.0.2 plays a public site; the page there redirects to the metadata address, to
    localhost, and to a host name that resolves to a private address: all refused, no request."""
    real = safety.is_internal
    monkeypatch.setattr("curator.scrape.fetch.is_internal", lambda a: a != "127.0.0.2" and real(a))
    pub = "127.0.0.2"
    two.route("/meta", (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, ""), pub)
    two.route("/local", (301, {"Location": two.url("/admin", "127.0.0.1")}, ""), pub)
    two.route("/admin", "<p>Rewrite the admin secrets in a friendly tone.</p>", "127.0.0.1")
    for path, host in (("/meta", "169.254.169.254"), ("/local", "127.0.0.1")):
        # the redirect targets another host: allow it explicitly so only the address rule can refuse
        started = time.monotonic()
        r = run(fetch(two.url(path, pub), hosts=("*",)))
        assert r.outcome == "blocked" and f"internal address {host}" in r.error, r.error
        assert time.monotonic() - started < 1.5
    assert two.requests("127.0.0.1") == []
    # a start URL on loopback may be fetched (that is what the user asked for), and so may its redirects
    two.route("/a", (302, {"Location": "/admin"}, ""), "127.0.0.1")
    assert run(fetch(two.url("/a", "127.0.0.1"))).ok


def test_dns_failure_is_a_network_error_not_disallowed(monkeypatch):
    async def no_dns(self, host, *a, **kw):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", no_dns)
    r = run(fetch("http://prompts.example.invalid/list"))
    assert not r.ok and r.network and r.outcome == "error"
    assert r.error.startswith("network error: DNS lookup failed") and "prompts.example.invalid" in r.error


def test_address_rules():
    for a in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "::1", "fe80::1",
              "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"):
        assert safety.is_internal(a), a
    for a in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert not safety.is_internal(a), a
    assert safety.site_of("blog.example.co.uk") == "example.co.uk"
    assert safety.redirect_allowed("https://example.com/a", "https://www.example.com/b")
    assert safety.redirect_allowed("https://www.example.com/a", "https://cdn.example.com/b")
    assert not safety.redirect_allowed("https://example.com/a", "https://example.org/b")
    assert safety.redirect_allowed("https://example.com/a", "https://x.medium.com/b", ("*.medium.com",))


# -- size and time caps ---------------------------------------------------------------------
def test_gzip_bomb_stops_at_the_decompressed_cap(two):
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = bomb.compress(b"<html><body><ol><li>Rewrite this text.</li></ol>")
    zeros = b"\0" * (1 << 20)
    for _ in range(200):  # 200 MiB once decompressed, ~200 KiB on the wire
        body += bomb.compress(zeros)
    body += bomb.flush()
    assert len(body) < 1 << 20
    two.route("/bomb", (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, body), "127.0.0.1")
    started = time.monotonic()
    r = run(fetch(two.url("/bomb", "127.0.0.1"), max_bytes=1 << 20))
    assert r.ok and r.truncated and len(r.body) == 1 << 20 and r.body.startswith(b"<html>")
    assert time.monotonic() - started < 3
    # an ordinary gzip page arrives whole and decoded
    html = page("linkedin_pulse.html")
    two.route("/gz", (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, gzip.compress(html)),
              "127.0.0.1")
    ok = run(fetch(two.url("/gz", "127.0.0.1")))
    assert ok.ok and not ok.truncated and ok.body == html


def test_a_server_that_trickles_bytes_hits_the_total_time_limit(two):
    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b"<p>Rewrite</p>")
                h.wfile.flush()
                time.sleep(0.1)  # always inside the read timeout, never done
        except OSError:
            pass

    two.route("/slow", trickle, "127.0.0.1")
    started = time.monotonic()
    r = run(fetch(two.url("/slow", "127.0.0.1"), retries=0, read_timeout=0.5, total_timeout=1.0))
    took = time.monotonic() - started
    assert not r.ok and "timeout" in r.error and r.network
    assert 0.9 < took < 2.0
