"""One retry/backoff policy and one way of naming network failures, for the scraper's fetcher and
the LLM client alike.

Why shared: a user who learns that curator waits for ``Retry-After`` and backs off
exponentially on 429/5xx should not find that the two clients do it differently, and a network
failure (DNS, refused connection, timeout, TLS) must read the same wherever it happens, and
never as something else (a robots.txt that cannot be fetched is not "disallowed").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import random
import ssl
import time
from dataclasses import dataclass
from typing import Any, Callable, Coroutine, TypeVar

import httpx

#: statuses worth another attempt: the server or a proxy says "later", not "no"
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 522, 524})
#: statuses that mean the credentials are wrong: retrying cannot help and wastes the budget
AUTH_STATUSES = frozenset({401, 403})

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra attempts; attempt ``n`` waits ``base · 2**n`` seconds (capped at ``cap``)
    with jitter, unless the server's ``Retry-After`` says how long (capped at ``max_retry_after``:
    a longer wait is reported, not waited for)."""

    retries: int = 3
    base: float = 1.0
    cap: float = 60.0
    max_retry_after: float = 300.0
    jitter: str = "equal"  # "equal": wait·U(0.5, 1.5) · "full": U(0, wait)

    def retryable(self, status: int) -> bool:
        return status in RETRYABLE_STATUSES

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` when the server gave no Retry-After."""
        r = rng or random
        wait = min(self.cap, self.base * 2 ** attempt)
        return r.uniform(0, wait) if self.jitter == "full" else wait * r.uniform(0.5, 1.5)

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        """The wait before the next attempt: the server's Retry-After when given, else the backoff."""
        return retry_after if retry_after is not None else self.backoff(attempt, rng)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_network_error(exc: BaseException) -> str:
    """A short cause for a failed connection: ``DNS lookup failed``, ``connection refused``,
    ``timeout``, ``TLS error``, or the exception's own words; never a guess dressed as a verdict."""
    text = f"{type(exc).__name__}: {exc}".lower()
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        nxt = chain[-1].__cause__ or chain[-1].__context__
        if nxt in chain or len(chain) > 8:
            break
        chain.append(nxt)
        text += f" | {type(nxt).__name__}: {nxt}".lower()
    if isinstance(exc, httpx.TimeoutException) or "timed out" in text or "timeout" in text:
        return "timeout"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "certificate" in text:
        return "TLS error"
    if ("name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text
            or "temporary failure in name resolution" in text or "no address associated" in text
            or "name resolution" in text):
        return "DNS lookup failed"
    if "refused" in text or "errno 111" in text:
        return "connection refused"
    if "unreachable" in text:
        return "network unreachable"
    if "reset" in text:
        return "connection reset"
    return f"connection error ({type(exc).__name__}: {exc})"


def loop_running() -> bool:
    """True inside a running event loop (a Jupyter cell, an async app)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``factory()`` from synchronous code and return its result.

    ``asyncio.run`` refuses to start inside a running loop, which is where a notebook user calls
    the library from; there the coroutine runs on a worker thread with its own loop and the call
    blocks until it is done (a factory, not a coroutine, so it is created on the loop that runs it).
    """
    if not loop_running():
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="curator-async") as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()
