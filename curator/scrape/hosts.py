"""One host's politeness state, shared by every source that fetches from it: a concurrency slot,
the delay between request starts (AutoThrottle), robots.txt rules, and the pauses a 429/503 asks for.

Split from :mod:`curator.scrape.fetch`, which does the requests and consults this."""

from __future__ import annotations

import asyncio

import httpx
from protego import Protego

from ..net import RetryPolicy, parse_retry_after
from .types import FetchSettings


class Host:
    """One host's slot: a semaphore for concurrency and a clock for the delay between starts."""

    def __init__(self, settings: FetchSettings):
        self.sem = asyncio.Semaphore(settings.per_host_concurrency)
        self.lock = asyncio.Lock()
        self.min_delay = settings.delay
        self.delay = settings.delay
        self.next_start = 0.0
        self.robots: Protego | None = None
        self.robots_error: str | None = None
        self.robots_lock = asyncio.Lock()
        self.robots_loaded = False
        self.robots_network = False  # robots.txt failed for a network reason: not a "disallow"
        self.strikes = 0             # 429s in a row without Retry-After: the host backoff exponent
        self.addresses: list[str] | None = None

    def hold_until(self, when: float) -> None:
        """No request to this host starts before ``when`` (loop time), whoever asks."""
        self.next_start = max(self.next_start, when)

    def pause(self, policy: RetryPolicy, status: int, headers: httpx.Headers, now: float) -> None:
        """429/503 pause the *whole host*, set before the slot is released so nothing slips in:
        for the Retry-After when given, else (429 again and again) an exponential host backoff."""
        if status == 200:
            self.strikes = 0
            return
        if status not in (429, 503):
            return
        retry_after = parse_retry_after(headers.get("retry-after"))
        if retry_after is not None:
            self.hold_until(now + retry_after)
        elif status == 429:
            self.hold_until(now + policy.backoff(self.strikes))
            self.strikes += 1

    def throttle(self, s: FetchSettings, latency: float, status: int) -> None:
        """Scrapy's AutoThrottle rule, applied to this host (``s``: the fetch settings)."""
        if not s.autothrottle:
            return
        target = latency / max(s.target_concurrency, 1e-6)
        new = max(target, (self.delay + target) / 2.0)
        new = min(max(self.min_delay, new), s.max_delay)
        if status != 200 and new <= self.delay:
            return  # errors are fast: they must not speed the crawl up
        self.delay = new


class HostBusy(Exception):
    """The host asked for a longer pause than ``max_retry_after``: report, do not wait."""
