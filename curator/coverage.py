"""Coverage: per cluster, what the training side holds against what the target set holds.

Definitions (the numbers the table, the report and the generation stage use):

- *target prompts*: prompts seen with provenance role ``target`` (``--target DATASET`` narrows to
  one dataset), i.e. what the model will be tested on;
- *training prompts*: prompts seen with any other role (public lists, scraped, templates,
  combinations, generated), duplicates counted with their representative's cluster;
- *basis*: what the training side is counted in, named in every output. ``samples`` (samples
  with status ``train``) once there are any, else ``prompts`` (training prompts). ``train`` is the
  absolute count on that basis, always printed beside ``train_share``;
- ``target_share`` = a cluster's share of target prompts; ``gap`` = target_share − train_share.

Why intervals: with 40 target prompts one prompt is 2.5 % of the target set, so a single prompt in
a thin cluster used to look like a gap. Each share gets a Jeffreys interval (Beta(x+½, n−x+½)
quantiles at ``[coverage].confidence``) from its *counts*; ``gap_low`` = lower end of the target
share − upper end of the training share. A cluster is **under-covered** (a gap) when it holds at
least ``[coverage].min_target`` target prompts and the lower end of its target share exceeds
``[coverage].gap_ratio`` (1.5) × the upper end of its training share: the target over-represents it
clearly, beyond what the counts can explain by chance (ratio 1 found 10 points more held-out
prompts but put 14 % of in-distribution ones in gaps; docs/coverage.md). Gaps are ordered by
``gap_low``.

Why a *far* list: a cluster is a coarse region; a target prompt can sit in a well-covered cluster
and still have no training prompt near it. Every target prompt whose nearest training prompt has
cosine < ``[coverage].far_threshold`` is listed on its own (with that neighbour), whatever its
cluster. docs/coverage.md records how well gaps + far find held-out categories.

Overall figures: target coverage (mean nearest-training cosine of the target prompts), effective
number of clusters (exp of the entropy of the training distribution), mean nearest-neighbour
cosine distance among training prompts, Vendi score on a sample of ≤ 1,000 training prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import CuratorError

if TYPE_CHECKING:
    from .context import Context

VENDI_SAMPLE = 1000
NN_SAMPLE = 5000
EXACT_BUDGET = 5e7  # base × query pairs searched exhaustively; above it, probe the nearest clusters
PROBES = 6
SORTS = ("gap", "size", "id")


@dataclass
class Coverage:
    clustering_id: int
    target: str | None
    clusters: pd.DataFrame
    gaps: list[int]
    figures: dict[str, Any] = field(default_factory=dict)
    examples: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    far: list[dict[str, Any]] = field(default_factory=list)
    basis: str = "prompts"
    clustering_name: str | None = None
    #: prompt id → cluster for every training and target prompt (the report's member lists)
    members: dict[str, int] = field(default_factory=dict, repr=False)
    training_ids: set[str] = field(default_factory=set, repr=False)
    target_ids: set[str] = field(default_factory=set, repr=False)

    def table(self, sort: str = "gap") -> pd.DataFrame:
        """The per-cluster frame in one of the orders ``gap`` (gaps first), ``size`` or ``id``."""
        return sort_clusters(self.clusters, sort)

    def as_dict(self, sort: str = "gap") -> dict[str, Any]:
        return {"clustering": self.clustering_id, "clustering_name": self.clustering_name,
                "target": self.target, "basis": self.basis, "figures": self.figures, "gaps": self.gaps,
                "far": self.far, "clusters": self.table(sort).to_dict(orient="records"),
                "examples": {str(k): v for k, v in self.examples.items()}}


def sort_clusters(frame: pd.DataFrame, sort: str = "gap") -> pd.DataFrame:
    if sort not in SORTS:
        raise CuratorError(f"--sort {sort}: expected one of {', '.join(SORTS)}")
    if sort == "id":
        return frame.sort_values("cluster").reset_index(drop=True)
    if sort == "size":
        return frame.sort_values(["prompts", "target_prompts", "cluster"],
                                 ascending=[False, False, True]).reset_index(drop=True)
    return frame.sort_values(["under_covered", "gap_low", "gap", "cluster"],
                             ascending=[False, False, False, True]).reset_index(drop=True)


def vendi_score(x: np.ndarray) -> float:
    """Vendi score of L2-normalised rows: the effective number of distinct items."""
    if len(x) == 0:
        return 0.0
    k = (x @ x.T) / len(x)
    eig = np.clip(np.linalg.eigvalsh(k.astype(np.float64)), 0, None)
    eig = eig[eig > 1e-12]
    return float(np.exp(-(eig * np.log(eig)).sum()))


def share_interval(count: np.ndarray, total: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval of a binomial share (Beta(x+½, n−x+½) quantiles), ends clipped at 0 and 1."""
    from scipy.special import betaincinv  # beta.ppf without importing scipy.stats (1.3 s)

    count = np.asarray(count, dtype=float)
    if total <= 0:
        return np.zeros_like(count), np.ones_like(count)
    a = (1 - confidence) / 2
    lo = np.where(count > 0, betaincinv(count + 0.5, total - count + 0.5, a), 0.0)
    hi = np.where(count < total, betaincinv(count + 0.5, total - count + 0.5, 1 - a), 1.0)
    return lo, hi


def _prompt_roles(corpus: "Context", target: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """(training prompt ids, target prompt ids of ``target`` or of every target set)."""
    from .queries import prompt_roles

    training, by_dataset = prompt_roles(corpus)
    if target is not None:
        return training, by_dataset.get(target, frozenset())
    return training, frozenset().union(*by_dataset.values())


def knn(base: np.ndarray, queries: np.ndarray, k: int = 1, base_cluster: np.ndarray | None = None,
        centroids: np.ndarray | None = None, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(cosines, indices into ``base``), shape (queries, k), best first; ``exclude[i]`` = the base
    row query i skips (itself). Missing neighbours are cosine -2, index -1.

    Exhaustive while base × queries ≤ EXACT_BUDGET; beyond it (250k × 5k) each query scans only
    the members of its PROBES nearest clusters, i.e. the clustering doubles as an IVF index and no
    second copy of the vectors is made."""
    import faiss

    m = len(queries)
    sims = np.full((m, k), -2.0, dtype=np.float32)
    idx = np.full((m, k), -1, dtype=np.int64)
    if len(base) == 0 or m == 0:
        return sims, idx
    base = np.ascontiguousarray(base, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    extra = 0 if exclude is None else 1
    if len(base) * m <= EXACT_BUDGET or base_cluster is None or centroids is None or len(centroids) < 2:
        index = faiss.IndexFlatIP(base.shape[1])
        index.add(base)
        d, i = index.search(queries, min(k + extra, len(base)))
        if exclude is not None:
            d = np.where(i == exclude[:, None], -2.0, d)
            order = np.argsort(-d, axis=1, kind="stable")
            d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
        n = min(k, d.shape[1])
        sims[:, :n], idx[:, :n] = d[:, :n], i[:, :n]
        idx[sims <= -2.0] = -1
        return sims, idx
    probes = np.argsort(-(queries @ centroids.T), axis=1)[:, :min(PROBES, len(centroids))]
    order = np.argsort(base_cluster, kind="stable")
    starts = np.searchsorted(base_cluster[order], np.arange(len(centroids) + 1))
    for c in range(len(centroids)):
        members = order[starts[c]:starts[c + 1]]
        qs = np.where((probes == c).any(axis=1))[0]
        if len(members) == 0 or len(qs) == 0:
            continue
        part = queries[qs] @ base[members].T
        if exclude is not None:
            part[exclude[qs][:, None] == members[None, :]] = -2.0
        top = min(k, part.shape[1])
        # one neighbour (the diversity figure's 5,000 queries): argmax, a fifth of argpartition's time
        j = part.argmax(axis=1)[:, None] if top == 1 else np.argpartition(-part, top - 1, axis=1)[:, :top]
        d = np.concatenate([sims[qs], np.take_along_axis(part, j, 1)], axis=1)
        i = np.concatenate([idx[qs], members[j]], axis=1)
        keep = np.argsort(-d, axis=1, kind="stable")[:, :k]
        sims[qs], idx[qs] = np.take_along_axis(d, keep, 1), np.take_along_axis(i, keep, 1)
    idx[sims <= -2.0] = -1
    return sims, idx


def compute_coverage(corpus: "Context", target: str | None = None, model: str | None = None,
                     examples: int = 3, clustering: str | int | None = None,
                     min_target: int | None = None, confidence: float | None = None,
                     far_threshold: float | None = None) -> Coverage:
    """Per-cluster counts, intervals and gaps against the target set, the far list, overall figures."""
    from .cluster import assignments, centroids_of, clustering_names, resolve_clustering
    from .embed import load_vectors
    from .queries import prompt_texts

    s = corpus.settings.override("coverage", min_target=min_target, confidence=confidence,
                                 far_threshold=far_threshold)
    min_target, confidence, far_threshold, neighbours, alpha, ratio = (s.get("coverage", k) for k in (
        "min_target", "confidence", "far_threshold", "neighbours", "neighbour_alpha", "gap_ratio"))
    try:
        run = resolve_clustering(corpus, clustering)
    except CuratorError as exc:
        raise CuratorError(f"coverage: {exc}") from None
    name = next((n for n, r in clustering_names(corpus).items() if r == run), None)
    if target is not None and not corpus.store.scalar(
            "SELECT 1 FROM provenance WHERE role = 'target' AND dataset = ? LIMIT 1", (target,)):
        known = [r[0] for r in corpus.store.query("SELECT DISTINCT dataset FROM provenance WHERE role='target'")]
        raise CuratorError(f"--target {target}: no target dataset of that name; known: {', '.join(known) or 'none'}"
                           " (ingest one with `curator ingest FILE --as target --dataset NAME`)")
    cluster_of = dict(assignments(corpus, run))  # extended below; the cached one stays as read
    labels = {c: lab for c, lab in corpus.store.query(
        "SELECT cluster, label FROM cluster_labels WHERE clustering_id = ?", (run,))}
    cids, centroids = centroids_of(corpus, run)
    training, targets = _prompt_roles(corpus, target)
    texts, canonical = prompt_texts(corpus)

    # vectors: canonical training prompts (the far search) and target prompts
    train_ids = sorted(p for p in training if p in canonical)
    target_ids = sorted(p for p in targets if p in texts)
    # two loads, not one: the same id lists as the report's card asks for (shared within a command)
    train_vec = load_vectors(corpus, train_ids, model, texts=texts, progress=False)
    target_vec = load_vectors(corpus, target_ids, model, texts=texts, progress=False)
    # prompts the clustering never saw (added later, or a named snapshot): nearest centroid
    late = 0
    dim = (train_vec if len(train_vec) else target_vec).shape[1]
    if len(cids) and dim == centroids.shape[1] and (len(train_vec) or len(target_vec)):
        for ids_, v in ((train_ids, train_vec), (target_ids, target_vec)):
            missing = [i for i, p in enumerate(ids_) if p not in cluster_of]
            if missing:
                near = (v[missing] @ centroids.T).argmax(axis=1)
                for i, j in zip(missing, near):
                    cluster_of[ids_[i]] = cids[j]
                late += len(missing)
        for pid in training | targets:  # duplicates of late prompts follow them
            if pid not in cluster_of:
                root = corpus.store.scalar("SELECT duplicate_of FROM prompts WHERE id = ?", (pid,))
                if root in cluster_of:
                    cluster_of[pid] = cluster_of[root]

    frame = _counts(corpus, labels, cluster_of, training, targets)
    basis = "samples" if frame["train_samples"].sum() > 0 else "prompts"
    frame.insert(2, "basis", basis)
    frame.insert(3, "train", frame["train_samples" if basis == "samples" else "prompts"])
    n_train, n_target = int(frame["train"].sum()), int(frame["target_prompts"].sum())
    frame["train_share"] = _share(frame["train"])
    frame["target_share"] = _share(frame["target_prompts"])
    frame["gap"] = (frame["target_share"] - frame["train_share"]).round(4)
    t_lo, t_hi = share_interval(frame["target_prompts"], n_target, confidence)
    r_lo, r_hi = share_interval(frame["train"], n_train, confidence)
    frame["target_share_low"], frame["target_share_high"] = np.round(t_lo, 4), np.round(t_hi, 4)
    frame["train_share_low"], frame["train_share_high"] = np.round(r_lo, 4), np.round(r_hi, 4)
    frame["gap_low"] = np.round(t_lo - r_hi, 4)
    frame["under_covered"] = (frame["target_prompts"] >= min_target) & (t_lo > ratio * r_hi) & (n_target > 0)

    # the far list: target prompts with no training prompt near them, in any cluster
    figures: dict[str, Any] = {"basis": basis, "training_prompts": len(training), "train_total": n_train,
                               "target_prompts": len(targets), "clusters": len(frame)}
    frame["far_targets"] = 0
    far: list[dict[str, Any]] = []
    far_out: dict[str, Any] = {}
    pos = {c: i for i, c in enumerate(cids)}
    train_cluster = np.array([pos.get(cluster_of.get(p), 0) for p in train_ids], dtype=np.int64) \
        if len(cids) and len(train_ids) else None
    if target_ids and train_ids:
        target_cluster = np.array([pos.get(cluster_of.get(p), 0) for p in target_ids], dtype=np.int64) \
            if train_cluster is not None else None
        far_out = far_targets(train_vec, target_vec, train_cluster, target_cluster, centroids, far_threshold,
                              neighbours, alpha, s.get("coverage", "near_threshold"))
        figures["target_coverage"] = far_out["mean_best"]
        far = [{"id": target_ids[f["row"]], "text": texts[target_ids[f["row"]]],
                "cluster": cluster_of.get(target_ids[f["row"]]), "reason": f["reason"],
                "nearest_cosine": f["nearest_cosine"], "target_neighbours": f["target_neighbours"],
                "nearest_training": texts[train_ids[f["nearest"]]] if f["nearest"] >= 0 else None}
               for f in far_out["rows"]]
        counts = pd.Series([f["cluster"] for f in far], dtype="float").value_counts()
        frame["far_targets"] = frame["cluster"].map(counts).fillna(0).astype(int)
    gap_frame = frame[frame["under_covered"]].sort_values(["gap_low", "gap"], ascending=False)
    gaps = gap_frame["cluster"].astype(int).tolist()
    figures.update({"under_covered": len(gaps), "far_targets": len(far), "far_threshold": far_threshold,
                    "min_target": min_target, "confidence": confidence, "gap_ratio": ratio,
                    "assigned_late": late})
    figures.update(_diversity(frame, train_vec, train_cluster, centroids))
    from .leakage import target_overlap  # training samples whose prompt is (nearly) a target prompt

    figures["target_overlap_samples"] = target_overlap(corpus)["samples"]

    ex: dict[int, dict[str, list[str]]] = {int(c): {"training": [], "target": []} for c in frame["cluster"]}
    for kind, ids in (("training", sorted(training)), ("target", sorted(targets))):
        for pid in ids:
            c = cluster_of.get(pid)
            if c in ex and len(ex[c][kind]) < examples:
                ex[c][kind].append(texts[pid])
    members = {p: c for p, c in cluster_of.items() if p in training or p in targets}
    return Coverage(run, target, frame, gaps, figures, ex, far, basis, name, members, training, targets)


def far_targets(train_vec: np.ndarray, target_vec: np.ndarray, train_cluster, target_cluster, centroids,
                threshold: float, neighbours: int, alpha: float, near: float = 0.8) -> dict[str, Any]:
    """Target rows far from training, for one of two reasons (``reason`` says which):

    - ``far``: the nearest training prompt has cosine < ``threshold``;
    - ``target neighbourhood``: of the ``neighbours`` nearest prompts (training and target
      together) so many are target prompts that a binomial test against the overall target
      fraction gives p < ``alpha``: the prompt sits among other target prompts, with training
      further away (the per-prompt form of a cluster gap, independent of where k-means drew lines),
      unless a training prompt is within cosine ``near`` (then it is covered, however dense).
    """
    from scipy.special import bdtrc  # binom.sf without importing scipy.stats

    tr_s, tr_i = knn(train_vec, target_vec, neighbours, train_cluster, centroids)
    if len(train_vec) * len(target_vec) > EXACT_BUDGET:
        # probing the nearest clusters found the true nearest training prompt for only 87-94 % of
        # real target prompts (tests/test_coverage.py), and misses are exactly the low cosines this
        # list is about: every row a probed result would put on the list is searched again exactly
        check = np.where(tr_s[:, 0] < near)[0]
        if len(check):
            tr_s[check], tr_i[check] = knn(train_vec, target_vec[check], neighbours)
    tg_s, _ = knn(target_vec, target_vec, neighbours, target_cluster, centroids,
                  exclude=np.arange(len(target_vec)))
    if len(target_vec) ** 2 > EXACT_BUDGET:  # the same for the target neighbours of those rows
        check = np.where(tr_s[:, 0] < near)[0]
        if len(check):
            tg_s[check] = knn(target_vec, target_vec[check], neighbours, exclude=check)[0]
    both = np.concatenate([tr_s, tg_s], axis=1)
    is_target = np.concatenate([np.zeros_like(tr_s, bool), np.ones_like(tg_s, bool)], axis=1)
    top = np.argsort(-both, axis=1, kind="stable")[:, :neighbours]
    x = np.take_along_axis(is_target & (both > -2), top, 1).sum(axis=1)
    n = np.take_along_axis(both > -2, top, 1).sum(axis=1)
    p0 = len(target_vec) / (len(target_vec) + len(train_vec))
    pval = bdtrc(x - 1, np.maximum(n, 1), p0)  # P(X >= x)
    best = tr_s[:, 0]
    rows = []
    for r in np.where((best < threshold) | ((pval < alpha) & (best < near)))[0]:
        rows.append({"row": int(r), "reason": "far" if best[r] < threshold else "target neighbourhood",
                     "nearest_cosine": round(float(best[r]), 4), "nearest": int(tr_i[r, 0]),
                     "target_neighbours": f"{int(x[r])}/{int(n[r])}"})
    rows.sort(key=lambda f: (f["reason"] != "far", f["nearest_cosine"]))
    return {"rows": rows, "mean_best": round(float(best.mean()), 4)}


def _counts(corpus: "Context", labels: dict[int, str], cluster_of: dict[str, int], training: set[str],
            targets: set[str]) -> pd.DataFrame:
    rows = {c: {"cluster": c, "label": labels.get(c, ""), "prompts": 0, "target_prompts": 0,
                "train_samples": 0, "candidate_samples": 0, "target_samples": 0} for c in labels}
    for kind, ids in (("prompts", training), ("target_prompts", targets)):
        for pid in ids:
            c = cluster_of.get(pid)
            if c in rows:
                rows[c][kind] += 1
    keys = {"train": "train_samples", "candidate": "candidate_samples", "target": "target_samples"}
    for pid, status, n in corpus.store.query(
            "SELECT prompt_id, status, COUNT(*) FROM samples WHERE prompt_id IS NOT NULL GROUP BY 1, 2"):
        c = cluster_of.get(pid)
        if c in rows and status in keys:
            rows[c][keys[status]] += n
    return pd.DataFrame(list(rows.values())).sort_values("cluster").reset_index(drop=True)


def _diversity(frame: pd.DataFrame, train_vec: np.ndarray, train_cluster, centroids) -> dict[str, Any]:
    out: dict[str, Any] = {}
    p = frame["prompts"].to_numpy(dtype=float)
    p = p[p > 0] / max(p.sum(), 1)
    out["effective_clusters"] = round(float(np.exp(-(p * np.log(p)).sum())), 2) if len(p) else 0.0
    n = len(train_vec)
    if n > 1:
        rng = np.random.default_rng(0)
        pick = rng.choice(n, size=min(n, NN_SAMPLE), replace=False)
        nn, _ = knn(train_vec, train_vec[pick], 1, train_cluster, centroids, exclude=pick)
        out["mean_nn_distance"] = round(float((1 - nn[:, 0]).mean()), 4)
        vs = rng.choice(n, size=min(n, VENDI_SAMPLE), replace=False)
        out["vendi_score"] = round(vendi_score(train_vec[vs]), 2)
        out["vendi_sample"] = int(len(vs))
    return out


def _share(col: pd.Series) -> pd.Series:
    total = col.sum()
    return (col / total).round(4) if total else col * 0.0
