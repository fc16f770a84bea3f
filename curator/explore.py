"""Looking inside the index: the prompts and samples of one cluster, and prompts similar to a text.

These are the listings behind ``curator prompts --cluster N``, ``curator prompts --similar TEXT``
and ``curator samples --cluster N`` (and the same-named ``Corpus`` arguments). Cluster membership
comes from :func:`curator.cluster.assignments` (duplicates follow their representative), so a
listing agrees with the coverage table's counts; ``clustering`` picks a named or numbered run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import CuratorError
from .queries import canonical_prompts, prompts_frame, samples_frame, target_prompt_ids

if TYPE_CHECKING:
    from .context import Context


def cluster_ids(ctx: "Context", cluster: int, clustering: str | int | None = None) -> set[str]:
    """Prompt ids in ``cluster`` of a clustering (latest by default); an unknown id is an error."""
    from .cluster import assignments, resolve_clustering

    run = resolve_clustering(ctx, clustering)
    known = {r[0] for r in ctx.store.query("SELECT cluster FROM cluster_labels WHERE clustering_id = ?", (run,))}
    if int(cluster) not in known:
        raise CuratorError(f"--cluster {cluster}: clustering {run} has no such cluster (ids "
                           f"{min(known) if known else '-'}…{max(known) if known else '-'}; see `curator coverage --sort id`)")
    return {p for p, c in assignments(ctx, run).items() if c == int(cluster)}


def prompts_in_cluster(ctx: "Context", cluster: int, clustering: str | int | None = None,
                       limit: int | None = None, **filters) -> pd.DataFrame:
    """The prompts of one cluster (with ``role``: target or training), in the listing's order."""
    ids = cluster_ids(ctx, cluster, clustering)
    frame = prompts_frame(ctx, **filters)
    frame = frame[frame["id"].isin(ids)].copy()
    targets = target_prompt_ids(ctx)
    frame.insert(1, "role", np.where(frame["id"].isin(targets), "target", "training"))
    frame.insert(2, "cluster", int(cluster))
    return frame.head(limit).reset_index(drop=True) if limit else frame.reset_index(drop=True)


def samples_in_cluster(ctx: "Context", cluster: int, clustering: str | int | None = None,
                       limit: int | None = None, **filters) -> pd.DataFrame:
    """The samples whose prompt is in one cluster."""
    ids = cluster_ids(ctx, cluster, clustering)
    frame = samples_frame(ctx, **filters)
    frame = frame[frame["prompt_id"].isin(ids)].copy()
    frame.insert(1, "cluster", int(cluster))
    return frame.head(limit).reset_index(drop=True) if limit else frame.reset_index(drop=True)


def similar_prompts(ctx: "Context", text: str, limit: int = 10, model: str | None = None) -> pd.DataFrame:
    """Canonical prompts nearest to ``text`` by cosine, best first; the text itself (cosine 1) leads
    when it is stored. Columns: cosine, id, role, origin, text, duplicate_of."""
    from .embed import embed_texts
    from .text import content_id

    if not text or not text.strip():
        raise CuratorError("--similar: give a non-empty text")
    rows = canonical_prompts(ctx)
    if not rows:
        return pd.DataFrame(columns=["cosine", "id", "role", "origin", "text", "duplicate_of"])
    vec = embed_texts(ctx, [r["text"] for r in rows] + [text], model=model, progress=False)
    sims = vec[:-1] @ vec[-1]
    own = content_id(text)
    for i, r in enumerate(rows):  # the stored text itself first, even past float ties
        if r["id"] == own:
            sims[i] = 1.0 + 1e-6
    k = min(limit or len(rows), len(rows))
    top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
    top = top[np.argsort(-sims[top], kind="stable")]
    ids = [rows[i]["id"] for i in top]
    meta = prompts_frame(ctx).set_index("id").loc[ids].reset_index()
    targets = target_prompt_ids(ctx)
    meta.insert(0, "cosine", np.round(np.minimum(sims[top], 1.0), 4))
    meta.insert(2, "role", np.where(meta["id"].isin(targets), "target", "training"))
    return meta
