"""The target set is never trained on; templates are never training prompts.

A training sample *overlaps the target set* when its prompt is a target prompt after
normalisation (same content id), is grouped with one by dedup (same ``duplicate_of`` root), or
is a near-duplicate of one under the dedup rule (cosine ≥ ``[dedup].threshold`` and the same slot
values, see ``curator.slots``). Training on such a sample measures memorisation, not recovery:
in one trial 83 of 83 such samples went to train.csv and target coverage then read 1.0.

A prompt with an unfilled slot ("Rewrite this email to [recipient]", "…about {topic}…") is a
template, not a prompt Gemma was given: it never becomes a rewrite prompt of a training row.

``promote`` holds both kinds back and says how many and why; ``export`` refuses them (with the
count) unless ``allow_target_overlap`` (recorded in the event log); ``stats`` and ``coverage``
show the overlap count (:func:`target_overlap`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np

from .placeholders import find_placeholders
from .queries import duplicate_roots, target_prompt_ids

if TYPE_CHECKING:
    from .context import Context

TARGET_PROMPT = "its prompt is a target prompt"
TARGET_NEAR = "its prompt is a near-duplicate of a target prompt"
TEMPLATE = "its prompt has an unfilled slot (a template)"


def is_template(text: str | None) -> bool:
    """True when the prompt still holds a placeholder ({topic}, [recipient], <text>, {{tone}}…)."""
    return bool(text) and bool(find_placeholders(text))


def overlapping_prompts(ctx: "Context", prompt_ids: Iterable[str], threshold: float | None = None,
                        model: str | None = None) -> dict[str, str]:
    """Which of these (training-side) prompt ids overlap the target set, and why."""
    from .dedup import slot_compatible
    from .slots import load_lexicon

    targets = target_prompt_ids(ctx)
    pids = sorted({p for p in prompt_ids if p})
    if not targets or not pids:
        return {}
    roots = duplicate_roots(ctx)
    target_roots = {roots.get(t, t) for t in targets}
    out = {p: TARGET_PROMPT for p in pids if p in targets or roots.get(p, p) in target_roots}
    rest = [p for p in pids if p not in out]
    if not rest:
        return out
    threshold = threshold if threshold is not None else ctx.settings.get("dedup", "threshold")
    wanted = set(rest) | targets
    text_of = {i: t for i, t in ctx.store.query("SELECT id, text FROM prompts") if i in wanted}
    rest = [p for p in rest if p in text_of]
    tlist = [t for t in sorted(targets) if t in text_of]
    if not rest or not tlist:
        return out
    from .embed import load_vectors

    model = model or ctx.setting("embed", "model", None)
    vec = load_vectors(ctx, rest + tlist, model, texts=text_of, progress=False)
    tvec = vec[len(rest):]
    hits = []
    step = max(256, int(5e7 // max(len(tlist), 1)))  # ≤ 200 MB of similarities at a time
    for start in range(0, len(rest), step):
        r, c = np.nonzero(vec[start:min(start + step, len(rest))] @ tvec.T >= threshold)
        hits.append((r + start, c))
    r = np.concatenate([h[0] for h in hits])
    c = np.concatenate([h[1] for h in hits])
    if len(r):
        texts = [text_of[p] for p in rest] + [text_of[t] for t in tlist]
        pairs = np.stack([r, c + len(rest)], axis=1)
        ok = slot_compatible(texts, pairs, load_lexicon(ctx.root, seed=ctx.settings.get("templates", "seed")))
        for i in np.unique(r[ok]).tolist():
            out[rest[i]] = TARGET_NEAR
    return out


def sample_problems(ctx: "Context", rows: list[dict], allow_target_overlap: bool = False) -> dict[str, str]:
    """Sample id → why it must not be training data (target overlap, template prompt)."""
    out: dict[str, str] = {}
    for r in rows:
        if is_template(r.get("rewrite_prompt")):
            out[r["id"]] = TEMPLATE
    if not allow_target_overlap:
        overlap = overlapping_prompts(ctx, [r["prompt_id"] for r in rows if r["id"] not in out])
        for r in rows:
            if r["id"] not in out and r.get("prompt_id") in overlap:
                out[r["id"]] = overlap[r["prompt_id"]]
            elif r["id"] not in out and r.get("status") == "target":
                out[r["id"]] = TARGET_PROMPT
    return out


def target_overlap(ctx: "Context") -> dict[str, int]:
    """How many non-target samples overlap the target set: all of them, and those already train."""
    rows = ctx.store.query("SELECT prompt_id, status, COUNT(*) FROM samples WHERE status != 'target' "
                           "AND prompt_id IS NOT NULL GROUP BY prompt_id, status")
    overlap = overlapping_prompts(ctx, {r[0] for r in rows})
    return {"samples": sum(r[2] for r in rows if r[0] in overlap),
            "train": sum(r[2] for r in rows if r[0] in overlap and r[1] == "train"),
            "prompts": len(overlap)}
