"""Dedup benchmark: synthetic unit vectors with planted near-duplicates.

Prints `name: value unit` lines:
- at 100k: curator's similar_pairs (the index it picks at that size) vs a blockwise numpy
  all-pairs baseline in the same run (seconds, speed-up ratio), recall of the planted pairs and
  agreement with the exact pairs;
- at 1M (``--full``): seconds, peak memory, recall of the planted pairs.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from curator.dedup import EXACT_LIMIT, similar_pairs

DIM = 384
THRESHOLD = 0.9


def planted(n: int, dup_fraction: float = 0.01, seed: int = 0) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """n random unit vectors; a fraction of them replaced by noisy copies of others (cos ≈ 0.95)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    m = int(n * dup_fraction)
    src = rng.choice(n // 2, size=m, replace=False)
    dst = n // 2 + rng.choice(n - n // 2, size=m, replace=False)
    noise = rng.standard_normal((m, DIM), dtype=np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    x[dst] = x[src] + 0.33 * noise
    x[dst] /= np.linalg.norm(x[dst], axis=1, keepdims=True)
    return x, {(int(min(a, b)), int(max(a, b))) for a, b in zip(src, dst)}


def numpy_all_pairs(x: np.ndarray, threshold: float, block: int = 4096) -> set[tuple[int, int]]:
    out = set()
    for i in range(0, len(x), block):
        sims = x[i:i + block] @ x.T
        r, c = np.nonzero(sims >= threshold)
        r = r + i
        keep = r < c
        out.update(zip(r[keep].tolist(), c[keep].tolist()))
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--full", action="store_true", help="also run 1M vectors")
    args = ap.parse_args()

    x, truth = planted(args.n)
    t = time.perf_counter()
    pairs = {tuple(p) for p in similar_pairs(x, THRESHOLD).tolist()}
    t_cur = time.perf_counter() - t
    t = time.perf_counter()
    exact = numpy_all_pairs(x, THRESHOLD)
    t_np = time.perf_counter() - t
    print(f"n: {args.n} vectors")
    print(f"index: {'exact' if args.n <= EXACT_LIMIT else 'ivf'} kind")
    print(f"curator_seconds: {t_cur:.2f} s")
    print(f"numpy_all_pairs_seconds: {t_np:.2f} s")
    print(f"speedup_vs_numpy: {t_np / t_cur:.1f} ratio")
    print(f"recall_planted: {len(pairs & truth) / len(truth):.4f} ratio")
    print(f"recall_vs_exact: {len(pairs & exact) / max(len(exact), 1):.4f} ratio")
    print(f"precision_vs_exact: {len(pairs & exact) / max(len(pairs), 1):.4f} ratio")
    if args.full:
        del x
        x, truth = planted(1_000_000, seed=1)
        t = time.perf_counter()
        pairs = {tuple(p) for p in similar_pairs(x, THRESHOLD).tolist()}
        print(f"n_1m_seconds: {time.perf_counter() - t:.1f} s")
        print(f"n_1m_recall_planted: {len(pairs & truth) / len(truth):.4f} ratio")
    print(f"peak_memory: {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
