"""Expansion: templates × vocabularies → prompts (origin=template).

Each template's prompts are a seeded sample (without repeats) of its cross product; sampled
vocabularies (the text-type nouns) are drawn per prompt from a deck that never repeats a word
the prompt already says. Each template draws from its own random stream (seeded by seed and
template id), so adding a template changes nobody else's output.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from .library import Library, Template
from .parse import Segment, render

if TYPE_CHECKING:
    from ..context import Context
    from ..items import AddResult

_STOPWORDS = frozenset("a an the of to in on for and or with this that it its as by from into".split())
_WORDS = re.compile(r"[\w']+")


@dataclass
class Expansion:
    text: str
    template: Template
    values: dict[str, str]
    index: int  # position in the template's cross product: stable for the same vocabularies




def _words(text: str) -> set[str]:
    words = {w.lower().strip("'") for w in _WORDS.findall(text)} - _STOPWORDS
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


class _Deck:
    """Draws a sampled vocabulary without replacement (reshuffling when spent), skipping values
    that would repeat a word of the prompt, so one template's prompts spread over the nouns."""

    def __init__(self, values: list[str], rng: random.Random):
        self.values, self.rng, self.pile = values, rng, []  # type: list[str]

    def draw(self, avoid: set[str]) -> str:
        for _ in range(2):
            if not self.pile:
                self.pile = self.values[:]
                self.rng.shuffle(self.pile)
            for i in range(len(self.pile) - 1, -1, -1):
                if not (_words(self.pile[i]) & avoid):
                    return self.pile.pop(i)
            self.pile = []  # nothing fits in what is left: try a full deck once
        return self.rng.choice(self.values)  # every value repeats a word: take one anyway


def _fill_sampled(segments: Sequence[Segment], sampled: list[str], values: dict[str, str],
                  decks: dict[str, _Deck], names: dict[str, str]) -> None:
    """Choose the sampled slots last, avoiding every word already in the prompt."""
    for name in sampled:
        placeholder = {n: "" for n in sampled if n not in values}
        avoid = _words(render(segments, {**values, **placeholder}))
        values[name] = decks[names[name]].draw(avoid)



def _split(library: Library, names: Iterable[str]) -> tuple[list[str], list[str]]:
    crossed, sampled = [], []
    for n in names:
        (sampled if library.vocabulary(n).sampled else crossed).append(n)  # type: ignore[union-attr]
    return crossed, sampled


def cross_size(library: Library, template: Template) -> int:
    """Size of the template's cross product (sampled placeholders do not multiply it)."""
    crossed, _ = _split(library, template.placeholders)
    return math.prod(len(library.vocabulary(n).values) for n in crossed)  # type: ignore[union-attr]


def expected_count(library: Library, template: Template, max_per_template: int) -> int:
    """How many prompts :func:`expand_template` makes: min(cross product, cap); cap 0 = no cap."""
    size = cross_size(library, template)
    return size if max_per_template <= 0 else min(size, max_per_template)


def expand_template(library: Library, template: Template, max_per_template: int = 25,
                    seed: int = 0) -> list[Expansion]:
    """The template's prompts: a seeded sample (without repeats) of its cross product.

    The sample is drawn by index from ``range(size)`` (no materialised product, so a template with
    a billion combinations costs the same as one with ten) and kept in index order.
    """
    crossed, sampled = _split(library, template.placeholders)
    vocabs = {n: library.vocabulary(n) for n in template.placeholders}
    size = cross_size(library, template)
    rng = random.Random(f"{seed}:{template.id}")
    count = expected_count(library, template, max_per_template)
    indices = range(size) if count == size else sorted(rng.sample(range(size), count))
    decks = {vocabs[n].name: _Deck(vocabs[n].values, rng) for n in sampled}  # type: ignore[union-attr]
    canon = {n: vocabs[n].name for n in sampled}  # type: ignore[union-attr]
    out = []
    for index in indices:
        values: dict[str, str] = {}
        rest = index
        for name in reversed(crossed):  # mixed radix, last placeholder fastest
            vals = vocabs[name].values  # type: ignore[union-attr]
            rest, digit = divmod(rest, len(vals))
            values[name] = vals[digit]
        _fill_sampled(template.segments, sampled, values, decks, canon)
        values = {n: values[n] for n in template.placeholders}
        out.append(Expansion(render(template.segments, values), template, values, index))
    return out


def expand(library: Library, max_per_template: int = 25, seed: int = 0,
           categories: Sequence[str] | None = None) -> Iterator[Expansion]:
    """Every template's expansions, templates in id order."""
    for tid in sorted(library.templates):
        t = library.templates[tid]
        if categories and t.category not in categories:
            continue
        yield from expand_template(library, t, max_per_template, seed)




def store_expansions(corpus: "Context", library: Library, expansions: Iterable[Expansion]) -> "AddResult":
    """Write expansions as prompts (origin=template) with provenance, in the caller's transaction."""
    from ..items import PromptRecord, Provenance, add_prompts

    records = [PromptRecord(
        e.text, "template",
        Provenance(dataset="templates", role="template", file=e.template.file.name,
                   sha256=library.file_hashes.get(e.template.file), row=e.index, context=e.template.id),
        source="templates", category=e.template.category,
        meta={"template_id": e.template.id, "values": e.values}) for e in expansions]
    return add_prompts(corpus.store.conn, records)

