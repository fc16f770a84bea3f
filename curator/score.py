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
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .errors import CuratorError
from .store import utcnow

if TYPE_CHECKING:
    from .context import Context

COMPETITION_MODEL = "sentence-transformers/sentence-t5-base"
MEAN_PROMPT = "Improve this text."


def sharpened_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cos(a_i, b_i)³ for two matrices of the same shape (normalised here)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.einsum("ij,ij->i", a, b) ** 3


def metric_model_message(name: str) -> str:
    """One line: the metric model is missing, how to get it, and the proxy that works offline."""
    base = Path(name).name
    return (f"metric model {name!r} is not available here (not a local folder, not in the Hugging Face "
            f"cache, and the hub cannot be reached); on a machine with internet run "
            f"`python -c \"from sentence_transformers import SentenceTransformer as S; S('{name}')"
            f".save('models/{base}')\"`, copy models/{base} here and pass --metric-model models/{base} "
            f"(or set [score].metric_model in curator.toml); --metric-model default scores with the "
            f"packaged all-MiniLM-L6-v2, a proxy (lower in absolute terms)")


def metric_encoder(name: str | None, device: str | None = "auto") -> Callable[[list[str]], np.ndarray]:
    """An encoder that loads the metric model on first use, so cached texts never load it and a
    missing model is reported as a *metric* model, with --metric-model as the way out.
    ``device``: auto | cpu | cuda | mps (the cache does not depend on it)."""
    from .embed import model_encoder

    loaded: list = []

    def encode(texts: list[str]) -> np.ndarray:
        if not loaded:
            try:
                loaded.append(model_encoder(name, device=device))
            except CuratorError as exc:
                if str(exc).startswith("--device"):
                    raise
                raise CuratorError(metric_model_message(name or "default")) from exc
        return loaded[0](texts)

    return encode


def scs(pred_texts: Sequence[str], truth_texts: Sequence[str], model: str | None = COMPETITION_MODEL,
        corpus: "Context | None" = None, progress: bool = False) -> np.ndarray:
    """Per-pair SCS of predicted vs true prompts (``.mean()`` is the competition score).

    With a ``corpus`` the embeddings come from (and go to) its cache; without one the model is
    loaded directly (pure: texts + model → scores). ``model=None`` or "default" is the packaged
    MiniLM (a proxy). Symmetric in its two arguments.
    """
    if len(pred_texts) != len(truth_texts):
        raise CuratorError(f"scs: {len(pred_texts)} predictions but {len(truth_texts)} truths")
    if not len(pred_texts):
        return np.zeros(0)
    texts = [str(t) for t in pred_texts] + [str(t) for t in truth_texts]
    from .embed import context_device

    encode = metric_encoder(model, context_device(corpus))
    if corpus is not None:
        from .embed import embed_texts

        both = embed_texts(corpus, texts, model=model, progress=progress, encoder=encode)
    else:
        both = encode(texts)
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


def score_predictions(corpus: "Context", dataset: str | None = None, predictor: str | None = None,
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
                     model=metric_model, corpus=corpus, progress=True)
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


def ranking_metric(corpus: "Context", metric_model: str | None = None) -> str | None:
    """The metric model whose scores rank candidates: the one asked for; else the configured one
    when it has scores; else the one with the most scores. One model only, so a proxy's scores
    (lower in absolute terms) are never mixed with sentence-t5's in one ranking or threshold."""
    from .embed import resolve_model

    if metric_model:
        return resolve_model(metric_model)[0]
    configured = corpus.setting("score", "metric_model", COMPETITION_MODEL)
    keys = [r[0] for r in corpus.store.query(
        "SELECT metric_model FROM scores GROUP BY metric_model ORDER BY COUNT(*) DESC, metric_model")]
    for key in keys:
        if key == configured or key == Path(str(configured)).name:
            return key
    return keys[0] if keys else None


def ranked_candidates(corpus: "Context", min_score: float | None = None, dataset: str | None = None,
                      predictor: str | None = None, metric_model: str | None = None,
                      statuses: Sequence[str] = ("candidate",)) -> list[dict]:
    """Samples with their best score under one metric model (:func:`ranking_metric`), best first:
    the review and promote order. Each row names its predictor and metric model."""
    key = ranking_metric(corpus, metric_model)
    where, params = [f"s.status IN ({','.join('?' * len(statuses))})", "sc.metric_model = ?"], [*statuses, key]
    if dataset:
        where.append("s.dataset = ?")
        params.append(dataset)
    if predictor:
        where.append("sc.predictor = ?")
        params.append(predictor)
    # SQLite takes the bare columns of a MAX() aggregate from the row holding the maximum, so
    # predictor and predicted_prompt are those of the best prediction.
    sql = ("SELECT s.id, s.dataset, s.status, s.original_text, s.rewritten_text, s.rewrite_prompt, "
           "sc.predictor, sc.metric_model, MAX(sc.score) AS score, p.predicted_prompt "
           "FROM samples s JOIN scores sc ON sc.sample_id = s.id "
           "LEFT JOIN predictions p ON p.sample_id = sc.sample_id AND p.predictor = sc.predictor "
           f"WHERE {' AND '.join(where)} GROUP BY s.id")
    if min_score is not None:
        sql += " HAVING MAX(sc.score) >= ?"
        params.append(min_score)
    sql += " ORDER BY score DESC, s.id"
    return [dict(r, proxy=is_proxy(r["metric_model"])) for r in corpus.store.query(sql, params)]
