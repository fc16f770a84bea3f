"""`curator sources list|check` and `curator scrape`: the scraping commands."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..console import console, data, esc, print_json, progress
from ..text import visible
from .common import open_corpus


def _sources_dir(ctx: click.Context, option: str | None, corpus=None) -> Path:
    from ..scrape.run import sources_dir

    return sources_dir(corpus, option)


def _load(ctx, sources_dir):
    from ..scrape.sources import load_sources

    corpus = open_corpus(ctx)
    return corpus, load_sources(_sources_dir(ctx, sources_dir, corpus))


_sources_option = click.option("--sources", "sources_dir", type=click.Path(file_okay=False),
                               help="Directory of source files (default: ./sources or $CURATOR_SOURCES).")


@click.group()
def sources() -> None:
    """List and check prompt sources (sources/*.toml)."""


@sources.command("list")
@_sources_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sources_list(ctx, sources_dir, as_json) -> None:
    """Every source with its kind, where it points and what the store holds from it."""
    from ..scrape.listing import list_sources

    rows = list_sources(open_corpus(ctx), sources_dir)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"sources ({len(rows)})", title_justify="left")
    for col in ("name", "kind", "where", "pages", "errors", "prompts", "last_fetched"):
        table.add_column(col, overflow="fold", justify="right" if col in ("pages", "errors", "prompts") else "left")
    for r in rows:
        table.add_row(*(data(r[c] if r[c] is not None else "") for c in
                        ("name", "kind", "where", "pages", "errors", "prompts", "last_fetched")))
    console.print(table)


@sources.command("check")
@click.argument("name")
@_sources_option
@click.option("--url", help="Check this page instead of the source's first start URL.")
@click.option("--rejected", "show_rejected", is_flag=True, help="Also list candidates the heuristic dropped, with why.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sources_check(ctx, name, sources_dir, url, show_rejected, as_json) -> None:
    """Fetch one page of source NAME and print the prompts it would yield. Stores nothing."""
    from ..scrape.listing import check_source_named

    result = check_source_named(open_corpus(ctx), name, directory=sources_dir, url=url)
    if as_json:
        print_json(result)
        return
    console.print(f"[bold]{esc(name)}[/] {esc(result['url'])}: "
                  + (f"[red]{esc(result['error'])}[/]" if result["error"] else
                     (f"HTTP {result['status']}, " if result["status"] else "")
                     + f"{len(result['prompts'])} prompts ({result['method']})"))
    for note in result["notes"]:
        console.print(f"  note: {visible(note)}", markup=False)
    if result["prompts"]:
        table = Table(title_justify="left")
        for col in ("#", "heading", "kind", "prompt"):
            table.add_column(col, overflow="fold")
        for p in result["prompts"]:
            table.add_row(str(p["position"]), data(p["heading"] or ""), p["kind"], data(p["text"]))
        console.print(table)
    if result.get("links"):
        console.print(f"links it would follow: {len(result['links']['follow'])}, "
                      f"next pages: {len(result['links']['paginate'])}")
        for link in (result["links"]["follow"] + result["links"]["paginate"])[:20]:
            console.print(f"  {visible(link)}", markup=False)
    if show_rejected:
        for text, why in result["rejected"]:
            console.print(f"  [dim]dropped ({esc(why)}):[/] {esc(text)}")
    if result["error"]:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("targets", nargs=-1, metavar="[NAME|URL]...")
@click.option("--all", "all_sources", is_flag=True, help="Every source in the sources directory.")
@click.option("--max-pages", type=click.IntRange(min=1), help="At most N pages per source (overrides the files).")
@click.option("--refresh", is_flag=True, help="Ignore the HTTP cache and re-extract pages even when unchanged.")
@click.option("--dry-run", is_flag=True, help="Fetch and extract, store nothing, print every prompt with its heading.")
@click.option("--save-source", metavar="NAME",
              help="Write sources/NAME.toml for the URLs given, so the next run is `curator scrape NAME`.")
@_sources_option
@click.option("--json", "as_json", is_flag=True, help="Print the per-URL summary as JSON.")
@click.pass_context
def scrape(ctx, targets, all_sources, max_pages, refresh, dry_run, save_source, sources_dir, as_json) -> None:
    """Fetch, extract and store prompts from sources NAME... and/or pages URL... (or --all).

    A URL needs no source file: `curator scrape https://example.com/prompts --dry-run` shows what
    would be stored. Polite: robots.txt, per-host delay and concurrency ([scrape] in curator.toml),
    the HTTP cache. A re-run skips unchanged pages. Every URL is reported: new, unchanged, error,
    disallowed, blocked or skipped.
    """
    from ..scrape.run import scrape_targets

    corpus = open_corpus(ctx)
    with progress() as bar:
        task = bar.add_task("scrape", total=None)

        def on_page(report) -> None:
            bar.update(task, advance=1, description=f"scrape {report.source}")

        summary = scrape_targets(corpus, targets, all_sources=all_sources, sources=sources_dir,
                                 max_pages=max_pages, refresh=refresh, dry_run=dry_run, save_source=save_source,
                                 on_page=on_page)
    if as_json:
        print_json(summary.as_dict())
        _fail_if_nothing_fetched(summary)
        return
    table = Table(title=f"pages ({len(summary.pages)})", title_justify="left")
    for col in ("source", "url", "outcome", "status", "prompts", "new", "error / notes"):
        table.add_column(col, overflow="fold", justify="right" if col in ("status", "prompts", "new") else "left")
    for p in summary.pages:
        table.add_row(escape(p.source), escape(p.url), p.outcome, "" if p.status is None else str(p.status),
                      str(p.prompts), str(p.new), escape("; ".join(([p.error] if p.error else []) + p.notes)))
    console.print(table)
    if dry_run:
        for p in summary.pages:
            if not p.extracted:
                continue
            found = Table(title=f"would store from {escape(p.url)}", title_justify="left")
            for col in ("#", "heading", "kind", "prompt"):
                found.add_column(col, overflow="fold")
            for e in p.extracted:
                found.add_row(str(e.position), data(e.heading or ""), e.kind, data(e.text))
            console.print(found)
    t = summary.totals()
    console.print(f"{t['pages']} pages ({', '.join(f'{k} {v}' for k, v in sorted(t['by_outcome'].items()))}), "
                  f"{t['requests']} requests, {t['prompts_found']} prompts found, "
                  + ("nothing stored (dry run)" if dry_run else f"{t['prompts_new']} new") + f", {t['seconds']} s")
    if summary.saved_source:
        d = summary.detected
        console.print(f"wrote {escape(summary.saved_source)} ({d['prompts']} prompts detected"
                      + (f", content {escape(d['content'])}" if d.get("content") else "")
                      + f"); next time: curator scrape {escape(save_source)}")
    _fail_if_nothing_fetched(summary)


def _fail_if_nothing_fetched(summary) -> None:
    """Exit 1 when every page failed (a dead network, a wrong host): the run did nothing."""
    from ..errors import RemoteError

    failed = [p for p in summary.pages if p.outcome == "error"]
    if summary.pages and len(failed) == len(summary.pages):
        raise RemoteError(f"every page failed ({len(failed)}); {failed[0].url}: {failed[0].error}")


commands = [sources, scrape]
