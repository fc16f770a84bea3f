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

import pickle
import re
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

__all__ = ["Lexicon", "SlotReader", "slot_signature", "slot_signatures", "load_lexicon", "slot_difference"]

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
    # case-folded tokens that start a phrase or are number words: the only lower-case tokens
    # that can add a value
    interesting: set[str] = field(default_factory=lambda: set(NUMBER_WORDS))

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
        self.interesting.add(key[0])


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
    toks = _TOKEN.findall(text)
    low = [t.casefold() for t in toks]
    alpha = [t for t in toks if t[0].isalpha()]
    shouting = len(alpha) > 2 and sum(t[0].isupper() for t in alpha) > 0.6 * len(alpha)
    starts: list[int] | None = None  # token offsets in text, found only when a rule needs them

    def sentence_start(i: int) -> bool:
        nonlocal starts
        if i == 0:  # most prompts open with a capital: no need to place every token for it
            return _sentence_start(text, _TOKEN.search(text).start())
        if starts is None:
            starts = [m.start() for m in _TOKEN.finditer(text)]
        return _sentence_start(text, starts[i])

    # only a token that is not lower case (a digit, a capital) or that starts a vocabulary phrase
    # or is a number word can add a value; the rest are passed over unlooked-at. Same signatures
    # as the token-by-token walk (tests/test_slots.py), 1.5x faster: dedup reads every prompt's.
    interesting = lexicon.interesting
    found: set[str] = set()
    free = 0  # tokens before this index were consumed by a phrase
    for i in [i for i, (t, t_low) in enumerate(zip(toks, low)) if t_low in interesting or not t[0].islower()]:
        if i < free:
            continue
        tok = low[i]
        if tok[0].isdigit():
            found.add(tok.replace(",", ""))
            continue
        step = 0
        for n in range(min(lexicon.starts.get(tok, 0), len(toks) - i), 0, -1):
            key = tuple(low[i:i + n])
            if key in lexicon.phrases:
                exact = lexicon.exact_case.get(key)
                if exact is not None and (tuple(toks[i:i + n]) != exact or sentence_start(i)):
                    continue
                found.add(lexicon.phrases[key])
                step = n
                break
        if step:
            free = i + step
            continue
        if tok in NUMBER_WORDS:
            found.add(NUMBER_WORDS[tok])
        elif (not shouting and toks[i][0].isupper() and tok not in INPUT_NOUNS and toks[i] != "I"
              and not sentence_start(i)):
            found.add(tok)
    return tuple(sorted(found))


def slot_difference(a: str, b: str, lexicon: Lexicon) -> tuple[list[str], list[str]]:
    """Slot values only in ``a`` and only in ``b`` (both empty = same slots)."""
    sa, sb = set(slot_signature(a, lexicon)), set(slot_signature(b, lexicon))
    return sorted(sa - sb), sorted(sb - sa)


#: from this many texts on, a :class:`SlotReader` starts a helper process
PARALLEL_FROM = 40_000
#: texts per answer of the helper (about 50 ms of work), and per step of the caller
HELPER_CHUNK, CALLER_CHUNK = 2000, 1000


class SlotReader:
    """``slot_signature`` of many texts, started early and collected later.

    It is pure Python (about 5 s for 250k prompts on one core). From ``PARALLEL_FROM`` texts on
    a helper interpreter (``python -c``; the texts in a pickle in a temporary file) reads them
    from the last one backwards, answering every ``HELPER_CHUNK`` texts on its stdout, while the
    caller does other things (dedup loads vectors and searches pairs meanwhile). :meth:`result`
    then reads from the first text forwards until it meets the helper, and stops the helper.
    Neither side waits for the other: with a fixed half for each (sessions 13-14) the helper was
    done during the pair search and the caller then read its half alone for 2.8 s with one core
    idle. Not ``multiprocessing``: a fork copies a parent that runs BLAS and OpenMP threads, and a
    spawn re-runs the caller's script when it has no ``if __name__ == "__main__"`` guard. If the
    helper cannot start or dies, the caller reads whatever it did not answer.
    """

    def __init__(self, texts: Sequence[str], lexicon: Lexicon):
        self.lexicon = lexicon
        self.texts = list(texts)
        self.total = len(self.texts)
        self._helper: subprocess.Popen | None = None
        self._chunks: list[tuple[int, list]] = []  # (first index, signatures), appended by _listen
        self._low = self.total  # the helper has answered every text from here on
        self._talk: threading.Thread | None = None
        self._handoff: Path | None = None
        self.caller_read = 0  # texts result() read here (the rest came from the helper)
        if self.total >= PARALLEL_FROM:
            try:
                # the texts go through a file: fed through a pipe by a thread, the writing needed
                # the GIL for every 512 bytes and got it only when the caller paused
                with tempfile.NamedTemporaryFile("wb", suffix=".slots", delete=False) as f:
                    self._handoff = Path(f.name)
                    pickle.dump((lexicon, self.texts, HELPER_CHUNK), f, protocol=pickle.HIGHEST_PROTOCOL)
                self._helper = subprocess.Popen(
                    [sys.executable, "-c", "from curator.slots import _serve; _serve()", str(self._handoff)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                self._talk = threading.Thread(target=self._listen, args=(self._helper.stdout,), daemon=True)
                self._talk.start()
            except OSError:  # no processes or no temporary files here (a sandbox)
                self.close()

    def _listen(self, out) -> None:
        """Collect the helper's answers: each (first index, signatures) ends where the previous began."""
        try:
            while True:
                lo, sigs = pickle.load(out)
                if lo + len(sigs) != self._low:
                    return
                self._chunks.append((lo, sigs))
                self._low = lo  # after the append: a reader of _low finds its chunk stored
        except Exception:  # EOF, or a helper stopped mid-answer: what arrived whole stands
            return

    @property
    def running(self) -> bool:
        """The helper is still reading (it has not answered every text, died or been stopped)."""
        return self._helper is not None and self._helper.poll() is None and self._low > 0

    @property
    def theirs(self) -> int:
        """Texts the helper has answered so far."""
        return self.total - self._low

    def result(self, progress: Callable[[int, int], None] | None = None) -> list[tuple[str, ...]]:
        """Every text's signature, in order; ``progress(done, total)`` as the two sides go."""
        try:
            out: list[tuple[str, ...]] = []
            while len(out) < self._low:  # _low only falls; read here up to where the helper is
                end = min(len(out) + CALLER_CHUNK, self._low)
                out += [slot_signature(t, self.lexicon) for t in self.texts[len(out):end]]
                if progress is not None:
                    progress(min(len(out) + self.theirs, self.total), self.total)
            met = self.caller_read = len(out)
            self.close()  # the helper's remaining work was done here
            for lo, sigs in reversed(self._chunks):  # ascending, contiguous, ending at total
                if lo + len(sigs) > met:
                    out += sigs[max(met - lo, 0):]
            if progress is not None:
                progress(self.total, self.total)
            return out
        finally:
            self.close()

    def close(self) -> None:
        """Stop the helper if it still runs (done, or an interrupted caller); remove the hand-off file."""
        if self._helper is not None and self._helper.poll() is None:
            self._helper.kill()
            self._helper.wait()
        if self._talk is not None:
            self._talk.join(timeout=5)
        if self._handoff is not None:
            self._handoff.unlink(missing_ok=True)
            self._handoff = None

    def __enter__(self) -> "SlotReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def slot_signatures(texts: Sequence[str], lexicon: Lexicon,
                    progress: Callable[[int, int], None] | None = None) -> list[tuple[str, ...]]:
    """``slot_signature`` of every text (from 40k texts on, a helper process reads from the end
    while this one reads from the start: :class:`SlotReader`), with ``progress(done, total)``."""
    return SlotReader(texts, lexicon).result(progress)


def _serve() -> None:
    """The helper side of :class:`SlotReader`: (lexicon, texts) pickled in the file named by the
    first argument; the signatures from the last text backwards, pickled to stdout a chunk at a
    time as (first index, signatures), until every text is answered or the caller stops it."""
    with open(sys.argv[1], "rb") as f:
        lexicon, texts, chunk = pickle.load(f)
    out = sys.stdout.buffer
    for hi in range(len(texts), 0, -chunk):
        lo = max(hi - chunk, 0)
        pickle.dump((lo, [slot_signature(t, lexicon) for t in texts[lo:hi]]), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
