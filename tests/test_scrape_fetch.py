"""The polite fetcher against a real local server: every failure mode is reported, never raised."""

from __future__ import annotations

import asyncio
import time

import pytest

from curator.scrape.cache import HttpCache
from curator.scrape.fetch import FetchSettings, Fetcher, parse_retry_after
from sites.server import LocalSite, huge, page, send, sequence, stall

FAST = dict(delay=0.0, retries=1, backoff=0.05, connect_timeout=1.0, read_timeout=0.5, total_timeout=3.0,
            max_bytes=1 << 20, autothrottle=False)


def run(coro):
    return asyncio.run(coro)


async def fetch(url, cache=None, **kw):
    async with Fetcher(FetchSettings(**{**FAST, **kw}), cache) as f:
        return await f.fetch(url)


@pytest.fixture
def site():
    with LocalSite() as s:
        yield s


def test_ok_page_and_user_agent(site):
    site.route("/a", page("linkedin_pulse.html"))
    r = run(fetch(site.url("/a"), user_agent="curator-test/1.0 (+mailto:me@example.org)"))
    assert r.ok and r.status == 200 and r.outcome == "ok"
    assert "Cut the fluff" in r.text
    seen = site.requests(path="/a")[0]["headers"]
    assert seen["User-Agent"] == "curator-test/1.0 (+mailto:me@example.org)"


def test_robots_disallow_is_reported_and_never_fetched(site):
    site.route("/robots.txt", (200, {"Content-Type": "text/plain"},
                               "User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"))
    site.route("/private/page", page("linkedin_pulse.html"))
    site.route("/public", page("linkedin_pulse.html"))

    async def both():
        async with Fetcher(FetchSettings(**FAST)) as f:
            return await f.fetch(site.url("/private/page")), await f.fetch(site.url("/public"))

    private, public = run(both())
    assert private.outcome == "disallowed" and "robots.txt" in private.error and not private.ok
    assert public.ok  # the otherbot group does not apply to curator
    assert site.requests(path="/private/page") == []
    assert len(site.requests(path="/robots.txt")) == 1  # cached per host


def test_robots_server_error_means_disallow_all(site):
    site.route("/robots.txt", (503, {}, "down"))
    site.route("/a", page("linkedin_pulse.html"))
    r = run(fetch(site.url("/a"), retries=0))
    assert r.outcome == "disallowed" and "robots.txt answered HTTP 503" in r.error
    assert site.requests(path="/a") == []


def test_429_retry_after_is_honoured(site):
    site.route("/busy", sequence((429, {"Retry-After": "1", "Content-Type": "text/html"}, "slow down"),
                                 (200, {"Content-Type": "text/html"}, page("linkedin_pulse.html"))))
    r = run(fetch(site.url("/busy")))
    assert r.ok and r.attempts == 2
    first, second = site.requests(path="/busy")
    assert second["start"] - first["start"] >= 0.95
    assert any("Retry-After" in n for n in r.notes)


def test_retry_after_too_long_is_reported_not_waited(site):
    site.route("/busy", (503, {"Retry-After": "3600"}, "maintenance"))
    started = time.monotonic()
    r = run(fetch(site.url("/busy")))
    assert not r.ok and "Retry-After 3600" in r.error and time.monotonic() - started < 2


def test_500_then_200(site):
    site.route("/flaky", sequence((500, {}, "oops"), (200, {"Content-Type": "text/html"}, "<p>fine</p>")))
    r = run(fetch(site.url("/flaky")))
    assert r.ok and r.attempts == 2 and r.text == "<p>fine</p>"


def test_500_forever_gives_up_after_retries(site):
    site.route("/broken", (500, {}, "oops"))
    r = run(fetch(site.url("/broken"), retries=2))
    assert not r.ok and r.error == "HTTP 500 after 3 attempts"
    assert len(site.requests(path="/broken")) == 3


def test_stalled_server_times_out(site):
    site.route("/hang", stall(3.0))
    started = time.monotonic()
    r = run(fetch(site.url("/hang"), retries=0, read_timeout=0.3))
    assert not r.ok and "timeout" in r.error
    assert time.monotonic() - started < 2.0


def test_redirect_loop_and_redirect_limit(site):
    site.route("/a", (302, {"Location": "/b"}, ""))
    site.route("/b", (301, {"Location": "/a"}, ""))
    for i in range(10):
        site.route(f"/hop{i}", (302, {"Location": f"/hop{i + 1}"}, ""))
    loop = run(fetch(site.url("/a")))
    assert not loop.ok and loop.error.startswith("redirect loop")
    chain = run(fetch(site.url("/hop0"), max_redirects=3))
    assert not chain.ok and chain.error.startswith("more than 3 redirects")
    assert len(site.requests(path="/hop4")) == 0


def test_redirect_is_followed(site):
    site.route("/old", (301, {"Location": "/new"}, ""))
    site.route("/new", page("linkedin_pulse.html"))
    r = run(fetch(site.url("/old")))
    assert r.ok and r.final_url == site.url("/new") and "redirected" in r.notes[0]


def test_50mb_body_is_cut_at_the_limit(site):
    big = huge(50 * 1024 * 1024)
    site.route("/big", big)
    started = time.monotonic()
    r = run(fetch(site.url("/big"), max_bytes=1 << 20))
    assert r.ok and r.truncated and len(r.body) == 1 << 20
    assert any("cut" in n for n in r.notes)
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    assert big.sent < 50 * 1024 * 1024  # the client stopped reading; the server could not finish


def test_pdf_is_skipped_by_content_type(site):
    site.route("/doc.pdf", (200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 binary"))
    site.route("/sneaky", (200, {}, b"%PDF-1.4 no content type"))
    r = run(fetch(site.url("/doc.pdf")))
    assert r.outcome == "skipped" and "application/pdf" in r.error and r.body == b""
    r2 = run(fetch(site.url("/sneaky")))
    assert r2.outcome == "skipped" and "PDF" in r2.error


def test_not_http_url_is_an_error_not_an_exception():
    r = run(fetch("ftp://127.0.0.1/file"))
    assert not r.ok and "not an http(s) URL" in r.error


def test_connection_refused_is_reported():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = run(fetch(f"http://127.0.0.1:{port}/x", retries=1, backoff=0.01))
    # the robots.txt request is the first to fail: a network failure, never "disallowed"
    assert not r.ok and r.network and r.outcome == "error" and "disallowed" not in r.error
    assert r.error.startswith("network error: connection refused") and "robots.txt" in r.error


def test_cache_and_conditional_requests(site, tmp_path):
    body = page("linkedin_pulse.html")

    def etagged(h):
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("ETag", '"v1"')
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        send(h, 200, {"Content-Type": "text/html", "ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
             body)

    site.route("/p", etagged)
    cache = HttpCache(tmp_path / "http")
    first = run(fetch(site.url("/p"), cache=cache))
    assert first.outcome == "ok" and first.etag == '"v1"'
    fresh = run(fetch(site.url("/p"), cache=cache))  # within cache_ttl: no request at all
    assert fresh.outcome == "cached" and fresh.body == body
    assert len(site.requests(path="/p")) == 1
    revalidated = run(fetch(site.url("/p"), cache=cache, cache_ttl=0))
    assert revalidated.outcome == "not-modified" and revalidated.body == body and revalidated.sha256 == first.sha256
    last = site.requests(path="/p")[-1]["headers"]
    assert last["If-None-Match"] == '"v1"' and last["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    from email.utils import formatdate

    assert 8 <= parse_retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10


HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def test_per_host_delay_never_undercut_measured_on_the_server():
    with LocalSite(HOSTS) as site:
        for i in range(6):
            site.route(f"/p{i}", f"<p>page {i}</p>")
        urls = [site.url(f"/p{i}", h) for h in HOSTS for i in range(6)]

        async def crawl():
            async with Fetcher(FetchSettings(**{**FAST, "delay": 0.2, "per_host_concurrency": 1})) as f:
                return await asyncio.gather(*(f.fetch(u) for u in urls))

        started = time.monotonic()
        results = run(crawl())
        took = time.monotonic() - started
        assert all(r.ok for r in results)
        for h in HOSTS:
            gaps = site.gaps(h)
            assert len(gaps) == 6  # robots.txt + 6 pages
            # arrival times carry the server's accept jitter (a few ms, more on a loaded machine)
            # the first gap also holds the first connection's set-up on the server (thread start, accept)
            assert gaps[0] >= 0.2 - 0.08 and min(gaps[1:]) >= 0.2 - 0.03, (h, gaps)
            assert site.max_inflight[h] == 1
        # hosts run in parallel: 7 requests per host at 0.2 s apart; one host after another needs > 4 s
        assert took < 0.2 * 20


def test_per_host_and_global_concurrency_limits_measured_on_the_server():
    with LocalSite(HOSTS, latency=0.15) as site:
        for i in range(8):
            site.route(f"/p{i}", f"<p>page {i}</p>")
        urls = [site.url(f"/p{i}", h) for h in HOSTS for i in range(8)]

        async def crawl():
            async with Fetcher(FetchSettings(**{**FAST, "per_host_concurrency": 2, "concurrency": 4})) as f:
                return await asyncio.gather(*(f.fetch(u) for u in urls))

        assert all(r.ok for r in run(crawl()))
        for h in HOSTS:
            assert site.max_inflight[h] == 2  # reached, never exceeded
        events = sorted([(e["start"], 1) for e in site.log] + [(e["end"], -1) for e in site.log])
        level = peak = 0
        for _, d in events:
            level += d
            peak = max(peak, level)
        assert peak <= 4


def test_robots_crawl_delay_raises_the_host_delay(site):
    site.route("/robots.txt", (200, {"Content-Type": "text/plain"}, "User-agent: *\nCrawl-delay: 0.3\n"))
    for i in range(3):
        site.route(f"/p{i}", "<p>x</p>")

    async def crawl():
        async with Fetcher(FetchSettings(**FAST)) as f:
            return [await f.fetch(site.url(f"/p{i}")) for i in range(3)]

    assert all(r.ok for r in run(crawl()))
    assert min(site.gaps("127.0.0.1")[1:]) >= 0.3 - 0.03
