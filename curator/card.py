"""The dataset card: the training side against the target side, each figure with its method.

A training set for prompt recovery should be realistic, short, diverse and hard, *measured
against the data it will be tested on*. The card puts the two sides next to each other:

- ``counts``: prompts, samples by status and origin, the share of multi-instruction prompts;
- ``lengths``: word-count profiles of prompts, originals and rewrites (quantiles, share over the
  ``[limits]`` of curator.toml) with a two-sample Kolmogorov–Smirnov distance per profile;
- ``distance``: Fréchet distance between the training and target prompt embeddings, with a
  bootstrap interval; ``precision`` / ``recall``: k-NN manifolds (Kynkäänniemi et al. 2019);
- ``coverage``: share of target prompts with a training prompt at cosine ≥ t, for several t;
- ``diversity``: Vendi score and effective number of clusters, per side;
- ``difficulty``: mean SCS of the target set's mean prompt (:mod:`curator.meanprompt`) and of
  each stored predictor, overall and per cluster (hardness = 1 − SCS to the mean prompt).

What moves what: generating for the gaps raises recall and coverage and lowers the distance;
pruning off-target prompts raises precision; hard prompts (far from the mean prompt) lower the
mean prompt's score on the training side. ``as_dict()`` is the stable ``--json`` (docs/card.md).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cardmath as cm
from .errors import CuratorError
from .sides import TRAINING_STATUSES, check_target, clusters_of, resolve_basis, target_prompts, training_prompts
from .text import word_count

if TYPE_CHECKING:
    from .context import Context

CARD_VERSION = 1
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
VENDI_SAMPLE = 1000
#: texts per side whose words are counted for the length profiles (a seeded sample beyond): the
#: quantiles of 50,000 word counts are those of 250,000 to the word, at a fifth of the 1.8 s
LENGTH_SAMPLE = 50_000

METHODS = {
    "counts": "prompts per side (training: see basis; target: prompts ingested --as target and prompts of target "
              "samples); samples by status and origin (target samples excluded); multi-instruction = a prompt with "
              ">= 2 clauses opening with an imperative verb (cardmath.instruction_count), on a seeded sample of "
              "<= [card].sample prompts per side",
    "lengths": "word counts (text.word_count); quantiles p10-p90, share over [limits] max_original_words / "
               "max_rewritten_words; ks = two-sample Kolmogorov-Smirnov statistic (max CDF gap, 0 = same "
               "profile) with its p-value (scipy.stats.ks_2samp); on a seeded sample of 50,000 texts per "
               "side beyond that size",
    "distance": "Frechet distance between Gaussians fitted to the training and target prompt embeddings "
                "(|mu1-mu2|^2 + Tr(S1+S2-2(S1 S2)^1/2)); ci95 = bootstrap spread (both sides resampled, "
                "2.5-97.5 percentiles around the draws' median) re-centred on the value; "
                "lower = closer; biased upwards for small sides, so compare cards of similar sizes",
    "precision": "share of training prompts inside the target's k-NN manifold (a ball around each target "
                 "prompt reaching its k-th nearest target prompt), Kynkaanniemi et al. 2019; low = off-target "
                 "prompts",
    "recall": "share of target prompts inside the training k-NN manifold; low = parts of the target the "
              "training side does not reach",
    "coverage": "share of target prompts whose most similar training prompt has cosine >= t; mean_best_cosine "
                "= mean over target prompts of that highest cosine; target prompts: the seeded sample of <= "
                "[card].sample; training: all, searched exhaustively",
    "diversity": "Vendi score (exp entropy of the eigenvalues of the cosine matrix / n, on <= 1000 prompts): "
                 "the effective number of distinct prompts; effective_clusters = exp entropy of the prompts' "
                 "distribution over the latest clustering's clusters",
    "difficulty": "SCS = cos^3 under the metric model; mean_prompt = the target set's mean prompt (curator "
                  "mean-prompt, stored and re-used while the set is unchanged); mean_prompt_score = its mean "
                  "SCS over each side's prompts; hardness = 1 - that, per cluster; predictors = mean stored "
                  "score per predictor over the training side's samples (scores of the metric model)",
}


@dataclass
class Card:
    target: str | None
    basis: str
    embed_model: str
    sections: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"card_version": CARD_VERSION, "target": self.target, "basis": self.basis,
                "embed_model": self.embed_model, **self.sections}


def _grouped(ctx: "Context", sql: str, params: tuple = ()) -> dict[str, int]:
    return {str(k): int(v) for k, v in ctx.store.query(sql, params)}


def _sample_texts(ctx: "Context", statuses: tuple[str, ...], dataset: str | None = None) -> list[tuple[str, str]]:
    sql = f"SELECT original_text, rewritten_text FROM samples WHERE status IN ({','.join('?' * len(statuses))})"
    params: tuple = statuses
    if dataset is not None:
        sql += " AND dataset = ?"
        params += (dataset,)
    return [(r[0], r[1]) for r in ctx.store.query(sql, params)]


def _subsample(x: np.ndarray, n: int, seed: int) -> np.ndarray:
    if len(x) <= n:
        return x
    return x[np.sort(np.random.default_rng(seed).choice(len(x), n, replace=False))]


def _sampled(texts: list[str], n: int, seed: int) -> list[str]:
    """``texts`` when at most ``n``, else a seeded sample of ``n`` in their order."""
    if len(texts) <= n:
        return texts
    return [texts[i] for i in np.sort(np.random.default_rng(seed).choice(len(texts), n, replace=False))]


def _best_cosine(train: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Highest cosine of each target row to any training row, by exhaustive search.

    An inverted-file index (faiss IVF, √n lists, 8 probed) was tried for large corpora and
    rejected: on real prompts (1,300 training, 300 target, tests/test_card.py history) it found
    the true nearest training prompt for only 90 % of target prompts, because target prompts far
    from training (cosine ≈ 0.5, exactly the ones coverage is about) sit between lists. The search
    is exact on the target sample instead (≤ [card].sample rows), in blocks, with both BLAS
    threads for this one large product (the rest of the card runs single-threaded)."""
    from threadpoolctl import threadpool_limits

    best = np.full(len(target), -1.0)
    with threadpool_limits(2, user_api="blas"):
        for s in range(0, len(train), 8192):
            best = np.maximum(best, (target @ train[s:s + 8192].T).max(axis=1))
    return best


def build_card(ctx: "Context", *, target: str | None = None, basis: str = "auto", model: str | None = None,
               metric_model: str | None = None, k: int | None = None, bootstrap: int | None = None,
               sample: int | None = None, seed: int = 0, difficulty: bool = True) -> Card:
    """Every figure of the card (see the module docstring); reads only, except the embedding cache
    and, the first time for a target set, its stored mean prompt."""
    from threadpoolctl import threadpool_limits

    # The figures are many small BLAS calls; two BLAS threads on a busy 2-core machine spin
    # against each other (measured: an SVD 1,000x slower), one thread never does.
    with threadpool_limits(1, user_api="blas"):
        return _build(ctx, target, basis, model, metric_model, k, bootstrap, sample, seed, difficulty)


def _build(ctx: "Context", target: str | None, basis: str, model: str | None, metric_model: str | None,
           k: int | None, bootstrap: int | None, sample: int | None, seed: int, difficulty: bool) -> Card:
    from threadpoolctl import threadpool_limits

    from .embed import load_vectors, resolve_model

    check_target(ctx, target)
    basis = resolve_basis(ctx, basis)
    model = model or ctx.setting("embed", "model", None)
    k = k or ctx.setting("card", "k", 3)
    bootstrap = bootstrap if bootstrap is not None else ctx.setting("card", "bootstrap", 30)
    sample = sample or ctx.setting("card", "sample", 5000)
    card = Card(target, basis, resolve_model(model)[0])
    train_p, target_p = training_prompts(ctx, basis), target_prompts(ctx, target)
    if not target_p:
        raise CuratorError("card: no target prompts; ingest the set you will be tested on with "
                           "`curator ingest FILE --as target --dataset NAME`")
    if not train_p:
        raise CuratorError(f"card: no training prompts (basis {basis}); ingest, expand or generate some first")
    statuses = TRAINING_STATUSES.get(basis, ("train", "candidate"))
    train_s, target_s = _sample_texts(ctx, statuses), _sample_texts(ctx, ("target",), target)
    tr_texts, tg_texts = list(train_p.values()), list(target_p.values())

    # a share: on a seeded sample of ≤ ``sample`` prompts beyond that size (2.4 s → 0.05 s at 250k)
    multi = lambda texts: round(float(np.mean(  # noqa: E731
        [cm.instruction_count(t) >= 2 for t in _sampled(texts, sample, seed)])), 4)
    tgt_where, tgt_params = (" AND dataset = ?", (target,)) if target else ("", ())
    card.sections["counts"] = {
        "training": {"prompts": len(train_p), "samples": len(train_s),
                     "samples_by_status": _grouped(ctx, "SELECT status, COUNT(*) FROM samples WHERE status != "
                                                        "'target' GROUP BY status ORDER BY 2 DESC"),
                     "samples_by_origin": _grouped(
                         ctx, f"SELECT origin, COUNT(*) FROM samples WHERE status IN "
                              f"({','.join('?' * len(statuses))}) GROUP BY origin ORDER BY 2 DESC", statuses),
                     "multi_instruction_share": multi(tr_texts)},
        "target": {"prompts": len(target_p), "samples": len(target_s),
                   "samples_by_origin": _grouped(ctx, "SELECT origin, COUNT(*) FROM samples WHERE status = "
                                                      f"'target'{tgt_where} GROUP BY origin", tgt_params),
                   "multi_instruction_share": multi(tg_texts)},
        "method": METHODS["counts"]}

    limits = {"prompt": None, "original_text": ctx.setting("limits", "max_original_words", None),
              "rewritten_text": ctx.setting("limits", "max_rewritten_words", None)}
    counts = lambda texts: [word_count(t) for t in _sampled(texts, LENGTH_SAMPLE, seed)]  # noqa: E731
    words = {"prompt": (counts(tr_texts), counts(tg_texts)),
             "original_text": (counts([o for o, _ in train_s]), counts([o for o, _ in target_s])),
             "rewritten_text": (counts([r for _, r in train_s]), counts([r for _, r in target_s]))}
    card.sections["lengths"] = {
        name: {"training": cm.length_profile(a, limits[name]), "target": cm.length_profile(b, limits[name]),
               "ks": cm.ks_distance(a, b)} for name, (a, b) in words.items()} | {"method": METHODS["lengths"]}

    xt = load_vectors(ctx, list(train_p), model, texts=train_p)  # prompt ids are content ids
    xg = load_vectors(ctx, list(target_p), model, texts=target_p)
    st, sg = _subsample(xt, sample, seed), _subsample(xg, sample, seed + 1)
    fd, lo, hi = cm.frechet_bootstrap(st, sg, rounds=bootstrap, seed=seed)
    sizes = {"n_training": int(len(st)), "n_target": int(len(sg))}
    card.sections["distance"] = {"value": round(fd, 4), "ci95": [round(lo, 4), round(hi, 4)],
                                 "bootstrap": bootstrap, **sizes, "method": METHODS["distance"]}
    with threadpool_limits(2, user_api="blas"):  # 5,000 × 5,000 × d products: both threads pay here (1.5 s → 1 s)
        precision, recall = cm.knn_precision_recall(st, sg, k)
    card.sections["precision"] = {"value": round(precision, 4), "k": k, **sizes, "method": METHODS["precision"]}
    card.sections["recall"] = {"value": round(recall, 4), "k": k, **sizes, "method": METHODS["recall"]}
    best = _best_cosine(xt, sg)  # every training prompt, the target sample (≤ ``sample``)
    card.sections["coverage"] = {"thresholds": {f"{t:.1f}": round(float((best >= t).mean()), 4) for t in THRESHOLDS},
                                 "mean_best_cosine": round(float(best.mean()), 4), "method": METHODS["coverage"]}

    cluster_of, labels = clusters_of(ctx, {**train_p, **target_p})

    def diversity(x: np.ndarray, ids: list[str], salt: int) -> dict:
        counts = Counter(cluster_of[p] for p in ids if p in cluster_of)
        return {"vendi": round(cm.vendi_score(_subsample(x, VENDI_SAMPLE, seed + salt)), 2),
                "vendi_sample": int(min(len(x), VENDI_SAMPLE)),
                "effective_clusters": round(cm.effective_number(list(counts.values())), 2) if counts else None,
                "clusters_present": len(counts)}

    card.sections["diversity"] = {"training": diversity(xt, list(train_p), 2), "target": diversity(xg, list(target_p), 3),
                                  "clusters": len(labels) or None, "method": METHODS["diversity"]}
    if difficulty:
        card.sections["difficulty"] = _difficulty(ctx, target, metric_model, train_p, target_p, statuses,
                                                  cluster_of, labels)
    return card


def _difficulty(ctx: "Context", target: str | None, metric_model: str | None, train_p: dict[str, str],
                target_p: dict[str, str], statuses: tuple[str, ...], cluster_of: dict[str, int],
                labels: dict[int, str]) -> dict:
    from .meanprompt import hardness, mean_prompt

    try:
        mp = mean_prompt(ctx, target=target, metric_model=metric_model, reuse=True)
        metric = metric_model or mp.metric_model
        h = {side: dict(zip(members, hardness(ctx, list(members.values()), mp.prompt, metric)))
             for side, members in (("training", train_p), ("target", target_p))}
    except CuratorError as exc:  # e.g. the competition's metric model is not available here
        return {"error": str(exc), "method": METHODS["difficulty"]}
    out: dict[str, Any] = {"metric_model": mp.metric_model, "mean_prompt": mp.prompt, "mean_prompt_set": mp.set_name,
                           "mean_prompt_score": {side: round(1 - float(np.mean(list(v.values()))), 4)
                                                 for side, v in h.items()}}
    marks = ",".join("?" * len(statuses))
    rows = ctx.store.query(
        f"SELECT sc.predictor, sc.score, s.prompt_id FROM scores sc JOIN samples s ON s.id = sc.sample_id "
        f"WHERE sc.metric_model = ? AND s.status IN ({marks}) AND s.prompt_id IS NOT NULL", (mp.metric_model, *statuses))
    by_pred: dict[str, list[float]] = defaultdict(list)
    by_pred_cluster: dict[tuple[str, int], list[float]] = defaultdict(list)
    for pred, score, pid in rows:
        by_pred[pred].append(float(score))
        if pid in cluster_of:
            by_pred_cluster[(pred, cluster_of[pid])].append(float(score))
    out["predictors"] = {p: {"n": len(v), "mean": round(float(np.mean(v)), 4)} for p, v in sorted(by_pred.items())}
    clusters = []
    for c in sorted(labels):
        row: dict[str, Any] = {"cluster": c, "label": labels[c]}
        for side in ("training", "target"):
            vals = [v for p, v in h[side].items() if cluster_of.get(p) == c]
            row[f"{side}_prompts"] = len(vals)
            row[f"hardness_{side}"] = round(float(np.mean(vals)), 4) if vals else None
        row["predictors"] = {p: round(float(np.mean(by_pred_cluster[(p, c)])), 4)
                             for p in sorted(by_pred) if by_pred_cluster.get((p, c))}
        if row["training_prompts"] or row["target_prompts"]:
            clusters.append(row)
    out["clusters"] = clusters
    out["method"] = METHODS["difficulty"]
    return out
