"""The synthesis task: prompts from under-covered clusters → (original_text, rewritten_text) samples.

One-stage (default): one model writes a short original text that suits the prompt *and* its
rewrite, as JSON. Two-stage (``rewrite_model``): stage 1 writes only the original text; stage 2
sends "prompt + original" to a second model (e.g. Gemma behind vLLM or Ollama) — how the
competition data itself was made.

The instructions sent to the model are files (``curator/llm_templates/*.txt``, overridden by
``<corpus>/llm_templates/*.txt``) using ``$name`` placeholders, so JSON braces need no escaping.

Validation of every answer (JSON parsed with ``json``, never evaluated): both texts present,
original within the word limits, rewrite not longer than ``REWRITE_FACTOR`` × the limit, rewrite
differs from the original, no refusal ("I'm sorry", "As an AI", …). An invalid answer is
recorded with its reason and asked again with a new seed, at most ``retries`` times.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .queries import rewrite_prompts
from .errors import CuratorError
from .items import Provenance, SampleRecord, add_samples
from .llm import ChatRequest, LLMConfig, RunSummary, parse_json_object, run_journaled
from .text import normalise, word_count

if TYPE_CHECKING:
    from .context import Context

REFUSAL = re.compile(r"\b(I'?m sorry|I am sorry|as an AI|I cannot|I can'?t (help|assist|comply)|"
                     r"I'?m unable to|I am unable to)\b", re.I)
REWRITE_FACTOR = 3
RETRY_SEED_STEP = 1_000_003


def load_template(corpus: "Context | None", name: str) -> string.Template:
    """The user's copy in <corpus>/llm_templates/NAME.txt, else the packaged one."""
    if corpus is not None:
        user = Path(corpus.root) / "llm_templates" / f"{name}.txt"
        if user.exists():
            return string.Template(user.read_text(encoding="utf-8"))
    return string.Template(resources.files("curator.llm_templates").joinpath(f"{name}.txt").read_text("utf-8"))


def render(template: string.Template, **values) -> str:
    try:
        return template.substitute(**values)
    except (KeyError, ValueError) as exc:
        raise CuratorError(f"LLM template: unknown or malformed placeholder {exc}; "
                           f"available: {', '.join('$' + k for k in values)}") from exc


@dataclass
class PickedPrompt:
    prompt_id: str
    text: str
    cluster: int | None


def pick_prompts(corpus: "Context", clusters: list[int] | None = None, gaps: bool = False,
                 per_cluster: int = 5, prompts_file: Path | None = None, target: str | None = None,
                 seed: int = 0) -> list[PickedPrompt]:
    """Prompts to generate for: from a file, from named clusters, or from the coverage gaps.

    Target-only prompts are never used (that would leak the test set into training data); a gap
    cluster with no training prompt is reported so `curator brainstorm` can fill it first.
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
        from .coverage import compute_coverage

        clusters = compute_coverage(corpus, target=target).gaps
    if not clusters:
        raise CuratorError("generate: no clusters to generate for (no gaps; name some with --clusters)")
    cluster_of = assignments(corpus)
    training = {r[0] for r in corpus.store.query(
        "SELECT DISTINCT item_id FROM provenance WHERE item_kind='prompt' AND role != 'target'")}
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
    if REFUSAL.search(original) or REFUSAL.search(rewritten):
        return "refusal: the model declined"
    words = word_count(original)
    if words > opts.max_words:
        return f"too_long: original has {words} words > {opts.max_words}"
    if words < min(opts.min_words, opts.max_words):
        return f"too_short: original has {words} words < {opts.min_words}"
    if word_count(rewritten) > opts.max_words * REWRITE_FACTOR:
        return f"too_long: rewrite has {word_count(rewritten)} words"
    if normalise(original) == normalise(rewritten):
        return "unchanged: rewrite equals the original"
    return None


def _record(pick: PickedPrompt, original: str, rewritten: str, model: str, req: ChatRequest, h: str,
            opts: GenerateOptions) -> SampleRecord:
    return SampleRecord(original, pick.text, rewritten, origin="generated", status="candidate", model=model,
                        provenance=Provenance("generated", "generated", file=model, sha256=h, row=0),
                        meta={"temperature": req.temperature, "seed": req.seed, "prompt_id": pick.prompt_id,
                              "cluster": pick.cluster, "request_hash": h})


@dataclass
class GenerateResult:
    picked: int
    stage1: RunSummary
    stage2: RunSummary | None = None
    rounds: int = 0
    samples_added: int = 0
    plan: dict = field(default_factory=dict)


def build_requests(corpus: "Context", picks: list[PickedPrompt], opts: GenerateOptions, round_no: int = 0,
                   two_stage: bool = False) -> list[ChatRequest]:
    tpl = load_template(corpus, "original" if two_stage else "generate")
    reqs = []
    for i, p in enumerate(picks):
        content = render(tpl, prompt=p.text, min_words=opts.min_words, max_words=opts.max_words)
        seed = opts.seed + i + round_no * RETRY_SEED_STEP
        reqs.append(ChatRequest([{"role": "user", "content": content}], opts.temperature, seed, opts.max_tokens,
                                json=True, meta={"pick": p, "round": round_no}))
    return reqs


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


async def generate(corpus: "Context", picks: list[PickedPrompt], cfg: LLMConfig, opts: GenerateOptions,
                   max_cost: float | None = None) -> GenerateResult:
    """Run the synthesis (one- or two-stage) with bounded retries of invalid answers."""
    two_stage = opts.rewrite_model is not None
    result = GenerateResult(len(picks), RunSummary())
    pending = picks
    originals: dict[str, tuple[PickedPrompt, str]] = {}
    for round_no in range(opts.retries + 1):
        if not pending:
            break
        requests = build_requests(corpus, pending, opts, round_no, two_stage)

        def handle(conn, req, content, _two=two_stage):
            data = parse_json_object(content)
            if data is None:
                return "malformed: not a JSON object"
            pick = req.meta["pick"]
            if _two:
                original = data.get("original_text")
                reason = validate(original, "(pending rewrite)", opts)
                if reason is None:
                    originals[pick.prompt_id] = (pick, original)
                return reason
            reason = validate(data.get("original_text"), data.get("rewritten_text"), opts)
            if reason is None:
                h = req.hash(cfg.model)
                added = add_samples(conn, [_record(pick, data["original_text"], data["rewritten_text"], cfg.model,
                                                   req, h, opts)])
                result.samples_added += added.new
            return reason

        summary = await run_journaled(corpus, requests, cfg, "generate-original" if two_stage else "generate",
                                      handle, max_cost, progress_label=f"generate round {round_no + 1}")
        _merge(result.stage1, summary)
        if two_stage:  # answers journaled in an earlier run are read back from the journal
            for req in requests:
                pick = req.meta["pick"]
                if pick.prompt_id in originals:
                    continue
                row = corpus.store.query("SELECT response, status FROM llm_calls WHERE request_hash = ?",
                                         (req.hash(cfg.model),))
                if row and row[0]["status"] == "ok":
                    data = parse_json_object(row[0]["response"] or "") or {}
                    if isinstance(data.get("original_text"), str):
                        originals[pick.prompt_id] = (pick, data["original_text"])
        result.rounds = round_no + 1
        failed_ids = {r.meta["pick"].prompt_id for r in summary.invalid_requests}
        pending = [p for p in pending if p.prompt_id in failed_ids]
    if two_stage and originals:
        result.stage2 = await _rewrite_stage(corpus, list(originals.values()), cfg, opts, max_cost, result)
    return result


async def _rewrite_stage(corpus, originals, cfg: LLMConfig, opts: GenerateOptions, max_cost, result) -> RunSummary:
    rcfg = LLMConfig(**{**cfg.__dict__, "model": opts.rewrite_model,
                        "base_url": opts.rewrite_base_url or cfg.base_url, "json_mode": False})
    tpl = load_template(corpus, "rewrite")
    requests = [ChatRequest([{"role": "user", "content": render(tpl, prompt=p.text, original_text=o)}],
                            opts.temperature, opts.seed, opts.max_tokens, json=False, meta={"pick": p, "original": o})
                for p, o in originals]

    def handle(conn, req, content):
        pick, original = req.meta["pick"], req.meta["original"]
        rewritten = content.strip()
        reason = validate(original, rewritten, opts)
        if reason is None:
            h = req.hash(rcfg.model)
            result.samples_added += add_samples(conn, [_record(pick, original, rewritten, rcfg.model, req, h,
                                                               opts)]).new
        return reason

    return await run_journaled(corpus, requests, rcfg, "generate-rewrite", handle, max_cost,
                               progress_label=f"rewrite ({rcfg.model})")


def _merge(total: RunSummary, part: RunSummary) -> None:
    for k in ("planned", "cached", "sent", "ok", "not_sent_cost_cap", "tokens_in", "tokens_out", "retries"):
        setattr(total, k, getattr(total, k) + getattr(part, k))
    total.cost += part.cost
    total.invalid.update(part.invalid)
    total.failed.update(part.failed)
