"""Where embeddings live: one float32 matrix file per model beside ``curator.db``, rows mapped in SQLite.

Why not one BLOB per row (the first design): reading 250k vectors back meant 278 queries of 900
ids and a Python object per row (14 s, 1.5 GB measured). A matrix file is read back with one
sequential pass in blocks; SQLite keeps only ``text_id → row`` (``embedding_rows``) and the
committed row count per model (``embedding_matrices``).

Crash safety: an append takes SQLite's write lock (``BEGIN IMMEDIATE``), cuts the file back to the
committed row count (dropping whatever a killed writer left behind), writes the new rows after it,
``fsync``s, and only then inserts their row numbers and the new count, in the same transaction. A
process killed at any point leaves rows that no ``text_id`` points at, and the next append
overwrites them. Readers only read rows some committed ``text_id`` points at.

A database copied without its ``vectors/`` folder (file shorter than the rows it claims) is
noticed on read: that model's map is dropped and the texts are embedded again.

Old corpora kept vectors as BLOBs in ``embeddings``; the first access moves them here (one
transaction per model) and empties that table, so an existing ``curator.db`` keeps working.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    from .store import Store

DTYPE = np.dtype("<f4")
DIR_NAME = "vectors"
_BLOCK_BYTES = 32 * 1024 * 1024   # read-back block: bounded extra memory whatever the corpus size
_MIGRATED: set[str] = set()       # databases whose legacy BLOBs were checked in this process


def matrix_name(key: str) -> str:
    """A file name for a model key: readable slug + hash (keys may be hub names or folder names)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._")[:60] or "model"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}.f32"


class VectorStore:
    """The vectors of one corpus, for every model."""

    def __init__(self, store: "Store"):
        self.store = store
        self.dir = Path(store.path).resolve().parent / DIR_NAME
        db = str(Path(store.path).resolve())
        if db not in _MIGRATED:
            self._migrate_blobs()
            _MIGRATED.add(db)

    # -- metadata --------------------------------------------------------------------------
    def path(self, key: str) -> Path:
        return self.dir / matrix_name(key)

    def info(self, key: str) -> tuple[int, int] | None:
        """(dim, committed rows) of a model, or None when nothing is stored for it."""
        row = self.store.conn.execute(
            "SELECT dim, rows FROM embedding_matrices WHERE model = ?", (key,)).fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def count(self, key: str) -> int:
        info = self.info(key)
        return 0 if info is None else info[1]

    # -- lookup ----------------------------------------------------------------------------
    def rows(self, key: str, ids: Sequence[str]) -> np.ndarray:
        """Row of each id in the model's matrix (int64), -1 where the id has no vector."""
        out = np.full(len(ids), -1, dtype=np.int64)
        if not len(ids):
            return out
        conn = self.store.conn
        total = self.count(key)
        if total == 0:
            return out
        if len(ids) * 4 >= total:  # most of the map is wanted: one scan beats many IN queries
            mapping = self.store.cached(("embedding_rows", key), lambda: dict(self.store.rows(
                "SELECT text_id, row FROM embedding_rows WHERE model = ?", (key,))))
            get = mapping.get
            out[:] = [get(i, -1) for i in ids]
            return out
        found: dict[str, int] = {}
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 900):  # SQLite's host-parameter limit
            chunk = unique[start:start + 900]
            found.update(conn.execute(
                f"SELECT text_id, row FROM embedding_rows WHERE model = ? AND text_id IN "
                f"({','.join('?' * len(chunk))})", (key, *chunk)).fetchall())
        out[:] = [found.get(i, -1) for i in ids]
        return out

    def read(self, key: str, rows: np.ndarray) -> np.ndarray:
        """The vectors at ``rows`` (all >= 0), in that order, as a new float32 matrix.

        The file is read front to back in blocks of 32 MB and each block's wanted rows are
        scattered into the result: one sequential pass, memory = result + one block.
        """
        info = self.info(key)
        rows = np.asarray(rows, dtype=np.int64)
        if info is None or not len(rows):
            return np.zeros((len(rows), info[0] if info else 0), dtype=np.float32)
        dim = info[0]
        out = np.empty((len(rows), dim), dtype=np.float32)
        rowbytes = dim * DTYPE.itemsize
        path = self.path(key)
        last = int(rows.max())
        if not path.exists() or path.stat().st_size < (last + 1) * rowbytes:
            raise MissingVectors(key, path)
        if len(rows) * 64 < last:  # a few scattered rows: let the OS page them in
            mm = np.memmap(path, dtype=DTYPE, mode="r", shape=(last + 1, dim))
            out[:] = mm[rows]
            del mm
            return out
        first = int(rows[0])
        if last - first + 1 == len(rows) and (len(rows) == 1 or bool((np.diff(rows) == 1).all())):
            with open(path, "rb") as fh:  # rows in file order: read straight into the result
                fh.seek(first * rowbytes)
                fh.readinto(memoryview(out).cast("B"))
            return out
        order = np.argsort(rows, kind="stable")
        wanted = rows[order]
        block = max(1, _BLOCK_BYTES // rowbytes)
        with open(path, "rb") as fh:
            lo_i = 0
            while lo_i < len(wanted):
                lo = int(wanted[lo_i])
                hi_i = int(np.searchsorted(wanted, lo + block, side="left"))
                hi = int(wanted[hi_i - 1]) + 1
                fh.seek(lo * rowbytes)
                buf = np.fromfile(fh, dtype=DTYPE, count=(hi - lo) * dim).reshape(hi - lo, dim)
                out[order[lo_i:hi_i]] = buf[wanted[lo_i:hi_i] - lo]
                lo_i = hi_i
        return out

    # -- writing ---------------------------------------------------------------------------
    def append(self, key: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors for new ids (ids already present are skipped), crash-safe (module doc)."""
        vectors = np.ascontiguousarray(vectors, dtype=DTYPE)
        if not len(ids):
            return
        if vectors.ndim != 2 or len(vectors) != len(ids):
            raise ValueError(f"append: {len(ids)} ids but vectors of shape {vectors.shape}")
        with self.store.transaction() as conn:
            info = self.info(key)
            dim = vectors.shape[1]
            if info is None:
                conn.execute("INSERT INTO embedding_matrices (model, dim, dtype, rows, file) VALUES (?, ?, ?, 0, ?)",
                             (key, dim, "float32", matrix_name(key)))
                start = 0
            else:
                if info[0] != dim:
                    raise ValueError(f"model {key}: stored vectors have {info[0]} dimensions, new ones {dim}")
                start = info[1]
            have = self.rows(key, ids) if start else np.full(len(ids), -1)
            keep, seen = [], set()
            for i, (tid, r) in enumerate(zip(ids, have)):
                if r < 0 and tid not in seen:
                    seen.add(tid)
                    keep.append(i)
            if not keep:
                return
            block = vectors[keep] if len(keep) != len(ids) else vectors
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self.path(key)
            with open(path, "ab") as fh:
                fh.truncate(start * dim * DTYPE.itemsize)  # drop rows a killed writer left behind
            with open(path, "r+b") as fh:
                fh.seek(start * dim * DTYPE.itemsize)
                fh.write(block.tobytes())
                fh.flush()
                os.fsync(fh.fileno())
            conn.executemany("INSERT INTO embedding_rows (model, text_id, row) VALUES (?, ?, ?)",
                             ((key, ids[i], start + n) for n, i in enumerate(keep)))
            conn.execute("UPDATE embedding_matrices SET rows = ? WHERE model = ?", (start + len(keep), key))

    def forget(self, key: str) -> None:
        """Drop a model's map (its file is cut back at the next append)."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM embedding_rows WHERE model = ?", (key,))
            conn.execute("DELETE FROM embedding_matrices WHERE model = ?", (key,))

    # -- the old layout ----------------------------------------------------------------------
    def _migrate_blobs(self) -> None:
        conn = self.store.conn
        if conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is None:
            return
        for (key,) in conn.execute("SELECT DISTINCT model FROM embeddings").fetchall():
            with self.store.transaction():
                rows = conn.execute("SELECT text_id, dim, vector FROM embeddings WHERE model = ? ORDER BY rowid",
                                    (key,)).fetchall()
                dims = {int(r[1]) for r in rows}
                if len(dims) == 1:
                    matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                    self.append(key, [r[0] for r in rows], matrix)
                conn.execute("DELETE FROM embeddings WHERE model = ?", (key,))


class MissingVectors(Exception):
    """The matrix file is shorter than the rows SQLite maps (a database copied without vectors/)."""

    def __init__(self, key: str, path: Path):
        super().__init__(f"{path}: vectors of model {key} are missing or truncated")
        self.key = key
        self.path = path
