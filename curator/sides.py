"""The two sides the card compares, and the cluster of any prompt: shared by card and mean-prompt.

- *target side*: prompts seen with provenance role ``target`` plus the prompts of samples with
  status ``target`` (``target=NAME`` narrows both to one dataset); target samples for lengths;
- *training side* (``basis``): ``samples`` = prompts of samples that are not rejected and not
  targets (train + candidate, i.e. what an export after review can hold); ``train`` = status
  train only; ``prompts`` = every canonical prompt seen with a non-target role (the prompt pool
  before any sample exists); ``auto`` = ``samples`` when there are any, else ``prompts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .errors import CuratorError

if TYPE_CHECKING:
    from .context import Context

BASES = ("auto", "samples", "train", "prompts")
TRAINING_STATUSES = {"samples": ("train", "candidate"), "train": ("train",)}


def check_target(ctx: "Context", target: str | None) -> None:
    """A named target set must exist; the error lists the known ones."""
    if target is None:
        return
    if ctx.store.scalar("SELECT 1 FROM provenance WHERE role = 'target' AND dataset = ? LIMIT 1", (target,)) \
            or ctx.store.scalar("SELECT 1 FROM samples WHERE status = 'target' AND dataset = ? LIMIT 1", (target,)):
        return
    known = sorted({r[0] for r in ctx.store.query(
        "SELECT dataset FROM provenance WHERE role = 'target' UNION SELECT dataset FROM samples WHERE status='target'")})
    raise CuratorError(f"--target {target}: no target dataset of that name; known: {', '.join(known) or 'none'}"
                       " (ingest one with `curator ingest FILE --as target --dataset NAME`)")


def target_prompts(ctx: "Context", target: str | None = None) -> dict[str, str]:
    """id → text of the target side's prompts (ordered by id)."""
    where, params = "", ()
    if target is not None:
        where, params = " AND dataset = ?", (target, target)
    return _texts(ctx, f"SELECT item_id FROM provenance WHERE +item_kind = 'prompt' AND role = 'target'{where} "
                       f"UNION SELECT prompt_id FROM samples WHERE status = 'target'{where}", params)


def resolve_basis(ctx: "Context", basis: str = "auto") -> str:
    if basis not in BASES:
        raise CuratorError(f"--basis {basis}: one of {', '.join(BASES)}")
    if basis == "auto":
        has = ctx.store.scalar("SELECT 1 FROM samples WHERE status IN ('train', 'candidate') "
                               "AND prompt_id IS NOT NULL LIMIT 1")
        return "samples" if has else "prompts"
    return basis


def training_prompts(ctx: "Context", basis: str = "auto") -> dict[str, str]:
    """id → text of the training side's prompts under ``basis`` (see the module docstring)."""
    basis = resolve_basis(ctx, basis)
    if basis == "prompts":
        # from the shared scans coverage makes too (in one command: the same text objects, no second
        # read): 0.3 s instead of 1.6 s for a correlated EXISTS query at 250k prompts
        from .queries import prompt_roles, prompt_texts

        def read() -> dict[str, str]:
            training, _ = prompt_roles(ctx)
            texts, canonical = prompt_texts(ctx)
            return {p: texts[p] for p in sorted(training & canonical)}

        return ctx.store.cached(("training_side", "prompts"), read)
    marks = ",".join("?" * len(TRAINING_STATUSES[basis]))
    return _texts(ctx, f"SELECT prompt_id FROM samples WHERE status IN ({marks})", TRAINING_STATUSES[basis])


def dataset_prompts(ctx: "Context", dataset: str) -> dict[str, str]:
    """id → text of every prompt seen in ``dataset`` (as a prompt or as a sample's prompt)."""
    out = _texts(ctx, "SELECT item_id FROM provenance WHERE +item_kind = 'prompt' AND dataset = ? "
                      "UNION SELECT prompt_id FROM samples WHERE dataset = ?", (dataset, dataset))
    if not out:
        known = [r[0] for r in ctx.store.query("SELECT DISTINCT dataset FROM provenance ORDER BY 1")]
        raise CuratorError(f"--dataset {dataset}: no prompts in that dataset; known: {', '.join(known) or 'none'}")
    return out


def _texts(ctx: "Context", ids_sql: str, params: tuple) -> dict[str, str]:
    """id → text (ordered by id) of the prompts that ``ids_sql`` selects, in one query.

    The ``+`` before columns every row matches keeps SQLite off indexes that would turn a scan
    into 250k random lookups (a 250k side took 3.5 s in 900-id IN queries, 0.9 s so)."""
    sql = f"SELECT p.id, p.text FROM prompts p WHERE p.id IN ({ids_sql})"
    # read once per state of the database (card, mean prompt and report may each ask): shared, read-only
    return ctx.store.cached(("side_texts", sql, params), lambda: dict(sorted(ctx.store.rows(sql, params))))


def clusters_of(ctx: "Context", texts: dict[str, str]) -> tuple[dict[str, int], dict[int, str]]:
    """(prompt id → cluster, cluster → label) under the latest clustering. Prompts clustered (or
    marked duplicates of clustered ones) keep their cluster; newer prompts go to the nearest
    centroid, with the clustering's own embedding model. Empty dicts when nothing is clustered."""
    from .cluster import assignments, latest_clustering
    from .embed import embed_texts

    run = latest_clustering(ctx)
    if run is None:
        return {}, {}
    labels: dict[int, str] = {}
    cents, cids = [], []
    for c, label, blob in ctx.store.query(
            "SELECT cluster, label, centroid FROM cluster_labels WHERE clustering_id = ? ORDER BY cluster", (run,)):
        labels[int(c)] = label
        if blob is not None:
            cids.append(int(c))
            cents.append(np.frombuffer(blob, dtype=np.float32))
    known = assignments(ctx, run)
    out = {pid: int(known[pid]) for pid in texts if pid in known}
    rest = [pid for pid in texts if pid not in known]
    if rest and cents:
        model = ctx.store.scalar("SELECT model FROM clusterings WHERE id = ?", (run,))
        vec = embed_texts(ctx, [texts[p] for p in rest], model=model, progress=False)
        nearest = (vec @ np.vstack(cents).T).argmax(axis=1)
        out.update({pid: cids[j] for pid, j in zip(rest, nearest)})
    return out, labels
