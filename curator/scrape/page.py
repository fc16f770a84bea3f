"""An HTML page before extraction: parsed, its title, its boilerplate dropped, bare
``<placeholder>`` words kept as text rather than swallowed as unknown elements, and the links a
source's ``follow``/``paginate`` selectors name.

Split from :mod:`curator.scrape.extract`, which finds the prompts in what this leaves."""

from __future__ import annotations

import re
import warnings
from urllib.parse import urljoin

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from .types import normalise_url

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def title(html: str) -> str:
    m = _TITLE.search(html[:20000])
    return m.group(1) if m else ""


_BOILER_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
                "button", "select", "template")
_BOILER_CLASS = re.compile(r"(?:^|[\s_-])(?:nav|menu|sidebar|widget|footer|header|comment|share|social|related|"
                           r"author|bio|newsletter|subscribe|cookie|breadcrumb|ad|ads|advert|promo|popup|"
                           r"toc|table-of-contents)(?:$|[\s_-])", re.IGNORECASE)


_BARE_TAG = re.compile(r"<([A-Za-z][A-Za-z_ ]{0,40}?)>")
_KNOWN_TAGS = frozenset("""
a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col
colgroup data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure footer form h1 h2
h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link main map mark menu meta
meter nav noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp script
search section select slot small source span strong style sub summary sup table tbody td template textarea tfoot
th thead time title tr track u ul var video wbr center font big tt strike nobr noindex
""".split())


def escape_bare_placeholders(html: str) -> str:
    """``<topic>`` written unescaped in a page is a placeholder, not an element: escape it.

    A parser would otherwise swallow it as an unknown empty element and the prompt would lose
    its slot. Only a bare ``<name>`` that is no HTML element and is never closed is touched.
    """
    def repl(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        tag = name.lower()
        if tag in _KNOWN_TAGS or f"</{tag}>" in lowered:
            return m.group(0)
        return f"&lt;{name}&gt;"

    if "<" not in html:
        return html
    lowered = html.lower()
    return _BARE_TAG.sub(repl, html)


def soup(html: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(html, "lxml")
    except Exception:  # pragma: no cover - lxml handles almost anything; html.parser is the fallback
        return BeautifulSoup(html, "html.parser")


def drop_boilerplate(root: Tag) -> None:
    for el in root.find_all(_BOILER_TAGS):
        el.decompose()
    for el in root.find_all(True):
        if el.decomposed or el.attrs is None:
            continue
        ident = " ".join(el.get("class", []) or []) + " " + str(el.get("id", "") or "")
        if ident.strip() and _BOILER_CLASS.search(ident) and el.name not in ("body", "html", "main", "article"):
            el.decompose()


def discover_links(html: str, base: str, follow: str | None, paginate: str | None) -> tuple[list[str], list[str]]:
    """Absolute http(s) links matched by the ``follow`` and ``paginate`` CSS selectors, in page order."""
    if not follow and not paginate:
        return [], []
    page = soup(html)
    out: list[list[str]] = []
    for selector in (follow, paginate):
        urls: list[str] = []
        if selector:
            for el in page.select(selector):
                href = el.get("href")
                if not href and el.name not in ("a", "link"):
                    inner = el.find("a", href=True)
                    href = inner.get("href") if inner else None
                if not href or href.startswith(("javascript:", "mailto:", "#")):
                    continue
                try:
                    url = normalise_url(urljoin(base, href))
                except ValueError:
                    continue
                if url not in urls:
                    urls.append(url)
        out.append(urls)
    return out[0], out[1]
