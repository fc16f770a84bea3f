"""Clustering benchmark: 100k × 384 vectors, curator's faiss k-means vs scikit-learn MiniBatchKMeans.

Prints seconds for each and their ratio, at a fixed k (default 100), same data, same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.cluster import MiniBatchKMeans

from curator.cluster import kmeans


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((args.k, 384)).astype(np.float32)
    x = centres[rng.integers(0, args.k, args.n)] + 0.5 * rng.standard_normal((args.n, 384)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = time.perf_counter()
    kmeans(x, args.k, seed=0)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    MiniBatchKMeans(args.k, random_state=0, n_init=1, batch_size=4096).fit(x)
    sk = time.perf_counter() - t
    print(f"vectors: {args.n} x 384")
    print(f"curator_kmeans: {ours:.2f} s")
    print(f"sklearn_minibatch_kmeans: {sk:.2f} s")
    print(f"speedup_vs_sklearn: {sk / ours:.2f} ratio")


if __name__ == "__main__":
    main()
