"""`curator generate | brainstorm | predict`: the LLM stages (any OpenAI-compatible endpoint)."""

from __future__ import annotations

from pathlib import Path

import click

from ..console import console, print_json
from .common import open_corpus


def llm_options(f):
    for opt in reversed([
        click.option("--base-url", help="OpenAI-compatible endpoint (default: curator.toml [llm].base_url or "
                     "$CURATOR_BASE_URL)."),
        click.option("--model", help="Model name (default: curator.toml [llm].model or $CURATOR_MODEL)."),
        click.option("--api-key-env", help="Environment variable holding the API key (default OPENAI_API_KEY)."),
        click.option("--concurrency", type=int, help="Requests in flight at most (default 8)."),
        click.option("--rpm", type=int, help="Requests per minute at most."),
        click.option("--tpm", type=int, help="Tokens per minute at most."),
        click.option("--timeout", type=float, help="Per-request timeout in seconds (default 60)."),
        click.option("--max-retries", type=int, help="Retries on 429/5xx/timeouts (default 4)."),
        click.option("--max-cost", type=float, help="Stop sending before spending would cross this (USD)."),
    ]):
        f = opt(f)
    return f


def _config(corpus, kw):
    from ..llm import LLMConfig

    return LLMConfig.from_corpus(corpus, **{k: kw.get(k) for k in ("base_url", "model", "api_key_env", "concurrency",
                                                                    "rpm", "tpm", "timeout", "max_retries")})


def _print_summary(title: str, s: dict) -> None:
    console.print(f"[bold]{title}[/]: planned {s['planned']}, answered earlier {s['cached']}, sent {s['sent']}, "
                  f"ok {s['ok']}, retries {s['retries']}, not sent (cost cap) {s['not_sent_cost_cap']}")
    if s["invalid"]:
        console.print("  invalid answers: " + ", ".join(f"{k} {v}" for k, v in s["invalid"].items()))
    if s["failed"]:
        console.print("  failed calls: " + ", ".join(f"{k} {v}" for k, v in s["failed"].items()))
    console.print(f"  tokens in {s['tokens_in']}, out {s['tokens_out']}, cost ${s['cost']:.4f}")


@click.command()
@click.option("--gaps", is_flag=True, help="Use the under-covered clusters of `curator coverage`.")
@click.option("--target", help="Target dataset for --gaps.")
@click.option("--clusters", help="Comma-separated cluster ids.")
@click.option("--per-cluster", type=int, default=5, show_default=True, help="Prompts per cluster.")
@click.option("--prompts", "prompts_file", type=click.Path(), help="A file of prompts instead of clusters.")
@click.option("--temperature", type=float, default=0.7, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-words", type=int, default=30, show_default=True)
@click.option("--max-words", type=int, default=200, show_default=True, help="Original text word limit.")
@click.option("--retries", type=int, default=2, show_default=True, help="New-seed retries of invalid answers.")
@click.option("--rewrite-model", help="Two-stage: this model rewrites the stage-1 original.")
@click.option("--rewrite-base-url", help="Endpoint of the rewrite model (default: --base-url).")
@click.option("--dry-run", is_flag=True, help="Print the plan (calls, tokens, cost); send nothing.")
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def generate(ctx, gaps, target, clusters, per_cluster, prompts_file, temperature, seed, min_words, max_words,
             retries, rewrite_model, rewrite_base_url, dry_run, as_json, max_cost, **kw):
    """Generate (original_text, rewritten_text) samples for prompts of under-covered clusters."""
    from ..errors import CuratorError
    from ..generate import GenerateOptions, build_requests, generate as run_generate, pick_prompts, plan
    from ..llm import run_sync

    corpus = open_corpus(ctx)
    ids = None
    if clusters:
        try:
            ids = [int(x) for x in clusters.split(",") if x.strip()]
        except ValueError:
            raise CuratorError(f"--clusters {clusters}: expected comma-separated numbers") from None
    if not (gaps or ids or prompts_file):
        raise CuratorError("generate: say what to generate for: --gaps, --clusters IDS or --prompts FILE")
    picks = pick_prompts(corpus, ids, gaps, per_cluster, Path(prompts_file) if prompts_file else None, target, seed)
    cfg = _config(corpus, kw)
    opts = GenerateOptions(temperature, seed, min_words, max_words, retries, rewrite_model=rewrite_model,
                           rewrite_base_url=rewrite_base_url)
    the_plan = plan(build_requests(corpus, picks, opts, 0, rewrite_model is not None), cfg, opts)
    the_plan["clusters"] = sorted({p.cluster for p in picks if p.cluster is not None})
    if dry_run or not picks:
        if as_json:
            print_json({"dry_run": True, "plan": the_plan})
            return
        console.print(f"plan: {the_plan['calls']} calls to {cfg.model} at {cfg.base_url}"
                      + (f" (+ {the_plan['calls']} rewrite calls to {rewrite_model})" if rewrite_model else ""))
        console.print(f"  clusters: {', '.join(map(str, the_plan['clusters'])) or '-'}")
        console.print(f"  tokens in ≈ {the_plan['tokens_in']}, out ≈ {the_plan['tokens_out_estimate']} "
                      f"({the_plan['tokenizer']})")
        console.print("  cost ≈ " + (f"${the_plan['cost_estimate']} (worst case ${the_plan['worst_case_cost']})"
                                     if the_plan["price_known"] else f"unknown: no price for {cfg.model} in curator.toml"))
        for p in picks[:10]:
            console.print(f"  · [{p.cluster}] {p.text}", markup=False)
        console.print("dry run: nothing sent" if dry_run else "nothing to generate")
        return
    result = run_sync(run_generate(corpus, picks, cfg, opts, max_cost))
    s1 = result.stage1.as_dict()
    with corpus.store.transaction():
        corpus.store.log_event("generate", {"model": cfg.model, "base_url": cfg.base_url, "clusters": ids,
                                            "gaps": gaps, "seed": seed},
                               {"samples": result.samples_added, "stage1": s1,
                                "stage2": result.stage2.as_dict() if result.stage2 else None})
    if as_json:
        print_json({"samples_added": result.samples_added, "rounds": result.rounds, "stage1": s1,
                    "stage2": result.stage2.as_dict() if result.stage2 else None, "plan": the_plan})
        return
    _print_summary(f"generate ({cfg.model}, {result.rounds} rounds)", s1)
    if result.stage2:
        _print_summary(f"rewrite ({rewrite_model})", result.stage2.as_dict())
    console.print(f"samples added: {result.samples_added} (status candidate)")


@click.command()
@click.option("--clusters", required=True, help="Comma-separated cluster ids.")
@click.option("--n", type=int, default=20, show_default=True, help="Prompts to ask for per cluster.")
@click.option("--threshold", type=float, default=0.9, show_default=True,
              help="Drop proposals with cosine ≥ this to any existing prompt.")
@click.option("--seed", type=int, default=0, show_default=True)
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def brainstorm(ctx, clusters, n, threshold, seed, as_json, max_cost, **kw):
    """Ask the model for new prompts like a cluster's; keep only novel ones (origin generated-prompt)."""
    from ..brainstorm import brainstorm as run_brainstorm
    from ..llm import run_sync

    corpus = open_corpus(ctx)
    ids = [int(x) for x in clusters.split(",") if x.strip()]
    out = run_sync(run_brainstorm(corpus, ids, _config(corpus, kw), n, threshold, seed=seed, max_cost=max_cost,
                                  model=corpus.setting("embed", "model", None)))
    if as_json:
        print_json(out)
    else:
        console.print(f"brainstorm: {out['proposed']} proposed for {out['clusters']} clusters, {out['kept']} kept, "
                      f"{out['dropped_as_not_novel']} dropped as too close to existing prompts")


@click.command()
@click.option("--predictor", help="Name to store predictions under (default llm:MODEL).")
@click.option("--dataset")
@click.option("--status", help="Only samples of this status.")
@click.option("--limit", type=int)
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def predict(ctx, predictor, dataset, status, limit, as_json, max_cost, **kw):
    """Predict the prompt of samples with an LLM (editable recovery template), journaled and resumable."""
    from ..llm import run_sync
    from ..predict import predict as run_predict

    corpus = open_corpus(ctx)
    name, summary = run_sync(run_predict(corpus, _config(corpus, kw), predictor, dataset, status, limit, max_cost))
    if as_json:
        print_json({"predictor": name, **summary.as_dict()})
    else:
        _print_summary(f"predict → predictor {name}", summary.as_dict())


commands = [generate, brainstorm, predict]
