"""Declarative sources: one ``sources/NAME.toml`` per place prompts come from.

Users add sources all the time, so a source is a file, not code. Three kinds:

``site``  web pages: start URLs, which links to follow (a category page → its articles),
          pagination, URL allow/deny patterns, optional CSS selectors, limits
``list``  a remote prompt list (CSV/TSV/JSON/JSONL/text at a URL) and the column holding prompts
``file``  a local prompt list, path relative to the TOML file

See ``docs/sources.md`` for every key. A mistake names the file and the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CuratorError

KINDS = ("site", "list", "file")
FORMATS = ("csv", "tsv", "json", "jsonl", "txt")
FILTERS = ("instruction", "length", "none")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass
class Source:
    name: str
    kind: str
    path: Path
    description: str = ""
    # site
    start_urls: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    redirect_hosts: tuple[str, ...] = ()   # other sites a redirect may lead to (fnmatch patterns)
    follow: str | None = None
    paginate: str | None = None
    max_pages: int = 50
    max_depth: int = 1
    content: str | None = None
    prompts: str | None = None
    min_words: int = 3
    max_words: int = 150
    # list / file
    url: str | None = None
    file: Path | None = None
    format: str | None = None
    column: str | None = None
    filter: str = "instruction"

    def allowed(self, url: str) -> bool:
        """True when url matches an allow pattern (or there are none) and no deny pattern."""
        if any(re.search(p, url) for p in self.deny):
            return False
        return not self.allow or any(re.search(p, url) for p in self.allow)

    @property
    def location(self) -> str:
        if self.kind == "site":
            return ", ".join(self.start_urls)
        return self.url or str(self.file)


def load_source(path: Path) -> Source:
    """Parse and validate one source file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CuratorError(f"{path}: cannot read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CuratorError(f"{path}: invalid TOML ({exc})") from exc

    def bad(key: str, why: str) -> CuratorError:
        return CuratorError(f"{path}: {key}: {why}; see docs/sources.md")

    name = str(data.get("name", path.stem))
    if not _NAME.match(name):
        raise bad("name", f"{name!r} must be lower-case letters, digits, '-', '_' or '.'")
    kind = data.get("kind", "site")
    if kind not in KINDS:
        raise bad("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    crawl: dict[str, Any] = data.get("crawl", {})
    extract: dict[str, Any] = data.get("extract", {})
    for section, table in (("crawl", crawl), ("extract", extract)):
        if not isinstance(table, dict):
            raise bad(section, "must be a table ([%s])" % section)
    src = Source(name=name, kind=kind, path=path, description=str(data.get("description", "")))
    src.min_words = _int(extract.get("min_words", 3), "extract.min_words", bad)
    src.max_words = _int(extract.get("max_words", 150), "extract.max_words", bad)
    src.filter = extract.get("filter", "instruction" if kind == "site" else "length")
    if src.filter not in FILTERS:
        raise bad("extract.filter", f"{src.filter!r} is not one of {', '.join(FILTERS)}")
    hosts = crawl.get("redirect_hosts", [])
    if isinstance(hosts, str):
        hosts = [hosts]
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
        raise bad("crawl.redirect_hosts", "must be a list of host names (\"*.example.com\" patterns allowed)")
    src.redirect_hosts = tuple(h.strip().lower() for h in hosts)
    if kind == "site":
        urls = data.get("start_urls")
        if not urls or not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise bad("start_urls", "a site source needs a list of start URLs")
        for u in urls:
            if not re.match(r"^https?://[^/\s]+", u):
                raise bad("start_urls", f"{u!r} is not an http(s) URL")
        src.start_urls = urls
        src.allow = _patterns(crawl.get("allow", []), "crawl.allow", bad)
        src.deny = _patterns(crawl.get("deny", []), "crawl.deny", bad)
        src.follow = crawl.get("follow") or None
        src.paginate = crawl.get("paginate") or None
        src.max_pages = _int(crawl.get("max_pages", 50), "crawl.max_pages", bad)
        src.max_depth = _int(crawl.get("max_depth", 1), "crawl.max_depth", bad)
        src.content = extract.get("content") or None
        src.prompts = extract.get("prompts") or None
        for key, sel in (("crawl.follow", src.follow), ("crawl.paginate", src.paginate),
                         ("extract.content", src.content), ("extract.prompts", src.prompts)):
            if sel:
                _check_selector(sel, key, bad)
    else:
        src.format = data.get("format")
        if kind == "list":
            src.url = data.get("url")
            if not src.url or not re.match(r"^https?://", src.url):
                raise bad("url", "a list source needs the http(s) URL of the list")
            src.allow = _patterns(crawl.get("allow", []), "crawl.allow", bad)
        else:
            rel = data.get("path")
            if not rel:
                raise bad("path", "a file source needs the path of the file (relative to the TOML file)")
            src.file = (path.parent / os.path.expanduser(rel)).resolve()
        guessed = (src.url or str(src.file)).rsplit(".", 1)[-1].lower()
        src.format = src.format or (guessed if guessed in FORMATS else None)
        if src.format not in FORMATS:
            raise bad("format", f"say which format the list is in: one of {', '.join(FORMATS)}")
        src.column = data.get("column")
        if src.format in ("csv", "tsv") and not src.column:
            raise bad("column", "a CSV/TSV list needs the name of the column that holds the prompts")
    return src


def load_sources(directory: str | os.PathLike) -> dict[str, Source]:
    """Every ``*.toml`` in ``directory`` by name; a repeated name is an error naming both files."""
    root = Path(directory)
    if not root.is_dir():
        raise CuratorError(f"{root}: no sources directory; pass --sources DIR or create {root}/NAME.toml")
    out: dict[str, Source] = {}
    for path in sorted(root.glob("*.toml")):
        src = load_source(path)
        if src.name in out:
            raise CuratorError(f"{path}: source name {src.name!r} is already used by {out[src.name].path}")
        out[src.name] = src
    return out


def _int(value: Any, key: str, bad) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad(key, f"{value!r} must be a whole number ≥ 0")
    return value


def _patterns(value: Any, key: str, bad) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise bad(key, "must be a list of regular expressions")
    for p in value:
        try:
            re.compile(p)
        except (re.error, TypeError) as exc:
            raise bad(key, f"{p!r} is not a regular expression ({exc})") from exc
    return list(value)


def _check_selector(selector: str, key: str, bad) -> None:
    import soupsieve

    try:
        soupsieve.compile(selector)
    except Exception as exc:
        raise bad(key, f"{selector!r} is not a CSS selector ({exc})") from exc
