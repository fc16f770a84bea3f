"""Clustering benchmark on real embeddings: curator's k-means (fixed k and k=auto) vs MiniBatchKMeans.

Data: every real prompt under ../shared/data (procedural prompts, the labelled set, handmade lists,
public samples' prompts), embedded with the packaged MiniLM (cached in ``--cache``), then jittered
to each size (copies + Gaussian noise σ ``--sigma``, re-normalised). The copies of the labelled
prompts keep their human category, so NMI against human labels is measured on them.

Per size, in the same run (ratios compare like with like on a shared machine):
- ``curator_fixed_k``: one fit at k = sqrt(n/2) (k-means++ seeds, faiss, sub-sampled training, all
  points assigned);
- ``sklearn_minibatch``: MiniBatchKMeans(k, batch_size=4096, n_init=1) on the same vectors;
- ``curator_auto``: k chosen on a sample, then one fit (what ``curator cluster`` does), against
  one fixed fit at the k it chose (``auto_vs_fixed_same_k``: the cost of choosing);
- quality beside time: mean cosine distance to the cluster's mean direction (lower is better) and
  NMI against the human labels.
Each timing is the median of ``--repeat`` runs (3 by default), with ``name_range: min–max s``: the
same fit varied 20–30 % from one minute to the next on the shared 2-core machine, more than the
differences measured. Both comparisons alternate their two sides (curator's fixed fit and
MiniBatchKMeans; auto and a fixed fit at the k it chose), and each ratio is the median of the
per-round ratios, so a slow minute slows both sides of a ratio alike.
Prints `name: value unit` lines. Usage: python scripts/bench/cluster.py [--sizes 25000,100000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import normalized_mutual_info_score

from curator import Corpus
from curator.cluster import choose_k, kmeans
from curator.embed import embed_texts

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def real_prompts(data: Path = DATA) -> tuple[list[str], list[str | None]]:
    """Distinct real prompts and their human label (None when unlabelled)."""
    labels: dict[str, str | None] = {}
    frame = pd.read_csv(data / "labelled/rewrite_labels_16.csv", dtype=str, keep_default_na=False)
    for t, lab in zip(frame["target"], frame["RewriteLabel"]):
        if lab != "RewriteLabel" and t.strip():
            labels.setdefault(t.strip(), lab)
    for t in json.loads((data / "prompts/procedural_prompts.json").read_text()):
        labels.setdefault(str(t).strip(), None)
    for path in sorted((data / "prompts/handmade_lists").glob("*.csv")):
        for t in pd.read_csv(path, header=None, dtype=str, keep_default_na=False).iloc[:, 0]:
            if 8 < len(t) < 400:
                labels.setdefault(t.strip(), None)
    gem = pd.read_csv(data / "public/gemma_mix_with_predictions.csv", dtype=str, keep_default_na=False)
    for t in gem["gt_rewrite_prompt"]:
        labels.setdefault(t.strip(), None)
    labels.pop("", None)
    return list(labels), list(labels.values())


def jitter(x: np.ndarray, n: int, sigma: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    src = np.concatenate([np.arange(len(x)), rng.integers(0, len(x), max(0, n - len(x)))])[:n]
    y = x[src] + rng.normal(0, sigma, (n, x.shape[1])).astype(np.float32)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return y.astype(np.float32), src


def mean_distance(x: np.ndarray, assign: np.ndarray) -> float:
    """Mean cosine distance of each point to its cluster's mean direction (same measure for both)."""
    k = int(assign.max()) + 1
    sums = np.zeros((k, x.shape[1]), dtype=np.float64)
    np.add.at(sums, assign, x)
    cent = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return float((1 - np.einsum("ij,ij->i", x, cent[assign].astype(np.float32))).mean())


def rounds(first, second, repeat: int) -> tuple[list[float], list[float], tuple]:
    """``repeat`` rounds of ``first()`` then ``second(first's result)``, so both sides of a round
    see the same minute: (times of first, times of second, the first round's two results)."""
    times_a, times_b, out = [], [], None
    for _ in range(repeat):
        t = time.perf_counter()
        a = first()
        times_a.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = second(a)
        times_b.append(time.perf_counter() - t)
        out = out or (a, b)
    return times_a, times_b, out


def show(name: str, values: list[float], unit: str = "s") -> None:
    """The median, and with several values ``name_range: min–max``."""
    print(f"{name}: {float(np.median(values)):.2f} {unit}")
    if len(values) > 1:
        print(f"{name}_range: {min(values):.2f}–{max(values):.2f} {unit}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25000,100000,250000", help="comma-separated sizes")
    ap.add_argument("--quick", action="store_true", help="one size of 25,000")
    ap.add_argument("--sigma", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing, medians reported (default 3)")
    ap.add_argument("--cache", default=str(Path.home() / ".cache" / "curator-bench" / "corpus"),
                    help="corpus directory caching the embeddings of the real prompts")
    args = ap.parse_args(argv)
    sizes = [25_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    texts, labels = real_prompts()
    Path(args.cache).parent.mkdir(parents=True, exist_ok=True)
    with Corpus.init(args.cache) as corpus:
        base = embed_texts(corpus, texts, progress=False)
    lab = np.array([lb or "" for lb in labels])
    print(f"real_prompts: {len(texts)} count")
    print(f"labelled_prompts: {int((lab != '').sum())} count")
    for n in sizes:
        x, src = jitter(base, n, args.sigma)
        k = max(2, int(round(math.sqrt(n / 2))))
        has = lab[src] != ""
        rep = max(1, args.repeat)
        t_fixed, t_mb, ((_, ours), mb) = rounds(
            lambda: kmeans(x, k, seed=0),
            lambda _: MiniBatchKMeans(k, random_state=0, n_init=1, batch_size=4096).fit(x).labels_, rep)

        def auto_fit():
            k_chosen, _ = choose_k(x, seed=0)
            return k_chosen, kmeans(x, k_chosen, seed=0)[1]

        t_auto, t_same, ((k_auto, auto), _) = rounds(auto_fit, lambda a: kmeans(x, a[0], seed=0), rep)
        tag = f"n{n}"
        print(f"{tag}_k: {k} clusters")
        show(f"{tag}_curator_fixed_k", t_fixed)
        show(f"{tag}_sklearn_minibatch", t_mb)
        show(f"{tag}_speedup_vs_minibatch", [m / f for f, m in zip(t_fixed, t_mb)], "ratio")
        print(f"{tag}_curator_mean_distance: {mean_distance(x, ours):.4f} cosine")
        print(f"{tag}_minibatch_mean_distance: {mean_distance(x, mb):.4f} cosine")
        print(f"{tag}_curator_nmi_human: {normalized_mutual_info_score(lab[src][has], ours[has]):.3f} score")
        print(f"{tag}_minibatch_nmi_human: {normalized_mutual_info_score(lab[src][has], mb[has]):.3f} score")
        print(f"{tag}_auto_k: {k_auto} clusters")
        show(f"{tag}_curator_auto", t_auto)
        show(f"{tag}_curator_fixed_at_auto_k", t_same)
        show(f"{tag}_auto_vs_fixed_same_k", [a / f for a, f in zip(t_auto, t_same)], "ratio")
        print(f"{tag}_curator_auto_mean_distance: {mean_distance(x, auto):.4f} cosine")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
