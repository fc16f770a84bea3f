"""An on-disk HTTP cache: one JSON metadata file and one body file per URL.

Why not an RFC 9111 cache library (hishel, cachecontrol): most prompt listicles send no
cache headers at all, so a standards cache would store nothing; the crawler needs "keep the last
body and its validators, re-ask with If-None-Match / If-Modified-Since" for *every* page, plus
bodies that were cut at the size limit. That is forty lines over plain files, which a user can
inspect and delete by hand (``corpus/cache/http``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class CacheEntry:
    url: str
    final_url: str
    status: int
    content_type: str
    etag: str | None
    last_modified: str | None
    fetched_at: float  # epoch seconds of the last network confirmation (200 or 304)
    sha256: str
    truncated: bool = False

    def age(self) -> float:
        return time.time() - self.fetched_at


class HttpCache:
    """Bodies and validators keyed by URL under ``root``; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _key(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / digest[2:32]

    def get(self, url: str) -> tuple[CacheEntry, bytes] | None:
        base = self._key(url)
        try:
            meta = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
            body = base.with_suffix(".body").read_bytes()
            entry = CacheEntry(**meta)
        except (OSError, ValueError, TypeError):
            return None
        if hashlib.sha256(body).hexdigest() != entry.sha256:
            return None  # a body torn by a crash: behave as if absent
        return entry, body

    def put(self, entry: CacheEntry, body: bytes) -> None:
        base = self._key(entry.url)
        base.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(base.with_suffix(".body"), body)
        _atomic_write(base.with_suffix(".json"), json.dumps(asdict(entry), indent=1).encode("utf-8"))

    def touch(self, entry: CacheEntry) -> None:
        """Record a 304: the cached body is confirmed fresh now."""
        entry.fetched_at = time.time()
        base = self._key(entry.url)
        _atomic_write(base.with_suffix(".json"), json.dumps(asdict(entry), indent=1).encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
