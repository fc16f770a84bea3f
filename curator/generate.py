"""The synthesis task: prompts from under-covered clusters → (original_text, rewritten_text) samples.

One-stage (default): one model writes a short original text that suits the prompt *and* its
rewrite, as JSON. Two-stage (``rewrite_model``): stage 1 writes only the original text; stage 2
sends "prompt + original" to a second model (e.g. Gemma behind vLLM or Ollama) — how the
competition data itself was made. Both stages are :class:`~curator.llm.LLMTask` s run by the one
journaled runner, so a killed run resumes where it stopped (journaled originals feed stage 2).

The instructions sent to the model are files (``curator/llm_templates/*.txt``, overridden by
``<corpus>/llm_templates/*.txt``) using ``$name`` placeholders, so JSON braces need no escaping.

Validation of every answer (JSON parsed with ``json``, never evaluated): both texts present,
original within the word limits, rewrite not longer than ``REWRITE_FACTOR`` × the limit, rewrite
differs from the original, no refusal ("I'm sorry", "As an AI", …). An invalid answer is
recorded with its reason and asked again with a new seed, at most ``retries`` times.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import CuratorError
from .items import Provenance, SampleRecord, add_samples
from .queries import rewrite_prompts
from .llm import (Budget, ChatRequest, Invalid, LLMConfig, LLMTask, RunSummary, call_sync, check, load_template,
                  parse_json_object, render, run_task)
from .text import normalise, word_count

if TYPE_CHECKING:
    from .context import Context

__all__ = ["GenerateOptions", "GenerateSummary", "PickedPrompt", "generate", "load_template", "pick_prompts",
           "plan", "render", "validate"]

REFUSAL = re.compile(r"\b(I'?m sorry|I am sorry|as an AI|I cannot|I can'?t (help|assist|comply)|"
                     r"I'?m unable to|I am unable to)\b", re.I)
REWRITE_FACTOR = 3
RETRY_SEED_STEP = 1_000_003


@dataclass
class PickedPrompt:
    prompt_id: str
    text: str
    cluster: int | None


def gap_clusters(corpus: "Context", target: str | None = None) -> list[int]:
    """The under-covered clusters of ``curator coverage`` against ``target`` (all target sets by default)."""
    from .coverage import compute_coverage

    return compute_coverage(corpus, target=target).gaps


def pick_prompts(corpus: "Context", clusters: list[int] | None = None, gaps: bool = False,
                 per_cluster: int = 5, prompts_file: Path | None = None, target: str | None = None,
                 seed: int = 0) -> list[PickedPrompt]:
    """Prompts to generate for: from a file, from named clusters, or from the coverage gaps.

    Target-only prompts are never used (that would leak the test set into training data); a gap
    cluster with no training prompt is reported so `curator brainstorm` can fill it first. No
    gaps is an answer, not an error: nothing is picked (a scheduled re-run after generation filled
    the gaps has nothing to do and says so).
    """
    if prompts_file is not None:
        from .ingest import read_table, resolve_columns
        from .leakage import is_template
        from .text import content_id

        frame, _, _ = read_table(Path(prompts_file))
        col = resolve_columns(list(frame.columns), {}, Path(prompts_file)).get("rewrite_prompt")
        if col is None:
            raise CuratorError(f"{prompts_file}: no prompt column; name it rewrite_prompt or prompt")
        texts = [t.strip() for t in frame[col] if t.strip() and not is_template(t)]  # templates are not prompts
        return [PickedPrompt(content_id(t), t, None) for t in dict.fromkeys(texts)]
    from .cluster import assignments, latest_clustering

    if latest_clustering(corpus) is None:
        raise CuratorError("generate: no clustering yet; run `curator cluster` (or pass --prompts FILE)")
    if gaps:
        clusters = gap_clusters(corpus, target)
        if not clusters:  # nothing under-covered (any more): a re-run after the gaps filled is a no-op
            return []
    if not clusters:
        raise CuratorError("generate: no clusters to generate for; name some with --clusters")
    cluster_of = assignments(corpus)
    training = {r[0] for r in corpus.store.query(
        "SELECT DISTINCT item_id FROM provenance WHERE +item_kind='prompt' AND role != 'target'")}
    rows = rewrite_prompts(corpus)  # canonical, and never a template with an unfilled slot
    rng = random.Random(seed)
    picked = []
    for c in clusters:
        members = [r for r in rows if cluster_of.get(r["id"]) == c and r["id"] in training]
        rng.shuffle(members)
        picked += [PickedPrompt(r["id"], r["text"], c) for r in members[:per_cluster]]
    return picked


@dataclass
class GenerateOptions:
    temperature: float = 0.7
    seed: int = 0
    min_words: int = 30
    max_words: int = 200
    retries: int = 2
    max_tokens: int = 900
    rewrite_model: str | None = None
    rewrite_base_url: str | None = None


def validate(original: object, rewritten: object, opts: GenerateOptions) -> str | None:
    """None when the pair is usable, else the reason (first word is the failure class)."""
    if not isinstance(original, str) or not original.strip():
        return "missing: original_text"
    if not isinstance(rewritten, str) or not rewritten.strip():
        return "missing: rewritten_text"
    if _refusal(original) or _refusal(rewritten):
        return "refusal: the model declined"
    words = word_count(original)
    if words > opts.max_words:
        return f"too_long: original has {words} words > {opts.max_words}"
    if words < min(opts.min_words, opts.max_words):
        return f"too_short: original has {words} words < {opts.min_words}"
    rewritten_words = word_count(rewritten)
    if rewritten_words > opts.max_words * REWRITE_FACTOR:
        return f"too_long: rewrite has {rewritten_words} words"
    # texts that normalise alike have the same words: the (costlier) comparison only when counts agree
    if rewritten_words == words and normalise(original) == normalise(rewritten):
        return "unchanged: rewrite equals the original"
    return None


def _refusal(text: str) -> bool:
    # every refusal phrase holds one of these words; the case-insensitive alternation costs ~0.1 ms
    # per text, so it runs only when one is present (validation runs on every answer)
    low = text.lower()
    return any(w in low for w in _REFUSAL_WORDS) and REFUSAL.search(text) is not None


_REFUSAL_WORDS = ("sorry", "as an ai", "cannot", "can't", "cant", "unable")


def _record(pick: PickedPrompt, original: str, rewritten: str, model: str, req_meta: dict, h: str) -> SampleRecord:
    return SampleRecord(original, pick.text, rewritten, origin="generated", status="candidate", model=model,
                        provenance=Provenance("generated", "generated", file=model, sha256=h, row=0),
                        meta={**req_meta, "prompt_id": pick.prompt_id, "cluster": pick.cluster, "request_hash": h})


class SynthesisTask(LLMTask):
    """Stage 1 (or the only stage): one request per picked prompt; one-stage answers are stored
    as samples, stage-1 originals are kept for stage 2."""

    def __init__(self, ctx: "Context", picks: list[PickedPrompt], cfg: LLMConfig, opts: GenerateOptions):
        self.picks, self.cfg, self.opts = picks, cfg, opts
        self.two_stage = opts.rewrite_model is not None
        self.purpose = "generate-original" if self.two_stage else "generate"
        self.keep_values = self.two_stage
        self.retries = opts.retries
        self.label = "generate originals" if self.two_stage else "generate"
        self.template = load_template(ctx, "original" if self.two_stage else "generate")

    def items(self):
        return self.picks

    def key(self, pick: PickedPrompt) -> str:
        return pick.prompt_id

    def request(self, pick: PickedPrompt, index: int, attempt: int) -> ChatRequest:
        o = self.opts
        content = render(self.template, prompt=pick.text, min_words=o.min_words, max_words=o.max_words)
        # the seed follows the prompt, not its place in this run's list: a re-run that picks the same
        # prompts in another order (new gaps, another --per-cluster) replays instead of re-asking
        return ChatRequest([{"role": "user", "content": content}], o.temperature,
                           o.seed + _seed_offset(pick.prompt_id) + attempt * RETRY_SEED_STEP, o.max_tokens, json=True)

    def parse(self, pick: PickedPrompt, content: str) -> Any:
        data = parse_json_object(content)
        if data is None:
            raise Invalid("malformed: not a JSON object")
        original = data.get("original_text")
        rewritten = "(pending rewrite)" if self.two_stage else data.get("rewritten_text")
        if reason := validate(original, rewritten, self.opts):
            raise Invalid(reason)
        return original if self.two_stage else (original, rewritten)

    def store(self, conn, pick: PickedPrompt, value, req: ChatRequest, request_hash: str) -> int:
        if self.two_stage:
            return 0
        meta = {"temperature": req.temperature, "seed": req.seed}
        return add_samples(conn, [_record(pick, value[0], value[1], self.cfg.model, meta, request_hash)]).new


def _seed_offset(prompt_id: str) -> int:
    return int(hashlib.sha256(prompt_id.encode()).hexdigest()[:4], 16)  # < 65,536: attempts stay apart


class RewriteTask(LLMTask):
    """Stage 2: the rewrite model applies the prompt to each stage-1 original."""

    purpose = "generate-rewrite"

    def __init__(self, ctx: "Context", originals: list[tuple[PickedPrompt, str]], cfg: LLMConfig,
                 opts: GenerateOptions):
        self.originals, self.cfg, self.opts = originals, cfg, opts
        self.retries = opts.retries
        self.label = f"rewrite ({cfg.model})"
        self.template = load_template(ctx, "rewrite")

    def items(self):
        return self.originals

    def key(self, item) -> str:
        return item[0].prompt_id

    def request(self, item, index: int, attempt: int) -> ChatRequest:
        pick, original = item
        return ChatRequest([{"role": "user", "content": render(self.template, prompt=pick.text,
                                                               original_text=original)}],
                           self.opts.temperature, self.opts.seed + attempt * RETRY_SEED_STEP, self.opts.max_tokens,
                           json=False)

    def parse(self, item, content: str) -> str:
        rewritten = content.strip()
        if reason := validate(item[1], rewritten, self.opts):
            raise Invalid(reason)
        return rewritten

    def store(self, conn, item, value: str, req: ChatRequest, request_hash: str) -> int:
        meta = {"temperature": req.temperature, "seed": req.seed}
        return add_samples(conn, [_record(item[0], item[1], value, self.cfg.model, meta, request_hash)]).new


@dataclass
class GenerateSummary:
    picked: int
    plan: dict
    stage1: RunSummary | None = None
    stage2: RunSummary | None = None
    dry_run: bool = False

    @property
    def samples_added(self) -> int:
        return sum(s.stored for s in (self.stage1, self.stage2) if s is not None)

    def as_dict(self) -> dict:
        return {"picked": self.picked, "dry_run": self.dry_run, "samples_added": self.samples_added,
                "stage1": self.stage1.as_dict() if self.stage1 else None,
                "stage2": self.stage2.as_dict() if self.stage2 else None, "plan": self.plan}

    def check(self) -> None:
        """Raise RemoteError (exit 1) when some prompts got no valid sample for good."""
        check(self.stage1, self.stage2)


def plan(requests: list[ChatRequest], cfg: LLMConfig, opts: GenerateOptions) -> dict:
    """What a run would send: calls, estimated tokens and cost (the --dry-run figures)."""
    from .tokens import tokenizer_name

    tin = sum(r.estimated_tokens_in() for r in requests)
    # expected output: two texts of ~¾ of the word limit, ~1.35 tokens per English word, + JSON
    tout = int(len(requests) * (opts.max_words * 0.75 * 2 * 1.35 + 20))
    price = cfg.price()
    return {"calls": len(requests), "model": cfg.model, "base_url": cfg.base_url,
            "tokens_in": tin, "tokens_out_estimate": tout, "tokenizer": tokenizer_name(),
            "cost_estimate": None if price is None else round(cfg.cost(tin, tout), 4),
            "worst_case_cost": None if price is None else round(cfg.cost(tin, len(requests) * opts.max_tokens), 4),
            "price_known": price is not None}


def rewrite_config(cfg: LLMConfig, opts: GenerateOptions) -> LLMConfig:
    return LLMConfig(**{**cfg.__dict__, "model": opts.rewrite_model,
                        "base_url": opts.rewrite_base_url or cfg.base_url, "json_mode": False})


async def run_generation(ctx: "Context", picks: list[PickedPrompt], cfg: LLMConfig, opts: GenerateOptions,
                         max_cost: float | None = None) -> tuple[RunSummary, RunSummary | None]:
    """Both stages (or the one) through the journaled runner, sharing one cost budget."""
    budget = Budget(max_cost)
    stage1 = await run_task(ctx, SynthesisTask(ctx, picks, cfg, opts), cfg, budget)
    if opts.rewrite_model is None:
        return stage1, None
    by_id = {p.prompt_id: p for p in picks}
    originals = [(by_id[k], v) for k, v in stage1.values.items()]
    rcfg = rewrite_config(cfg, opts)
    return stage1, await run_task(ctx, RewriteTask(ctx, originals, rcfg, opts), rcfg, budget)


def generate(ctx: "Context", *, gaps: bool = False, clusters: list[int] | None = None,
             prompts_file: str | Path | None = None, picks: list[PickedPrompt] | None = None,
             target: str | None = None, per_cluster: int | None = None, temperature: float | None = None,
             seed: int = 0, min_words: int | None = None, max_words: int | None = None,
             retries: int | None = None, rewrite_model: str | None = None, rewrite_base_url: str | None = None,
             max_cost: float | None = None, dry_run: bool = False, **llm: Any) -> GenerateSummary:
    """Generate samples for the prompts of ``clusters``, the coverage ``gaps``, a ``prompts_file``
    or explicit ``picks``. ``llm`` overrides [llm] settings (``model``, ``base_url``,
    ``concurrency``…, and ``price_in``/``price_out``). Unset values come from curator.toml.

    Raises :class:`~curator.errors.CuratorError` (bad input/config, nothing sent) or
    :class:`~curator.errors.RemoteError` (the endpoint refused the key, cannot be reached, or
    keeps failing). Some prompts left without a valid sample are in the summary; call
    ``summary.check()`` to turn that into a RemoteError, as the CLI does.
    """
    g = ctx.settings.override("generate", per_cluster=per_cluster, temperature=temperature, min_words=min_words,
                              max_words=max_words).section("generate")
    cfg = LLMConfig.from_settings(ctx, **llm)
    opts = GenerateOptions(g["temperature"], seed, g["min_words"], g["max_words"],
                           _retries(ctx, retries), rewrite_model=rewrite_model, rewrite_base_url=rewrite_base_url)
    gap_list: list[int] | None = None  # for the plan: "no gaps" is not "gaps without training prompts"
    if picks is None:
        if not (gaps or clusters or prompts_file):
            raise CuratorError("generate: say what to generate for: --gaps, --clusters IDS or --prompts FILE")
        if gaps and prompts_file is None:
            clusters = gap_list = gap_clusters(ctx, target)
        picks = pick_prompts(ctx, clusters, False, g["per_cluster"], Path(prompts_file) if prompts_file else None,
                             target, seed) if clusters or prompts_file else []
    if dry_run or not picks:  # token counts cost ~0.1 ms per request: only when asked for
        task = SynthesisTask(ctx, picks, cfg, opts)
        the_plan = plan([task.request(p, i, 0) for i, p in enumerate(picks)], cfg, opts)
    else:
        the_plan = {"calls": len(picks), "model": cfg.model, "base_url": cfg.base_url}
    the_plan["clusters"] = sorted({p.cluster for p in picks if p.cluster is not None})
    if gap_list is not None:
        the_plan["gaps"] = gap_list
    summary = GenerateSummary(len(picks), the_plan, dry_run=dry_run)
    if dry_run or not picks:
        return summary
    cfg.check_ready(max_cost)
    if rewrite_model is not None:
        rcfg = rewrite_config(cfg, opts)
        if max_cost is not None and rcfg.price() is None:  # --price-in/--price-out price --model only
            raise CuratorError(f"--max-cost {max_cost:g}: the price of the rewrite model {rewrite_model!r} is "
                               "unknown; add it to curator.toml [llm.prices] (0 for a local server)")
        rcfg.check_ready(None)
    summary.stage1, summary.stage2 = call_sync(ctx, lambda c: run_generation(c, picks, cfg, opts, max_cost))
    with ctx.store.transaction():
        ctx.store.log_event("generate", {"model": cfg.model, "base_url": cfg.base_url, "clusters": clusters,
                                         "gaps": gaps, "seed": seed, "rewrite_model": rewrite_model},
                            summary.as_dict())
    return summary


def _retries(ctx: "Context", retries: int | None) -> int:
    return ctx.settings.override("llm", answer_retries=retries).get("llm", "answer_retries")
