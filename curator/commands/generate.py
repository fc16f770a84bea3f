"""`curator generate | brainstorm | predict`: the LLM stages (any OpenAI-compatible endpoint).

Only parsing and printing: defaults come from the settings, behaviour from the stage functions.
Exit codes: 0 done; 1 the run finished but some remote work failed for good (the summary line
says how many and why), or the endpoint refused the key / cannot be reached / keeps failing;
2 bad usage or configuration (e.g. ``--max-cost`` with a model of unknown price); 130 interrupted.
"""

from __future__ import annotations

import click

from ..console import console, print_json
from .common import open_corpus

LLM_KEYS = ("base_url", "model", "api_key_env", "concurrency", "rpm", "tpm", "timeout", "max_retries",
            "price_in", "price_out")


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
        click.option("--max-retries", type=int, help="Retries on 429/5xx/timeouts/connection errors (default 4)."),
        click.option("--retries", type=int, help="New-seed re-asks of an invalid answer (default [llm].answer_retries, 2)."),
        click.option("--max-cost", type=float, help="Stop sending before this run's spending would cross this (USD)."),
        click.option("--price-in", type=float, help="USD per million input tokens of --model (else [llm.prices])."),
        click.option("--price-out", type=float, help="USD per million output tokens of --model."),
    ]):
        f = opt(f)
    return f


def _llm(kw: dict) -> dict:
    return {k: kw[k] for k in LLM_KEYS if kw.get(k) is not None}


def _ids(text: str | None, flag: str) -> list[int] | None:
    from ..errors import CuratorError

    if not text:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CuratorError(f"{flag} {text}: expected comma-separated numbers") from None


def _print_summary(title: str, s: dict) -> None:
    console.print(f"[bold]{title}[/]: {s['items']} to do, done {s['done']}, answers from the journal {s['cached']}, "
                  f"sent {s['sent']}, ok {s['ok']}, retries {s['retries']}, stored {s['stored']}"
                  + (f", not sent (cost cap) {s['not_sent_cost_cap']}" if s["not_sent_cost_cap"] else ""))
    if s["invalid"]:
        console.print("  invalid answers: " + ", ".join(f"{k} {v}" for k, v in s["invalid"].items()), markup=False)
    if s["failed"]:
        console.print("  failed calls: " + ", ".join(f"{k} {v}" for k, v in s["failed"].items()), markup=False)
    console.print(f"  tokens in {s['tokens_in']}, out {s['tokens_out']}, cost ${s['cost']:.4f}")


@click.command()
@click.option("--gaps", is_flag=True, help="Use the under-covered clusters of `curator coverage`.")
@click.option("--target", help="Target dataset for --gaps.")
@click.option("--clusters", help="Comma-separated cluster ids.")
@click.option("--per-cluster", type=int, help="Prompts per cluster (default [generate].per_cluster, 5).")
@click.option("--prompts", "prompts_file", type=click.Path(), help="A file of prompts instead of clusters.")
@click.option("--temperature", type=float, help="Default [generate].temperature, 0.7.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--min-words", type=int, help="Default [generate].min_words, 30.")
@click.option("--max-words", type=int, help="Original text word limit (default [generate].max_words, 200).")
@click.option("--rewrite-model", help="Two-stage: this model rewrites the stage-1 original.")
@click.option("--rewrite-base-url", help="Endpoint of the rewrite model (default: --base-url).")
@click.option("--dry-run", is_flag=True, help="Print the plan (calls, tokens, cost); send nothing.")
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def generate(ctx, gaps, target, clusters, per_cluster, prompts_file, temperature, seed, min_words, max_words,
             rewrite_model, rewrite_base_url, dry_run, as_json, max_cost, retries, **kw):
    """Generate (original_text, rewritten_text) samples for prompts of under-covered clusters."""
    from ..generate import generate as run_generate

    corpus = open_corpus(ctx)
    summary = run_generate(corpus, gaps=gaps, clusters=_ids(clusters, "--clusters"), prompts_file=prompts_file,
                           target=target, per_cluster=per_cluster, temperature=temperature, seed=seed,
                           min_words=min_words, max_words=max_words, retries=retries, rewrite_model=rewrite_model,
                           rewrite_base_url=rewrite_base_url, max_cost=max_cost, dry_run=dry_run, **_llm(kw))
    the_plan = summary.plan
    if as_json:
        print_json(summary.as_dict())
    elif summary.stage1 is None:
        console.print(f"plan: {the_plan['calls']} calls to {the_plan['model']} at {the_plan['base_url']}"
                      + (f" (+ {the_plan['calls']} rewrite calls to {rewrite_model})" if rewrite_model else ""),
                      markup=False)
        console.print(f"  clusters: {', '.join(map(str, the_plan['clusters'])) or '-'}")
        console.print(f"  tokens in ≈ {the_plan['tokens_in']}, out ≈ {the_plan['tokens_out_estimate']} "
                      f"({the_plan['tokenizer']})")
        console.print("  cost ≈ " + (f"${the_plan['cost_estimate']} (worst case ${the_plan['worst_case_cost']})"
                                     if the_plan["price_known"] else
                                     f"unknown: no price for {the_plan['model']} in curator.toml"), markup=False)
        if the_plan.get("gaps") == []:
            console.print("no under-covered clusters (see `curator coverage`): nothing to generate for "
                          "--gaps; name clusters with --clusters")
        elif the_plan.get("gaps") and not the_plan["calls"]:
            console.print(f"gaps {', '.join(map(str, the_plan['gaps']))} have no training prompt to generate "
                          "from: `curator brainstorm --clusters ...` proposes some")
        console.print("dry run: nothing sent" if dry_run else "nothing to generate")
    else:
        _print_summary(f"generate ({the_plan['model']})", summary.stage1.as_dict())
        if summary.stage2:
            _print_summary(f"rewrite ({rewrite_model})", summary.stage2.as_dict())
        console.print(f"samples added: {summary.samples_added} (status candidate)")
    summary.check()


@click.command()
@click.option("--clusters", required=True, help="Comma-separated cluster ids.")
@click.option("--n", type=int, default=20, show_default=True, help="Prompts to ask for per cluster.")
@click.option("--threshold", type=float, help="Drop proposals with cosine ≥ this to any existing prompt "
              "(default [dedup].threshold).")
@click.option("--seed", type=int, default=0, show_default=True)
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def brainstorm(ctx, clusters, n, threshold, seed, as_json, max_cost, retries, **kw):
    """Ask the model for new prompts like a cluster's; keep only novel ones (origin generated-prompt)."""
    from ..brainstorm import brainstorm as run_brainstorm

    corpus = open_corpus(ctx)
    out = run_brainstorm(corpus, clusters=_ids(clusters, "--clusters"), n=n, threshold=threshold, seed=seed,
                         retries=retries, max_cost=max_cost, **_llm(kw))
    if as_json:
        print_json(out.as_dict())
    else:
        console.print(f"brainstorm: {out.proposed} proposed for {out.clusters} clusters, {out.kept} kept "
                      f"({out.new} new), {out.dropped_as_not_novel} dropped as too close to existing prompts")
        _print_summary("calls", out.llm.as_dict())
    out.check()


@click.command()
@click.option("--predictor", help="Name to store predictions under (default llm:MODEL).")
@click.option("--dataset")
@click.option("--status", help="Only samples of this status.")
@click.option("--limit", type=int)
@click.option("--seed", type=int, default=0, show_default=True)
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def predict(ctx, predictor, dataset, status, limit, seed, as_json, max_cost, retries, **kw):
    """Predict the prompt of samples with an LLM (editable recovery template), journaled and resumable."""
    from ..predict import predict as run_predict

    corpus = open_corpus(ctx)
    summary = run_predict(corpus, predictor=predictor, dataset=dataset, status=status, limit=limit, seed=seed,
                          retries=retries, max_cost=max_cost, **_llm(kw))
    if as_json:
        print_json(summary.as_dict())
    else:
        _print_summary(f"predict → predictor {summary.predictor}", summary.llm.as_dict())
    summary.check()


commands = [generate, brainstorm, predict]
