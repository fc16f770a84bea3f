"""The one polite HTTP client every source shares.

Politeness is a property of the *client*, not of each source: two sources on the same host must
not add up to twice the load, so the per-host slots live here.

Defaults follow Scrapy's recommended project settings (``DOWNLOAD_DELAY = 1``,
``CONCURRENT_REQUESTS_PER_DOMAIN = 1``, ``CONCURRENT_REQUESTS = 16``, ``ROBOTSTXT_OBEY = True``)
and its AutoThrottle rule (delay moves toward ``latency / target_concurrency``, never below the
configured delay, never above ``max_delay``), with shorter timeouts than Scrapy's 180 s because a
listicle that takes more than 30 s to answer is not worth waiting for. Unlike Scrapy the delay is
not randomised *below* the minimum: the minimum is a promise to the site.

Every outcome is a :class:`FetchResult`; nothing here raises for a bad URL or a bad server, so
one broken page never stops a crawl: the caller reports ``result.error`` per URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Iterable
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from ..net import RetryPolicy, describe_network_error, parse_retry_after  # noqa: F401 (re-exported)
from .cache import CacheEntry, HttpCache
from .hosts import Host, HostBusy
from .safety import CappedDecoder, host_of, is_internal, redirect_allowed, resolve
from .types import (DEFAULT_USER_AGENT, HTML_TYPES, LIST_TYPES, REDIRECT_STATUSES,  # noqa: F401 (re-exported)
                    FetchResult, FetchSettings, _from_cache, _origin, _type_ok, decode_body, normalise_url)


class _Raw:
    def __init__(self, status: int, headers: httpx.Headers, body: bytes = b"", truncated: bool = False,
                 latency: float = 0.0, skipped: str | None = None):
        self.status, self.headers, self.body, self.truncated = status, headers, body, truncated
        self.latency, self.skipped = latency, skipped


class Fetcher:
    """Async polite client. Use as ``async with Fetcher(settings, cache) as f: await f.fetch(url)``."""

    def __init__(self, settings: FetchSettings | None = None, cache: HttpCache | None = None,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings or FetchSettings()
        self.cache = cache
        s = self.settings
        self.policy = RetryPolicy(retries=s.retries, base=s.backoff, cap=s.max_backoff,
                                  max_retry_after=s.max_retry_after)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate",
                     "Accept": "text/html,application/xhtml+xml,text/csv,application/json;q=0.9,*/*;q=0.5"},
            timeout=httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout,
                                  pool=None),
            limits=httpx.Limits(max_connections=max(s.concurrency, 1), max_keepalive_connections=32),
            follow_redirects=False, transport=transport, trust_env=False,
        )
        self._global = asyncio.Semaphore(s.concurrency)
        self._hosts: dict[str, Host] = {}
        self.requests = 0  # network requests sent, robots.txt included

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def host(self, url: str) -> Host:
        key = _origin(url)
        if key not in self._hosts:
            self._hosts[key] = Host(self.settings)
        return self._hosts[key]

    # -- public -----------------------------------------------------------------------------
    async def fetch(self, url: str, *, accept: Iterable[str] = HTML_TYPES, refresh: bool = False,
                    start: str | None = None, hosts: Iterable[str] = ()) -> FetchResult:
        """GET ``url`` politely. Never raises for network or server trouble: see ``result.error``.

        ``start`` is the URL the user named (default ``url``): redirects stay on its site unless a
        host matches ``hosts``, and internal addresses are reachable only when it is internal.
        """
        result = FetchResult(url=url)
        try:
            url = normalise_url(url)
        except ValueError as exc:
            result.error = str(exc)
            return result
        result.url = url
        cached = self.cache.get(url) if self.cache else None
        if cached and not refresh and cached[0].age() < self.settings.cache_ttl and cached[0].status == 200:
            return _from_cache(result, *cached, outcome="cached")
        try:
            await self._fetch_network(result, url, tuple(accept), None if refresh else cached,
                                      start or url, tuple(hosts))
        except Exception as exc:  # a bug in a corner case must not stop the crawl: report it
            result.error = f"unexpected {type(exc).__name__}: {exc}"
            result.outcome = "error"
        return result

    async def allowed(self, url: str) -> tuple[bool, str | None]:
        """(may we fetch url, why not) from the host's robots.txt, fetched once per host."""
        if not self.settings.robots:
            return True, None
        host = self.host(url)
        async with host.robots_lock:
            if not host.robots_loaded:
                await self._load_robots(host, url)
        if host.robots_error:
            return False, host.robots_error
        if host.robots is not None and not host.robots.can_fetch(url, self.settings.robots_agent):
            return False, "disallowed by robots.txt"
        return True, None

    # -- internals --------------------------------------------------------------------------
    async def _internal_ok(self, result: FetchResult, url: str, start: str) -> bool:
        """Resolve ``url``'s host; refuse an internal address unless ``start`` is internal too."""
        try:
            addresses = await self._addresses(url)
            start_internal = any(is_internal(a) for a in await self._addresses(start))
        except (OSError, UnicodeError) as exc:
            result.error = f"network error: {describe_network_error(exc)} ({host_of(url) or url})"
            result.network = True
            return False
        bad = [a for a in addresses if is_internal(a)]
        if bad and not start_internal:
            result.error = (f"refused: {host_of(url)} resolves to internal address {bad[0]} "
                            f"(only a start URL on such an address may reach one)")
            result.outcome = "blocked"
            return False
        return True

    async def _addresses(self, url: str) -> list[str]:
        host = self.host(url)
        if host.addresses is None:
            parts = urlsplit(url)
            host.addresses = await resolve(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        return host.addresses

    async def _fetch_network(self, result: FetchResult, url: str, accept: tuple[str, ...],
                             cached: tuple[CacheEntry, bytes] | None, start: str = "",
                             hosts: tuple[str, ...] = ()) -> None:
        start = start or url
        chain = [url]
        current = url
        raw: _Raw | None = None
        for _ in range(self.settings.max_redirects + 1):
            if (current != url or start != url) and not redirect_allowed(start, current, hosts):
                what = "redirect" if current != url else "link"
                result.error = (f"refused {what} to another site: {current} (name its host in "
                                f"crawl.redirect_hosts, or match it with crawl.allow, to allow it)")
                result.outcome = "blocked"
                return
            if not await self._internal_ok(result, current, start):
                return
            ok, why = await self.allowed(current)
            if not ok:
                if self.host(current).robots_network:
                    result.error, result.network = why, True
                    return
                result.error, result.outcome = f"{why}: {current}" if current != url else why, "disallowed"
                return
            headers = {}
            if cached and current == url:
                entry = cached[0]
                if entry.etag:
                    headers["If-None-Match"] = entry.etag
                if entry.last_modified:
                    headers["If-Modified-Since"] = entry.last_modified
            raw = await self._with_retries(result, current, headers, accept)
            if raw is None:
                return
            if raw.status in REDIRECT_STATUSES:
                location = raw.headers.get("location")
                if not location:
                    result.error = f"HTTP {raw.status} without Location"
                    result.status = raw.status
                    return
                nxt = normalise_url(urljoin(current, location))
                if nxt in chain:
                    result.error = "redirect loop: " + " → ".join(chain + [nxt])
                    result.status = raw.status
                    return
                chain.append(nxt)
                current = nxt
                continue
            break
        else:
            result.error = f"more than {self.settings.max_redirects} redirects: " + " → ".join(chain)
            return
        assert raw is not None
        result.final_url = current
        result.status = raw.status
        if len(chain) > 1:
            result.notes.append(f"redirected to {current}")
        if raw.status == 304 and cached:
            entry, body = cached
            if self.cache:
                self.cache.touch(entry)
            _from_cache(result, entry, body, outcome="not-modified")
            result.status = 304
            return
        if raw.skipped:
            result.error, result.outcome = raw.skipped, "skipped"
            result.content_type = raw.headers.get("content-type", "")
            return
        if raw.status != 200:
            result.error = f"HTTP {raw.status}"
            return
        result.content_type = raw.headers.get("content-type", "")
        result.body, result.truncated = raw.body, raw.truncated
        result.etag = raw.headers.get("etag")
        result.last_modified = raw.headers.get("last-modified")
        result.fetched_at = time.time()
        result.outcome = "ok"
        if raw.truncated:
            result.notes.append(f"body cut at {self.settings.max_bytes} bytes")
        if self.cache:
            self.cache.put(CacheEntry(url=url, final_url=current, status=200, content_type=result.content_type,
                                      etag=result.etag, last_modified=result.last_modified,
                                      fetched_at=result.fetched_at, sha256=hashlib.sha256(raw.body).hexdigest(),
                                      truncated=raw.truncated), raw.body)

    async def _with_retries(self, result: FetchResult, url: str, headers: dict, accept: tuple[str, ...]) -> _Raw | None:
        s = self.settings
        host = self.host(url)
        last = ""
        for attempt in range(s.retries + 1):
            result.attempts += 1
            wait = None
            network = False
            try:
                raw = await self._once(host, url, headers, accept)
            except HostBusy as exc:
                result.error = str(exc)
                return None
            except (httpx.TimeoutException, asyncio.TimeoutError) as exc:
                last, network = f"timeout ({type(exc).__name__})", True
            except httpx.TransportError as exc:
                last, network = describe_network_error(exc), True
            except httpx.HTTPError as exc:
                result.error = f"HTTP error ({type(exc).__name__}: {exc})"
                return None
            else:
                if not self.policy.retryable(raw.status):
                    return raw
                result.status = raw.status
                last = f"HTTP {raw.status}"
                retry_after = parse_retry_after(raw.headers.get("retry-after"))
                if retry_after is not None:
                    if retry_after > s.max_retry_after:
                        result.error = f"HTTP {raw.status} with Retry-After {retry_after:.0f}s (> {s.max_retry_after:.0f}s)"
                        return None
                    wait = 0.0  # _once already holds the whole host until then; the retry queues behind it
                    result.notes.append(f"HTTP {raw.status}: waited Retry-After {retry_after:g}s")
                elif raw.status == 429:
                    wait = 0.0  # the host backoff set in _once is the wait
            if attempt == s.retries:
                break
            await asyncio.sleep(self.policy.wait(attempt, wait))
        result.network = network
        result.error = (f"network error: {last} after {result.attempts} attempts ({url})" if network
                        else f"{last} after {result.attempts} attempts")
        return None

    async def _once(self, host: Host, url: str, headers: dict, accept: tuple[str, ...]) -> _Raw:
        s = self.settings
        loop = asyncio.get_running_loop()
        async with host.sem:
            async with host.lock:
                # a loop, not one sleep: a 429 seen by a request in flight may push the time back
                while (wait := host.next_start - loop.time()) > 0:
                    if wait > s.max_retry_after:
                        raise HostBusy(f"host asked to pause {wait:.0f}s (> max_retry_after "
                                        f"{s.max_retry_after:.0f}s); not fetching {url}")
                    await asyncio.sleep(wait)
                host.next_start = loop.time() + host.delay
            # the time limit covers the request and its body, not the polite wait for the slot
            return await asyncio.wait_for(self._request(host, url, headers, accept), s.total_timeout)

    async def _request(self, host: Host, url: str, headers: dict, accept: tuple[str, ...]) -> _Raw:
        loop = asyncio.get_running_loop()
        async with self._global:
            self.requests += 1
            started = loop.time()
            async with self._client.stream("GET", url, headers=headers) as resp:
                latency = loop.time() - started
                host.throttle(self.settings, latency, resp.status_code)
                host.pause(self.policy, resp.status_code, resp.headers, loop.time())
                if resp.status_code != 200:
                    return _Raw(resp.status_code, resp.headers, latency=latency)
                ctype = resp.headers.get("content-type", "")
                if accept and ctype and not _type_ok(ctype, accept):
                    return _Raw(200, resp.headers, latency=latency,
                                skipped=f"content-type {ctype.split(';')[0]} not accepted")
                body, truncated = await self._read_capped(resp)
                if accept and not ctype and body[:5] == b"%PDF-":
                    return _Raw(200, resp.headers, latency=latency, skipped="a PDF (no content-type) not accepted")
                return _Raw(200, resp.headers, body, truncated, latency)

    async def _read_capped(self, resp: httpx.Response) -> tuple[bytes, bool]:
        """The body, at most ``max_bytes`` *decoded* bytes (a gzip bomb stops at the cap)."""
        cap = self.settings.max_bytes
        encoding = resp.headers.get("content-encoding", "")
        chunks: list[bytes] = []
        if not CappedDecoder.supports(encoding):  # br/zstd: httpx decodes; the cap still holds per chunk
            size = 0
            async for chunk in resp.aiter_bytes():
                chunks.append(chunk[: cap - size])
                size += len(chunks[-1])
                if size >= cap:
                    return b"".join(chunks), True
            return b"".join(chunks), False
        decoder = CappedDecoder(encoding, cap)
        async for raw in resp.aiter_raw():
            chunks.append(decoder.feed(raw))
            if decoder.truncated:
                break
        return b"".join(chunks), decoder.truncated

    async def _load_robots(self, host: Host, url: str) -> None:
        """RFC 9309: 4xx → no rules; 5xx or unreachable → assume everything is disallowed."""
        host.robots_loaded = True
        robots_url = _origin(url) + "/robots.txt"
        cached = self.cache.get(robots_url) if self.cache else None
        if cached and cached[0].age() < min(self.settings.cache_ttl, 24 * 3600):
            text = decode_body(cached[1], cached[0].content_type)
        else:
            result = FetchResult(url=robots_url)
            raw = await self._robots_get(result, robots_url)
            if raw is None and result.status and result.status >= 500:
                host.robots_error = f"robots.txt answered HTTP {result.status}; not fetching this host"
                return
            if raw is None:
                host.robots_network = result.network
                host.robots_error = (result.error if result.network else
                                     f"robots.txt unreachable ({result.error}); not fetching this host")
                return
            if raw.status >= 500:
                host.robots_error = f"robots.txt answered HTTP {raw.status}; not fetching this host"
                return
            if raw.status != 200:
                return  # 4xx: no rules
            text = decode_body(raw.body, raw.headers.get("content-type", ""))
            if self.cache:
                self.cache.put(CacheEntry(url=robots_url, final_url=robots_url, status=200,
                                          content_type=raw.headers.get("content-type", ""), etag=None,
                                          last_modified=None, fetched_at=time.time(),
                                          sha256=hashlib.sha256(raw.body).hexdigest()), raw.body)
        host.robots = Protego.parse(text)
        agent = self.settings.robots_agent
        crawl_delay = host.robots.crawl_delay(agent)
        rate = host.robots.request_rate(agent)
        if rate and rate.requests:
            crawl_delay = max(crawl_delay or 0, rate.seconds / rate.requests)
        if crawl_delay:
            host.min_delay = max(host.min_delay, float(min(crawl_delay, self.settings.max_delay)))
            host.delay = max(host.delay, host.min_delay)

    async def _robots_get(self, result: FetchResult, url: str) -> _Raw | None:
        chain = [url]
        for _ in range(5):  # RFC 9309: follow at least five redirects
            raw = await self._with_retries(result, url, {}, ())
            if raw is None or raw.status not in REDIRECT_STATUSES:
                return raw
            nxt = normalise_url(urljoin(url, raw.headers.get("location", "/")))
            if nxt in chain:
                return _Raw(404, raw.headers)
            chain.append(nxt)
            url = nxt
        return _Raw(404, httpx.Headers())


