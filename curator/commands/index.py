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
                  f"{plan.considered} canonical prompts, {plan.group_count} groups, {verb} {plan.duplicates} "
                  f"as duplicates; {plan.slot_blocked} of {plan.pairs} similar pairs kept apart by slot values"
                  + ("" if dry_run else f" (run {run}; `curator dedup --undo` reverts)"))
    for g in plan.head(show):
        rep = g["representative"]
        console.print(f"group of {len(g['members'])} — keeps: {visible(g['texts'][rep])}", markup=False)
        for pid in g["members"]:
            if pid != rep:
                console.print(f"   {g['cosine'][pid]:.3f} ↳ [{g['origins'][pid]}] {visible(g['texts'][pid])}", markup=False)


@click.command()
@click.option("--k", "k", help="Number of clusters (>= 2), or 'auto' (default: curator.toml [cluster].k, else auto).")
@click.option("--seed", type=int, help="k-means seed (default: [cluster].seed, else 0).")
@click.option("--name", help="Keep this clustering under NAME: its ids never change (coverage --clustering NAME).")
@_model_option
@device_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def cluster(ctx, k, seed, name, model, device, as_json):
    """Cluster canonical prompts (k-means); ids stay stable across runs."""
    from ..cluster import check_k
    from ..embed import use_device

    if k is not None:
        k = check_k(k)  # --k 0 is refused before the corpus is touched
    corpus = open_corpus(ctx)
    use_device(corpus, device)
    res = corpus.cluster(k, seed, _model(corpus, model), name=name)
    if as_json:
        print_json(res.as_dict())
        return
    console.print(f"clustering {res.clustering_id}" + (f" '{res.name}'" if res.name else "") + f": k={res.k}"
                  + (f" (auto: best cosine silhouette of {len(res.silhouette)} candidates fitted on a sample)"
                     if res.silhouette else "") + f", {res.seconds:.1f} s")
    table = Table()
    table.add_column("cluster", justify="right")
    table.add_column("size", justify="right")
    table.add_column("label")
    for c in sorted(res.sizes, key=lambda c: -res.sizes[c]):
        table.add_row(str(c), str(res.sizes[c]), data(res.labels.get(c, "")), end_section=False)
    console.print(table)


@click.command()
@click.option("--target", help="Target dataset (default: every dataset ingested --as target).")
@click.option("--clustering", help="Clustering name or id (default: the latest).")
@click.option("--sort", type=click.Choice(["gap", "size", "id"]), help="Row order (default: [coverage].sort, gap).")
@click.option("--min-target", type=int, help="Target prompts a gap needs (default: [coverage].min_target, 3).")
@click.option("--far-threshold", type=float, help="Nearest-training cosine under which a target prompt is far "
              "(default: [coverage].far_threshold).")
@_model_option
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def coverage(ctx, target, clustering, sort, min_target, far_threshold, model, html_out, as_json):
    """Per-cluster training vs target counts and shares with intervals, gaps, far target prompts."""
    corpus = open_corpus(ctx)
    sort = sort or corpus.setting("coverage", "sort", "gap")
    cov = corpus.coverage(target, _model(corpus, model), clustering=clustering, min_target=min_target,
                          far_threshold=far_threshold, html=html_out)
    if as_json:
        print_json(cov.as_dict(sort) | ({"html": html_out} if html_out else {}))
        return
    print_coverage(cov, sort)
    if html_out:
        console.print(f"report: {html_out}")


def print_coverage(cov, sort: str = "gap") -> None:
    """The coverage table, the gap and far lists, the figures (basis named, counts beside shares)."""
    f = cov.figures
    name = f" '{cov.clustering_name}'" if cov.clustering_name else ""
    table = Table(title=f"coverage (clustering {cov.clustering_id}{name}, target: {cov.target or 'all target sets'}, "
                  f"training counted in {cov.basis}, sorted by {sort})", title_justify="left")
    basis = "train " + ("samples" if cov.basis == "samples" else "prompts")
    for col in ("cluster", "label", basis, "target", "train share", "target share", "gap", "gap low", "far",
                "train ▮ / target ▮"):
        table.add_column(col, justify="left" if col in ("label", "train ▮ / target ▮") else "right")
    width = 20
    for r in cov.table(sort).itertuples():
        bar_t = "█" * int(round(r.train_share * width * 2))
        bar_g = "█" * int(round(r.target_share * width * 2))
        table.add_row(str(r.cluster), data(str(r.label)[:40]), f"{r.train:,}", f"{r.target_prompts:,}",
                      f"{r.train_share:.3f}", f"{r.target_share:.3f}", f"{r.gap:+.3f}", f"{r.gap_low:+.3f}",
                      str(r.far_targets) if r.far_targets else "",
                      f"[green]{bar_t[:width]:<{width}}[/] [magenta]{bar_g[:width]}[/]",
                      style="bold red" if r.under_covered else None)
    console.print(table)
    for key, value in f.items():
        console.print(f"{key}: {value}")
    if not f.get("target_prompts"):
        console.print("no target prompts: ingest a target set (`curator ingest FILE --as target`) to see gaps")
    else:
        console.print(f"under-covered clusters (≥ {f['min_target']} target prompts, target share's lower "
                      f"bound above {f['gap_ratio']}× the training share's upper bound at {f['confidence']:.0%}): "
                      f"{', '.join(map(str, cov.gaps)) or 'no cluster passes'}")
        console.print(f"far target prompts ({len(cov.far)}; nearest training cosine < {f['far_threshold']} or a "
                      "target-dense neighbourhood):")
        for item in cov.far[:15]:
            console.print(f"  [{item['nearest_cosine']:.2f}, {item['reason']}, cluster {item['cluster']}] "
                          f"{visible(item['text'][:90])}", markup=False, highlight=False)
        if len(cov.far) > 15:
            console.print(f"  … {len(cov.far) - 15} more (--json or --html for all)")


commands = [embed, dedup, cluster, coverage]
