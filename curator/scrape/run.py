"""`curator scrape NAME|URL …`: the one entry point the CLI and ``Corpus.scrape`` share.

A user who just found a page should not have to write a source file first: a URL argument
becomes a one-page site source (same politeness: robots.txt, per-host delay, cache). With
``save_source`` the pages' detected shape is written to ``sources/NAME.toml`` so the next run is
``curator scrape NAME``; what is written is checked first (the detected content element must
yield the same prompts as the generic extraction, else it is left out).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from bs4 import Tag

from ..context import Context
from ..errors import CuratorError
from .extract import extract_prompts
from .page import soup as parse_page
from .site import PageReport, ScrapeSummary, scrape, settings_for
from .sources import _NAME, Source, load_source, load_sources


def sources_dir(ctx: Context, option: str | os.PathLike | None = None) -> Path:
    """--sources, else $CURATOR_SOURCES, else [scrape] sources in curator.toml, else ./sources,
    else <corpus>/sources."""
    if option:
        return Path(option)
    if os.environ.get("CURATOR_SOURCES"):
        return Path(os.environ["CURATOR_SOURCES"])
    configured = ctx.setting("scrape", "sources")
    if configured:
        path = Path(configured)
        return path if path.is_absolute() else ctx.root / path
    if Path("sources").is_dir():
        return Path("sources")
    return ctx.root / "sources"


def is_url(target: str) -> bool:
    return bool(re.match(r"^https?://[^/\s]+", target.strip(), re.IGNORECASE))


def url_source(urls: list[str], name: str | None = None) -> Source:
    """A one-page-per-URL site source for URLs no source file names (nothing followed)."""
    host = (urlsplit(urls[0]).hostname or "page").lower().removeprefix("www.")
    name = name or re.sub(r"[^a-z0-9_.-]", "-", host)
    return Source(name=name, kind="site", path=Path(f"<command line: {urls[0]}>"), start_urls=list(urls),
                  max_pages=len(urls), max_depth=0)


@dataclass
class ScrapeRun(ScrapeSummary):
    """The scrape summary plus what ``save_source`` wrote."""

    saved_source: str | None = None
    detected: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = super().as_dict()
        out["saved_source"] = self.saved_source
        out["detected"] = self.detected
        return out


def scrape_targets(ctx: Context, targets: Iterable[str] = (), *, all_sources: bool = False,
                   sources: str | os.PathLike | None = None, max_pages: int | None = None,
                   refresh: bool = False, dry_run: bool = False, save_source: str | None = None,
                   on_page: Callable[[PageReport], None] | None = None) -> ScrapeRun:
    """Scrape source names and/or URLs. ``save_source`` (URLs only) writes ``sources/NAME.toml``."""
    targets = [t.strip() for t in targets if t and t.strip()]
    if bool(targets) == bool(all_sources):
        raise CuratorError("name one or more sources or URLs, or pass --all (see `curator sources list`)")
    urls = [t for t in targets if is_url(t)]
    names = [t for t in targets if not is_url(t)]
    directory = sources_dir(ctx, sources)
    chosen: list[Source] = []
    if names or all_sources:
        found = load_sources(directory)
        unknown = [n for n in names if n not in found]
        if unknown:
            hint = " (a URL must start with http:// or https://)" if any("." in n for n in unknown) else ""
            raise CuratorError(f"unknown source(s) {', '.join(unknown)}{hint}; known: "
                               f"{', '.join(sorted(found)) or 'none'}")
        chosen = list(found.values()) if all_sources else [found[n] for n in names]
    target_file = None
    if save_source:
        if not urls:
            raise CuratorError("--save-source needs at least one URL to describe")
        if not _NAME.match(save_source):
            raise CuratorError(f"--save-source {save_source!r}: use lower-case letters, digits, '-', '_' or '.'")
        target_file = directory / f"{save_source}.toml"
        if target_file.exists():
            raise CuratorError(f"{target_file} exists; pick another name or delete the file first")
    if urls:
        chosen.append(url_source(urls, save_source))
    summary = scrape(ctx, chosen, settings=settings_for(ctx), max_pages=max_pages, refresh=refresh,
                     dry_run=dry_run, on_page=on_page, keep_html=bool(save_source))
    run = ScrapeRun(pages=summary.pages, requests=summary.requests, seconds=summary.seconds, dry_run=dry_run)
    if target_file is not None:
        run.detected = write_source(target_file, save_source, urls, [p for p in summary.pages
                                                                    if p.source == save_source])
        run.saved_source = str(target_file)
    return run


def write_source(path: Path, name: str, urls: list[str], pages: list[PageReport]) -> dict:
    """Write ``path`` from what the pages showed; returns what was detected."""
    kinds = Counter(p.kind for page in pages for p in page.extracted)
    headings = Counter(p.heading for page in pages for p in page.extracted if p.heading)
    selector = _common_content(pages)
    detected = {"pages": len(pages), "prompts": sum(len(p.extracted) for p in pages), "kinds": dict(kinds),
                "content": selector, "headings": len(headings)}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kinds_text = ", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none"
    lines = [f"# written by `curator scrape --save-source {name}` on {when}",
             f"# detected: {detected['prompts']} prompts on {len(pages)} page(s) ({kinds_text}), "
             f"under {len(headings)} heading(s)",
             f"# check it with `curator sources check {name}`; see docs/sources.md for every key",
             f"name = {_toml(name)}", 'kind = "site"',
             f"description = {_toml('Pages added with curator scrape URL: ' + ', '.join(urls))}",
             "start_urls = [" + ", ".join(_toml(u) for u in urls) + "]", "",
             "[crawl]", f"max_pages = {len(urls)}", "max_depth = 0", "", "[extract]"]
    if selector:
        lines.append(f"content = {_toml(selector)}  # the element holding every prompt found")
    else:
        lines.append("# content = \"…\"  # no single element held every prompt: the generic extraction is used")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_source(tmp)  # what we write must load
    tmp.replace(path)
    return detected


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _common_content(pages: list[PageReport]) -> str | None:
    """A CSS selector for the element holding every prompt on every page, verified to yield them."""
    chosen: str | None = None
    for page in pages:
        if not page.extracted or not page.html:
            continue
        selector = detect_content_selector(page.html, [p.text for p in page.extracted])
        if selector is None or (chosen is not None and selector != chosen):
            return None
        chosen = selector
    return chosen


def detect_content_selector(html: str, prompts: list[str]) -> str | None:
    """The deepest element with an id or a class that contains every prompt's opening words, as a
    selector matching exactly one element; None unless extraction under it finds the same prompts."""
    soup = parse_page(html)
    keys = [_norm(p)[:40] for p in prompts]
    best: tuple[int, str] | None = None
    for el in soup.find_all(["article", "main", "div", "section"]):
        selector = _selector(el)
        if selector is None:
            continue
        text = _norm(el.get_text(" "))
        if all(k in text for k in keys):
            depth = len(list(el.parents))
            if (best is None or depth > best[0]) and len(soup.select(selector)) == 1:
                best = (depth, selector)
    if best is None:
        return None
    again = extract_prompts(html, content_selector=best[1])
    return best[1] if [p.text for p in again.prompts] == list(prompts) else None


def _selector(el: Tag) -> str | None:
    if el.get("id") and re.match(r"^[A-Za-z][\w-]*$", el["id"]):
        return f"#{el['id']}"
    classes = [c for c in el.get("class", []) or [] if re.match(r"^[A-Za-z][\w-]*$", c)]
    return f"{el.name}." + ".".join(classes[:2]) if classes else None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
