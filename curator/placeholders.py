"""Placeholder normalisation: every spelling of a slot becomes the template syntax ``{name}``.

Prompts found on the web mark the part a user fills in many ways: ``[insert text]``,
``[TONE]``, ``<topic>``, ``{{tone}}``, ``{Target Audience}``, ``(paste your text here)``. The
templates module expands ``{name}`` placeholders (lower-case snake_case), so a scraped prompt that
is normalised here can be expanded, deduplicated and clustered together with our own templates:
"Rewrite [TEXT] in a [tone] tone" and "Rewrite <text> in a {{ tone }} tone" are the same prompt.

Only short, word-like bracket contents count as slots; a markdown link ``[label](url)``, a
citation ``[1]``, an HTML tag ``<br>``, an aside ``[note: this works best with GPT-4]`` and a
JSON object ``{"a": 1}`` are left exactly as they were.
"""

from __future__ import annotations

import re

__all__ = ["normalise_placeholders", "placeholder_name", "find_placeholders"]

# at most this many words after filler words are dropped: longer bracketed text is prose
MAX_WORDS = 4

# leading words that say "fill me in" rather than naming the slot
_LEADING_FILLERS = {
    "insert", "enter", "paste", "add", "put", "type", "write", "provide", "include",
    "your", "the", "a", "an", "some", "specific", "desired", "chosen", "selected", "relevant",
    "my", "this", "that", "any",
}
_TRAILING_FILLERS = {"here", "below", "above"}
# bracketed words that are not slots (editorial marks, checkboxes)
_NOT_SLOTS = {"sic", "citation needed", "edit", "x", "citation", "ad", "advertisement", "source"}
# <word> that is an HTML tag, not a slot
_HTML_TAGS = {  # names that are also natural slot names (style, title, input, section…) are not here
    "a", "abbr", "b", "blockquote", "body", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "head", "hr", "html", "i", "img", "li", "ol", "p", "pre", "s", "script", "span", "strong",
    "sub", "sup", "table", "td", "th", "tr", "u", "ul", "nav", "small", "q", "cite", "dd", "dl", "dt",
    "tbody", "thead", "meta", "iframe", "noscript", "button",
}

_INNER = r"[A-Za-z][A-Za-z0-9 _'’\-]{0,60}"
_PATTERN = re.compile(
    r"(?<!\{)\{\{\s*(?P<mustache>" + _INNER + r")\s*\}\}(?!\})"  # {{ tone }}
    r"|(?<!\{)\{(?P<brace>" + _INNER + r")\}(?!\})"          # {Tone} / {target audience}
    r"|\[(?P<square>" + _INNER + r")\](?!\()"                # [insert text] but not [link](url)
    r"|<(?P<angle>" + _INNER + r")>"                          # <topic>
    r"|\((?P<paren>(?:insert|paste|enter|add)\s" + _INNER + r")\)",  # (insert your text here)
    re.IGNORECASE,
)


def placeholder_name(inner: str) -> str | None:
    """The ``snake_case`` slot name for the text between brackets, or None if it is no slot.

    >>> placeholder_name("insert text here")
    'text'
    >>> placeholder_name("Target Audience")
    'target_audience'
    >>> placeholder_name("sic") is None
    True
    """
    words = re.split(r"[\s_\-]+", inner.strip().replace("’", "'").lower())
    words = [w.strip("'") for w in words if w.strip("'")]
    if not words or " ".join(words) in _NOT_SLOTS:
        return None
    while len(words) > 1 and words[0] in _LEADING_FILLERS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _TRAILING_FILLERS:
        words.pop()
    if words and words[0] in _LEADING_FILLERS | _TRAILING_FILLERS:
        # "[insert]" / "[here]" alone: the slot is the text itself
        words = ["text"]
    if len(words) > MAX_WORDS or any("'" in w for w in words):
        return None
    name = "_".join(re.sub(r"[^a-z0-9]", "", w) for w in words)
    name = re.sub(r"_+", "_", name).strip("_")
    if not name or not name[0].isalpha() or (len(name) == 1 and name != "x"):
        return None
    return name


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup or ""
    inner = match.group(kind)
    if kind == "angle" and inner.strip().lower() in _HTML_TAGS:
        return match.group(0)
    name = placeholder_name(inner)
    if name is None:
        return match.group(0)
    return "{" + name + "}"


def normalise_placeholders(text: str) -> str:
    """Rewrite every placeholder spelling in ``text`` as ``{snake_case_name}``.

    Idempotent: ``normalise_placeholders(normalise_placeholders(t)) == normalise_placeholders(t)``.

    >>> normalise_placeholders("Rewrite [insert text] in a [TONE] tone about <topic>.")
    'Rewrite {text} in a {tone} tone about {topic}.'
    >>> normalise_placeholders("Use {{ Tone }} for (paste your text here)")
    'Use {tone} for {text}'
    """
    return _PATTERN.sub(_replace, text)


def find_placeholders(text: str) -> list[str]:
    """Slot names of ``text`` after normalisation, in order of first appearance, without repeats."""
    seen: dict[str, None] = {}
    for m in re.finditer(r"(?<!\{)\{([a-z][a-z0-9_]*)\}(?!\})", normalise_placeholders(text)):
        seen.setdefault(m.group(1), None)
    return list(seen)
