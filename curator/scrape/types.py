"""What the fetcher takes and gives: its settings, its per-URL result, URL normalisation and
body decoding. Split from fetch.py so the client there is only the client."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from .. import __version__
from .cache import CacheEntry

DEFAULT_USER_AGENT = (f"curator/{__version__} (prompt-recovery dataset builder; "
                      "+https://github.com/curator-prompts/curator)")
HTML_TYPES = ("text/html", "application/xhtml+xml")
LIST_TYPES = ("text/csv", "text/plain", "text/tab-separated-values", "application/json",
              "application/x-ndjson", "application/jsonl", "application/octet-stream")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass
class FetchSettings:
    """Politeness and limits. Every field can be set in ``curator.toml`` under ``[scrape]``."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0               # minimum seconds between request starts on one host
    per_host_concurrency: int = 1    # requests in flight per host
    concurrency: int = 16            # requests in flight overall
    autothrottle: bool = True        # raise the delay when a host slows down (Scrapy's rule)
    target_concurrency: float = 1.0
    max_delay: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0      # whole request incl. body: stops a server that trickles bytes
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 3                 # extra attempts after the first
    backoff: float = 1.0             # first retry waits ~backoff s, doubling, with jitter
    max_backoff: float = 60.0
    max_retry_after: float = 300.0   # a longer Retry-After is reported, not waited for
    cache_ttl: float = 24 * 3600.0   # a cached page younger than this is not asked for again
    robots: bool = True

    @classmethod
    def from_config(cls, config: dict, **overrides) -> "FetchSettings":
        known = {k: v for k, v in {**config, **overrides}.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def robots_agent(self) -> str:
        """The product token robots.txt groups are matched against ("curator")."""
        return re.split(r"[/\s]", self.user_agent.strip(), maxsplit=1)[0] or "*"


@dataclass
class FetchResult:
    """What happened to one URL. ``ok`` means a body worth parsing is in ``body``."""

    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: float | None = None
    from_cache: bool = False         # answered from the cache without asking the network
    not_modified: bool = False       # the server said 304: the cached body is current
    truncated: bool = False
    attempts: int = 0
    error: str | None = None
    outcome: str = "error"           # ok | cached | not-modified | disallowed | blocked | error | skipped
    network: bool = False            # the error is a network failure (DNS, refused, timeout, TLS)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.outcome in ("ok", "cached", "not-modified")

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.body).hexdigest() if self.ok else None

    @property
    def text(self) -> str:
        return decode_body(self.body, self.content_type)


# -- helpers ---------------------------------------------------------------------------------
def normalise_url(url: str) -> str:
    """Absolute http(s) URL without fragment; anything else is a ValueError naming the URL."""
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if not parts.path:
        url = url + "/" if not parts.query else url.replace("?", "/?", 1)
    return url


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _type_ok(content_type: str, accept: tuple[str, ...]) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return mime in accept


def _from_cache(result: FetchResult, entry: CacheEntry, body: bytes, outcome: str) -> FetchResult:
    result.final_url = entry.final_url
    result.status = entry.status
    result.content_type = entry.content_type
    result.body = body
    result.etag, result.last_modified = entry.etag, entry.last_modified
    result.fetched_at = entry.fetched_at
    result.truncated = entry.truncated
    result.from_cache = outcome == "cached"
    result.not_modified = outcome == "not-modified"
    result.outcome = outcome
    return result


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: a byte that is not UTF-8 is read as cp1252 (what such pages mix in)."""
    assert isinstance(exc, UnicodeDecodeError)
    return exc.object[exc.start:exc.end].decode("cp1252", errors="replace"), exc.end


codecs.register_error("curator-cp1252", _cp1252_fallback)


def decode_body(body: bytes, content_type: str = "") -> str:
    """Text of a body: BOM, else a declared charset (header, then <meta>) that decodes cleanly,
    else UTF-8 with any stray non-UTF-8 byte read as cp1252.

    Broken bytes never raise: a UTF-8 page with one Windows-1252 "é" pasted in keeps both its
    UTF-8 text and that "é", and an undeclared Latin-1 page reads correctly.
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    candidates: list[str] = []
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type or "", re.IGNORECASE)
    if m:
        candidates.append(m.group(1))
    m2 = _META_CHARSET.search(body[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "ignore"))
    for enc in candidates:
        try:
            if codecs.lookup(enc).name == "utf-8":
                continue  # handled below, with the forgiving handler
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="curator-cp1252")
