"""Slot values of a prompt: the words that make it a *different* prompt from a close paraphrase.

In prompt recovery "Rewrite this in exactly 150 words" and "…200 words", "…into French" and
"…into Spanish", "…like Hemingway" and "…like Austen" are different prompts, however close their
embeddings (MiniLM puts them at cosine 0.9-0.98). A rewording ("…formal tone." / "…formal tone,
please.", "Summarize" / "Summarise") keeps every slot value. So dedup only merges prompts whose
slot signatures are equal, and the signature is what this module computes:

- numbers: digits, number words and ordinals ("two sentences" = "2 sentences", "third person");
- vocabulary values: every value of the corpus's ``vocab/*.toml`` (tones, languages, authors,
  styles, audiences, formats…) plus a built-in core, matched as whole words, longest first; the
  sampled text-type noun ("this text" / "this passage") is not a slot value, it names the input;
- names: a capitalised word that does not start a sentence ("…in the voice of Gandalf").

Case-folded; a value counts once. Short capitalised vocabulary values ("Go", "R") only match when
capitalised, so "go ahead" is not the Go language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

__all__ = ["Lexicon", "slot_signature", "load_lexicon", "slot_difference"]

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
    "single": "1", "double": "2", "triple": "3", "half": "1/2", "dozen": "12", "twice": "2x", "thrice": "3x",
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th", "tenth": "10th",
}
# a built-in core so a corpus without vocab/ still keeps the commonest slot kinds apart
CORE_VALUES = (
    "formal informal casual humorous funny sarcastic serious friendly professional polite rude angry "
    "happy sad cheerful gloomy optimistic pessimistic enthusiastic calm urgent playful dramatic neutral "
    "romantic mysterious persuasive poetic simple simpler complex academic technical childish "
    "shorter longer short long concise detailed brief "
    "passive active past present future first-person third-person "
    "pirate cowboy robot alien wizard detective poem haiku sonnet limerick song rap tweet email letter "
    "bullet bulleted numbered list table json yaml markdown html "
    "uppercase lowercase capital capitals rhyme rhyming alliteration emoji emojis"
).split()
# words naming the input text itself: not a slot value (a paraphrase swaps them freely)
INPUT_NOUNS = {"text", "passage", "paragraph", "content", "article", "piece", "writing", "essay", "message",
               "it", "this"}
_ARTICLES = {"a", "an", "the", "some"}
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;\"“”'(\[\n]\s*$")


@dataclass
class Lexicon:
    """Vocabulary phrases as token tuples → canonical value; ``exact_case`` for short proper values."""
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)
    exact_case: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    longest: int = 1
    # first token → longest phrase starting with it: most tokens start no phrase, and the matcher
    # skips them without building a key per length (5× faster at 250k prompts)
    starts: dict[str, int] = field(default_factory=dict)

    def add(self, value: str) -> None:
        toks = _TOKEN.findall(value)
        while toks and toks[0].lower() in _ARTICLES:
            toks = toks[1:]
        if not toks:
            return
        key = tuple(t.casefold() for t in toks)
        if len(key) == 1 and key[0] in INPUT_NOUNS:
            return
        self.phrases.setdefault(key, " ".join(NUMBER_WORDS.get(t, t) for t in key))
        if any(c.isupper() for c in value) and len(value) <= 3:
            self.exact_case[key] = tuple(toks)
        self.longest = max(self.longest, len(key))
        self.starts[key[0]] = max(self.starts.get(key[0], 0), len(key))


def _vocab_values(paths: Iterable[Path]) -> list[str]:
    """Values of every non-sampled vocabulary in these files (the templates module's reader)."""
    from .templates import load_vocabularies

    files = [p for p in paths if p.exists()]
    if not files:
        return []
    try:
        vocab = load_vocabularies(files)
    except Exception:  # a broken vocab file is the templates command's error to report, not dedup's
        return []
    return [str(v) for voc in vocab.values() if not voc.sampled for v in voc.values]


@lru_cache(maxsize=8)
def _cached_lexicon(key: tuple[str, ...], extra: tuple[str, ...]) -> Lexicon:
    lex = Lexicon()
    for value in CORE_VALUES:
        lex.add(value)
    for value in _vocab_values([Path(p) for p in key]):
        lex.add(value)
    for value in extra:
        lex.add(value)
    return lex


def load_lexicon(root: Path | None = None, extra: Iterable[str] = (), seed: bool = True) -> Lexicon:
    """The slot lexicon of a corpus: built-in core + the packaged seed vocabularies (unless
    ``seed=False``, i.e. ``[templates].seed = false``) + ``root/vocab`` + ``extra`` values."""
    from .templates import seed_dir

    dirs = ([seed_dir() / "vocab"] if seed else []) + ([root / "vocab"] if root is not None else [])
    paths = tuple(str(d) for d in dirs if d.is_dir())
    return _cached_lexicon(paths, tuple(extra))


def _sentence_start(text: str, start: int) -> bool:
    return start == 0 or bool(_SENTENCE_END.search(text[max(0, start - 3):start])) or \
        not text[:start].strip()


def slot_signature(text: str, lexicon: Lexicon) -> tuple[str, ...]:
    """The sorted slot values of ``text`` (see the module docstring); two prompts whose signatures
    differ are never near-duplicates."""
    matches = list(_TOKEN.finditer(text))
    toks = [m.group(0) for m in matches]
    low = [t.casefold() for t in toks]
    alpha = [t for t in toks if t[0].isalpha()]
    shouting = len(alpha) > 2 and sum(t[0].isupper() for t in alpha) > 0.6 * len(alpha)
    found: set[str] = set()
    i = 0
    while i < len(toks):
        tok = low[i]
        if tok[0].isdigit():
            found.add(tok.replace(",", ""))
            i += 1
            continue
        step = 0
        for n in range(min(lexicon.starts.get(tok, 0), len(toks) - i), 0, -1):
            key = tuple(low[i:i + n])
            if key in lexicon.phrases:
                exact = lexicon.exact_case.get(key)
                if exact is not None and (tuple(toks[i:i + n]) != exact
                                          or _sentence_start(text, matches[i].start())):
                    continue
                found.add(lexicon.phrases[key])
                step = n
                break
        if step:
            i += step
            continue
        if tok in NUMBER_WORDS:
            found.add(NUMBER_WORDS[tok])
        elif (not shouting and toks[i][0].isupper() and tok not in INPUT_NOUNS and toks[i] != "I"
              and not _sentence_start(text, matches[i].start())):
            found.add(tok)
        i += 1
    return tuple(sorted(found))


def slot_difference(a: str, b: str, lexicon: Lexicon) -> tuple[list[str], list[str]]:
    """Slot values only in ``a`` and only in ``b`` (both empty = same slots)."""
    sa, sb = set(slot_signature(a, lexicon)), set(slot_signature(b, lexicon))
    return sorted(sa - sb), sorted(sb - sa)
