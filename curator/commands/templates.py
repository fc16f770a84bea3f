"""`curator expand`, `curator combine`, `curator templates`: the template stage on the command line.

Thin wrappers over :mod:`curator.templates`: load the corpus's templates and vocabularies (plus
``--templates`` / ``--vocab`` files), validate all of them before writing anything, then write the
prompts in one transaction and record an event.
"""

from __future__ import annotations

from collections import Counter

import click
from rich.table import Table

from .. import compose as stage
from ..console import console, data, print_json
from ..text import visible
from .common import open_corpus

_TEMPLATES_HELP = ("Extra template file or directory (.toml, or .txt with one scraped-style prompt a "
                   "line); its ids override the corpus's. Repeatable.")
_VOCAB_HELP = "Extra vocabulary file or directory (.toml, or .json lists named by file). Repeatable."


@click.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--max-per-template", type=click.IntRange(min=0), default=25, show_default=True,
              help="Cap per template (0 = the whole cross product).")
@click.option("--templates", "templates", multiple=True, type=click.Path(exists=True), help=_TEMPLATES_HELP)
@click.option("--vocab", multiple=True, type=click.Path(exists=True), help=_VOCAB_HELP)
@click.option("--category", "categories", multiple=True, help="Only these categories (repeatable or a,b).")
@click.option("--scraped", is_flag=True,
              help="Also expand stored prompts (scraped, public…) that hold placeholders such as "
                   "[insert text], <topic>, {{tone}} or [TONE], when every placeholder has a vocabulary.")
@click.option("--dry-run", is_flag=True, help="Count and show, write nothing.")
@click.option("--show", type=int, default=0, help="Print N of the prompts.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def expand(ctx, seed, max_per_template, templates, vocab, categories, scraped, dry_run, show, as_json) -> None:
    """Expand prompt templates into prompts (origin=template).

    {name} placeholders are filled from the vocabularies; text-type nouns ({text}) are sampled
    per prompt, everything else is a seeded sample of the cross product, at most
    --max-per-template per template. Re-running adds only what is new.
    """
    summary = stage.expand(open_corpus(ctx), seed=seed, max_per_template=max_per_template, templates=templates,
                           vocab=vocab, categories=categories, scraped=scraped, dry_run=dry_run, show=show)
    _report("expand", summary.as_dict(), as_json)


@click.command()
@click.option("--k", type=click.Choice(["2", "3"]), default="2", show_default=True,
              help="Changes per prompt.")
@click.option("--n", type=click.IntRange(min=1), default=100, show_default=True, help="How many distinct prompts.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--categories", multiple=True, help="Draw only from these categories (repeatable or a,b).")
@click.option("--templates", "templates", multiple=True, type=click.Path(exists=True), help=_TEMPLATES_HELP)
@click.option("--vocab", multiple=True, type=click.Path(exists=True), help=_VOCAB_HELP)
@click.option("--dry-run", is_flag=True, help="Count and show, write nothing.")
@click.option("--show", type=int, default=0, help="Print N of the prompts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def combine(ctx, k, n, seed, categories, templates, vocab, dry_run, show, as_json) -> None:
    """Multi-instruction prompts (origin=combined): k changes from k different categories.

    Parts come from [parts.<category>] tables; pairs in the [conflicts] table (shorten vs
    expand, formal vs informal, …) never meet in one prompt.
    """
    summary = stage.combine(open_corpus(ctx), k=int(k), n=n, seed=seed, categories=categories,
                            templates=templates, vocab=vocab, dry_run=dry_run, show=show)
    _report("combine", summary.as_dict(), as_json)


def _report(what: str, summary: dict, as_json: bool) -> None:
    shown = summary.pop("shown", [])
    if as_json:
        print_json({**summary, "shown": shown} if shown else summary)
        return
    written = "" if summary["dry_run"] else f": {summary['new']} new, {summary['existing']} already present"
    if what == "expand":
        console.print(f"expanded {summary['templates']} templates into {summary['prompts']} prompts{written}")
        console.print("  by category: " + ", ".join(f"{c} {n}" for c, n in summary["by_category"].items()))
        if summary.get("scraped_skipped"):
            console.print("  stored prompts skipped (placeholder without vocabulary): "
                          + ", ".join(f"{k} {v}" for k, v in list(summary["scraped_skipped"].items())[:10]))
    else:
        console.print(f"combined {summary['prompts']} of {summary['requested']} requested prompts "
                      f"(k={summary['k']}){written}")
    for text in shown:
        console.print(f"  • {visible(text)}", markup=False)


@click.group("templates")
def templates_group() -> None:
    """Inspect the corpus's templates, combination parts and vocabularies."""


@templates_group.command("list")
@click.option("--category", "categories", multiple=True, help="Only these categories.")
@click.option("--templates", "templates", multiple=True, type=click.Path(exists=True), help=_TEMPLATES_HELP)
@click.option("--vocab", multiple=True, type=click.Path(exists=True), help=_VOCAB_HELP)
@click.option("--max-per-template", type=int, default=25, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_templates(ctx, categories, templates, vocab, max_per_template, as_json) -> None:
    """Templates with category, cross-product size and place (validates every file)."""
    listing = stage.templates(open_corpus(ctx), categories=categories, templates=templates, vocab=vocab,
                              max_per_template=max_per_template)
    rows = listing["templates"]
    if as_json:
        print_json(listing)
        return
    table = Table(title=f"templates ({len(rows)})", title_justify="left")
    for col in ("category", "id", "text", "cross", "prompts"):
        table.add_column(col, justify="right" if col in ("cross", "prompts") else "left", overflow="fold")
    for r in sorted(rows, key=lambda r: (r["category"], r["id"])):
        table.add_row(r["category"], r["id"], data(r["text"]), str(r["cross_product"]), str(r["prompts"]))
    console.print(table)
    per_cat = Counter(r["category"] for r in rows)
    console.print(f"{len(rows)} templates in {len(per_cat)} categories, "
                  f"{sum(r['prompts'] for r in rows)} prompts at --max-per-template {max_per_template}; "
                  f"{listing['parts']} combination parts, {listing['conflict_pairs']} conflict pairs")


@templates_group.command("vocab")
@click.option("--vocab", multiple=True, type=click.Path(exists=True), help=_VOCAB_HELP)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_vocab(ctx, vocab, as_json) -> None:
    """Vocabularies: name, size, sampled or crossed, aliases, files."""
    rows = stage.vocab(open_corpus(ctx), vocab=vocab)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"vocabularies ({len(rows)})", title_justify="left")
    for col in ("name", "size", "kind", "aliases", "examples"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["name"], str(r["size"]), "sampled" if r["sampled"] else "crossed",
                      ", ".join(r["aliases"]), data("; ".join(r["examples"])))
    console.print(table)


commands = [expand, combine, templates_group]
