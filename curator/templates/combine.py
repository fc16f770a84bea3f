"""Multi-instruction prompts: k changes from k categories, joined naturally, never contradictory.

``[parts.<category>]`` tables hold clauses with a ``first`` form that opens a prompt and a
``then`` form that continues it ("Rewrite this memo in a humorous tone and keep it under 50
words."); the conflict table (:mod:`.conflicts`) keeps contradictory changes apart.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from ..errors import CuratorError
from ..placeholders import find_placeholders
from .expand import _Deck, _fill_sampled, _split
from .library import Library, Part
from .parse import Segment, render, slot_names

if TYPE_CHECKING:
    from ..context import Context
    from ..items import AddResult

# how many tries a combination draw gets before the categories are declared incompatible
MAX_TRIES = 200

# Natural joins of k clauses. {A} is the first clause capitalised, {a} the same clause with a
# lower-case first letter (after "Please"), {b} / {c} the continuation clauses.
JOINERS: dict[int, tuple[str, ...]] = {
    2: ("{A} and {b}.", "{A}, then {b}.", "{A}, and also {b}.", "Please {a} and {b}."),
    3: ("{A}, {b}, and {c}.", "{A}, {b}, then {c}.", "{A} and {b}, then {c}.",
        "Please {a}, {b}, and {c}."),
}


@dataclass
class Combination:
    text: str
    parts: list[Part]
    values: dict[str, str]
    tags: list[list[str]]
    index: int  # draw number for this seed

    @property
    def categories(self) -> list[str]:
        return [p.category for p in self.parts]



def _parts_by_category(library: Library, categories: Sequence[str] | None) -> dict[str, list[Part]]:
    by: dict[str, list[Part]] = {}
    for p in library.parts:
        if not categories or p.category in categories:
            by.setdefault(p.category, []).append(p)
    return by


def draw_combinations(library: Library, k: int = 2, seed: int = 0,
                      categories: Sequence[str] | None = None) -> Iterator[Combination]:
    """An endless seeded stream of conflict-free k-part prompts from k distinct categories.

    Each draw picks k categories, one part in each and the values of its placeholders, and keeps
    it only when no two parts' tags (their own plus those implied by the values) form a declared
    conflict pair; otherwise it draws again. Parts are ordered by their ``order`` so that a
    translation or encoding comes last ("…, then translate it into French").
    """
    if k not in JOINERS:
        raise CuratorError(f"--k must be one of {sorted(JOINERS)}, got {k}")
    by = _parts_by_category(library, categories)
    if categories:
        missing = sorted(set(categories) - set(by))
        if missing:
            raise CuratorError(f"no combination parts in categories {missing}; categories with parts: "
                               f"{sorted({p.category for p in library.parts})}")
    if len(by) < k:
        raise CuratorError(f"need parts in at least {k} categories to combine {k} changes, found "
                           f"{len(by)} ({', '.join(sorted(by)) or 'none'}); add [parts.<category>] tables")
    rng = random.Random(f"combine:{seed}:{k}")
    cats = sorted(by)
    decks: dict[str, _Deck] = {}
    index = 0
    while True:
        for _ in range(MAX_TRIES):
            picked = [rng.choice(by[c]) for c in rng.sample(cats, k)]
            picked.sort(key=lambda p: p.order)
            combo = _fill_combination(library, picked, rng, decks, index)
            if combo is not None:
                break
        else:
            raise CuratorError(f"no conflict-free combination of {k} parts found in {MAX_TRIES} draws "
                               f"from categories {cats}; relax [conflicts] or add parts")
        yield combo
        index += 1


def _fill_combination(library: Library, parts: list[Part], rng: random.Random,
                      decks: dict[str, _Deck], index: int) -> Combination | None:
    forms = [parts[0].first] + [p.then for p in parts[1:]]
    names = slot_names([s for f in forms for s in f])
    crossed, sampled = _split(library, names)
    values = {n: rng.choice(library.vocabulary(n).values) for n in crossed}  # type: ignore[union-attr]
    tags = [library.conflicts.tags_of(p, values) for p in parts]
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            if library.conflicts.clash(tags[i], tags[j]):
                return None
    canon = {n: library.vocabulary(n).name for n in sampled}  # type: ignore[union-attr]
    for n in sampled:
        decks.setdefault(canon[n], _Deck(library.vocabulary(n).values, rng))  # type: ignore[union-attr]
    joined: list[Segment] = [s for f in forms for s in (*f, " ")]
    _fill_sampled(joined, sampled, values, decks, canon)
    clauses = [render(f, values) for f in forms]
    joiner = rng.choice(JOINERS[len(parts)])
    first = clauses[0]
    lower = first if first[1:2].isupper() else first[:1].lower() + first[1:]
    text = joiner.format(A=first[:1].upper() + first[1:], a=lower, b=clauses[1],
                         c=clauses[2] if len(clauses) > 2 else "")
    return Combination(text, parts, {n: values[n] for n in names}, [sorted(t) for t in tags], index)


def combine(library: Library, k: int = 2, n: int = 100, seed: int = 0,
            categories: Sequence[str] | None = None, max_draws: int | None = None) -> list[Combination]:
    """``n`` distinct combined prompts (fewer when the parts cannot make that many)."""
    seen: set[str] = set()
    out: list[Combination] = []
    limit = max_draws if max_draws is not None else max(1000, 50 * n)
    for draws, combo in enumerate(draw_combinations(library, k, seed, categories)):
        if len(out) >= n or draws >= limit:
            break
        key = " ".join(combo.text.casefold().split())
        if key not in seen and not find_placeholders(combo.text):  # a slot left unfilled: a template, skip
            seen.add(key)
            out.append(combo)
    return out




def store_combinations(corpus: "Context", library: Library, combos: Iterable[Combination],
                       seed: int = 0) -> "AddResult":
    """Write combined prompts (origin=combined, category=multi) with provenance."""
    from ..items import PromptRecord, Provenance, add_prompts

    records = []
    for c in combos:
        files = sorted({p.file for p in c.parts})
        digest = hashlib.sha256("".join(library.file_hashes.get(f, "") for f in files).encode()).hexdigest()
        records.append(PromptRecord(
            c.text, "combined",
            Provenance(dataset="templates", role="combined", file=",".join(f.name for f in files),
                       sha256=digest, row=c.index, context=f"seed={seed} " + "+".join(p.id for p in c.parts)),
            source="templates", category="multi",
            meta={"parts": [{"id": p.id, "category": p.category, "tags": t}
                            for p, t in zip(c.parts, c.tags)],
                  "categories": c.categories, "values": c.values}))
    return add_prompts(corpus.store.conn, records)
