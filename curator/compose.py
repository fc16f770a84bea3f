"""The template stage's two commands: ``expand`` (templates × vocabularies → prompts) and
``combine`` (two or three changes → one multi-instruction prompt).

The template language itself (parsing, expansion, combination, conflicts) is
:mod:`curator.templates`; this module is what a command does with it: load the corpus's library
(plus extra files), validate everything before writing, write the prompts in one transaction and
record one event. The CLI and ``Corpus.expand`` / ``Corpus.combine`` both call these functions,
so a notebook and the shell leave the same store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from . import templates as tpl
from .console import progress
from .context import Context
from .errors import CuratorError


@dataclass
class ExpandSummary:
    templates: int
    prompts: int
    seed: int
    max_per_template: int
    by_category: dict[str, int]
    new: int = 0
    existing: int = 0
    dry_run: bool = False
    scraped_skipped: dict[str, int] = field(default_factory=dict)
    shown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CombineSummary:
    k: int
    requested: int
    prompts: int
    seed: int
    categories: list[str]
    top_category_mixes: dict[str, int]
    new: int = 0
    existing: int = 0
    dry_run: bool = False
    shown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def split_categories(values: Iterable[str] | str | None) -> list[str]:
    """``("tone,length", "format")`` → ``["tone", "length", "format"]``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [c.strip() for v in values for c in v.split(",") if c.strip()]


def load_library(ctx: Context, templates: Sequence[str | Path] = (), vocab: Sequence[str | Path] = ()) -> tpl.Library:
    """The corpus's templates and vocabularies plus extra files; every file is validated first."""
    return tpl.load_library(ctx.root, [Path(p) for p in templates], [Path(p) for p in vocab],
                            seed=ctx.settings.get("templates", "seed"))


def expand(ctx: Context, *, seed: int = 0, max_per_template: int = 25, templates: Sequence[str | Path] = (),
           vocab: Sequence[str | Path] = (), categories: Iterable[str] | str | None = None,
           scraped: bool = False, dry_run: bool = False, show: int = 0) -> ExpandSummary:
    """Expand templates into prompts (origin=template); a re-run adds only what is new.

    ``scraped=True`` also treats stored prompts holding placeholders as templates, filling the
    slots that map to a vocabulary (the others are counted in ``scraped_skipped``).
    """
    if max_per_template < 0:
        raise CuratorError(f"max_per_template {max_per_template}: must be >= 0")
    library = load_library(ctx, templates, vocab)
    skipped: Counter[str] = _add_scraped(ctx, library) if scraped else Counter()
    cats = split_categories(categories)
    chosen = [t for _, t in sorted(library.templates.items()) if not cats or t.category in cats]
    if not chosen:
        raise CuratorError(f"no templates found in {ctx.root / 'templates'}"
                           + (f" for categories {cats}" if cats else "")
                           + "; add templates/*.toml files, pass --templates FILE, or set [templates] seed = true "
                           "in curator.toml to use the seed set shipped with curator")
    expansions: list[tpl.Expansion] = []
    with progress() as bar:
        task = bar.add_task("expand", total=len(chosen))
        for t in chosen:
            expansions += tpl.expand_template(library, t, max_per_template, seed)
            bar.advance(task)
    summary = ExpandSummary(len(chosen), len(expansions), seed, max_per_template,
                            dict(sorted(Counter(e.template.category for e in expansions).items())),
                            dry_run=dry_run, scraped_skipped=dict(skipped.most_common()),
                            shown=[e.text for e in expansions[:show]])
    if not dry_run:
        with ctx.store.transaction():
            result = tpl.store_expansions(ctx, library, expansions)
            summary.new, summary.existing = result.new, result.existing
            ctx.store.log_event("expand", {"seed": seed, "max_per_template": max_per_template,
                                           "templates": [str(p) for p in templates], "vocab": [str(p) for p in vocab],
                                           "categories": cats, "scraped": scraped},
                                {k: v for k, v in summary.as_dict().items() if k != "shown"})
    return summary


def combine(ctx: Context, *, k: int = 2, n: int = 100, seed: int = 0, categories: Iterable[str] | str | None = None,
            templates: Sequence[str | Path] = (), vocab: Sequence[str | Path] = (), dry_run: bool = False,
            show: int = 0) -> CombineSummary:
    """Multi-instruction prompts (origin=combined): ``k`` changes from ``k`` different categories;
    pairs in the [conflicts] table (shorten vs expand, formal vs informal, …) never meet."""
    if k not in (2, 3):
        raise CuratorError(f"k {k}: must be 2 or 3")
    if n < 1:
        raise CuratorError(f"n {n}: must be >= 1")
    library = load_library(ctx, templates, vocab)
    cats = split_categories(categories)
    combos: list[tpl.Combination] = []
    with progress() as bar:
        task = bar.add_task(f"combine k={k}", total=n)
        for combo in tpl.combine(library, k, n, seed, cats or None):
            combos.append(combo)
            bar.advance(task)
    pairs = Counter(" + ".join(c.categories) for c in combos)
    summary = CombineSummary(k, n, len(combos), seed, cats or sorted({p.category for p in library.parts}),
                             dict(pairs.most_common(10)), dry_run=dry_run, shown=[c.text for c in combos[:show]])
    if not dry_run:
        with ctx.store.transaction():
            result = tpl.store_combinations(ctx, library, combos, seed)
            summary.new, summary.existing = result.new, result.existing
            ctx.store.log_event("combine", {"k": k, "n": n, "seed": seed, "categories": cats,
                                            "templates": [str(p) for p in templates],
                                            "vocab": [str(p) for p in vocab]},
                                {k_: v for k_, v in summary.as_dict().items() if k_ != "shown"})
    return summary


def templates(ctx: Context, *, categories: Iterable[str] | str | None = None, templates: Sequence[str | Path] = (),
              vocab: Sequence[str | Path] = (), max_per_template: int = 25) -> dict:
    """Every template with its category, cross-product size and expected prompt count
    (``curator templates list``); loading validates every file."""
    library = load_library(ctx, templates, vocab)
    cats = split_categories(categories)
    rows = [{"id": t.id, "category": t.category, "text": t.text, "placeholders": t.placeholders,
             "cross_product": tpl.cross_size(library, t),
             "prompts": tpl.expected_count(library, t, max_per_template), "where": t.where}
            for _, t in sorted(library.templates.items()) if not cats or t.category in cats]
    return {"templates": rows, "parts": len(library.parts), "vocabularies": len(library.vocab),
            "conflict_pairs": len(library.conflicts.pairs), "max_per_template": max_per_template}


def vocab(ctx: Context, *, vocab: Sequence[str | Path] = ()) -> list[dict]:
    """Vocabularies: name, size, sampled or crossed, aliases, files (``curator templates vocab``)."""
    library = tpl.load_library(ctx.root, (), [Path(p) for p in vocab], validate_all=False,
                               seed=ctx.settings.get("templates", "seed"))
    return [{"name": v.name, "size": len(v.values), "sampled": v.sampled, "aliases": v.aliases,
             "files": [str(f) for f in v.files], "examples": v.values[:4]}
            for _, v in sorted(library.vocab.items())]


def _add_scraped(ctx: Context, library: tpl.Library) -> Counter[str]:
    """Stored prompts with placeholders become templates; those with unknown slots are counted."""
    skipped: Counter[str] = Counter()
    rows = ctx.store.query(
        "SELECT id, text, category FROM prompts WHERE origin NOT IN ('template', 'combined') "
        "AND duplicate_of IS NULL AND (text LIKE '%[%' OR text LIKE '%<%' OR text LIKE '%{%')")
    for row in rows:
        text = tpl.scraped_template(row["text"])
        try:
            segments = tpl.parse(text)
        except tpl.TemplateSyntaxError:
            skipped["unparseable"] += 1
            continue
        names = tpl.slot_names(segments)
        if not names:
            continue
        missing = [n for n in names if library.vocabulary(n) is None or not library.vocabulary(n).values]
        if missing:
            skipped.update(f"{{{n}}}" for n in missing)
            continue
        tid = f"prompt:{row['id']}"
        library.templates[tid] = tpl.Template(tid, row["category"] or "scraped", text,
                                              Path("store"), 0, segments)
    return skipped
