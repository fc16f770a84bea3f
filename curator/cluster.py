"""Clusters of canonical prompts: k-means (faiss), c-TF-IDF labels, ids stable across runs.

Stability matters because users write notes about "cluster 12". Three mechanisms keep ids:
1. when a previous clustering with the same k exists, k-means starts from its centroids, so
   unchanged regions converge to the same partition;
2. new clusters are matched to the previous run's centroids by the Hungarian algorithm on cosine
   similarity (scipy ``linear_sum_assignment``); a matched cluster keeps the old id, an unmatched
   one gets a fresh id above every id used before;
3. ``name=``: a *named* clustering is a frozen snapshot (``coverage --clustering NAME``); later runs
   never touch it, and prompts added after it are placed at its nearest centroid by coverage.

Scale (issue 17): ``k="auto"`` picks k on a *sample* (``[cluster].auto_sample`` points, 10k by
default): candidates around sqrt(n/2) (×0.5 … ×2, capped at ``[cluster].max_k``), each fitted on
the sample with few iterations, scored by the cosine silhouette on ≤ 3,000 of them; the winner is
then fitted once on everything. A fit starts from k-means++ seeds, trains on at most
``TRAIN_PER_CENTROID`` points per centroid (faiss's sub-sampling) and assigns every point.

Labels: class-based TF-IDF (BERTopic's c-TF-IDF): the prompts of a cluster form one document;
term weight = tf in the cluster × log(1 + mean words per cluster / term frequency over all
clusters); the top terms plus the prompt closest to the centroid name the cluster.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CuratorError
from .queries import canonical_prompts
from .store import dumps, utcnow

if TYPE_CHECKING:
    from .context import Context

MAX_AUTO_CANDIDATES = 6
SILHOUETTE_SAMPLE = 3000
TRAIN_PER_CENTROID = 256  # faiss's default sub-sampling of the training set
FIT_NITER = 15  # from k-means++ seeds (see seed_centroids); 25 from random rows did worse
PLUSPLUS_PER_CENTROID = 10  # k-means++ picks its seeds among this many sampled rows per centroid
RESTART_BUDGET = 2e8  # rows × k × dim below which a fit is restarted (a 565-prompt fit at k = 16: 5 runs)
MAX_RESTARTS = 5
AUTO_NITER = 6  # candidate fits: same k as 12 iterations at 25k and 50k (3 seeds each), silhouettes within 0.01
AUTO_MIN_SAMPLE = 5_000  # choose_k fits its candidates on at least this many rows (all below it)
# Words every rewrite prompt shares: as label terms they name nothing.
PROMPT_WORDS = {"rewrite", "rewritten", "text", "make", "convert", "turn", "write", "change", "transform",
                "sure", "please", "following", "like"}
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(ENGLISH_STOP_WORDS | PROMPT_WORDS)


def seed_centroids(x: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means++ starting centroids (scikit-learn's greedy ``kmeans_plusplus``) chosen among a
    seeded sample of ``PLUSPLUS_PER_CENTROID`` × k rows, L2-normalised.

    Why: faiss starts from k random rows. Started from k-means++ seeds, 15 iterations reach a
    lower mean distance than 25 from random rows (250k real prompts, k = 354: 0.2420 against
    0.2469; MiniBatchKMeans 0.2439) in less time (the seeding costs about 0.7 s there)."""
    from sklearn.cluster import kmeans_plusplus

    rng = np.random.default_rng(seed)
    pool = x if len(x) <= PLUSPLUS_PER_CENTROID * k else \
        x[np.sort(rng.choice(len(x), PLUSPLUS_PER_CENTROID * k, replace=False))]
    centres, _ = kmeans_plusplus(np.asarray(pool, dtype=np.float32), k, random_state=seed)
    return (centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def kmeans(x: np.ndarray, k: int, seed: int = 0, init: np.ndarray | None = None,
           niter: int = FIT_NITER, per_centroid: int = TRAIN_PER_CENTROID,
           plusplus: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(centroids L2-normalised, assignment of every row) by spherical k-means in faiss.

    Starts from ``init`` when given (the previous run's centroids), else from k-means++ seeds
    (``plusplus``; ``choose_k``'s quick candidate fits start from random rows). Training uses at
    most ``per_centroid`` × k rows (a seeded random subset); the assignment covers every row.
    Small problems (rows × k × dim under ``RESTART_BUDGET``) are fitted from up to
    ``MAX_RESTARTS`` seedings and the tightest result kept: on a few dozen prompts one seeding
    lands in a poor local optimum as often as not (46 real prompts, k = 3: mean distance 0.246 at
    best, 0.259-0.310 for single runs)."""
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    restarts = 1 if init is not None else \
        int(min(MAX_RESTARTS, max(1, RESTART_BUDGET // max(1, len(x) * k * x.shape[1]))))
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for r in range(restarts):
        start = init
        if start is None and plusplus and k < len(x):
            start = seed_centroids(x, k, seed + r)
        km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed + r, spherical=True, verbose=False,
                          max_points_per_centroid=per_centroid, min_points_per_centroid=1)
        if start is not None:
            km.train(x, init_centroids=np.ascontiguousarray(start, dtype=np.float32))
        else:
            km.train(x)
        sims, assign = km.index.search(x, 1)
        score = float(sims.sum())
        if best is None or score > best[0]:
            best = (score, km.centroids.copy(), assign.ravel().astype(np.int64))
    return best[1], best[2]


def auto_candidates(n: int, max_k: int = 1000, sample: int | None = None) -> list[int]:
    """k values tried by ``k="auto"``: geometric around sqrt(n/2), within [2, max_k] and the sample."""
    base = math.sqrt(n / 2)
    limit = min(max_k, n - 1, (sample or n) // 4 if (sample or n) >= 16 else n - 1)
    return sorted({max(2, min(limit, int(round(base * f)))) for f in np.geomspace(0.5, 2.0, MAX_AUTO_CANDIDATES)})


def cosine_silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient under cosine distance, equal to scikit-learn's
    ``silhouette_score(x, labels, metric="cosine")``.

    Why not scikit-learn's: it builds the n × n distance matrix per candidate, which cost as much as
    fitting the candidates (0.6 s for six candidates on 3,000 points; issue 17 counts the cost of
    choosing k). For unit rows the summed cosine distance from a point to a cluster is
    ``n_c − x·S_c`` (``S_c`` the sum of the cluster's rows), so all point-to-cluster means come from
    one (n × d) @ (d × k) product. Sums are float64: ``n_c − x·S_c`` subtracts two numbers near n_c.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    _, own, counts = np.unique(np.asarray(labels), return_inverse=True, return_counts=True)
    n, k = len(x), len(counts)
    if not 2 <= k <= n - 1:
        raise ValueError(f"silhouette needs 2 <= clusters <= n - 1, got {k} clusters for {n} rows")
    sums = np.zeros((k, x.shape[1]))
    np.add.at(sums, own, x)
    summed = np.maximum(counts[None, :] - x @ sums.T, 0.0)  # (n, k) summed distance to each cluster
    rows = np.arange(n)
    a = summed[rows, own] / np.maximum(counts[own] - 1, 1)  # the point's own distance (0) is in the sum
    others = summed / counts[None, :]
    others[rows, own] = np.inf
    b = others.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.nan_to_num((b - a) / np.maximum(a, b))
    s[counts[own] == 1] = 0.0  # scikit-learn's convention for a point alone in its cluster
    return float(s.mean())


def choose_k(x: np.ndarray, seed: int = 0, sample: int = 10_000, max_k: int = 1000) -> tuple[int, dict[int, float]]:
    """k with the best cosine silhouette among candidates, each fitted on a sample of ``x``.

    The sample is ``sample`` rows at most, and a fifth of ``x`` (at least AUTO_MIN_SAMPLE) below
    that: fitting six candidates on 10,000 of 25,000 prompts cost 1.5× the final fit (auto took
    2.46× a fixed fit; issue 17 asks ≤ 2×); on 5,000 it chose the same k (224) and took 1.84×."""
    n = len(x)
    if n < 6:
        return max(1, min(2, n)), {}
    rng = np.random.default_rng(seed)
    sample = min(sample, max(AUTO_MIN_SAMPLE, n // 5))
    sub = x[np.sort(rng.choice(n, size=min(n, sample), replace=False))] if n > sample else x
    pick = rng.choice(len(sub), size=min(len(sub), SILHOUETTE_SAMPLE), replace=False)
    cands = auto_candidates(n, max_k, len(sub))
    scores = {}
    for k in cands:
        _, assign = kmeans(sub, k, seed, niter=AUTO_NITER, plusplus=False)
        if len(set(assign[pick])) < 2:
            continue
        scores[k] = cosine_silhouette(sub[pick], assign[pick])
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
    name: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["clustering"] = d.pop("clustering_id")
        return d


def latest_clustering(corpus: "Context") -> int | None:
    return corpus.store.scalar("SELECT MAX(id) FROM clusterings")


def clustering_names(corpus: "Context") -> dict[str, int]:
    """name → clustering id of every named clustering."""
    out = {}
    for run, params in corpus.store.query("SELECT id, params FROM clusterings ORDER BY id"):
        name = json.loads(params or "{}").get("name")
        if name:
            out[name] = run
    return out


def resolve_clustering(corpus: "Context", which: str | int | None = None) -> int:
    """A clustering id from a name, an id, or None (the latest run); a bad one is one error line."""
    if which is None or which == "":
        run = latest_clustering(corpus)
        if run is None:
            raise CuratorError("no clustering yet; run `curator cluster` first")
        return run
    names = clustering_names(corpus)
    if str(which) in names:
        return names[str(which)]
    if str(which).isdigit() and corpus.store.scalar("SELECT 1 FROM clusterings WHERE id = ?", (int(which),)):
        return int(which)
    raise CuratorError(f"--clustering {which}: no clustering of that name or id; named: "
                       f"{', '.join(names) or 'none'} (keep one with `curator cluster --name NAME`)")


def centroids_of(corpus: "Context", run: int) -> tuple[list[int], np.ndarray]:
    """(cluster ids, centroid matrix) of a clustering run."""
    ids, rows = [], []
    for cid, blob in corpus.store.query(
            "SELECT cluster, centroid FROM cluster_labels WHERE clustering_id = ? ORDER BY cluster", (run,)):
        if blob is not None:
            ids.append(int(cid))
            rows.append(np.frombuffer(blob, dtype=np.float32))
    return ids, (np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32))


def check_k(k: int | str) -> int | str:
    """``"auto"`` or an integer ≥ 2; anything else is refused before any work (exit 2)."""
    if k == "auto":
        return k
    try:
        value = int(k)
    except (TypeError, ValueError):
        raise CuratorError(f"--k {k}: expected an integer >= 2 or 'auto'") from None
    if value < 2:
        raise CuratorError(f"--k {k}: a clustering needs at least 2 clusters; pass an integer >= 2 or 'auto'")
    return value


def cluster_prompts(corpus: "Context", k: int | str | None = None, seed: int | None = None,
                    model: str | None = None, name: str | None = None) -> ClusterResult:
    """Cluster the canonical prompts and store the run (members, labels, centroids).

    ``name``: keep this clustering under a name; its ids never change (later runs are new rows).
    """
    import time

    from .console import progress
    from .embed import load_vectors, resolve_model

    started = time.perf_counter()
    s = corpus.settings
    k = check_k(s.get("cluster", "k") if k is None else k)
    seed = s.get("cluster", "seed") if seed is None else seed
    if name is not None:
        if not NAME_RE.match(name):
            raise CuratorError(f"--name {name!r}: use a letter, then letters, digits, '_', '.', '-' (≤ 64)")
        taken = clustering_names(corpus)
        if name in taken:
            raise CuratorError(f"--name {name}: clustering {taken[name]} already has that name and a named "
                               "clustering never changes; pick another name")
    key, _ = resolve_model(model)
    rows = canonical_prompts(corpus)
    if len(rows) < 2:
        raise CuratorError("cluster: fewer than 2 canonical prompts; ingest, scrape or expand some first")
    x = load_vectors(corpus, [r["id"] for r in rows], model, texts=[r["text"] for r in rows])
    prev = latest_clustering(corpus)
    old_ids: list[int] = []
    old_centroids = np.zeros((0, x.shape[1]), dtype=np.float32)
    if prev is not None:
        old_ids, c = centroids_of(corpus, prev)
        if len(old_ids) and c.shape[1] == x.shape[1]:
            old_centroids = c
        else:
            old_ids = []
    silhouettes: dict[int, float] = {}
    with progress(transient=True) as bar:
        task = bar.add_task(f"k-means on {len(rows):,} prompts", total=None)
        if k == "auto":
            k_val, silhouettes = choose_k(x, seed, sample=s.get("cluster", "auto_sample"),
                                          max_k=s.get("cluster", "max_k"))
        else:
            k_val = int(k)
        k_val = max(1, min(k_val, len(rows)))
        init = old_centroids if len(old_centroids) == k_val else None
        centroids, assign = kmeans(x, k_val, seed, init=init)
        bar.update(task, completed=1, total=1)
    next_id = (corpus.store.scalar("SELECT MAX(cluster) FROM cluster_labels") or -1) + 1
    ids = match_ids(centroids, old_centroids, old_ids, next_id)
    cluster_of = np.array([ids[a] for a in assign])
    # in blocks: centroids[assign] for every row at once was a second copy of the matrix (366 MB at 250k)
    sims = np.concatenate([np.einsum("ij,ij->i", x[s:s + 65536], centroids[assign[s:s + 65536]])
                           for s in range(0, len(x), 65536)])
    docs: dict[int, list[str]] = {}
    for r, c in zip(rows, cluster_of):
        docs.setdefault(int(c), []).append(r["text"])
    terms = ctfidf_terms(docs)
    with corpus.store.transaction() as conn:
        cur = conn.execute("INSERT INTO clusterings (model, k, seed, created_at, params) VALUES (?, ?, ?, ?, ?)",
                           (key, k_val, seed, utcnow(), dumps({"k": k, "silhouette": silhouettes,
                                                                 "previous": prev, "name": name})))
        run = cur.lastrowid
        conn.executemany("INSERT INTO cluster_members VALUES (?, ?, ?, ?)",
                         [(run, r["id"], int(c), float(1 - s_)) for r, c, s_ in zip(rows, cluster_of, sims)])
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
        corpus.store.log_event("cluster", {"k": k, "seed": seed, "model": key, "name": name},
                               {"clustering": run, "k": k_val, "prompts": len(rows)})
    sizes = {int(c): int(n) for c, n in zip(*np.unique(cluster_of, return_counts=True))}
    return ClusterResult(run, k_val, sizes, labels, silhouettes, name, round(time.perf_counter() - started, 2))


def assignments(corpus: "Context", clustering_id: int | None = None) -> dict[str, int]:
    """prompt id → cluster for every prompt, duplicates following their representative."""
    run = clustering_id or latest_clustering(corpus)
    if run is None:
        return {}
    # read once per state of the database (coverage, its report and the card all ask): shared, read-only
    return corpus.store.cached(("assignments", run), lambda: _assignments(corpus, run))


def _assignments(corpus: "Context", run: int) -> dict[str, int]:
    direct = dict(corpus.store.rows(  # plain tuples: 64k-250k rows
        "SELECT prompt_id, cluster FROM cluster_members WHERE clustering_id = ?", (run,)))
    out = dict(direct)
    parent = dict(corpus.store.rows("SELECT id, duplicate_of FROM prompts WHERE duplicate_of IS NOT NULL"))
    # most duplicates point straight at a clustered canonical prompt: one comprehension; the rest
    # are chains (a representative marked a duplicate by a later run), followed to the canonical
    # prompt at their end, else to the nearest clustered prompt on the way
    out.update({pid: direct[dup] for pid, dup in parent.items() if dup in direct and dup not in parent})
    for pid, dup in parent.items():
        if dup in direct and dup not in parent:
            continue
        root, seen, on_way = dup, {pid}, None
        while root in parent and root not in seen:
            if on_way is None and root in direct:
                on_way = root
            seen.add(root)
            root = parent[root]
        root = root if root in direct else on_way
        if root is not None:
            out[pid] = direct[root]
    return out
