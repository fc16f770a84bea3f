"""The `curator` command line: a thin click layer over the library.

Each command opens the corpus (``--corpus DIR``, ``$CURATOR_CORPUS`` or ``./corpus``), calls one
library function and prints the result: rich tables on stderr for people, ``--json`` on stdout
for programs. A :class:`~curator.errors.CuratorError` becomes one line on stderr and exit code 2
(1 for a failing remote side).
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.console import Console
from rich.table import Table

from . import __version__
from .commands.common import open_corpus
from .console import console, print_json
from .errors import CuratorError
from .export import FORMATS
from .ingest import ROLES
from .queries import STATUSES
from .workspace import Corpus


class CuratorGroup(click.Group):
    """Turns CuratorError into a one-line message and its exit code; no tracebacks for bad input.

    Exit codes: 0 done · 1 some remote work failed for good · 2 bad usage, input or configuration
    · 130 interrupted. A usage error (a typo in a flag or a value out of range) is one line too,
    not click's three-line usage block, so scripts and people read the same thing.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "curator"
            click.echo(f"error: {where}: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("interrupted: what was committed is kept; run the command again to resume", err=True)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CuratorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.code)
        except KeyboardInterrupt:
            click.echo("interrupted: what was committed is kept; run the command again to resume", err=True)
            ctx.exit(130)


@click.group(cls=CuratorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--corpus", "corpus_dir", envvar="CURATOR_CORPUS", type=click.Path(file_okay=False),
              default="corpus", show_default=True, help="Corpus directory (or $CURATOR_CORPUS).")
@click.version_option(__version__, prog_name="curator")
@click.pass_context
def main(ctx: click.Context, corpus_dir: str) -> None:
    """Build training data for LLM prompt recovery: scrape, ingest, expand, embed, dedup,
    cluster, cover, generate, score, promote, export."""
    ctx.obj = {"corpus_dir": corpus_dir}


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.pass_context
def init(ctx: click.Context, directory: str | None) -> None:
    """Create a corpus directory (curator.toml + curator.db); safe to run again."""
    corpus = Corpus.init(directory or ctx.obj["corpus_dir"])
    console.print(f"corpus ready: {corpus.root} (schema version {corpus.store.schema_version})")
    corpus.close()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--dataset", help="Dataset name (default: the file name without extension).")
@click.option("--as", "role", type=click.Choice(ROLES), help="What the rows are (default: samples "
              "when original and rewritten texts are present, else prompts).")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Say which column holds a field: original_text, rewrite_prompt, rewritten_text, prediction.")
@click.option("--origin", default="public", show_default=True, help="Origin recorded on new rows.")
@click.option("--status", type=click.Choice(["candidate", "train", "rejected", "target"]),
              help="Status of new samples (default candidate; target with --as target).")
@click.option("--predictor", help="Predictor name for a prediction column (default DATASET:COLUMN).")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.pass_context
def ingest(ctx, paths, dataset, role, mapping, origin, status, predictor, as_json) -> None:
    """Ingest CSV/TSV/JSON/JSONL/parquet files of samples or prompt lists.

    Each file is one transaction: a file with an error changes nothing. Every row either lands
    or is listed with its row number and reason.
    """
    from .ingest import parse_mapping

    corpus = open_corpus(ctx)
    parsed = parse_mapping(mapping)
    summaries = []
    for path in paths:
        s = corpus.ingest(path, dataset=dataset, role=role, mapping=parsed, origin=origin,
                          status=status, predictor=predictor)[0]
        summaries.append(s)
        if not as_json:
            console.print(
                f"[bold]{s.path}[/] → dataset [cyan]{s.dataset}[/] as {s.role} ({s.encoding}): "
                f"{s.rows} rows, {s.landed} landed ({s.new} new, {s.existing} already present), "
                f"{len(s.issues)} reported" + (f", {s.predictions} predictions" if s.predictions else ""))
            console.print(f"  columns: {', '.join(f'{k}={v}' for k, v in s.columns.items())}")
            for issue in s.issues[:20]:
                console.print(f"  row {issue.row}: {issue.reason}")
            if len(s.issues) > 20:
                console.print(f"  … {len(s.issues) - 20} more (use --json for all)")
    if as_json:
        print_json([s.as_dict() for s in summaries])


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def config(ctx, as_json) -> None:
    """The effective settings and where each value came from (default, curator.toml, env, flag)."""
    rows = open_corpus(ctx).config()
    if as_json:
        print_json(rows)
        return
    table = Table(title="settings (defaults < curator.toml < environment < flags)", title_justify="left")
    for col in ("key", "value", "from"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["key"], escape(repr(r["value"]) if not isinstance(r["value"], str) else r["value"]),
                      r["origin"])
    console.print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx, as_json) -> None:
    """Counts by origin, dataset and status; text lengths in words."""
    data = open_corpus(ctx).stats()
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['corpus']}[/] (schema {data['schema_version']})")
    p, s = data["prompts"], data["samples"]
    console.print(f"prompts: {p['total']} ({p['canonical']} canonical, {p['duplicates']} marked duplicates)")
    console.print(f"samples: {s['total']}")
    for title, counts in (("prompts by origin", p["by_origin"]), ("prompts by category", p["by_category"]),
                          ("samples by status", s["by_status"]), ("samples by dataset", s["by_dataset"]),
                          ("items by dataset (role)", data["provenance_by_dataset"]),
                          ("predictions by predictor", data["predictions"])):
        if counts:
            table = Table(title=title, title_justify="left")
            table.add_column("")
            table.add_column("count", justify="right")
            for k, v in counts.items():
                table.add_row(k, str(v))
            console.print(table)
    table = Table(title="length in words", title_justify="left")
    for col in ("text", "n", "min", "median", "p90", "max", "mean"):
        table.add_column(col, justify="right" if col != "text" else "left")
    for name, w in data["words"].items():
        table.add_row(name, *(str(w[k]) for k in ("n", "min", "median", "p90", "max", "mean")))
    console.print(table)
    t = data["tokens"]
    console.print(f"tokens ({t['tokenizer']}): prompts {t['prompts']:,}, sample texts {t['sample_texts']:,}")
    o, tp = data["target_overlap"], data["templates"]
    console.print(f"target overlap: {o['samples']} samples ({o['train']} train) have a prompt that is, or nearly "
                  f"is, a target prompt; promote/export hold them back")
    console.print(f"templates (unfilled slots): {tp['prompts']} prompts, {tp['unfillable']} unfillable"
                  + (f" (slots without a vocabulary: {', '.join(tp['unfillable_slots'])})" if tp["unfillable"] else ""),
                  markup=False)


def _short(value, width: int = 90) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


#: at most this many rows go into one rich table on a terminal; longer listings stream plain lines
TABLE_ROWS = 200


def _listing(frame, columns: list[str], as_json: bool, title: str) -> None:
    """Print a listing: ``--json`` on stdout; a rich table on a terminal for short listings;
    otherwise plain lines streamed to stdout (tab-separated when piped), because a rich table of
    25k rows takes 20 s to lay out before its first row appears. Every cell goes through
    :func:`curator.console.safe`/``visible``: prompts come from the web and may hold rich markup or
    terminal escapes, which must show as text."""
    from .console import safe, visible

    if as_json:
        print_json(frame.to_dict(orient="records"))
        return
    out = sys.stdout
    if out.isatty() and len(frame) <= TABLE_ROWS:
        table = Table(title=f"{title} ({len(frame)})", title_justify="left")
        for col in columns:
            table.add_column(col, overflow="fold")
        for rec in frame[columns].itertuples(index=False):
            table.add_row(*(safe(_short(v)) for v in rec))
        Console(highlight=False, soft_wrap=False).print(table)
        return
    console.print(f"{title} ({len(frame)})")
    if out.isatty():  # aligned, one line per row, the long column cut to the terminal's width
        width = max(40, shutil.get_terminal_size().columns)
        fixed = {c: max([len(c)] + [len(visible(_short(v, 40))) for v in frame[c].head(TABLE_ROWS)])
                 for c in columns}
        long_col = max(columns, key=lambda c: fixed[c])
        rest = width - sum(fixed[c] + 2 for c in columns if c != long_col)
        fixed[long_col] = max(20, rest)
        fmt = lambda vals: "  ".join(visible(_short(v, fixed[c])).ljust(fixed[c])  # noqa: E731
                                     for c, v in zip(columns, vals)).rstrip()
        sep = "\n"
    else:  # piped: tab-separated, whole texts (whitespace collapsed), a header line
        fmt = lambda vals: "\t".join(visible(_short(v, 10**9)) for v in vals)  # noqa: E731
        sep = "\n"
    _write_rows([frame], columns, fmt, sep)


def _piped(frames, columns: list[str], title: str) -> None:
    """Plain tab-separated lines from DataFrames read chunk by chunk: the first rows appear while
    the rest are still being read (a 1M-prompt listing built as one frame first took 6.5 s)."""
    from .console import visible

    console.print(title)
    n = _write_rows(frames, columns, lambda vals: "\t".join(visible(_short(v, 10**9)) for v in vals), "\n")
    console.print(f"({n} rows)")


def _write_rows(frames, columns: list[str], fmt, sep: str) -> int:
    out = sys.stdout
    out.write(fmt(columns) + sep)
    out.flush()  # the header (and, below, the first batch) appear at once
    batch: list[str] = []
    i = -1
    for frame in frames:
        for rec in frame[columns].itertuples(index=False):
            i += 1
            batch.append(fmt(rec))
            if len(batch) >= (50 if i < 50 else 2000):
                out.write(sep.join(batch) + sep)
                out.flush()
                batch = []
    if batch:
        out.write(sep.join(batch) + sep)
    out.flush()
    return i + 1


@main.command()
@click.option("--origin", help="Only this origin (public, scraped, template, …).")
@click.option("--dataset", help="Only prompts seen in this dataset.")
@click.option("--canonical/--duplicates", default=None, help="Only canonical prompts, or only duplicates.")
@click.option("--contains", help="Substring filter (case-insensitive).")
@click.option("--cluster", type=int, help="Only the prompts of this cluster (see `curator coverage`).")
@click.option("--clustering", help="Clustering name or id for --cluster (default: the latest).")
@click.option("--similar", metavar="TEXT", help="The prompts nearest to TEXT by cosine, best first.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N rows (0 = all).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def prompts(ctx, origin, dataset, canonical, contains, cluster, clustering, similar, limit, as_json) -> None:
    """List prompts: filtered, by cluster (--cluster N) or by similarity (--similar TEXT)."""
    corpus = open_corpus(ctx)
    if similar is not None:
        frame = corpus.similar(similar, limit=limit or 0)
        _listing(frame, ["cosine", "id", "role", "origin", "text"], as_json, f"prompts similar to {_short(similar, 40)!r}")
        return
    if cluster is None and not as_json and not sys.stdout.isatty():
        _piped(corpus.iter_prompts(origin=origin, dataset=dataset, canonical=canonical, contains=contains,
                                   limit=limit or None), ["id", "origin", "category", "text", "duplicate_of"], "prompts")
        return
    frame = corpus.prompts(origin=origin, dataset=dataset, canonical=canonical, contains=contains,
                           limit=limit or None, cluster=cluster, clustering=clustering)
    columns = ["id", "role", "origin", "text", "duplicate_of"] if cluster is not None else \
        ["id", "origin", "category", "text", "duplicate_of"]
    _listing(frame, columns, as_json, f"prompts in cluster {cluster}" if cluster is not None else "prompts")


@main.command()
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--dataset")
@click.option("--origin")
@click.option("--contains", help="Substring of the prompt or the original text.")
@click.option("--cluster", type=int, help="Only samples whose prompt is in this cluster.")
@click.option("--clustering", help="Clustering name or id for --cluster (default: the latest).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N rows (0 = all).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def samples(ctx, status, dataset, origin, contains, cluster, clustering, limit, as_json) -> None:
    """List samples (--cluster N: those whose prompt is in cluster N)."""
    frame = open_corpus(ctx).samples(status=status, dataset=dataset, origin=origin, contains=contains,
                                     limit=limit or None, cluster=cluster, clustering=clustering)
    _listing(frame, ["id", "status", "dataset", "rewrite_prompt", "original_text"], as_json,
             f"samples in cluster {cluster}" if cluster is not None else "samples")


@main.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@click.option("--status", default="train", show_default=True, type=click.Choice(STATUSES + ("all",)),
              help="Samples of this status ('all' for every one).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the file extension.")
@click.option("--dataset", help="Only this dataset.")
@click.option("--provenance", is_flag=True, help="Add dataset, origin, status, model, prompt_id columns.")
@click.option("--split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Hold out this fraction as OUT.val.EXT, split by prompt.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option("--allow-target-overlap", is_flag=True,
              help="Export samples whose prompt is (a near-duplicate of) a target prompt (logged).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def export(ctx, out, status, fmt, dataset, provenance, split, seed, allow_target_overlap, as_json) -> None:
    """Export samples (Kaggle columns: id, original_text, rewrite_prompt, rewritten_text).

    Invalid rows and rows whose prompt is (a near-duplicate of) a target prompt are refused and
    counted by reason; OUT.refused.csv lists them."""
    summary = open_corpus(ctx).export(Path(out), status=None if status == "all" else status, fmt=fmt,
                                      dataset=dataset, provenance=provenance, split=split, seed=seed,
                                      allow_target_overlap=allow_target_overlap)
    if as_json:
        print_json(summary)
        return
    console.print(f"wrote {summary['rows']} samples ({summary['status'] or 'all'}) to {out} as {summary['format']}")
    if summary["refused_rows"]:
        console.print(f"refused {summary['refused_rows']} rows (listed in {summary['refused_file']}):", markup=False)
        for why, n in summary["refused"].items():
            console.print(f"  {n}: {why}", markup=False)
    if split:
        console.print(f"wrote {summary['validation_rows']} held-out samples to {summary['validation']} "
                      f"(split by prompt, fraction {split}, seed {seed})")


# Command modules of the other areas; each exposes ``commands``.
COMMAND_MODULES = ("scrape", "templates", "index", "generate", "review", "card")


def _register() -> None:
    for name in COMMAND_MODULES:
        module_name = f"curator.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        for command in module.commands:
            main.add_command(command)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
