"""`curator sources check`: one page of a source, what it would yield, nothing stored.

This is how a user verifies a source file against the live site: the prompts, the heading each
was under, the links the crawl would follow, and (on request) the candidates the heuristic dropped.
"""

from __future__ import annotations

from .extract import extract_prompts
from .fetch import HTML_TYPES, LIST_TYPES, FetchSettings, Fetcher
from .page import discover_links
from .site import list_prompts, parse_list
from .sources import Source


async def check_source(src: Source, settings: FetchSettings, url: str | None = None) -> dict:
    """A JSON-ready dict: url, status, error, notes, method, prompts, rejected, links."""
    out: dict = {"source": src.name, "url": url, "status": None, "error": None, "notes": [], "method": "",
                 "prompts": [], "rejected": [], "links": None}
    if src.kind == "file" and not url:
        out["url"] = src.file.as_uri()
        try:
            data = src.file.read_bytes()
        except OSError as exc:
            out["error"] = f"{src.file}: cannot read ({exc.strerror})"
            return out
        return _list(src, data, out)
    target = url or (src.url if src.kind == "list" else src.start_urls[0])
    out["url"] = target
    async with Fetcher(settings, cache=None) as fetcher:
        accept = HTML_TYPES if src.kind == "site" else LIST_TYPES + HTML_TYPES
        result = await fetcher.fetch(target, accept=accept, refresh=True)
    out["status"], out["notes"] = result.status, result.notes
    if not result.ok:
        out["error"] = result.error
        return out
    if src.kind == "list" and not url:
        return _list(src, result.body, out)
    html = result.text
    extraction = extract_prompts(html, content_selector=src.content, prompt_selector=src.prompts,
                                 min_words=src.min_words, max_words=src.max_words)
    out["method"] = extraction.method
    out["prompts"] = [{"position": p.position, "heading": p.heading, "kind": p.kind, "text": p.text}
                      for p in extraction.prompts]
    out["rejected"] = extraction.rejected
    follow, pages = discover_links(html, result.final_url or target, src.follow, src.paginate)
    out["links"] = {"follow": [u for u in follow if src.allowed(u)], "paginate": [u for u in pages if src.allowed(u)]}
    return out


def _list(src: Source, data: bytes, out: dict) -> dict:
    from ..errors import CuratorError

    try:
        prompts, rejected = list_prompts(src, parse_list(src, data))
    except CuratorError as exc:
        out["error"] = str(exc)
        return out
    out["method"] = f"{src.format} list"
    out["prompts"] = [{"position": p.position, "heading": None, "kind": p.kind, "text": p.text} for p in prompts]
    out["rejected"] = rejected
    return out
