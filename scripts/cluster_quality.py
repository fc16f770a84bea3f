"""Clustering quality against human labels: NMI and ARI on rewrite_labels_16.csv.

Usage: python scripts/cluster_quality.py [PATH_TO_rewrite_labels_16.csv] [--model NAME]
Prints `name: value unit` lines. The prompts are embedded (cached in a temporary corpus) and
clustered with curator's own k-means at k = 16 (the number of labels) and at k = auto.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from curator import Corpus
from curator.cluster import choose_k, kmeans
from curator.embed import embed_texts
from curator.text import content_id

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "labelled" / "rewrite_labels_16.csv"


def labelled_prompts(path: Path) -> pd.DataFrame:
    """One row per distinct prompt (by content id) with its first label; header repeats dropped."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = frame[frame["RewriteLabel"] != "RewriteLabel"]
    frame = frame.assign(pid=frame["target"].map(content_id)).drop_duplicates("pid")
    return frame[["target", "RewriteLabel"]].reset_index(drop=True)


def quality(corpus: Corpus, frame: pd.DataFrame, k: int | str = 16, seed: int = 0,
            model: str | None = None) -> dict[str, float]:
    x = embed_texts(corpus, frame["target"].tolist(), model=model, progress=False)
    k_val = choose_k(x, seed)[0] if k == "auto" else int(k)
    _, assign = kmeans(x, k_val, seed)
    return {"k": k_val, "nmi": normalized_mutual_info_score(frame["RewriteLabel"], assign),
            "ari": adjusted_rand_score(frame["RewriteLabel"], assign)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--model")
    args = ap.parse_args(argv)
    frame = labelled_prompts(Path(args.path))
    with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        print(f"prompts: {len(frame)} count")
        print(f"labels: {frame['RewriteLabel'].nunique()} count")
        for k in (16, "auto"):
            q = quality(corpus, frame, k, model=args.model)
            tag = "k16" if k == 16 else "kauto"
            print(f"{tag}_k: {q['k']} clusters")
            print(f"{tag}_nmi: {q['nmi']:.3f} score")
            print(f"{tag}_ari: {q['ari']:.3f} score")
        # baseline in the same run: random assignment with the same k
        rng = np.random.default_rng(0)
        rand = rng.integers(0, 16, size=len(frame))
        print(f"random_k16_nmi: {normalized_mutual_info_score(frame['RewriteLabel'], rand):.3f} score")
    return 0


if __name__ == "__main__":
    sys.exit(main())
