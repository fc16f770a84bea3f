"""`curator card` and `curator mean-prompt`: the dataset measured against its target set."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from ..console import console, print_json
from .common import open_corpus

_METRIC_HELP = ("Metric model of SCS (default: curator.toml [score].metric_model, sentence-t5-base; "
                "'default' = the packaged MiniLM, a proxy).")


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _side_table(title: str, rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("figure", "training", "target"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    for r in rows:
        table.add_row(*(_fmt(v) for v in r))
    return table


def _how(section: dict) -> None:
    console.print(f"[dim]how: {escape(section['method'])}[/]")


def print_card(d: dict) -> None:
    """The card for people: one table per section, each followed by how it was computed."""
    console.print(f"[bold]dataset card[/] — training side: {d['basis']}, target: {d['target'] or 'all target sets'}, "
                  f"embeddings: {d['embed_model']}")
    c = d["counts"]
    tr, tg = c["training"], c["target"]
    console.print(_side_table("counts", [
        ("prompts", tr["prompts"], tg["prompts"]), ("samples", tr["samples"], tg["samples"]),
        ("multi-instruction share", tr["multi_instruction_share"], tg["multi_instruction_share"]),
        *((f"samples {k}", v, None) for k, v in tr["samples_by_status"].items()),
        *((f"samples from {k}", v, None) for k, v in tr["samples_by_origin"].items())]))
    _how(c)
    table = Table(title="lengths in words", title_justify="left")
    for col in ("text", "side", "n", "p10", "median", "p90", "max", "over limit", "KS"):
        table.add_column(col, justify="left" if col in ("text", "side") else "right")
    for name in ("prompt", "original_text", "rewritten_text"):
        p = d["lengths"][name]
        for side in ("training", "target"):
            q = p[side]
            over = None if q["over_limit"] is None else f"{q['over_limit']:.1%} > {q['limit']}"
            table.add_row(name if side == "training" else "", side, *(_fmt(q[k]) for k in ("n", "p10", "p50", "p90", "max")),
                          _fmt(over), _fmt(p["ks"]["statistic"]) if side == "training" else "")
    console.print(table)
    _how(d["lengths"])
    dist, pr, rc = d["distance"], d["precision"], d["recall"]
    console.print(f"[bold]distance[/] (Fréchet): {dist['value']:.4f}  95% CI {dist['ci95'][0]:.4f} – {dist['ci95'][1]:.4f}"
                  f"  ({dist['n_training']} vs {dist['n_target']} prompts, lower = closer)")
    console.print(f"[bold]precision[/] {pr['value']:.3f}   [bold]recall[/] {rc['value']:.3f}   (k-NN manifolds, k={pr['k']})")
    for s in (dist, pr, rc):
        _how(s)
    cov = d["coverage"]
    console.print("[bold]target coverage[/]: " + "  ".join(f"cos ≥ {t}: {v:.1%}" for t, v in cov["thresholds"].items())
                  + f"  (mean best cosine {cov['mean_best_cosine']:.3f})")
    _how(cov)
    div = d["diversity"]
    console.print(_side_table("diversity", [
        ("Vendi score", div["training"]["vendi"], div["target"]["vendi"]),
        ("effective clusters", div["training"]["effective_clusters"], div["target"]["effective_clusters"]),
        ("clusters present", div["training"]["clusters_present"], div["target"]["clusters_present"])]))
    _how(div)
    diff = d.get("difficulty")
    if diff is None:
        return
    if "error" in diff:
        console.print(f"[bold]difficulty[/]: not computed: {escape(diff['error'])}")
        return
    console.print(f"[bold]difficulty[/] ({diff['metric_model']}): mean prompt of {diff['mean_prompt_set']}: "
                  f"{escape(diff['mean_prompt'])!r}")
    console.print(_side_table("mean SCS", [("mean prompt", diff["mean_prompt_score"]["training"],
                                            diff["mean_prompt_score"]["target"]),
                                           *((f"predictor {p}", v["mean"], None) for p, v in diff["predictors"].items())]))
    preds = list(diff["predictors"])
    table = Table(title="hardness per cluster (1 − SCS to the mean prompt; higher = harder)", title_justify="left")
    for col in ("cluster", "label", "training", "target", "hardness training", "hardness target", *preds):
        table.add_column(col, justify="left" if col == "label" else "right")
    for r in diff["clusters"]:
        table.add_row(str(r["cluster"]), escape(str(r["label"])[:40]), str(r["training_prompts"]), str(r["target_prompts"]),
                      _fmt(r["hardness_training"]), _fmt(r["hardness_target"]),
                      *(_fmt(r["predictors"].get(p)) for p in preds))
    console.print(table)
    _how(diff)


@click.command()
@click.option("--target", help="Target dataset (default: every dataset ingested --as target).")
@click.option("--basis", type=click.Choice(["auto", "samples", "train", "prompts"]),
              help="Training side: samples (train + candidate), train only, the prompt pool, or auto "
                   "(the default: samples when there are any, else the prompt pool).")
@click.option("--model", help="Embedding model of the distribution figures (default: [embed].model).")
@click.option("--metric-model", help=_METRIC_HELP)
@click.option("--no-difficulty", is_flag=True, help="Skip the mean prompt and hardness figures.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Also write a standalone HTML card.")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON (docs/card.md).")
@click.pass_context
def card(ctx, target, basis, model, metric_model, no_difficulty, html_out, as_json):
    """The dataset card: training side vs target side, each figure with how it was computed."""
    result = open_corpus(ctx).card(target, basis=basis or "auto", model=model, metric_model=metric_model,
                                   difficulty=not no_difficulty)
    data = result.as_dict()
    if html_out:
        from ..cardhtml import render_card_page

        out = Path(html_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(render_card_page(data), encoding="utf-8")
        tmp.replace(out)
    if as_json:
        print_json(data)
        return
    print_card(data)
    if html_out:
        console.print(f"card: {html_out}")


@click.command("mean-prompt")
@click.option("--dataset", help="Search over the prompts of this dataset.")
@click.option("--target", help="Search over this target set (default: every target prompt, else every prompt).")
@click.option("--metric-model", help=_METRIC_HELP)
@click.option("--rounds", type=int, help="Improving rounds at most (default: [meanprompt].rounds, 12).")
@click.option("--json", "as_json", is_flag=True, help="Print prompt, score, medoid, ratio, … as JSON.")
@click.pass_context
def mean_prompt(ctx, dataset, target, metric_model, rounds, as_json):
    """The one prompt with the highest mean SCS over a set: the constant-guess yardstick."""
    res = open_corpus(ctx).mean_prompt(dataset, target, metric_model=metric_model, rounds=rounds)
    if as_json:
        print_json(res.as_dict())
        return
    console.print(f"mean prompt of {res.set_name} ({res.set_size} prompts, {res.metric_model}):")
    console.print(f"  {escape(res.prompt)}")
    console.print(f"mean SCS {res.score:.4f}; medoid {res.medoid_score:.4f} ({escape(res.medoid)!r}); "
                  f"ratio {res.ratio:.3f}")
    console.print(f"{res.rounds} rounds, {res.encoded} candidates encoded, {res.seconds:.1f} s")


commands = [card, mean_prompt]
