"""HTML → rewrite prompts, each with the heading it was under.

Two steps, each done by the library that is good at it:

1. **Main content** — trafilatura strips navigation, sidebars, comments, author boxes and ads
   and keeps lists, quotes, code and bold (its HTML output). A source may instead name the
   content element with a CSS selector, or name the prompt elements themselves.
2. **Structure** — beautifulsoup4 walks that content in document order and takes *candidates*
   from the places listicles put prompts: list items, blockquotes, code/pre blocks, paragraphs with
   a "Prompt:" lead-in (bold or plain), and paragraphs that are one quoted instruction.
   Plain prose paragraphs are never candidates: "Make sure you review the output." is imperative
   too, and only the page's structure tells an instruction *to the model* from advice to the reader.

Candidates are cleaned (numbering, wrapping quotes and labels stripped, whitespace collapsed,
placeholders normalised to ``{name}``) and kept only when they pass the stated heuristic
(:func:`rejection`): 3–150 words, no boilerplate words, not a link list, and instructional — it
starts with an imperative verb or a request form ("Can you…", "I want you to…", "Act as…"), or
it holds a placeholder, or it refers to a text ("this paragraph", "the following", …) without
reading as a statement about something ("Saves time", "Makes the text clearer").
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from ..placeholders import normalise_placeholders

warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

MIN_WORDS = 3
MAX_WORDS = 150
MAX_CHARS = 1500

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

VERBS = frozenset("""
rewrite rephrase paraphrase reword rework redo revise edit proofread correct fix polish refine improve
enhance make write convert transform turn translate adapt adjust change modify alter tailor tweak
summarize summarise condense shorten simplify expand elaberate elaborate lengthen extend clarify
restructure reorganize reorganise organize organise format structure add remove delete replace cut
trim insert use apply keep include incorporate emphasize emphasise highlight create generate compose
draft craft produce develop give provide list outline explain describe analyze analyse evaluate
review check critique assess compare identify find suggest recommend offer brainstorm come
act pretend imagine play assume take help tell show let please respond reply answer continue
boost strengthen soften tone humanize humanise personalize personalise optimize optimise spice
infuse inject localize localise standardize standardise streamline tighten punch jazz dumb
break split merge combine reformat bulletize outline-ify render present frame recast retell
narrate compose draw craft design prepare address send greet thank follow remind decline
apologize apologise request ask invite announce introduce persuade convince argue debate
""".split())
REQUEST_STARTS = re.compile(
    r"^(?:please\s+)?(?:can|could|would|will)\s+you\b|^i\s+(?:want|need|would like)\s+you\b|"
    r"^you\s+are\b|^as\s+an?\b|^act\s+as\b|^i'?m\s+(?:writing|working)\b|^let'?s\b|^now\b|^here\s+is\b",
    re.IGNORECASE)
TEXT_REFERENCE = re.compile(
    r"\b(?:this|the|my|following|given|above|below|provided|attached|original)\s+"
    r"(?:text|paragraph|passage|sentence|sentences|article|essay|email|e-mail|message|content|copy|"
    r"draft|story|post|letter|document|section|excerpt|piece|blurb|description|speech|report|summary|"
    r"statement|paragraphs|code|function|script|snippet|query|bio|caption|tweet|headline|intro|introduction)\b"
    r"|\bthe\s+following\b|\b(?:below|above):",
    re.IGNORECASE)
BOILERPLATE = re.compile(
    r"subscribe|newsletter|cookie|privacy policy|terms of (?:service|use)|all rights reserved|©|"
    r"\bsign (?:up|in)\b|\blog ?in\b|read more|click here|share (?:this|on)|follow us|related posts?|"
    r"advertisement|sponsored|affiliate|posted by|written by|about the author|leave a (?:comment|reply)|"
    r"\bcomments?\s*\(\d+\)|table of contents|skip to content|back to top",
    re.IGNORECASE)
STATEMENT_STARTS = frozenset("""
it its this these that those the a an there they we he she his her their our you your i my is are was were
has have had saves makes helps improves gives allows lets takes keeps works creates provides offers
""".split())

_NUMBERING = re.compile(r"^\s*(?:(?:#|no\.?\s*)?\d{1,3}\s*[.):\-–—]\s*|\(\d{1,3}\)\s*|[•\-*·▪►✓✔→]\s+|step\s+\d+\s*[:.]\s*)",
                        re.IGNORECASE)
_LABEL = re.compile(
    r"^(?:(?:example|sample|chatgpt|ai|copy|the)\s+)?(?:prompt|prompt\s+template|template|try(?:\s+this)?|"
    r"example|input|use|ask)\s*(?:#?\d{1,3})?\s*[:\-–—]\s*",
    re.IGNORECASE)
_QUOTES = [('"', '"'), ("“", "”"), ("‘", "’"), ("'", "'"), ("«", "»"), ("„", "“"), ("`", "`"), ("”", "”"), ("“", "“")]
_QUOTED_TAIL = re.compile(r"^(?P<lead>[^\"“”]{1,80}?):\s*[\"“](?P<q>[^\"“”]{10,})[\"”]\s*\.?$")


@dataclass
class ExtractedPrompt:
    """One prompt found on a page: cleaned text, the heading it was under, what element held it."""

    text: str
    heading: str | None
    kind: str          # li | quote | code | label | quoted
    position: int      # 1-based, among the prompts of the page
    raw: str = ""


@dataclass
class Extraction:
    prompts: list[ExtractedPrompt] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (candidate text, reason)
    method: str = "trafilatura"


def extract_prompts(html: str, *, content_selector: str | None = None, prompt_selector: str | None = None,
                    min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> Extraction:
    """Prompts of one HTML page, in page order, without in-page repeats.

    ``prompt_selector`` (CSS) names the prompt elements exactly; ``content_selector`` names the
    main-content element (else trafilatura finds it, and the whole cleaned body is the fallback).
    """
    out = Extraction()
    if not html or not html.strip():
        return out
    html = escape_bare_placeholders(html)
    if prompt_selector:
        soup = _soup(html)
        candidates = [(_node_text(el), _heading_before(el), "selected", el) for el in soup.select(prompt_selector)]
        out.method = "selector"
    else:
        root, out.method = _content_root(html, content_selector)
        candidates = list(_candidates(root)) if root is not None else []
    seen: set[str] = set()
    for raw, heading, kind, el in candidates:
        text = clean_prompt(raw, el if kind in ("li", "selected") else None)
        why = rejection(text, el, min_words=min_words, max_words=max_words)
        if why:
            if raw.strip():
                out.rejected.append((" ".join(raw.split())[:200], why))
            continue
        key = text.casefold()
        if key in seen:
            continue
        seen.add(key)
        out.prompts.append(ExtractedPrompt(text=text, heading=heading, kind=kind, position=len(out.prompts) + 1,
                                           raw=" ".join(raw.split())))
    return out


# -- main content ----------------------------------------------------------------------------
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


def _soup(html: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(html, "lxml")
    except Exception:  # pragma: no cover - lxml handles almost anything; html.parser is the fallback
        return BeautifulSoup(html, "html.parser")


def _content_root(html: str, content_selector: str | None) -> tuple[Tag | None, str]:
    if content_selector:
        soup = _soup(html)
        found = soup.select(content_selector)
        if found:
            wrapper = _soup("<div></div>").div
            for el in found:
                _drop_boilerplate(el)
                wrapper.append(el)
            return wrapper, "selector"
    import trafilatura

    try:
        main = trafilatura.extract(html, output_format="html", include_formatting=True, include_links=True,
                                   include_comments=False, include_tables=True, include_images=False,
                                   favor_recall=True, deduplicate=False)
    except Exception:  # trafilatura gives up on some malformed pages: fall back to our own cleaning
        main = None
    if main:
        root = _soup(main).body
        if root is not None and any(True for _ in _candidates(root)):
            return root, "trafilatura"
    soup = _soup(html)
    body = soup.body or soup
    _drop_boilerplate(body)
    return body, "body"


def _drop_boilerplate(root: Tag) -> None:
    for el in root.find_all(_BOILER_TAGS):
        el.decompose()
    for el in root.find_all(True):
        if el.decomposed or el.attrs is None:
            continue
        ident = " ".join(el.get("class", []) or []) + " " + str(el.get("id", "") or "")
        if ident.strip() and _BOILER_CLASS.search(ident) and el.name not in ("body", "html", "main", "article"):
            el.decompose()


# -- candidates ------------------------------------------------------------------------------
def _candidates(root: Tag):
    """(raw text, heading, kind, element) for every prompt-shaped element, in document order."""
    heading: str | None = None
    for el in root.find_all(True):
        name = el.name
        if name in HEADINGS:
            # malformed pages nest whole lists inside an unclosed <h2>: only its own words count
            heading = _clean_heading(_node_text(el, skip=("ul", "ol", "p", "div", "table")))[:200] or heading
            continue
        if name == "li":
            if el.find_parent("pre"):
                continue
            yield _node_text(el, skip=("ul", "ol")), heading, "li", el
        elif name == "blockquote":
            if el.find(["ul", "ol"]) or el.find_parent(["li", "blockquote"]):
                continue
            yield _node_text(el), heading, "quote", el
        elif name == "pre":
            if el.find_parent(["li", "blockquote", "pre"]):
                continue
            yield el.get_text("\n"), heading, "code", el
        elif name == "code":
            parent = el.parent
            if el.find_parent(["pre", "li", "blockquote"]):
                continue
            if parent is not None and parent.name == "p" and _node_text(parent).strip() != el.get_text().strip():
                continue  # inline code inside prose
            yield el.get_text("\n"), heading, "code", el
        elif name == "p":
            if el.find_parent(["li", "blockquote", "pre"]):
                continue
            text = _node_text(el)
            stripped = text.strip()
            if el.code and el.code.get_text().strip() == stripped:
                continue  # handled as code
            lead = el.find(["strong", "b", "em", "i"])
            if _LABEL.match(stripped):
                yield stripped, heading, "label", el
            elif lead is not None and stripped.startswith(lead.get_text().strip()) and \
                    _LABEL.match(lead.get_text().strip() + " "):
                yield stripped, heading, "label", el
            elif _is_wrapped_in_quotes(stripped):
                yield stripped, heading, "quoted", el


def _node_text(el: Tag, skip: tuple[str, ...] = ()) -> str:
    """Visible text of an element, nested lists (``skip``) left out, <br> as a space."""
    parts: list[str] = []
    for piece in el.descendants:
        if isinstance(piece, Tag):
            continue
        if skip and any(p.name in skip for p in piece.parents if p is not el and _within(p, el)):
            continue
        parts.append(str(piece))
    return " ".join("".join(parts).split()) if parts else ""


def _within(node: Tag, ancestor: Tag) -> bool:
    for p in node.parents:
        if p is ancestor:
            return True
    return False


def _heading_before(el: Tag) -> str | None:
    h = el.find_previous(list(HEADINGS))
    return _clean_heading(h.get_text(" ", strip=True)) if h else None


def _clean_heading(text: str) -> str:
    return _NUMBERING.sub("", " ".join(text.split())).strip()


def _is_wrapped_in_quotes(text: str) -> bool:
    return any(text.startswith(a) and text.rstrip(".").endswith(b) and len(text) > 2 for a, b in _QUOTES[:3])


# -- cleaning and the heuristic --------------------------------------------------------------
def clean_prompt(raw: str, el: Tag | None = None) -> str:
    """Strip numbering, labels, bold lead-ins ("Formal tone:") and wrapping quotes; normalise slots."""
    text = " ".join(raw.split())
    if el is not None:
        lead = el.find(["strong", "b"])
        if lead is not None:
            lead_text = " ".join(lead.get_text().split())
            if lead_text.endswith(":") and text.startswith(lead_text) and len(text) > len(lead_text) + 10:
                text = text[len(lead_text):].strip()
    for _ in range(3):
        before = text
        text = _NUMBERING.sub("", text, count=1).strip()
        text = _LABEL.sub("", text, count=1).strip()
        m = _QUOTED_TAIL.match(text)
        if m:
            text = m.group("q").strip()
        text = _unquote(text)
        if text == before:
            break
    return normalise_placeholders(text)


def _unquote(text: str) -> str:
    for a, b in _QUOTES:
        if len(text) > 2 and text.startswith(a):
            body = text[len(a):]
            for end in (b, b + ".", b + ",", "." + b):
                if body.endswith(end) and a not in body[: -len(end)].replace(b, ""):
                    inner = body[: -len(end)]
                    if (a == b and a not in inner) or (a != b and a not in inner and b not in inner):
                        return inner.strip()
    return text


def rejection(text: str, el: Tag | None = None, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> str | None:
    """Why ``text`` is not a prompt, or None when it is one (the stated heuristic)."""
    words = text.split()
    if len(words) < min_words:
        return "too short"
    if len(words) > max_words or len(text) > MAX_CHARS:
        return "too long"
    if BOILERPLATE.search(text):
        return "boilerplate"
    if el is not None:
        link_text = sum(len(a.get_text(strip=True)) for a in el.find_all("a"))
        if link_text and link_text >= 0.6 * max(len(el.get_text(strip=True)), 1):
            return "link list (navigation)"
    if re.fullmatch(r"[\W\d_]+", text) or text.count("http") > 1:
        return "not text"
    if looks_instructional(text):
        return None
    return "not an instruction"


def looks_instructional(text: str) -> bool:
    first = re.sub(r"[^a-z'\-]", "", text.split()[0].lower()) if text.split() else ""
    if first in VERBS or REQUEST_STARTS.match(text):
        return True
    if first in STATEMENT_STARTS:
        return bool(re.search(r"\{[a-z][a-z0-9_]*\}", text)) and first in ("you", "your", "as")
    if re.search(r"\{[a-z][a-z0-9_]*\}", text):
        return True
    if TEXT_REFERENCE.search(text) and not (first.endswith("s") and not first.endswith("ss")):
        return True
    return False
