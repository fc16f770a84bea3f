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
from dataclasses import dataclass, field

from bs4 import Tag

from ..placeholders import normalise_placeholders
from .judge import MAX_WORDS, MIN_WORDS, looks_instructional, names_a_text, rejection  # noqa: F401 (re-exported)
from .page import drop_boilerplate, escape_bare_placeholders, title
from .page import soup as parse_page


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# sections that hold no prompts: how-to steps, benefits, FAQs, outros, related links
META_HEADING = re.compile(
    r"^(?:how to (?:use|get|write|apply)|how (?:it|this|they|to) works?|how i use|before (?:you|we)|getting started|"
    r"what you(?:'ll)? need|steps?\b|instructions|(?:pro |bonus |quick )?tips?\b|faqs?\b|frequently asked|"
    r"benefits|why\b|advantages|conclusion|final thoughts|wrapping up|wrap-up|in summary|related|see also|"
    r"about\b|more from|recommended|resources|further reading|what (?:makes|is|are|did not|didn'?t|doesn'?t)\b|"
    r"the bottom line|key takeaways|common mistakes|a note on|tools? we|share this|comments?\b|"
    r"leave a reply|table of contents|contents$|sample output|example output|results?$)",
    re.IGNORECASE)
# "Output:", "Result:", "Sample output:", "Before:" — what follows is a model's answer, not a prompt
OUTPUT_LABEL = re.compile(
    r"^(?:(?:sample|example|chatgpt'?s?|ai|the|its|model|final)\s+)?(?:output|result|response|answer|reply|"
    r"rewritten (?:version|text)|before|after)s?\s*(?:\([^)]*\))?\s*[:\-–—]", re.IGNORECASE)
OUTPUT_INTRO = re.compile(r"(?:gave me|came back|looked like|it wrote|it returned|it produced|got back|"
                          r"the (?:result|output|answer|response)|here(?:'s| is) what)[^:]*:\s*$", re.IGNORECASE)
TIP_LABEL = re.compile(r"^(?:pro\s+|bonus\s+|quick\s+)?(?:tip|note|remember|warning|important|caution|p\.?\s?s\.?|"
                       r"hint|reminder|disclaimer|update|edit|fyi)\s*\d*\s*[:\-–—]", re.IGNORECASE)
_SYMBOL_LEAD = re.compile(r"^(?:(?:[0-9#*]\uFE0F?\u20E3|[\u2190-\u2BFF\u2600-\u27BF\U0001F000-\U0001FAFF\uFE0F\u200D\u20E3*#✓✔•►▶→➡️])+\s*)+")  # noqa: E501 (keycaps 1️⃣ first)
_META = "meta"  # a block in a section that holds no prompts
_BLOCKS = ("p", "blockquote", "pre", "ul", "ol", "table", "dl", "figure")

_NUMBERING = re.compile(r"^\s*(?:(?:#|no\.?\s*)?\d{1,3}\s*[.):\-–—]\s*|\(\d{1,3}\)\s*|[•\-*·▪►✓✔→]\s+|step\s+\d+\s*[:.]\s*)",
                        re.IGNORECASE)
_LABEL = re.compile(
    r"^(?:(?:example|sample|chatgpt|ai|copy|copy-paste|copy\s+this|use\s+this|the|my|full|final|bonus|simple|"
    r"better|good|a|your)\s+)?(?:prompt(?:\s+(?:template|example|idea|to\s+(?:copy|use|try)))?|template|"
    r"try(?:\s+this)?(?:\s+prompt)?|example|input|use|ask|say)\s*(?:#?\d{1,3})?\s*[:\-–—]\s*"
    r"|^[^:“”\"]{0,60}\btry(?:\s+this)?(?:\s+instead)?\s*:\s*",
    re.IGNORECASE)
_QUOTES = [('"', '"'), ("“", "”"), ("‘", "’"), ("'", "'"), ("«", "»"), ("„", "“"), ("`", "`"), ("”", "”"), ("“", "“")]
_QUOTED_TAIL = re.compile(r"^(?P<lead>[^\"“”]{1,80}?):\s*[\"“](?P<q>[^\"“”]{10,})[\"”]\s*\.?$")
# “Rewrite this text in a formal tone.” – great for emails: the quoted prompt, then a comment on it
_QUOTED_HEAD = re.compile(r"^[\"“](?P<q>[^\"“”]{10,})[\"”]\s*(?:[-–—:(]|\.?\s+(?=[A-Z]))")


@dataclass
class ExtractedPrompt:
    """One prompt found on a page: cleaned text, the heading it was under, what element held it."""

    text: str
    heading: str | None
    kind: str          # li | quote | code | label | quoted
    position: int      # 1-based, among the prompts of the page
    raw: str = ""      # the element's text as it stood on the page (numbering, lead-ins and all)

    @property
    def normalised(self) -> str:
        """Derived form: every placeholder spelling as ``{name}`` (``[TEXT]``, ``<tone>`` …).

        Stored beside the prompt (``meta.normalised``), never instead of it: the text a page
        wrote is what a user reviews and what a model would have seen.
        """
        return normalise_placeholders(self.text)


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
        soup = parse_page(html)
        candidates = [(_node_text(el), _heading_before(el), "selected", el, False)
                      for el in soup.select(prompt_selector)]
        out.method = "selector"
    else:
        root, out.method = _content_root(html, content_selector)
        candidates = list(_candidates(root)) if root is not None else []
    # a page that never mentions prompts or an AI tool is not a prompt listicle: there a bare
    # imperative ("Write every day") is advice, and only a prompt that names its text counts
    about_ai = bool(prompt_selector) or bool(_ABOUT_AI.search(
        " ".join(filter(None, [title(html), root.get_text(" ") if not prompt_selector and root is not None else ""]))))
    seen: set[str] = set()
    for raw, heading, kind, el, plain in candidates:
        if kind == _META:
            if raw.strip():
                out.rejected.append((" ".join(raw.split())[:200], f"in a section that holds no prompts ({heading})"))
            continue
        text = clean_prompt(raw, el if kind in ("li", "dd", "td", "selected", "label") else None)
        norm = normalise_placeholders(text)  # judged in the slot form: "[TEXT]" counts as a placeholder
        why = rejection(norm, None if kind == "br" else el, min_words=min_words, max_words=max_words, plain=plain,
                        code=kind == "code")
        if not why and not about_ai and kind != "label" and not names_a_text(norm):
            why = "not a prompt page (no prompt or AI tool mentioned) and no text named"
        if why:
            if raw.strip():
                out.rejected.append((" ".join(raw.split())[:200], why))
            continue
        key = norm.casefold()
        if key in seen:
            continue
        seen.add(key)
        out.prompts.append(ExtractedPrompt(text=text, heading=heading, kind=kind, position=len(out.prompts) + 1,
                                           raw=" ".join(raw.split())))
    return out


_ABOUT_AI = re.compile(r"prompt|chat\s?gpt|\bgpt|\bai\b|\bclaude\b|\bgemini\b|copilot|\bllms?\b|language model|"
                       r"chatbot|bard\b|midjourney|perplexity", re.IGNORECASE)
# -- main content ----------------------------------------------------------------------------
def _content_root(html: str, content_selector: str | None) -> tuple[Tag | None, str]:
    if content_selector:
        soup = parse_page(html)
        found = soup.select(content_selector)
        if found:
            wrapper = parse_page("<div></div>").div
            for el in found:
                drop_boilerplate(el)
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
        root = parse_page(main).body
        if root is not None and any(True for _ in _candidates(root)):
            return root, "trafilatura"
    soup = parse_page(html)
    body = soup.body or soup
    drop_boilerplate(body)
    return body, "body"


# -- candidates ------------------------------------------------------------------------------
def _candidates(root: Tag):
    """(raw text, heading, kind, element, plain) for every block that may hold a prompt, in order.

    ``plain`` marks a bare prose paragraph, which the judge holds to a stricter rule. Sections
    under a how-to/benefits/FAQ heading and the block after an "Output:" label are skipped.
    """
    heading: str | None = None
    meta = False
    skip: Tag | None = None
    expect_output = False
    after_label: Tag | None = None  # a bare "Prompt:" paragraph: the next paragraph is the prompt
    for el in root.find_all(True):
        if skip is not None and (el is skip or skip in el.parents):
            continue
        name = el.name
        if name in HEADINGS:
            # malformed pages nest whole lists inside an unclosed <h2>: only its own words count
            own = _clean_heading(_node_text(el, skip=("ul", "ol", "p", "div", "table")))[:200]
            expect_output = False
            if own and (_is_wrapped_in_quotes(own) or _LABEL.match(own)):
                # the layout where the prompt is the heading: it stays in the section above
                yield own, heading, "heading", el, False
                continue
            heading = own or heading
            meta = bool(heading and META_HEADING.match(heading))
            continue
        if expect_output and name in _BLOCKS:
            skip, expect_output = el, False  # a sample of what the model answered
            continue
        if name in ("li", "dd", "td"):
            if el.find_parent("pre"):
                continue
            text = _node_text(el, skip=("ul", "ol"))
            if meta:
                yield text, heading, _META, el, False
                continue
            if TIP_LABEL.match(text) or OUTPUT_LABEL.match(text):
                continue
            lines = _br_lines(el)
            if len(lines) > 1:
                for line in lines:
                    yield line, heading, "br", el, False
            else:
                yield text, heading, name, el, False
        elif name == "blockquote":
            if el.find(["ul", "ol"]) or el.find_parent(["li", "blockquote"]):
                continue
            lines = _br_lines(el)
            for line in lines if len(lines) > 1 else [_node_text(el)]:
                yield line, heading, "quote", el, False
        elif name == "pre":
            if el.find_parent(["li", "blockquote", "pre"]):
                continue
            yield el.get_text("\n"), heading, "code", el, False
        elif name == "code":
            parent = el.parent
            if el.find_parent(["pre", "li", "blockquote", "td", "dd"]):
                continue
            if parent is not None and parent.name == "p" and _node_text(parent).strip() != el.get_text().strip():
                continue  # inline code inside prose
            yield el.get_text("\n"), heading, "code", el, False
        elif name == "p":
            if el.find_parent(["li", "blockquote", "pre", "td", "dd"]):
                continue
            text = _node_text(el)
            stripped = text.strip()
            if el.code and el.code.get_text().strip() == stripped:
                continue  # handled as code
            if TIP_LABEL.match(stripped):
                continue
            if OUTPUT_LABEL.match(stripped):
                rest = OUTPUT_LABEL.sub("", stripped, count=1).strip()
                expect_output = len(rest.split()) < 2  # a bare label: the answer is the next block
                continue
            if OUTPUT_INTRO.search(stripped):
                expect_output = True
                continue
            lines = _br_lines(el)
            if len(lines) > 1:
                for line in lines:
                    if not meta:
                        yield line, heading, "br", el, False
                continue
            lead = el.find(["strong", "b", "em", "i"])
            lead_text = " ".join(lead.get_text().split()) if lead is not None else ""
            labelled = after_label is not None and el.find_previous_sibling() is after_label
            after_label = None
            if _LABEL.match(stripped) and not _LABEL.sub("", stripped, count=1).strip():
                after_label = el
                continue
            if labelled or _LABEL.match(stripped) or (lead_text and stripped.startswith(lead_text) and
                                          (_LABEL.match(lead_text + " ") or lead_text.endswith(":"))):
                yield stripped, heading, "label", el, False
            elif (_is_wrapped_in_quotes(stripped) or _QUOTED_TAIL.match(stripped)) and \
                    sum(stripped.count(q) for q in '"“”') <= 2:  # more quotes: dialogue from a story
                yield stripped, heading, "quoted", el, False
            elif meta:
                yield stripped, heading, _META, el, False
            elif _SYMBOL_LEAD.match(stripped):
                yield stripped, heading, "emoji", el, False
            else:
                yield stripped, heading, "para", el, True


def _br_lines(el: Tag) -> list[str]:
    """Lines of an element split at <br> (a list written as lines), when it has any."""
    if el.find("br") is None:
        return []
    parts, current = [], []
    for piece in el.descendants:
        if isinstance(piece, Tag):
            if piece.name == "br":
                parts.append("".join(current))
                current = []
            continue
        if any(p.name in ("ul", "ol") for p in piece.parents if p is not el and _within(p, el)):
            continue
        current.append(str(piece))
    parts.append("".join(current))
    return [" ".join(p.split()) for p in parts if p.strip()]


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
    """The prompt as the page wrote it: numbering, labels, bold lead-ins ("Formal tone:") and wrapping
    quotes stripped (page furniture, not prompt); placeholders kept as spelled (``[TEXT]`` stays).
    """
    text = " ".join(raw.split())
    if el is not None:
        lead = el.find(["strong", "b"])
        if lead is not None:
            lead_text = " ".join(lead.get_text().split())
            if lead_text.endswith(":") and text.startswith(lead_text) and len(text) > len(lead_text) + 10:
                text = text[len(lead_text):].strip()
    for _ in range(3):
        before = text
        text = _SYMBOL_LEAD.sub("", text, count=1).strip()
        text = _NUMBERING.sub("", text, count=1).strip()
        text = _LABEL.sub("", text, count=1).strip()
        m = _QUOTED_TAIL.match(text) or _QUOTED_HEAD.match(text)
        if m:
            text = m.group("q").strip()
        text = _unquote(text)
        if text == before:
            break
    return text


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
