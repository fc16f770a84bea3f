"""Brainstorm new prompts for a cluster, keeping only novel ones (embedding novelty filter).

This closes the loop gap → brainstorm → coverage: a gap cluster with few training prompts gets
new ones in its style. A proposal is dropped when its cosine to any existing prompt, or to a
proposal already kept, is at or above ``threshold`` (default 0.9, the dedup threshold).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from .queries import canonical_prompts
from .generate import load_template, render
from .items import PromptRecord, Provenance, add_prompts
from .llm import ChatRequest, LLMConfig, parse_json_object, run_journaled

if TYPE_CHECKING:
    from .context import Context


def novel(corpus: "Context", proposals: list[str], threshold: float, model: str | None = None) -> list[str]:
    from .embed import embed_texts

    proposals = [p.strip() for p in dict.fromkeys(proposals) if isinstance(p, str) and p.strip()]
    if not proposals:
        return []
    existing = [r[0] for r in corpus.store.query("SELECT text FROM prompts")]
    base = embed_texts(corpus, existing, model=model, progress=False) if existing else np.zeros((0, 1))
    new = embed_texts(corpus, proposals, model=model, progress=False)
    kept, kept_vecs = [], []
    for text, v in zip(proposals, new):
        best = float((base @ v).max()) if len(base) else -1.0
        if kept_vecs:
            best = max(best, float((np.vstack(kept_vecs) @ v).max()))
        if best < threshold:
            kept.append(text)
            kept_vecs.append(v)
    return kept


async def brainstorm(corpus: "Context", clusters: list[int], cfg: LLMConfig, n: int = 20, threshold: float = 0.9,
                     examples: int = 12, seed: int = 0, max_cost: float | None = None,
                     model: str | None = None) -> dict:
    from .cluster import assignments

    cluster_of = assignments(corpus)
    rows = canonical_prompts(corpus)
    rng = random.Random(seed)
    tpl = load_template(corpus, "brainstorm")
    requests = []
    for c in clusters:
        members = [r["text"] for r in rows if cluster_of.get(r["id"]) == c]
        if not members:
            continue
        rng.shuffle(members)
        shown = "\n".join(f"- {t}" for t in members[:examples])
        requests.append(ChatRequest([{"role": "user", "content": render(tpl, examples=shown, n=n)}], 0.9,
                                    seed + c, 1200, json=True, meta={"cluster": c}))
    proposals: dict[int, list[str]] = {}

    def handle(conn, req, content):
        data = parse_json_object(content)
        if data is None or not isinstance(data.get("prompts"), list):
            return "malformed: no prompts list"
        proposals[req.meta["cluster"]] = [p for p in data["prompts"] if isinstance(p, str)]
        return None

    summary = await run_journaled(corpus, requests, cfg, "brainstorm", handle, max_cost)
    kept_total, proposed = 0, 0
    for c, items in proposals.items():
        proposed += len(items)
        kept = novel(corpus, items, threshold, model)
        with corpus.store.transaction() as conn:
            res = add_prompts(conn, [PromptRecord(t, "generated-prompt", Provenance("brainstorm", "generated",
                                                                                     file=cfg.model, row=i),
                                                  meta={"cluster": c, "model": cfg.model})
                                     for i, t in enumerate(kept)])
        kept_total += res.new
    return {"clusters": len(requests), "proposed": proposed, "kept": kept_total,
            "dropped_as_not_novel": proposed - kept_total, "llm": summary.as_dict()}
