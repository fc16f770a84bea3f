"""Crawling sources and storing what they yield.

One event loop runs every source at once over one shared :class:`~curator.scrape.fetch.Fetcher`,
so the per-host politeness holds across sources. Each page is one transaction: its prompts (via
:func:`curator.items.add_prompts`, origin ``scraped``) and its ``pages`` row land together or not
at all, so an interrupted crawl resumes cleanly.

A page whose body hash equals the stored one (a 304, a fresh cache hit, or an identical body) is
*unchanged*: it is not extracted again and adds nothing. Links are still followed from it, so a
category page that did not change still leads to its articles (which may have).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..context import Context
from ..errors import CuratorError
from ..items import PromptRecord, Provenance, add_prompts
from ..net import run_sync
from ..placeholders import normalise_placeholders
from ..store import Store, utcnow
from .cache import HttpCache
from .extract import ExtractedPrompt, extract_prompts, rejection
from .fetch import (
    HTML_TYPES,
    LIST_TYPES,
    Fetcher,
    FetchResult,
    FetchSettings,
    normalise_url,
)
from .page import discover_links  # noqa: F401 (re-exported)
from .safety import host_of
from .sources import Source

# outcome of a page, as reported per URL
OUTCOMES = ("new", "unchanged", "error", "disallowed", "blocked", "skipped", "dry-run")


@dataclass
class PageReport:
    """What happened to one URL of one source."""

    source: str
    url: str
    outcome: str
    status: int | None = None
    prompts: int = 0          # prompts extracted from the page
    new: int = 0              # of which new to the store
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    depth: int = 0
    fetch: str = ""           # network | cached | not-modified | local
    extracted: list[ExtractedPrompt] = field(default_factory=list, repr=False)
    html: str = field(default="", repr=False)  # kept only when asked (detecting a source's shape)


@dataclass
class ScrapeSummary:
    pages: list[PageReport] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    dry_run: bool = False

    def totals(self) -> dict:
        by_outcome: dict[str, int] = {}
        for p in self.pages:
            by_outcome[p.outcome] = by_outcome.get(p.outcome, 0) + 1
        return {"pages": len(self.pages), "by_outcome": by_outcome, "requests": self.requests,
                "prompts_found": sum(p.prompts for p in self.pages),
                "prompts_new": sum(p.new for p in self.pages), "seconds": round(self.seconds, 2),
                "dry_run": self.dry_run}

    def as_dict(self) -> dict:
        pages = []
        for p in self.pages:
            d = asdict(p)
            d.pop("extracted")
            d.pop("html")
            d["found"] = [{"heading": e.heading, "kind": e.kind, "text": e.text} for e in p.extracted]
            pages.append(d)
        return {"totals": self.totals(), "pages": pages}


def settings_for(corpus, **overrides) -> FetchSettings:
    """FetchSettings from ``[scrape]`` in curator.toml, then overrides."""
    return FetchSettings.from_config({k: v for k, v in corpus.settings.section("scrape").items() if v is not None},
                                      **overrides)


def scrape(corpus, sources: list[Source], *, settings: FetchSettings | None = None, max_pages: int | None = None,
           refresh: bool = False, dry_run: bool = False,
           on_page: Callable[[PageReport], None] | None = None, keep_html: bool = False) -> ScrapeSummary:
    """Crawl ``sources`` and store their prompts (nothing is stored with ``dry_run``)."""
    settings = settings or settings_for(corpus)
    cache = None if dry_run else HttpCache(corpus.root / "cache" / "http")
    summary = ScrapeSummary(dry_run=dry_run)
    started = datetime.now(timezone.utc)

    caller = threading.get_ident()
    writer = {"ctx": corpus}

    def record(report: PageReport, result: FetchResult | None, prompts: list[ExtractedPrompt], origin: str) -> None:
        if not dry_run:
            report.new = store_page(writer["ctx"], report, result, prompts, origin)
        summary.pages.append(report)
        if on_page:
            on_page(report)

    async def run() -> int:
        # inside a running loop (Jupyter) this runs on a worker thread: SQLite connections belong
        # to their thread, so that thread writes through its own connection to the same file
        own = threading.get_ident() != caller
        if own:
            writer["ctx"] = Context(corpus.root, Store(corpus.store.path), corpus.settings)
        try:
            async with Fetcher(settings, cache) as fetcher:
                await asyncio.gather(*(crawl(fetcher, src, record, corpus=writer["ctx"], max_pages=max_pages,
                                             refresh=refresh, dry_run=dry_run, keep_html=keep_html)
                                       for src in sources))
                return fetcher.requests
        finally:
            if own:
                writer["ctx"].close()

    summary.requests = run_sync(run)
    summary.seconds = (datetime.now(timezone.utc) - started).total_seconds()
    if not dry_run:
        with corpus.store.transaction():
            corpus.store.log_event("scrape", {"sources": [s.name for s in sources], "max_pages": max_pages,
                                              "refresh": refresh}, summary.totals())
    return summary


async def crawl(fetcher: Fetcher, src: Source, record, *, corpus=None, max_pages: int | None = None,
                refresh: bool = False, dry_run: bool = False, keep_html: bool = False) -> None:
    """Crawl one source; every URL ends in exactly one ``record(report, result, prompts, origin)``."""
    if src.kind == "file":
        await _local_file(src, record, corpus, refresh, dry_run)
        return
    if src.kind == "list":
        result = await fetcher.fetch(src.url, accept=LIST_TYPES + HTML_TYPES, refresh=refresh,
                                     hosts=src.redirect_hosts)
        report = PageReport(source=src.name, url=result.url, outcome="error", status=result.status)
        _list_page(src, result.body if result.ok else None, result, report, corpus, refresh, dry_run, record)
        return
    budget = src.max_pages if max_pages is None else min(src.max_pages or max_pages, max_pages)
    frontier: asyncio.Queue[tuple[str, int, str]] = asyncio.Queue()
    seen: set[str] = set()
    claimed = 0
    for url in src.start_urls:
        url = normalise_url(url)
        if url not in seen:
            seen.add(url)
            frontier.put_nowait((url, 0, url))

    async def worker() -> None:
        nonlocal claimed
        while True:
            url, depth, start = await frontier.get()
            try:
                if budget and claimed >= budget:
                    continue
                claimed += 1
                await _site_page(fetcher, src, url, depth, start)
            finally:
                frontier.task_done()

    async def _site_page(fetcher: Fetcher, src: Source, url: str, depth: int, start: str) -> None:
        # a followed link is judged like a redirect from the start URL it was found from
        hosts = src.redirect_hosts
        if url != start and src.allow:
            # a link the source's own `allow` patterns accepted may be on another site; the
            # internal-address rule still judges it against the start URL
            hosts = hosts + (host_of(url),)
        result = await fetcher.fetch(url, accept=HTML_TYPES, refresh=refresh, start=start, hosts=hosts)
        report = PageReport(source=src.name, url=url, outcome="error", status=result.status, depth=depth,
                            notes=list(result.notes))
        if not result.ok:
            report.error = result.error
            report.outcome = result.outcome if result.outcome in ("disallowed", "blocked", "skipped") else "error"
            record(report, result, [], "scraped")
            return
        report.fetch = {"ok": "network"}.get(result.outcome, result.outcome)
        html = result.text
        if keep_html:
            report.html = html
        base = result.final_url or url
        follow, pages = await asyncio.to_thread(discover_links, html, base, src.follow, src.paginate)
        for link, same_depth in [(u, False) for u in follow] + [(u, True) for u in pages]:
            nd = depth if same_depth else depth + 1
            if not src.allowed(link):
                continue
            if link in seen:
                if same_depth:
                    report.notes.append(f"pagination loop: {link} already visited")
                continue
            if not same_depth and nd > src.max_depth:
                continue
            seen.add(link)
            frontier.put_nowait((link, nd, start))
        if result.truncated:
            report.notes.append("page cut at the size limit; extracted what arrived")
        if not refresh and not dry_run and not keep_html and _unchanged(corpus, url, result.sha256):
            report.outcome = "unchanged"
            report.prompts = _stored_prompt_count(corpus, url)
            record(report, result, [], "scraped")
            return
        extraction = await asyncio.to_thread(extract_prompts, html, content_selector=src.content,
                                             prompt_selector=src.prompts, min_words=src.min_words,
                                             max_words=src.max_words)
        report.extracted = extraction.prompts
        report.prompts = len(extraction.prompts)
        report.outcome = "dry-run" if dry_run else "new"
        record(report, result, extraction.prompts, "scraped")

    n_workers = max(1, min(fetcher.settings.concurrency, fetcher.settings.per_host_concurrency * 2))
    workers = [asyncio.create_task(worker()) for _ in range(n_workers)]
    try:
        await frontier.join()
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


# -- lists and files -----------------------------------------------------------------------
def parse_list(src: Source, data: bytes) -> list[tuple[int, str]]:
    """(1-based row, prompt) of a tabular/JSON/text prompt list; bad data → CuratorError."""
    from ..ingest import decode, read_table

    where = Path(src.url or str(src.file) or src.name)
    if src.format == "txt":
        text, _ = decode(data, where)
        return [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
    frame, _, _ = read_table(Path(f"{src.name}.{src.format}"), data)
    column = src.column or ("prompt" if "prompt" in frame.columns else frame.columns[0])
    if column not in frame.columns:
        raise CuratorError(f"{where}: no column {column!r} (columns: {', '.join(map(str, frame.columns))}); "
                           f"fix `column` in {src.path}")
    return [(i, str(v)) for i, v in enumerate(frame[column].tolist(), start=1) if str(v).strip()]


def list_prompts(src: Source, rows: list[tuple[int, str]]) -> tuple[list[ExtractedPrompt], list[tuple[str, str]]]:
    prompts, rejected, seen = [], [], set()
    for row, raw in rows:
        text = " ".join(raw.split())
        norm = normalise_placeholders(text)
        why = None
        if src.filter == "instruction":
            why = rejection(norm, min_words=src.min_words, max_words=src.max_words)
        elif src.filter == "length":
            n = len(text.split())
            why = "too short" if n < src.min_words else "too long" if n > src.max_words else None
        if why or norm.casefold() in seen:
            if why:
                rejected.append((text[:200], why))
            continue
        seen.add(norm.casefold())
        prompts.append(ExtractedPrompt(text=text, heading=None, kind="row", position=row, raw=raw))
    return prompts, rejected


def _list_page(src, data, result, report, corpus, refresh, dry_run, record) -> None:
    if data is None:
        report.error = result.error if result else "not readable"
        report.outcome = result.outcome if result and result.outcome in ("disallowed", "skipped") else "error"
        record(report, result, [], "scraped")
        return
    report.fetch = "local" if src.kind == "file" else {"ok": "network"}.get(result.outcome, result.outcome)
    sha = hashlib.sha256(data).hexdigest()
    if not refresh and not dry_run and _unchanged(corpus, report.url, sha):
        report.outcome = "unchanged"
        report.prompts = _stored_prompt_count(corpus, report.url)
        record(report, result, [], "scraped")
        return
    try:
        prompts, _ = list_prompts(src, parse_list(src, data))
    except CuratorError as exc:
        report.error = str(exc)
        record(report, result, [], "scraped")
        return
    report.extracted = prompts
    report.prompts = len(prompts)
    report.outcome = "dry-run" if dry_run else "new"
    record(report, result, prompts, "local" if src.kind == "file" else "scraped")


class _LocalResult:
    """The parts of a FetchResult store_page needs, for a local file."""

    def __init__(self, url: str, body: bytes):
        self.url = self.final_url = url
        self.body = body
        self.status = None
        self.etag = self.last_modified = None
        self.fetched_at = datetime.now(timezone.utc).timestamp()
        self.sha256 = hashlib.sha256(body).hexdigest()
        self.error = None
        self.ok = True


async def _local_file(src: Source, record, corpus, refresh: bool, dry_run: bool) -> None:
    assert src.file is not None
    url = src.file.as_uri()
    report = PageReport(source=src.name, url=url, outcome="error")
    try:
        data = src.file.read_bytes()
    except OSError as exc:
        report.error = f"{src.file}: cannot read ({exc.strerror}); fix `path` in {src.path}"
        record(report, None, [], "local")
        return
    _list_page(src, data, _LocalResult(url, data), report, corpus, refresh, dry_run, record)


# -- the store -------------------------------------------------------------------------------
def _unchanged(corpus, url: str, sha256: str | None) -> bool:
    if corpus is None or sha256 is None:
        return False
    row = corpus.store.query("SELECT sha256, error FROM pages WHERE url = ?", (url,))
    return bool(row) and row[0]["sha256"] == sha256 and row[0]["error"] is None


def _stored_prompt_count(corpus, url: str) -> int:
    return int(corpus.store.scalar("SELECT prompts FROM pages WHERE url = ?", (url,)) or 0)


def store_page(corpus, report: PageReport, result, prompts: list[ExtractedPrompt], origin: str) -> int:
    """The page row and its prompts in one transaction; returns how many prompts were new."""
    fetched_at = _iso(getattr(result, "fetched_at", None)) if result is not None else utcnow()
    with corpus.store.transaction() as conn:
        new = 0
        if report.error is None and report.outcome != "unchanged":
            page_url = getattr(result, "final_url", None) or report.url
            sha = result.sha256
            records = [PromptRecord(
                text=p.text, origin=origin, source=report.source, url=page_url,
                provenance=Provenance(dataset=report.source, role="scraped", file=page_url, sha256=sha,
                                      row=p.position, context=p.heading),
                meta=_found_meta(p, fetched_at),
            ) for p in prompts]
            new = add_prompts(conn, records).new if records else 0
            conn.execute(
                "INSERT INTO pages (url, source, status, etag, last_modified, sha256, fetched_at, prompts, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT(url) DO UPDATE SET source=excluded.source,"
                " status=excluded.status, etag=excluded.etag, last_modified=excluded.last_modified,"
                " sha256=excluded.sha256, fetched_at=excluded.fetched_at, prompts=excluded.prompts, error=NULL",
                (report.url, report.source, report.status if report.status is not None else result.status,
                 result.etag, result.last_modified, sha, fetched_at, len(prompts)))
        elif report.outcome == "unchanged":
            conn.execute("UPDATE pages SET fetched_at = ?, status = ? WHERE url = ?",
                         (fetched_at, report.status, report.url))
        else:
            # a failure keeps the last good validators and hash: the next run can still compare
            conn.execute(
                "INSERT INTO pages (url, source, status, fetched_at, prompts, error) VALUES (?, ?, ?, ?, 0, ?)"
                " ON CONFLICT(url) DO UPDATE SET status=excluded.status, fetched_at=excluded.fetched_at,"
                " error=excluded.error",
                (report.url, report.source, report.status, utcnow(), report.error or report.outcome))
    return new


def _found_meta(p: ExtractedPrompt, fetched_at: str) -> dict:
    """The prompt's text is stored as the page spelled it; what was derived from it sits beside it:
    ``normalised`` (placeholders as ``{name}``) and ``found`` (the element's whole text, numbering
    and lead-in included) when they differ from it."""
    meta = {"fetched_at": fetched_at, "heading": p.heading, "kind": p.kind}
    if p.normalised != p.text:
        meta["normalised"] = p.normalised
    if p.raw and p.raw != p.text:
        meta["found"] = p.raw
    return meta


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return utcnow()
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def summary_json(summary: ScrapeSummary) -> str:
    return json.dumps(summary.as_dict(), ensure_ascii=False, indent=2)
