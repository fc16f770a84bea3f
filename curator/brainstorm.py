"""Brainstorm new prompts for a cluster, keeping only novel ones (embedding novelty filter).

This closes the loop gap → brainstorm → coverage: a gap cluster with few training prompts gets
new ones in its style. A proposal is dropped when its cosine to any existing prompt, or to a
proposal already kept, is at or above ``threshold`` (default: ``[dedup].threshold``).

One request per cluster, as an :class:`~curator.llm.LLMTask`: the novelty filter runs in
``store``, so an answer journaled by a killed run is filtered and stored when the run resumes
(the filter is deterministic: the prompts that one answer already stored are not held against it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .items import PromptRecord, Provenance, add_prompts
from .llm import (Budget, ChatRequest, Invalid, LLMConfig, LLMTask, RunSummary, call_sync, check, load_template,
                  parse_json_object, render, run_task)
from .queries import canonical_prompts

if TYPE_CHECKING:
    from .context import Context

RETRY_SEED_STEP = 1_000_003


def novel(ctx: "Context", proposals: list[str], threshold: float, model: str | None = None,
          ignore: set[str] = frozenset()) -> list[str]:
    """The proposals (in order) whose cosine to every existing prompt but ``ignore`` and to
    every proposal kept before them is below ``threshold``."""
    from .embed import embed_texts

    proposals = [p.strip() for p in dict.fromkeys(proposals) if isinstance(p, str) and p.strip()]
    if not proposals:
        return []
    existing = [r[0] for r in ctx.store.query("SELECT text FROM prompts") if r[0] not in ignore]
    base = embed_texts(ctx, existing, model=model, progress=False) if existing else np.zeros((0, 1))
    new = embed_texts(ctx, proposals, model=model, progress=False)
    kept, kept_vecs = [], []
    for text, v in zip(proposals, new):
        best = float((base @ v).max()) if len(base) else -1.0
        if kept_vecs:
            best = max(best, float((np.vstack(kept_vecs) @ v).max()))
        if best < threshold:
            kept.append(text)
            kept_vecs.append(v)
    return kept


class BrainstormTask(LLMTask):
    purpose = "brainstorm"
    threaded_store = False  # the novelty filter embeds through the run's Context

    def __init__(self, ctx: "Context", clusters: list[int], cfg: LLMConfig, n: int, threshold: float,
                 examples: int, seed: int, retries: int, embed_model: str | None):
        from .cluster import assignments

        self.ctx, self.cfg, self.n, self.threshold = ctx, cfg, n, threshold
        self.seed, self.retries, self.embed_model = seed, retries, embed_model
        self.label = f"brainstorm ({cfg.model})"
        self.template = load_template(ctx, "brainstorm")
        cluster_of = assignments(ctx)
        rows = canonical_prompts(ctx)
        rng = random.Random(seed)
        self.shown: dict[int, str] = {}
        for c in clusters:
            members = [r["text"] for r in rows if cluster_of.get(r["id"]) == c]
            if members:
                rng.shuffle(members)
                self.shown[c] = "\n".join(f"- {t}" for t in members[:examples])
        self.proposed = self.kept = 0

    def items(self):
        return list(self.shown)

    def key(self, cluster: int) -> str:
        return f"cluster {cluster}"

    def request(self, cluster: int, index: int, attempt: int) -> ChatRequest:
        content = render(self.template, examples=self.shown[cluster], n=self.n)
        return ChatRequest([{"role": "user", "content": content}], 0.9, self.seed + cluster + attempt * RETRY_SEED_STEP,
                           1200, json=True)

    def parse(self, cluster: int, content: str) -> list[str]:
        data = parse_json_object(content)
        prompts = data.get("prompts") if data else None
        if not isinstance(prompts, list) or not any(isinstance(p, str) and p.strip() for p in prompts):
            raise Invalid("malformed: no prompts list")
        return [p for p in prompts if isinstance(p, str) and p.strip()]

    def store(self, conn, cluster: int, proposals: list[str], req: ChatRequest, request_hash: str) -> int:
        mine = {r[0] for r in conn.execute("SELECT text FROM prompts WHERE json_extract(meta, '$.request_hash') = ?",
                                           (request_hash,))}
        kept = novel(self.ctx, proposals, self.threshold, self.embed_model, ignore=mine)
        self.proposed += len(proposals)
        self.kept += len(kept)
        meta = {"cluster": cluster, "model": self.cfg.model, "request_hash": request_hash}
        return add_prompts(conn, [PromptRecord(t, "generated-prompt", Provenance("brainstorm", "generated",
                                                                                 file=self.cfg.model, row=i),
                                               meta=meta) for i, t in enumerate(kept)]).new


@dataclass
class BrainstormSummary:
    clusters: int = 0
    proposed: int = 0
    kept: int = 0
    new: int = 0
    llm: RunSummary = field(default_factory=RunSummary)

    @property
    def dropped_as_not_novel(self) -> int:
        return self.proposed - self.kept

    def as_dict(self) -> dict[str, Any]:
        return {"clusters": self.clusters, "proposed": self.proposed, "kept": self.kept, "new": self.new,
                "dropped_as_not_novel": self.dropped_as_not_novel, "llm": self.llm.as_dict()}

    def check(self) -> None:
        check(self.llm)


def brainstorm(ctx: "Context", *, clusters: list[int], n: int = 20, threshold: float | None = None,
               examples: int = 12, seed: int = 0, retries: int | None = None, max_cost: float | None = None,
               embed_model: str | None = None, **llm: Any) -> BrainstormSummary:
    """Ask the model for ``n`` new prompts per cluster; keep the novel ones (origin
    generated-prompt). ``llm`` overrides [llm] settings; see :func:`curator.generate.generate`."""
    from .generate import _retries

    cfg = LLMConfig.from_settings(ctx, **llm)
    threshold = ctx.settings.override("dedup", threshold=threshold).get("dedup", "threshold")
    task = BrainstormTask(ctx, clusters, cfg, n, threshold, examples, seed, _retries(ctx, retries),
                          embed_model or ctx.setting("embed", "model", None))
    summary = BrainstormSummary(clusters=len(task.shown))
    if task.shown:
        cfg.check_ready(max_cost)
        summary.llm = call_sync(ctx, lambda c: run_task(c, _rebind(task, c), cfg, Budget(max_cost)))
    summary.proposed, summary.kept, summary.new = task.proposed, task.kept, summary.llm.stored
    with ctx.store.transaction():
        ctx.store.log_event("brainstorm", {"model": cfg.model, "clusters": clusters, "n": n, "seed": seed},
                            summary.as_dict())
    return summary


def _rebind(task: BrainstormTask, ctx: "Context") -> BrainstormTask:
    task.ctx = ctx  # the novelty filter reads through the runner's connection (another thread in a notebook)
    return task
