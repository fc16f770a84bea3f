"""Coverage: per cluster, what the training side holds against what the target set holds.

Definitions (the numbers the table, the report and the generation stage use):

- *target items*: prompts seen with provenance role ``target`` (``--target DATASET`` narrows to
  one dataset), i.e. what the model will be tested on;
- *training prompts*: canonical-or-duplicate prompts seen with any other role (public lists,
  scraped, templates, combinations, generated);
- *training samples*: samples with status ``train`` (``candidates`` are shown beside them);
- ``train_share`` = a cluster's share of training samples, or of training prompts while there are
  no training samples yet; ``target_share`` = its share of target items;
- ``gap`` = target_share − train_share; a cluster is **under-covered** when target_share > 0 and
  train_share < ½ · target_share. Gaps are listed largest first: the generation stage's input.

Overall figures: target coverage (mean over target prompts of the highest cosine to any training
prompt), effective number of clusters (exp of the entropy of the training-prompt distribution),
mean nearest-neighbour cosine distance among training prompts, and the Vendi score (exp of the
entropy of the eigenvalues of the similarity matrix / n) on a sample of ≤ 1,000 training prompts.
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


@dataclass
class Coverage:
    clustering_id: int
    target: str | None
    clusters: pd.DataFrame
    gaps: list[int]
    figures: dict[str, Any] = field(default_factory=dict)
    examples: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"clustering": self.clustering_id, "target": self.target, "figures": self.figures,
                "gaps": self.gaps, "clusters": self.clusters.to_dict(orient="records"),
                "examples": {str(k): v for k, v in self.examples.items()}}


def vendi_score(x: np.ndarray) -> float:
    """Vendi score of L2-normalised rows: the effective number of distinct items."""
    if len(x) == 0:
        return 0.0
    k = (x @ x.T) / len(x)
    eig = np.clip(np.linalg.eigvalsh(k.astype(np.float64)), 0, None)
    eig = eig[eig > 1e-12]
    return float(np.exp(-(eig * np.log(eig)).sum()))


def _prompt_roles(corpus: "Context", target: str | None) -> tuple[set[str], set[str]]:
    training, targets = set(), set()
    for pid, dataset, role in corpus.store.query(
            "SELECT item_id, dataset, role FROM provenance WHERE item_kind = 'prompt'"):
        if role == "target":
            if target is None or dataset == target:
                targets.add(pid)
        else:
            training.add(pid)
    return training, targets


def compute_coverage(corpus: "Context", target: str | None = None, model: str | None = None,
                     examples: int = 3) -> Coverage:
    """Per-cluster counts and gaps against the target set, plus overall diversity figures."""
    from .cluster import assignments, latest_clustering
    from .embed import embed_texts

    run = latest_clustering(corpus)
    if run is None:
        raise CuratorError("coverage: no clustering yet; run `curator cluster` first")
    if target is not None and not corpus.store.scalar(
            "SELECT 1 FROM provenance WHERE role = 'target' AND dataset = ? LIMIT 1", (target,)):
        known = [r[0] for r in corpus.store.query("SELECT DISTINCT dataset FROM provenance WHERE role='target'")]
        raise CuratorError(f"--target {target}: no target dataset of that name; known: {', '.join(known) or 'none'}"
                           " (ingest one with `curator ingest FILE --as target --dataset NAME`)")
    cluster_of = assignments(corpus, run)
    labels = {c: lab for c, lab in corpus.store.query(
        "SELECT cluster, label FROM cluster_labels WHERE clustering_id = ?", (run,))}
    training, targets = _prompt_roles(corpus, target)
    texts = dict(corpus.store.query("SELECT id, text FROM prompts"))
    sample_rows = corpus.store.query("SELECT prompt_id, status FROM samples WHERE prompt_id IS NOT NULL")

    rows = {c: {"cluster": c, "label": labels.get(c, ""), "prompts": 0, "target_prompts": 0,
                "train_samples": 0, "candidate_samples": 0, "target_samples": 0} for c in labels}
    for pid in training:
        if pid in cluster_of:
            rows[cluster_of[pid]]["prompts"] += 1
    for pid in targets:
        if pid in cluster_of:
            rows[cluster_of[pid]]["target_prompts"] += 1
    for pid, status in sample_rows:
        c = cluster_of.get(pid)
        if c is None:
            continue
        key = {"train": "train_samples", "candidate": "candidate_samples", "target": "target_samples"}.get(status)
        if key:
            rows[c][key] += 1
    frame = pd.DataFrame(list(rows.values())).sort_values("cluster").reset_index(drop=True)
    train_basis = "train_samples" if frame["train_samples"].sum() > 0 else "prompts"
    frame["train_share"] = _share(frame[train_basis])
    frame["target_share"] = _share(frame["target_prompts"])
    frame["gap"] = frame["target_share"] - frame["train_share"]
    frame["under_covered"] = (frame["target_share"] > 0) & (frame["train_share"] < 0.5 * frame["target_share"])
    gaps = frame[frame["under_covered"]].sort_values("gap", ascending=False)["cluster"].astype(int).tolist()

    ex: dict[int, dict[str, list[str]]] = {}
    for c in frame["cluster"]:
        ex[int(c)] = {"training": [], "target": []}
    for pid in sorted(training):
        c = cluster_of.get(pid)
        if c is not None and len(ex[c]["training"]) < examples:
            ex[c]["training"].append(texts[pid])
    for pid in sorted(targets):
        c = cluster_of.get(pid)
        if c is not None and len(ex[c]["target"]) < examples:
            ex[c]["target"].append(texts[pid])

    figures: dict[str, Any] = {"train_basis": train_basis, "training_prompts": len(training),
                               "target_prompts": len(targets), "clusters": len(frame),
                               "under_covered": len(gaps)}
    train_ids = sorted(p for p in training if p in texts)
    train_vec = embed_texts(corpus, [texts[p] for p in train_ids], model=model, progress=False) \
        if train_ids else np.zeros((0, 1), dtype=np.float32)
    if targets and len(train_ids):
        target_ids = sorted(targets)
        tv = embed_texts(corpus, [texts[p] for p in target_ids], model=model, progress=False)
        best = _nearest(train_vec, tv, k=1)[:, 0]
        figures["target_coverage"] = round(float(best.mean()), 4)
    p = frame["prompts"].to_numpy(dtype=float)
    p = p[p > 0] / max(p.sum(), 1)
    figures["effective_clusters"] = round(float(np.exp(-(p * np.log(p)).sum())), 2) if len(p) else 0.0
    if len(train_ids) > 1:
        rng = np.random.default_rng(0)
        pick = rng.choice(len(train_ids), size=min(len(train_ids), 5000), replace=False)
        nn = _nearest(train_vec, train_vec[pick], k=2)[:, 1]
        figures["mean_nn_distance"] = round(float((1 - nn).mean()), 4)
        vs = rng.choice(len(train_ids), size=min(len(train_ids), VENDI_SAMPLE), replace=False)
        figures["vendi_score"] = round(vendi_score(train_vec[vs]), 2)
        figures["vendi_sample"] = int(len(vs))
    from .leakage import target_overlap  # training samples whose prompt is (nearly) a target prompt

    figures["target_overlap_samples"] = target_overlap(corpus)["samples"]
    return Coverage(run, target, frame, gaps, figures, ex)


def _share(col: pd.Series) -> pd.Series:
    total = col.sum()
    return (col / total).round(4) if total else col * 0.0


def _nearest(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    sims, _ = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(base)))
    return sims
