"""Near-duplicate prompts: FAISS similarity search, groups by connected components, reversible.

Exact duplicates never make two rows (ids are content ids of the normalised text), so this stage
finds *near* duplicates: canonical prompts whose embeddings have cosine ≥ threshold. Pairs form a
graph; its connected components (union-find, via scipy) are the groups. In each group one prompt
stays canonical and the others get ``duplicate_of`` = that representative. Nothing is deleted,
and each run records the changes it made so ``undo`` restores the previous state exactly.

Representative rule: origin priority (public > seed > scraped > template > combined >
generated-prompt > generated > local), then the shorter text (competition prompts are short, and
a shorter paraphrase is the more general one), then the smaller id (deterministic).

Index choice: an exact flat inner-product index with ``range_search`` up to ``EXACT_LIMIT``
vectors (all pairs above the threshold, exactly; all-pairs work grows as n², ~1 s at 20k on
2 cores); beyond it inverted-file blocking: faiss k-means makes 2·√n lists, each vector is
filed in its ``LISTS_PER_VECTOR`` nearest lists, and pairs are computed exactly inside each list
with one matrix product. Near-duplicates sit close together, so they nearly always share a list:
recall against the exact pairs is measured in scripts/bench/dedup.py (docs/performance.md).
This beat both faiss IVFFlat search (its list scans are not BLAS-bound: 3.4 s vs <1 s at 100k)
and HNSW (building a graph of 1M vectors takes minutes on 2 cores).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .queries import canonical_prompts
from .store import dumps, utcnow

if TYPE_CHECKING:
    from .context import Context

ORIGIN_PRIORITY = ("public", "seed", "scraped", "template", "combined", "generated-prompt", "generated",
                   "local")
EXACT_LIMIT = 20_000
LISTS_PER_VECTOR = 3


def similar_pairs(vectors: np.ndarray, threshold: float, exact: bool | None = None) -> np.ndarray:
    """(i, j) pairs with i < j and cosine(v_i, v_j) ≥ threshold; vectors must be L2-normalised."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape if x.size else (0, 0)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if exact is None:
        exact = n <= EXACT_LIMIT
    if exact:
        index = faiss.IndexFlatIP(d)
        index.add(x)
        pairs = []
        for start in range(0, n, 20_000):  # bounded memory per query block
            lims, _, ids = index.range_search(x[start:start + 20_000], float(threshold))
            rows = np.repeat(np.arange(start, start + len(lims) - 1), np.diff(lims).astype(np.int64))
            pairs.append(np.stack([rows, ids.astype(np.int64)], axis=1))
        allp = np.concatenate(pairs)
    else:
        allp = _blocked_pairs(x, threshold)
    allp = allp[allp[:, 0] != allp[:, 1]]
    allp.sort(axis=1)
    return np.unique(allp, axis=0) if len(allp) else allp.astype(np.int64)


def _blocked_pairs(x: np.ndarray, threshold: float) -> np.ndarray:
    """Approximate all-pairs: faiss k-means lists (2·√n), each vector filed in its ``LISTS_PER_VECTOR``
    nearest lists, exact similarities inside each list with one matrix product (BLAS)."""
    import faiss

    n, d = x.shape
    nlist = max(1, int(2 * np.sqrt(n)))
    rng = np.random.default_rng(0)
    km = faiss.Kmeans(d, nlist, niter=10, seed=0, spherical=True, verbose=False, min_points_per_centroid=1)
    km.train(x[rng.choice(n, size=min(n, 32 * nlist), replace=False)])
    _, lists = km.index.search(x, LISTS_PER_VECTOR)
    flat = lists.ravel()
    rows = np.repeat(np.arange(n), LISTS_PER_VECTOR)
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(nlist + 1))
    found = []
    for l in range(nlist):
        members = rows[order[bounds[l]:bounds[l + 1]]]
        if len(members) < 2:
            continue
        sims = x[members] @ x[members].T
        r, c = np.nonzero(np.triu(sims >= threshold, k=1))
        if len(r):
            found.append(np.stack([members[r], members[c]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Group label per item: connected components of the similarity graph (union-find)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) \
        else coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def representative_key(origin: str, text: str, pid: str) -> tuple:
    rank = ORIGIN_PRIORITY.index(origin) if origin in ORIGIN_PRIORITY else len(ORIGIN_PRIORITY)
    return (rank, len(text), pid)


@dataclass
class DedupPlan:
    model: str
    threshold: float
    considered: int
    groups: list[dict] = field(default_factory=list)  # {"representative": id, "members": [ids], "texts": {...}}

    @property
    def duplicates(self) -> int:
        return sum(len(g["members"]) - 1 for g in self.groups)


def plan_dedup(corpus: "Context", threshold: float = 0.9, model: str | None = None,
               exact: bool | None = None) -> DedupPlan:
    """Which canonical prompts would be grouped, and which one of each group stays canonical."""
    from .embed import embed_texts, resolve_model

    key, _ = resolve_model(model)
    rows = canonical_prompts(corpus, "id, text, origin")
    plan = DedupPlan(key, threshold, len(rows))
    if len(rows) < 2:
        return plan
    vectors = embed_texts(corpus, [r["text"] for r in rows], model=model)
    labels = components(len(rows), similar_pairs(vectors, threshold, exact))
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        members.setdefault(int(lab), []).append(i)
    for idx in members.values():
        if len(idx) < 2:
            continue
        best = min(idx, key=lambda i: representative_key(rows[i]["origin"], rows[i]["text"], rows[i]["id"]))
        plan.groups.append({
            "representative": rows[best]["id"],
            "members": [rows[i]["id"] for i in idx],
            "texts": {rows[i]["id"]: rows[i]["text"] for i in idx},
            "origins": {rows[i]["id"]: rows[i]["origin"] for i in idx},
        })
    plan.groups.sort(key=lambda g: (-len(g["members"]), g["representative"]))
    return plan


def apply_dedup(corpus: "Context", plan: DedupPlan) -> int:
    """Mark the plan's duplicates; one transaction; returns the run id (for undo)."""
    with corpus.store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO dedup_runs (model, threshold, created_at, summary) VALUES (?, ?, ?, ?)",
            (plan.model, plan.threshold, utcnow(),
             dumps({"considered": plan.considered, "groups": len(plan.groups), "duplicates": plan.duplicates})))
        run_id = cur.lastrowid
        changes = []
        for g in plan.groups:
            rep = g["representative"]
            for pid in g["members"]:
                if pid != rep:
                    changes.append((run_id, pid, None, rep))
        conn.executemany("INSERT INTO dedup_changes (run_id, prompt_id, old_duplicate_of, new_duplicate_of)"
                         " VALUES (?, ?, ?, ?)", changes)
        conn.executemany("UPDATE prompts SET duplicate_of = ? WHERE id = ?",
                         [(rep, pid) for _, pid, _, rep in changes])
        corpus.store.log_event("dedup", {"threshold": plan.threshold, "model": plan.model},
                               {"run": run_id, "groups": len(plan.groups), "duplicates": plan.duplicates})
    return run_id


def undo_dedup(corpus: "Context") -> dict | None:
    """Restore the state before the latest dedup run that is not undone yet (None if there is none)."""
    with corpus.store.transaction() as conn:
        row = conn.execute("SELECT id FROM dedup_runs WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        run_id = row[0]
        changes = conn.execute("SELECT prompt_id, old_duplicate_of FROM dedup_changes WHERE run_id = ?",
                               (run_id,)).fetchall()
        conn.executemany("UPDATE prompts SET duplicate_of = ? WHERE id = ?", [(old, pid) for pid, old in changes])
        conn.execute("UPDATE dedup_runs SET undone_at = ? WHERE id = ?", (utcnow(), run_id))
        corpus.store.log_event("dedup-undo", {"run": run_id}, {"restored": len(changes)})
    return {"run": run_id, "restored": len(changes)}
