"""Text normalisation, content ids and word counts.

Content ids are the backbone of the store: a prompt or sample is keyed by a hash of its
*normalised* text, so the same prompt arriving from two files (or twice from one) collapses into
one row for free, and embeddings computed once are found again by id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


def clean(text: str) -> str:
    """Tidy a text for storage: NFC form, no surrounding whitespace, Windows newlines unified.

    Inner newlines are kept (originals are multi-paragraph); only the edges are trimmed.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def normalise(text: str) -> str:
    """The form two texts must share to count as the *same* text.

    NFKC (full-width and compatibility characters fold), case-folded, whitespace collapsed.
    Punctuation is kept: "Rewrite this." and "Rewrite this!" are different prompts to a model,
    and near-duplicates are the embedding stage's job, not this one's.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", text).strip()


def content_id(*parts: str) -> str:
    """A stable 16-hex-digit id (64 bits) from one or more texts, each normalised.

    64 bits keep the birthday-collision odds below 1e-7 up to ~2 million rows. Parts are joined
    with a separator that cannot occur in normalised text, so ("ab", "c") != ("a", "bc").
    """
    joined = "\x1f".join(normalise(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


def word_count(text: str | None) -> int:
    """Words as a reader counts them (contractions are one word)."""
    if not text:
        return 0
    return len(_WORD.findall(text))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: object) -> str:
    """A text with its control characters made visible (``ESC`` → ``\\x1b``), for terminals.

    Prompts come from the web and from model output: a prompt holding ``ESC[2J`` or an OSC title
    sequence must be shown, not obeyed. Newlines and tabs are kept; bidirectional overrides are
    shown too, since they can make a text read differently from what it is.
    """
    if text is None:
        return ""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(text))
