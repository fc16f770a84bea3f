"""The competition metric and the scoring of stored predictions.

SCS (sharpened cosine similarity), as Kaggle computed it for LLM Prompt Recovery: embed the
predicted and the true prompt with ``sentence-transformers/sentence-t5-base``, normalise, take the
cosine, cube it; the score of a submission is the mean over samples. Cubing keeps the sign and
punishes mediocre similarity: 0.9 → 0.73, 0.7 → 0.34.

sentence-t5-base cannot be downloaded here; any sentence-transformers model can stand in
(``metric_model``), and every stored score records the model that made it. Scores from the
packaged all-MiniLM-L6-v2 are a *proxy*: much lower in absolute terms (mean 0.34 vs the
file's 0.75 on the public predictions file: sentence-t5 puts any two English instructions at
cosine ≥ 0.6, MiniLM spreads them out) and only loosely rank-correlated within a narrow band
(Spearman 0.33 on that file, whose scores were filtered to 0.70–0.92; see docs/scoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .errors import CuratorError
from .store import utcnow

if TYPE_CHECKING:
    from .workspace import Corpus

COMPETITION_MODEL = "sentence-transformers/sentence-t5-base"
MEAN_PROMPT = "Improve this text."


def sharpened_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cos(a_i, b_i)³ for two matrices of the same shape (normalised here)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.einsum("ij,ij->i", a, b) ** 3


def scs(pred_texts: Sequence[str], truth_texts: Sequence[str], model: str | None = COMPETITION_MODEL,
        corpus: "Corpus | None" = None) -> np.ndarray:
    """Per-pair SCS of predicted vs true prompts (``.mean()`` is the competition score).

    With a ``corpus`` the embeddings come from (and go to) its cache; without one the model is
    loaded directly. ``model=None`` or "default" is the packaged MiniLM (a proxy).
    """
    if len(pred_texts) != len(truth_texts):
        raise CuratorError(f"scs: {len(pred_texts)} predictions but {len(truth_texts)} truths")
    if not len(pred_texts):
        return np.zeros(0)
    if corpus is not None:
        from .embed import embed_texts

        both = embed_texts(corpus, list(pred_texts) + list(truth_texts), model=model, progress=False)
    else:
        from .embed import load_model

        both = load_model(model).encode(list(pred_texts) + list(truth_texts), normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
    n = len(pred_texts)
    return sharpened_cosine(both[:n], both[n:])


def is_proxy(model_key: str) -> bool:
    return model_key != "sentence-t5-base" and model_key != COMPETITION_MODEL


@dataclass
class ScoreReport:
    metric_model: str
    proxy: bool
    scored_now: int
    n: int = 0
    mean: float = 0.0
    ci95: tuple[float, float] = (0.0, 0.0)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)
    baseline_prompt: str = MEAN_PROMPT
    baseline_mean: float = 0.0
    best: list[dict] = field(default_factory=list)
    worst: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def score_predictions(corpus: "Corpus", dataset: str | None = None, predictor: str | None = None,
                      metric_model: str | None = None, baseline: str = MEAN_PROMPT,
                      show: int = 5) -> ScoreReport:
    """Score every (sample, predictor) pair not yet scored by ``metric_model``; report all scored."""
    from .embed import resolve_model

    metric_model = metric_model or corpus.setting("score", "metric_model", COMPETITION_MODEL)
    key, _ = resolve_model(metric_model)
    where, params = ["s.prompt_id IS NOT NULL"], []
    if dataset:
        where.append("s.dataset = ?")
        params.append(dataset)
    if predictor:
        where.append("p.predictor = ?")
        params.append(predictor)
    sql = ("SELECT s.id, p.predictor, p.predicted_prompt, s.rewrite_prompt, sc.score FROM predictions p "
           "JOIN samples s ON s.id = p.sample_id LEFT JOIN scores sc ON sc.sample_id = p.sample_id "
           "AND sc.predictor = p.predictor AND sc.metric_model = ? WHERE " + " AND ".join(where)
           + " ORDER BY s.id, p.predictor")
    rows = corpus.store.query(sql, (key, *params))
    todo = [r for r in rows if r["score"] is None]
    if todo:
        values = scs([r["predicted_prompt"] for r in todo], [r["rewrite_prompt"] for r in todo],
                     model=metric_model, corpus=corpus)
        now = utcnow()
        with corpus.store.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)",
                             [(r["id"], r["predictor"], key, float(v), now) for r, v in zip(todo, values)])
            corpus.store.log_event("score", {"metric_model": key, "dataset": dataset, "predictor": predictor},
                                   {"scored": len(todo)})
    report = ScoreReport(key, is_proxy(key), len(todo), baseline_prompt=baseline)
    rows = corpus.store.query(sql, (key, *params))
    if not rows:
        return report
    vals = np.array([r["score"] for r in rows], dtype=float)
    report.n = len(vals)
    report.mean = float(vals.mean())
    half = 1.96 * float(vals.std(ddof=1)) / np.sqrt(len(vals)) if len(vals) > 1 else 0.0
    report.ci95 = (report.mean - half, report.mean + half)
    counts, edges = np.histogram(vals, bins=10, range=(min(-0.0, vals.min()), 1.0))
    report.histogram = [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))]
    truths = sorted({r["rewrite_prompt"] for r in rows})
    base = scs([baseline] * len(truths), truths, model=metric_model, corpus=corpus)
    by_truth = dict(zip(truths, base))
    report.baseline_mean = float(np.mean([by_truth[r["rewrite_prompt"]] for r in rows]))
    order = np.argsort(-vals)
    pick = lambda i: {"sample_id": rows[i]["id"], "predictor": rows[i]["predictor"], "score": float(vals[i]),
                      "truth": rows[i]["rewrite_prompt"], "prediction": rows[i]["predicted_prompt"]}
    report.best = [pick(i) for i in order[:show]]
    report.worst = [pick(i) for i in order[::-1][:show]]
    return report


def ranked_candidates(corpus: "Corpus", min_score: float | None = None, dataset: str | None = None,
                      predictor: str | None = None, metric_model: str | None = None,
                      statuses: Sequence[str] = ("candidate",)) -> list[dict]:
    """Samples with their best stored score, best first (the review and promote order)."""
    where, params = [f"s.status IN ({','.join('?' * len(statuses))})"], list(statuses)
    if dataset:
        where.append("s.dataset = ?")
        params.append(dataset)
    if predictor:
        where.append("sc.predictor = ?")
        params.append(predictor)
    if metric_model:
        from .embed import resolve_model

        where.append("sc.metric_model = ?")
        params.append(resolve_model(metric_model)[0])
    sql = ("SELECT s.id, s.dataset, s.status, s.original_text, s.rewritten_text, s.rewrite_prompt, "
           "sc.predictor, sc.metric_model, MAX(sc.score) AS score, p.predicted_prompt "
           "FROM samples s JOIN scores sc ON sc.sample_id = s.id "
           "LEFT JOIN predictions p ON p.sample_id = sc.sample_id AND p.predictor = sc.predictor "
           f"WHERE {' AND '.join(where)} GROUP BY s.id")
    if min_score is not None:
        sql += " HAVING MAX(sc.score) >= ?"
        params.append(min_score)
    sql += " ORDER BY score DESC, s.id"
    return [dict(r) for r in corpus.store.query(sql, params)]
