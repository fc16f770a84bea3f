"""How far can any per-prompt score go on the held-out-category experiment? (docs/coverage.md)

Same design as scripts/coverage_eval.py (3 of the 16 human categories only in the target set,
20 % of the others as in-distribution target prompts), on the MiniLM vectors of the labelled
prompts. For each score: ROC AUC of held-out vs in-distribution target prompts, and the share of
held-out prompts above the threshold that puts exactly 10 % of in-distribution ones over it,
chosen after seeing the labels (an oracle: an upper bound for any rule built on that score).

Usage: python scripts/coverage_ceiling.py [PATH_TO_rewrite_labels_16.csv] [--seeds 8] [--similarity S]

``--similarity`` picks the similarity the neighbour scores use: ``minilm`` (default, the
packaged embedding), ``tfidf`` (word 1-2-gram TF-IDF cosine, a lexical signal),
``char`` (character 3-5-gram TF-IDF) or ``minilm+char`` (the mean of the two cosines).
Prints `name: value unit` lines.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_quality import DEFAULT, labelled_prompts  # noqa: E402


def scores(s: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    tr, tg = y == 0, y == 1
    st = np.sort(s[:, tr], axis=1)[:, ::-1]
    sg = np.sort(s[:, tg], axis=1)[:, ::-1]
    order = np.argsort(-s, axis=1)
    out = {"nearest_training_cosine_negated": -st[:, 0]}
    for k in (20, 40):
        out[f"target_fraction_{k}nn"] = y[order[:, :k]].mean(1)
    out["kth_target_minus_kth_training_k10"] = sg[:, 9] - st[:, 9]
    w = np.zeros_like(s)
    idx = order[:, :10]
    np.put_along_axis(w, idx, np.maximum(np.take_along_axis(s, idx, 1), 0), 1)
    w = w + w.T
    p = w / w.sum(1, keepdims=True)
    f = y.astype(float)
    for _ in range(10):
        f = 0.5 * y + 0.5 * p @ f
    out["label_propagation_10nn"] = f
    prob = np.zeros(len(y))
    for a, b in StratifiedKFold(5, shuffle=True, random_state=seed).split(x, y):
        m = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(x[a], y[a])
        prob[b] = m.predict_proba(x[b])[:, 1]
    out["classifier_two_sample_cross_fitted"] = prob
    return out


def main(argv: list[str] | None = None) -> int:
    from sklearn.metrics import roc_auc_score

    from curator.embed import model_encoder

    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--similarity", choices=("minilm", "tfidf", "char", "minilm+char"), default="minilm")
    args = ap.parse_args(argv)
    frame = labelled_prompts(Path(args.path))
    texts = frame["target"].tolist()
    x = model_encoder()(texts)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    if args.similarity != "minilm":
        from sklearn.feature_extraction.text import TfidfVectorizer

        if args.similarity == "tfidf":
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        else:
            vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        t = vec.fit_transform(texts).toarray()
        x = t if args.similarity != "minilm+char" else np.hstack([x, t]) / np.sqrt(2)
    s = x @ x.T
    np.fill_diagonal(s, -9)
    labels = frame["RewriteLabel"].to_numpy()
    cats = sorted(set(labels))
    results: dict[str, list[tuple[float, float]]] = {}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        held = set(rng.choice(cats, 3, replace=False))
        role = np.array(["held" if c in held else ("in" if rng.random() < 0.2 else "train") for c in labels])
        y = (role != "train").astype(int)
        for name, v in scores(s, x, y, seed).items():
            cut = np.quantile(v[role == "in"], 0.9)
            results.setdefault(name, []).append(
                (roc_auc_score(role[y == 1] == "held", v[y == 1]), float((v[role == "held"] > cut).mean())))
    for name, vals in results.items():
        auc, found = np.mean(vals, axis=0)
        print(f"{name}_auc: {auc:.3f} score")
        print(f"{name}_held_out_found_at_10pct_false: {found:.3f} fraction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
