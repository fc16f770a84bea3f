"""`curator embed | dedup | cluster | coverage`: the embedding index and the coverage view."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..console import console, data, print_json
from ..text import visible
from .common import open_corpus


def _model_option(f):
    return click.option("--model", help="Sentence-transformers name or path (default: curator.toml "
                        "[embed].model, else the packaged all-MiniLM-L6-v2).")(f)


def _model(corpus, model):
    return model or corpus.setting("embed", "model", None)


def device_option(f):
    """``--device auto|cpu|cuda|mps`` (embed, cluster, score): where the model runs, never what is cached."""
    return click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]),
                        help="Where the model runs (default: curator.toml [embed].device, else auto: "
                             "a GPU when present).")(f)


@click.command()
@_model_option
@click.option("--batch-size", type=int, help="Texts per model batch (default 64).")
@device_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def embed(ctx, model, batch_size, device, as_json):
    """Embed every prompt not yet embedded for the model (a re-run does no model work)."""
    from ..embed import embed_corpus, use_device

    corpus = open_corpus(ctx)
    use_device(corpus, device)
    summary = embed_corpus(corpus, _model(corpus, model), batch_size or corpus.setting("embed", "batch_size", 64))
    if as_json:
        print_json(summary)
    else:
        console.print(f"embed ({summary['model']}): {summary['texts']} texts, {summary['embedded']} embedded now, "
                      f"{summary['cached']} from the cache")


@click.command()
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), help="Cosine to a group's representative at or above which a prompt "
              "with the same slot values is its duplicate (default: curator.toml [dedup].threshold).")
@_model_option
@click.option("--dry-run", is_flag=True, help="Show the groups that would form; change nothing.")
@click.option("--undo", is_flag=True, help="Restore the state before the latest dedup run.")
@click.option("--show", type=int, default=10, show_default=True,
              help="Groups to print, each member with its cosine to the representative.")
@click.option("--explain", "explain_text", metavar="TEXT",
              help="Say why TEXT is or is not a near-duplicate (nearest prompts, cosines, slot values); "
                   "changes nothing.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def dedup(ctx, threshold, model, dry_run, undo, show, explain_text, as_json):
    """Mark near-duplicate prompts (duplicate_of); never deletes; reversible with --undo.

    A prompt joins a group only when its cosine to the group's representative reaches the
    threshold AND it has the same slot values (numbers, languages, names, tones and other
    vocabulary words): "…150 words" and "…200 words" are never duplicates. No chaining.
    """
    from ..dedup import apply_dedup, explain_dedup, plan_dedup, undo_dedup

    corpus = open_corpus(ctx)
    if undo:
        result = undo_dedup(corpus)
        if as_json:
            print_json(result)
        else:
            console.print("nothing to undo" if result is None else
                          f"undid dedup run {result['run']}: {result['restored']} prompts canonical again")
        return
    threshold = corpus.settings.override("dedup", threshold=threshold).dedup.threshold
    if explain_text is not None:
        res = explain_dedup(corpus, explain_text, threshold, _model(corpus, model))
        if as_json:
            print_json(res)
            return
        console.print(f"slot values: {', '.join(res['slots']) or 'none'}", markup=False)
        if res["duplicate_of"]:
            console.print(f"stored, and marked a duplicate of: {visible(res.get('representative'))}", markup=False)
        for nb in res["neighbours"]:
            console.print(f"  {nb['cosine']:.3f}  {visible(nb['text'])}\n         → {nb['why']}", markup=False)
        console.print(f"verdict: {res['verdict']}", markup=False)
        return
    plan = plan_dedup(corpus, threshold, _model(corpus, model))
    run = None if dry_run else apply_dedup(corpus, plan)
    if as_json:
        print_json({"run": run, "dry_run": dry_run, **plan.as_dict(), "groups": plan.groups})
        return
    verb = "would mark" if dry_run else "marked"
    console.print(f"dedup ({plan.model}, cosine to representative ≥ {threshold}, same slot values): "
                  f"{plan.considered} canonical prompts, {len(plan.groups)} groups, {verb} {plan.duplicates} "
                  f"as duplicates; {plan.slot_blocked} of {plan.pairs} similar pairs kept apart by slot values"
                  + ("" if dry_run else f" (run {run}; `curator dedup --undo` reverts)"))
    for g in plan.groups[:show]:
        rep = g["representative"]
        console.print(f"group of {len(g['members'])} — keeps: {visible(g['texts'][rep])}", markup=False)
        for pid in g["members"]:
            if pid != rep:
                console.print(f"   {g['cosine'][pid]:.3f} ↳ [{g['origins'][pid]}] {visible(g['texts'][pid])}", markup=False)


@click.command()
@click.option("--k", "k", default="auto", show_default=True, help="Number of clusters, or 'auto'.")
@click.option("--seed", type=int, default=0, show_default=True)
@_model_option
@device_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cluster(ctx, k, seed, model, device, as_json):
    """Cluster canonical prompts (k-means); ids stay stable across runs."""
    from ..cluster import cluster_prompts
    from ..embed import use_device
    from ..errors import CuratorError

    if k != "auto":
        try:
            k = int(k)
        except ValueError:
            raise CuratorError(f"--k {k}: expected a number or 'auto'") from None
    corpus = open_corpus(ctx)
    use_device(corpus, device)
    res = cluster_prompts(corpus, k, seed, _model(corpus, model))
    if as_json:
        print_json({"clustering": res.clustering_id, "k": res.k, "sizes": res.sizes, "labels": res.labels,
                    "silhouette": res.silhouette})
        return
    console.print(f"clustering {res.clustering_id}: k={res.k}"
                  + (f" (auto: best cosine silhouette of {len(res.silhouette)} candidates)" if res.silhouette else ""))
    table = Table()
    table.add_column("cluster", justify="right")
    table.add_column("size", justify="right")
    table.add_column("label")
    for c in sorted(res.sizes, key=lambda c: -res.sizes[c]):
        table.add_row(str(c), str(res.sizes[c]), data(res.labels.get(c, "")))
    console.print(table)


@click.command()
@click.option("--target", help="Target dataset (default: every dataset ingested --as target).")
@_model_option
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def coverage(ctx, target, model, html_out, as_json):
    """Per-cluster prompts, training and target samples, shares, gaps; diversity figures."""
    from ..coverage import compute_coverage

    corpus = open_corpus(ctx)
    cov = compute_coverage(corpus, target, _model(corpus, model))
    if html_out:
        from ..report import render_report

        render_report(corpus, cov, Path(html_out), _model(corpus, model))
    if as_json:
        print_json(cov.as_dict() | ({"html": html_out} if html_out else {}))
        return
    frame = cov.clusters.sort_values("gap", ascending=False)
    table = Table(title=f"coverage (clustering {cov.clustering_id}, target: {target or 'all target sets'})",
                  title_justify="left")
    for col in ("cluster", "label", "prompts", "train", "target", "train share", "target share", "gap",
                "train ▮ / target ▮"):
        table.add_column(col, justify="left" if col in ("label", "train ▮ / target ▮") else "right")
    width = 20
    for r in frame.itertuples():
        bar_t = "█" * int(round(r.train_share * width * 2))
        bar_g = "█" * int(round(r.target_share * width * 2))
        style = "bold red" if r.under_covered else None
        table.add_row(str(r.cluster), data(str(r.label)[:40]), str(r.prompts), str(r.train_samples),
                      str(r.target_prompts), f"{r.train_share:.3f}", f"{r.target_share:.3f}", f"{r.gap:+.3f}",
                      f"[green]{bar_t[:width]:<{width}}[/] [magenta]{bar_g[:width]}[/]", style=style)
    console.print(table)
    for key, value in cov.figures.items():
        console.print(f"{key}: {value}")
    console.print(f"under-covered clusters (largest gap first): {', '.join(map(str, cov.gaps)) or 'none'}")
    if html_out:
        console.print(f"report: {html_out}")


commands = [embed, dedup, cluster, coverage]
