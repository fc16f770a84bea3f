"""Template syntax: ``{name}`` placeholders, literal ``{{``/``}}``, rendering, scraped prompts.

The text-level job of the template stage, with no knowledge of files or vocabularies: parse a
template into literal strings and slots, render it with values (making "a"/"an" agree), and turn
a prompt found on the web into one of our templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import CuratorError
from ..placeholders import normalise_placeholders

NAME = re.compile(r"[a-z][a-z0-9_]*")


class TemplateSyntaxError(ValueError):
    """A template text that cannot be parsed; ``column`` is 1-based within the text."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Slot:
    """A ``{name}`` placeholder in a parsed template."""

    name: str


Segment = str | Slot


def parse(text: str) -> tuple[Segment, ...]:
    """Split a template into literal strings and :class:`Slot` placeholders.

    ``{{`` and ``}}`` are literal braces; ``{name}`` (lower-case snake_case) is a placeholder.
    Anything else with a brace is an error, because a stray brace in a template is nearly always
    a typo that would otherwise leak into thousands of prompts.

    >>> parse("Rewrite this {text} as {{JSON}}.")
    ('Rewrite this ', Slot(name='text'), ' as {JSON}.')
    """
    out: list[Segment] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                buf.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            inner = text[i + 1:end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise TemplateSyntaxError(f"unbalanced '{{' at column {i + 1}; write '{{{{' for a literal brace",
                                          i + 1)
            if not NAME.fullmatch(inner):
                raise TemplateSyntaxError(
                    f"bad placeholder {{{inner}}} at column {i + 1}: names are lower-case snake_case "
                    f"like {{tone}}; write '{{{{' for a literal brace", i + 1)
            if buf:
                out.append("".join(buf))
                buf = []
            out.append(Slot(inner))
            i = end + 1
        elif ch == "}":
            if text.startswith("}}", i):
                buf.append("}")
                i += 2
                continue
            raise TemplateSyntaxError(f"unbalanced '}}' at column {i + 1}; write '}}}}' for a literal brace", i + 1)
        else:
            buf.append(ch)
            i += 1
    if buf:
        out.append("".join(buf))
    return tuple(out)


def slot_names(segments: Sequence[Segment]) -> list[str]:
    """Placeholder names in order of first appearance, each once."""
    seen: dict[str, None] = {}
    for seg in segments:
        if isinstance(seg, Slot):
            seen.setdefault(seg.name, None)
    return list(seen)


def _article(value: str) -> str:
    """'a' or 'an' before ``value``, by sound for the common cases (an hour, a unicorn, an SQL)."""
    word = value.split()[0] if value.split() else value
    low = word.lower()
    if len(word) > 1 and (word.isupper() or not word[1:2].isalpha()) and word[0].isalpha():
        return "an" if word[0].upper() in "AEFHILMNORSX" else "a"  # read as letters
    if low.startswith(("hour", "honest", "honou", "honor", "heir")):
        return "an"
    if low.startswith(("uni", "use", "usu", "uti", "eu", "one", "once", "ukul", "ura", "uro")):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def render(segments: Sequence[Segment], values: dict[str, str]) -> str:
    """Fill the slots; a literal "a"/"an" right before a slot agrees with the filled value."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, Slot):
            value = values[seg.name]
            if out:
                m = re.search(r"(?:^|(?<=\W))([Aa]n?) $", out[-1])
                if m and value:
                    art = _article(value)
                    art = art.capitalize() if m.group(1)[0] == "A" else art
                    out[-1] = out[-1][:m.start(1)] + art + " "
            elif value:
                value = value[0].upper() + value[1:]
            out.append(value)
        else:
            out.append(seg)
    return "".join(out)


_PASSAGE_SLOTS = ("text", "passage", "paragraph", "content", "article", "essay", "message")
_DETERMINERS = re.compile(r"(?:\b(?:this|the|that|my|your|a|an|our|following|these|his|her|their)\s+)$",
                          re.IGNORECASE)


def scraped_template(text: str) -> str:
    """A prompt found on the web as one of our templates.

    Placeholder spellings (``[insert text]``, ``<topic>``, ``{{tone}}``, ``[TONE]``) become
    ``{name}`` (:func:`curator.placeholders.normalise_placeholders`); a bare passage slot ("Rewrite
    [TEXT] formally") becomes "this {text}", since in our templates ``{text}`` is the text-type
    noun; any other brace left over is escaped so it stays literal.
    """
    norm = normalise_placeholders(" ".join(text.split()))
    pieces = re.split(r"(\{[a-z][a-z0-9_]*\})", norm)
    out: list[str] = []
    for piece in pieces:
        m = re.fullmatch(r"\{([a-z][a-z0-9_]*)\}", piece)
        if not m:
            out.append(piece.replace("{", "{{").replace("}", "}}"))
            continue
        name = m.group(1)
        if name in _PASSAGE_SLOTS:
            before = "".join(out)
            out.append("{text}" if _DETERMINERS.search(before) else "this {text}")
        else:
            out.append(piece)
    return "".join(out)


def clean_values(values: Any, where: str) -> list[str]:
    """A vocabulary list as distinct strings with collapsed whitespace (empty ones dropped)."""
    if not isinstance(values, list):
        raise CuratorError(f"{where}: a vocabulary must be a list of strings")
    out: dict[str, None] = {}
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise CuratorError(f"{where}: value {i + 1} is {type(v).__name__}, not a string")
        s = " ".join(str(v).split())
        if s:
            out.setdefault(s, None)
    return list(out)
