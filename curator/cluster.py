"""Clusters of canonical prompts: k-means (faiss), c-TF-IDF labels, ids stable across runs.

Stability matters because users write notes about "cluster 12". Two mechanisms keep ids:
1. when a previous clustering with the same k exists, k-means starts from its centroids, so
   unchanged regions converge to the same partition;
2. new clusters are matched to the previous run's centroids by the Hungarian algorithm on cosine
   similarity (scipy ``linear_sum_assignment``); a matched cluster keeps the old id, an unmatched
   one gets a fresh id above every id used before.

``k="auto"``: candidates around sqrt(n/2) (×0.5 … ×2, at most 8 values), each fitted with the
same seed; the one with the highest silhouette score (cosine, on a sample of ≤ 3,000 prompts)
wins. Silhouette rewards compact, separated clusters, which is what a coverage table needs.

Labels: class-based TF-IDF (BERTopic's c-TF-IDF): the prompts of a cluster form one document;
term weight = tf in the cluster × log(1 + mean words per cluster / term frequency over all
clusters); the top terms plus the prompt closest to the centroid name the cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .queries import canonical_prompts
from .store import dumps, utcnow

if TYPE_CHECKING:
    from .context import Context

MAX_AUTO_CANDIDATES = 8
# Words every rewrite prompt shares: as label terms they name nothing.
PROMPT_WORDS = {"rewrite", "rewritten", "text", "make", "convert", "turn", "write", "change", "transform",
                "sure", "please", "following", "like"}


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | PROMPT_WORDS)


def kmeans(x: np.ndarray, k: int, seed: int = 0, init: np.ndarray | None = None,
           niter: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(centroids L2-normalised, assignment) by spherical k-means in faiss."""
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, spherical=True, verbose=False,
                      max_points_per_centroid=100_000, min_points_per_centroid=1)
    if init is not None:
        km.train(x, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
    else:
        km.train(x)
    _, assign = km.index.search(x, 1)
    return km.centroids.copy(), assign.ravel().astype(np.int64)


def choose_k(x: np.ndarray, seed: int = 0) -> tuple[int, dict[int, float]]:
    """k with the best cosine silhouette among candidates around sqrt(n/2)."""
    from sklearn.metrics import silhouette_score

    n = len(x)
    if n < 6:
        return max(1, min(2, n)), {}
    base = math.sqrt(n / 2)
    cands = sorted({max(2, min(n - 1, int(round(base * f)))) for f in np.geomspace(0.5, 2.0, MAX_AUTO_CANDIDATES)})
    rng = np.random.default_rng(seed)
    sample = rng.choice(n, size=min(n, 3000), replace=False)
    scores = {}
    for k in cands:
        _, assign = kmeans(x, k, seed)
        if len(set(assign[sample])) < 2:
            continue
        scores[k] = float(silhouette_score(x[sample], assign[sample], metric="cosine"))
    best = max(scores, key=scores.get) if scores else cands[0]
    return best, scores


def match_ids(new_centroids: np.ndarray, old_centroids: np.ndarray, old_ids: list[int],
              next_id: int) -> list[int]:
    """Id for each new cluster: the matched old id, or a fresh one."""
    from scipy.optimize import linear_sum_assignment

    ids = [-1] * len(new_centroids)
    if len(old_centroids):
        sim = new_centroids @ old_centroids.T
        rows, cols = linear_sum_assignment(-sim)
        for r, c in zip(rows, cols):
            if sim[r, c] > 0.5:  # a weak match is a different cluster, not a renamed one
                ids[r] = old_ids[c]
    for i in range(len(ids)):
        if ids[i] < 0:
            ids[i] = next_id
            next_id += 1
    return ids


def ctfidf_terms(docs_by_cluster: dict[int, list[str]], top: int = 5) -> dict[int, list[str]]:
    """Top c-TF-IDF terms per cluster."""
    from sklearn.feature_extraction.text import CountVectorizer

    clusters = list(docs_by_cluster)
    joined = [" ".join(docs_by_cluster[c]) for c in clusters]
    try:
        vec = CountVectorizer(stop_words=_stop_words(), ngram_range=(1, 2), min_df=1)
        counts = vec.fit_transform(joined)
    except ValueError:  # only stop words
        return {c: [] for c in clusters}
    tf = counts.multiply(1 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    freq = np.asarray(counts.sum(axis=0)).ravel()
    avg_words = counts.sum() / max(len(clusters), 1)
    idf = np.log(1 + avg_words / np.maximum(freq, 1))
    weights = tf.multiply(idf).tocsr()
    terms = np.array(vec.get_feature_names_out())
    out = {}
    for row, c in enumerate(clusters):
        w = weights.getrow(row).toarray().ravel()
        order = np.argsort(-w)[:top]
        out[c] = [str(terms[i]) for i in order if w[i] > 0]
    return out


@dataclass
class ClusterResult:
    clustering_id: int
    k: int
    sizes: dict[int, int]
    labels: dict[int, str]
    silhouette: dict[int, float]


def latest_clustering(corpus: "Context") -> int | None:
    return corpus.store.scalar("SELECT MAX(id) FROM clusterings")


def cluster_prompts(corpus: "Context", k: int | str = "auto", seed: int = 0,
                    model: str | None = None) -> ClusterResult:
    """Cluster the canonical prompts and store the run (members, labels, centroids)."""
    from .embed import embed_texts, resolve_model
    from .errors import CuratorError

    key, _ = resolve_model(model)
    rows = canonical_prompts(corpus)
    if len(rows) < 2:
        raise CuratorError("cluster: fewer than 2 canonical prompts; ingest, scrape or expand some first")
    x = embed_texts(corpus, [r["text"] for r in rows], model=model)
    prev = latest_clustering(corpus)
    old_ids: list[int] = []
    old_centroids = np.zeros((0, x.shape[1]), dtype=np.float32)
    if prev is not None:
        for cid, blob in corpus.store.query(
                "SELECT cluster, centroid FROM cluster_labels WHERE clustering_id = ? ORDER BY cluster", (prev,)):
            if blob is not None:
                old_ids.append(cid)
                old_centroids = np.vstack([old_centroids, np.frombuffer(blob, dtype=np.float32)])
    silhouettes: dict[int, float] = {}
    if k == "auto":
        k_val, silhouettes = choose_k(x, seed)
    else:
        k_val = int(k)
    k_val = max(1, min(k_val, len(rows)))
    init = old_centroids if len(old_centroids) == k_val else None
    centroids, assign = kmeans(x, k_val, seed, init=init)
    next_id = (corpus.store.scalar("SELECT MAX(cluster) FROM cluster_labels") or -1) + 1
    ids = match_ids(centroids, old_centroids, old_ids, next_id)
    cluster_of = np.array([ids[a] for a in assign])
    sims = np.einsum("ij,ij->i", x, centroids[assign])
    docs: dict[int, list[str]] = {}
    for r, c in zip(rows, cluster_of):
        docs.setdefault(int(c), []).append(r["text"])
    terms = ctfidf_terms(docs)
    with corpus.store.transaction() as conn:
        cur = conn.execute("INSERT INTO clusterings (model, k, seed, created_at, params) VALUES (?, ?, ?, ?, ?)",
                           (key, k_val, seed, utcnow(), dumps({"k": k, "silhouette": silhouettes,
                                                                 "previous": prev})))
        run = cur.lastrowid
        conn.executemany("INSERT INTO cluster_members VALUES (?, ?, ?, ?)",
                         [(run, r["id"], int(c), float(1 - s)) for r, c, s in zip(rows, cluster_of, sims)])
        labels = {}
        for j, cid in enumerate(ids):
            members = np.where(assign == j)[0]
            if len(members) == 0:
                continue
            central = members[np.argmax(sims[members])]
            label = ", ".join(terms.get(cid, [])[:3]) or rows[central]["text"][:40]
            labels[cid] = label
            conn.execute("INSERT INTO cluster_labels VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (run, cid, label, dumps(terms.get(cid, [])), rows[central]["id"],
                          centroids[j].astype(np.float32).tobytes(), int(len(members))))
        corpus.store.log_event("cluster", {"k": k, "seed": seed, "model": key},
                               {"clustering": run, "k": k_val, "prompts": len(rows)})
    sizes = {int(c): int(n) for c, n in zip(*np.unique(cluster_of, return_counts=True))}
    return ClusterResult(run, k_val, sizes, labels, silhouettes)


def assignments(corpus: "Context", clustering_id: int | None = None) -> dict[str, int]:
    """prompt id → cluster for every prompt, duplicates following their representative."""
    run = clustering_id or latest_clustering(corpus)
    if run is None:
        return {}
    direct = {pid: c for pid, c in corpus.store.query(
        "SELECT prompt_id, cluster FROM cluster_members WHERE clustering_id = ?", (run,))}
    out = dict(direct)
    for pid, dup in corpus.store.query("SELECT id, duplicate_of FROM prompts WHERE duplicate_of IS NOT NULL"):
        root, seen = dup, set()
        while root not in direct and root not in seen:
            seen.add(root)
            nxt = corpus.store.scalar("SELECT duplicate_of FROM prompts WHERE id = ?", (root,))
            if nxt is None:
                break
            root = nxt
        if root in direct:
            out[pid] = direct[root]
    return out
