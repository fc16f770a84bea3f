"""`curator predictions add | score | review | promote | reject | undo` (`curator predict` is with
the other LLM commands in commands/generate.py)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ..console import console, data, print_json
from .common import open_corpus
from .index import device_option


@click.group()
def predictions():
    """Predicted prompts of samples (several predictors can coexist)."""


@predictions.command("add")
@click.argument("path", type=click.Path())
@click.option("--model-name", required=True, help="Predictor name to store the predictions under.")
@click.option("--column", help="Prediction column (default: predicted_prompt, prediction, predicted, rewrite_prompt).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def predictions_add(ctx, path, model_name, column, as_json):
    """Import predictions keyed by sample id (id/sample_id column) or by the exact texts."""
    from ..predictions import add_predictions_file

    result = add_predictions_file(open_corpus(ctx), Path(path), model_name, column)
    if as_json:
        print_json(result)
    else:
        console.print(f"{path}: {result['rows']} rows, {result['added']} predictions added, {result['existing']} "
                      f"already present, {len(result['unmatched_rows'])} rows matched no sample"
                      + (f" (rows {', '.join(map(str, result['unmatched_rows'][:10]))}…)" if result['unmatched_rows'] else ""))


@click.command()
@click.option("--dataset")
@click.option("--predictor")
@click.option("--metric-model", help="Sentence-transformers name or path (default: curator.toml [score].metric_model, "
              "sentence-transformers/sentence-t5-base; 'default' = packaged MiniLM, a proxy).")
@click.option("--baseline", default="Improve this text.", show_default=True, help="Constant 'mean prompt' baseline.")
@click.option("--show", type=int, default=5, show_default=True, help="How many best and worst samples to list.")
@device_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def score(ctx, dataset, predictor, metric_model, baseline, show, device, as_json):
    """Score predictions against true prompts with SCS (cos³), the competition metric."""
    from ..embed import use_device
    from ..score import score_predictions

    corpus = open_corpus(ctx)
    use_device(corpus, device)
    rep = score_predictions(corpus, dataset, predictor, metric_model, baseline, show)
    if as_json:
        print_json(rep.as_dict())
        return
    label = f"{rep.metric_model}" + (" — a PROXY: lower than sentence-t5-base in absolute terms" if rep.proxy else "")
    console.print(f"SCS with {label}")
    if not rep.n:
        console.print("no (sample, prediction) pairs to score: ingest predictions or run predictions add")
        return
    console.print(f"scored now: {rep.scored_now}; pairs: {rep.n}; mean {rep.mean:.4f} "
                  f"(95% CI {rep.ci95[0]:.4f} – {rep.ci95[1]:.4f})")
    console.print(f"baseline (constant {rep.baseline_prompt!r}): mean {rep.baseline_mean:.4f}")
    peak = max(c for _, _, c in rep.histogram) or 1
    for lo, hi, c in rep.histogram:
        console.print(f"  {lo:+.2f} … {hi:+.2f} │{'█' * round(30 * c / peak):<30}│ {c}")
    for title, items in (("best", rep.best), ("worst", rep.worst)):
        table = Table(title=title, title_justify="left")
        for col in ("score", "sample", "true prompt", "prediction"):
            table.add_column(col, overflow="fold")
        for it in items:
            table.add_row(f"{it['score']:.3f}", it["sample_id"], data(it["truth"][:80]), data(it["prediction"][:80]))
        console.print(table)


@click.command()
@click.option("--min-score", type=float, help="Only candidates scoring at least this.")
@click.option("--dataset")
@click.option("--metric-model", help="Rank by this metric model's scores (default: the configured one, "
              "else the one with most scores).")
@click.option("--json", "as_json", is_flag=True, help="Print the session's counts as JSON on stdout.")
@click.pass_context
def review(ctx, min_score, dataset, metric_model, as_json):
    """Interactive review, best first: [a]ccept [r]eject [s]kip [u]ndo [q]uit. Resumable."""
    from ..review import run_review

    counts = run_review(open_corpus(ctx), min_score, dataset, metric_model=metric_model)
    if as_json:
        print_json(counts)


@click.command()
@click.option("--min-score", type=float, help="Candidates scoring at least this.")
@click.option("--top", type=int, help="At most the N best.")
@click.option("--dataset")
@click.option("--predictor")
@click.option("--metric-model", help="Rank by this metric model's scores.")
@click.option("--ids", "ids_file", type=click.Path(), help="File of sample ids to promote instead.")
@click.option("--allow-target-overlap", is_flag=True,
              help="Also promote samples whose prompt is (a near-duplicate of) a target prompt (logged).")
@click.option("--reason", default="", help="Recorded with each decision in events.")
@click.option("--prefer-hard", is_flag=True, help="Order by hardness (1 − SCS to the target set's mean prompt) "
              "before --top, so the hard prompts among those passing --min-score go first.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def promote(ctx, min_score, top, dataset, predictor, metric_model, ids_file, allow_target_overlap, reason,
            prefer_hard, as_json):
    """Promote the best-scoring candidates (or --ids) to training data (status train). Idempotent."""
    from ..review import promote as do_promote, read_ids

    ids = read_ids(Path(ids_file)) if ids_file else None
    result = do_promote(open_corpus(ctx), min_score, top, dataset, ids, predictor, metric_model, reason,
                        prefer_hard=prefer_hard, allow_target_overlap=allow_target_overlap)
    if as_json:
        print_json(result)
    else:
        console.print(f"promote: {result['selected']} selected, {result['promoted']} changed to train, "
                      f"{result['held_back']} held back")
        for why, n in result["held_back_reasons"].items():
            console.print(f"  held back {n}: {why}" + ("" if "template" in why else
                                                         " (--allow-target-overlap to promote anyway)"))


@click.command()
@click.option("--ids", "ids_file", type=click.Path(), required=True, help="File of sample ids.")
@click.option("--reason", default="", help="Recorded with each decision in events.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def reject(ctx, ids_file, reason, as_json):
    """Reject samples (status rejected); never deletes. Idempotent."""
    from ..review import decide, read_ids

    ids = read_ids(Path(ids_file))
    n = decide(open_corpus(ctx), ids, "reject", reason, command="reject")
    if as_json:
        print_json({"selected": len(ids), "rejected": n})
    else:
        console.print(f"reject: {len(ids)} selected, {n} changed to rejected")


@click.command("undo")
@click.option("--n", "n", type=int, default=1, show_default=True, help="How many decisions to revert.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def undo_cmd(ctx, n, as_json):
    """Revert the last N review/promote/reject decisions (and review skips)."""
    from ..review import undo

    ids = undo(open_corpus(ctx), n)
    if as_json:
        print_json({"undone": ids})
    else:
        console.print(f"undo: {len(ids)} decisions reverted" + (f" ({', '.join(ids[:5])})" if ids else ""))


commands = [predictions, score, review, promote, reject, undo_cmd]
