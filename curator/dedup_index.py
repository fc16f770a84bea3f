"""All pairs of vectors with cosine ≥ threshold, exactly up to 20k vectors, by balanced blocking beyond.

Up to ``EXACT_LIMIT`` vectors: an exact flat inner-product index with ``range_search`` (every pair,
exactly; ~1 s at 20k on 2 cores). Beyond it, blocking: faiss k-means makes 2·√n lists, each vector
is filed in its ``LISTS_PER_VECTOR`` nearest lists, and pairs are computed exactly inside each
list with one matrix product (BLAS). The lists are drawn in the top ``PCA_DIM`` principal
components: only *which* vectors meet depends on them, never a cosine. Near-duplicates sit close
together, so they nearly always share a list.

Real prompt embeddings are clustered, so k-means lists are unbalanced (on 24.8k real prompts
jittered to 1M the largest list held 15.5k vectors) and the work grows with the *sum of squared
list sizes*. A list larger than ``cap`` is therefore split again by k-means into sub-lists of
about cap/2, each member filed in its ``SPLIT_PER_VECTOR`` nearest sub-lists (so a pair near a
sub-list border still meets), recursively. Recall against exact pairs on real jittered
embeddings is measured in scripts/bench/dedup.py (docs/performance.md).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

#: ``progress(done, total)``: how far a pair search is (query rows, or blocks compared)
Progress = Callable[[int, int], None]

EXACT_LIMIT = 20_000
LISTS_PER_VECTOR = 2  # 3 found 0.03 % more pairs at 250k for 2.4x the time (session 10); recall is measured
SPLIT_PER_VECTOR = 2
MIN_CAP = 2048
# the first-level lists are drawn in this many PCA dimensions (of MiniLM's 384), from 64 sample
# points per list: at 250k real jittered prompts 1.3 s faster, 36 % less block work (sum of squared
# list sizes 538M → 342M) and recall against exact pairs 0.9996 vs 0.9992 (session 13)
PCA_DIM = 96


@contextmanager
def one_thread() -> Iterator[None]:
    """faiss's OpenMP and the BLAS on one thread inside the block (restored after): for a search
    that shares the machine with another busy process."""
    import faiss
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        faiss.omp_set_num_threads(before)


def similar_pairs(vectors: np.ndarray, threshold: float, exact: bool | None = None,
                  progress: Progress | None = None) -> np.ndarray:
    """(i, j) pairs with i < j and cosine(v_i, v_j) ≥ threshold; vectors must be L2-normalised.

    ``progress(done, total)`` is called as the search goes (a 1M search runs for minutes)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0] if x.size else 0
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if exact is None:
        exact = n <= EXACT_LIMIT
    keys = _exact_keys(x, threshold, progress) if exact else _blocked_keys(x, threshold, progress)
    keys = _unique(keys)  # rebound: the 2-3x larger array with repeats is freed before decoding
    return _decode(keys, n)


def _decode(keys: np.ndarray, n: int, chunk: int = 1 << 22) -> np.ndarray:
    """(i, j) rows of keys i·n + j, a chunk at a time: ``np.stack([keys // n, keys % n])`` held two
    more copies of the pairs (39M pairs at 1M prompts: 2 × 311 MB beside the 622 MB result)."""
    out = np.empty((len(keys), 2), dtype=np.int64)
    for s in range(0, len(keys), chunk):
        part = keys[s:s + chunk]
        np.floor_divide(part, n, out=out[s:s + chunk, 0])
        np.remainder(part, n, out=out[s:s + chunk, 1])
    return out


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys, sorting ``keys`` in place (the searches below hand over arrays of
    their own). numpy 2.x's ``np.unique`` hashes integers, 18× slower than a sort here (7.9 s vs
    0.44 s for 7M int64 keys: the pairs of 250k prompts, found in several lists)."""
    if len(keys) < 2:
        return keys
    keys.sort()
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _exact_keys(x: np.ndarray, threshold: float, progress: Progress | None = None) -> np.ndarray:
    import faiss

    n, d = x.shape
    index = faiss.IndexFlatIP(d)
    index.add(x)
    keys = []
    for start in range(0, n, 20_000):  # bounded memory per query block
        lims, _, ids = index.range_search(x[start:start + 20_000], float(threshold))
        rows = np.repeat(np.arange(start, start + len(lims) - 1), np.diff(lims).astype(np.int64))
        ids = ids.astype(np.int64)
        keep = rows < ids
        keys.append(rows[keep] * n + ids[keep])
        if progress is not None:
            progress(min(start + 20_000, n), n)
    return np.concatenate(keys)


def _kmeans_assign(x: np.ndarray, k: int, per_vector: int, seed: int = 0, dim: int | None = None,
                   points_per_centroid: int = 32) -> np.ndarray:
    """Faiss k-means on a sample; the ``per_vector`` nearest centroids of every row.

    ``dim``: cluster in the top ``dim`` PCA components instead (Euclidean k-means there): training
    and assigning cost scale with the dimension, and lists only need to keep near pairs together,
    which the leading components do (the pairs are then computed exactly, in every dimension)."""
    import faiss

    n, d = x.shape
    rng = np.random.default_rng(seed)
    if dim is not None and dim < d and n >= 20 * dim:
        pca = faiss.PCAMatrix(d, dim)
        pca.train(x[rng.choice(n, size=min(n, 20_000), replace=False)])
        x, d = pca.apply(x), dim
    km = faiss.Kmeans(d, k, niter=10, seed=seed, spherical=dim is None, verbose=False, min_points_per_centroid=1,
                      max_points_per_centroid=points_per_centroid)
    km.train(x[rng.choice(n, size=points_per_centroid * k, replace=False)] if n > points_per_centroid * k else x)
    _, lists = km.index.search(x, min(per_vector, k))
    return lists


def _group(lists: np.ndarray, k: int) -> list[np.ndarray]:
    """Row indices per list, from an (n, per_vector) assignment."""
    flat = lists.ravel()
    rows = np.repeat(np.arange(lists.shape[0]), lists.shape[1])
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(k + 1))
    return [rows[order[bounds[i]:bounds[i + 1]]] for i in range(k)]


def block_lists(x: np.ndarray, cap: int | None = None) -> list[np.ndarray]:
    """The blocks (arrays of row ids) to compare inside: k-means lists, oversized ones split again."""
    n = x.shape[0]
    nlist = max(1, int(2 * np.sqrt(n)))
    if cap is None:
        cap = max(MIN_CAP, 4 * n * LISTS_PER_VECTOR // nlist)
    lists = _kmeans_assign(x, nlist, LISTS_PER_VECTOR, dim=PCA_DIM, points_per_centroid=64)
    todo = [(m, 0) for m in _group(lists, nlist)]
    del lists
    blocks = []
    while todo:
        members, depth = todo.pop()
        if len(members) < 2:
            continue
        if len(members) <= cap or depth >= 3:
            blocks.append(members)
            continue
        k = int(np.ceil(2 * len(members) / cap))
        sub = _kmeans_assign(x[members], k, SPLIT_PER_VECTOR, seed=depth + 1)
        todo += [(members[s], depth + 1) for s in _group(sub, k)]
    return blocks


def _blocked_keys(x: np.ndarray, threshold: float, progress: Progress | None = None) -> np.ndarray:
    n = x.shape[0]
    found = []
    blocks = block_lists(x)
    for done, members in enumerate(blocks, 1):
        members = np.sort(members)
        xm = x[members]
        # flat indices, then divmod: 8x faster than 2-D np.nonzero on these ~0.7 %-dense blocks
        r, c = np.divmod(np.flatnonzero(xm @ xm.T >= threshold), len(members))
        keep = r < c  # cheaper than triu's full copy
        r, c = r[keep], c[keep]
        if len(r):
            found.append(members[r] * n + members[c])
        if progress is not None and (done % 50 == 0 or done == len(blocks)):
            progress(done, len(blocks))
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
