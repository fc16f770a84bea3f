"""Sentence embeddings, cached per (model, content id of the text), computed at the encoder's speed.

Embedding is the slow step of every later stage (dedup, cluster, coverage, score, the novelty
filter of brainstorm), so each text is embedded once per model and kept in the corpus's vector
store (:mod:`curator.vectors`: a float32 matrix file per model, rows mapped in SQLite); a second
run on an unchanged corpus does no model work at all, and reading 250k vectors back is one
sequential pass over a file.

Why the pipeline looks the way it does (measured: the earlier per-512-chunk loop ran at 0.72× of
a raw ``SentenceTransformer.encode`` on the same 24.8k prompts):

- all pending texts are sorted by length *once*, longest first, as ``encode`` itself does for
  one call, so batches hold texts of similar length and padding is minimal;
- the model runs in a worker thread (torch releases the GIL) while the calling thread stores
  the previous block of vectors, so storage time hides behind encoding.

Models and devices: :mod:`curator.models` (the packaged MiniLM offline by path, hub names
downloaded when reachable, ``auto|cpu|cuda|mps``). The device never enters the cache key.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from .errors import CuratorError
from .models import (DEFAULT_MODEL, DEFAULT_MODEL_KEY, hub_reachable, load_model,  # noqa: F401 (re-exported)
                     missing_model_message, resolve_device, resolve_model)
from .text import content_id
from .vectors import MissingVectors, VectorStore

if TYPE_CHECKING:
    from .context import Context

METRIC_MODEL = "sentence-transformers/sentence-t5-base"

# Texts sent to a model since the process started: lets tests assert "0 model calls" on a re-run
# through the code path rather than through timing.
ENCODE_CALLS = {"batches": 0, "texts": 0}

Encoder = Callable[[list[str]], np.ndarray]


def context_device(ctx: "Context | None", device: str | None = None) -> str:
    """The device flag, else ``[embed].device`` of the corpus, else auto."""
    if device is None and ctx is not None:
        device = ctx.settings.get("embed", "device")
    return device or "auto"


def use_device(ctx: "Context", device: str | None) -> None:
    """Apply a ``--device`` flag to this context, so every stage it runs embeds there."""
    if device is not None:
        ctx._settings = ctx.settings.override("embed", device=device)


def model_encoder(name: str | None = None, batch_size: int = 64, device: str | None = "cpu") -> Encoder:
    """A function texts → L2-normalised float32 vectors, using the loaded model."""
    model = load_model(name, device)

    def encode(texts: list[str]) -> np.ndarray:
        ENCODE_CALLS["batches"] += 1
        ENCODE_CALLS["texts"] += len(texts)
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return encode


def vector_store(ctx: "Context") -> VectorStore:
    return VectorStore(ctx.store)


def _pipelined(encode: Encoder, texts: list[str], chunk: int) -> Iterator[tuple[int, np.ndarray]]:
    """(start, vectors) per chunk; the next chunk encodes in a worker thread while the caller stores."""
    results: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def work() -> None:
        try:
            for start in range(0, len(texts), chunk):
                if stop.is_set():
                    return
                item = (start, encode(texts[start:start + chunk]))
                while not stop.is_set():
                    try:
                        results.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
            results.put(None)
        except BaseException as exc:  # handed to the caller, raised there
            results.put(exc)

    worker = threading.Thread(target=work, name="curator-encode", daemon=True)
    worker.start()
    try:
        while True:
            item = results.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _embed_missing(ctx: "Context", key: str, pending: dict[str, str], model: str | None, batch_size: int,
                   progress: bool, encoder: Encoder | None, device: str | None) -> None:
    """Encode ``pending`` (content id → text) longest first and store each block as it comes."""
    if not pending:
        return
    ids = sorted(pending, key=lambda i: -len(pending[i]))  # one global sort (what encode() does per call)
    texts = [pending[i] for i in ids]
    encode = encoder or model_encoder(model, batch_size, resolve_device(context_device(ctx, device)))
    vs = vector_store(ctx)
    chunk = max(batch_size * 8, 256)
    from .console import progress as make_progress

    with make_progress(transient=True) as bar:
        task = bar.add_task(f"embed ({key})", total=len(texts), visible=progress)
        for start, vectors in _pipelined(encode, texts, chunk):
            vs.append(key, ids[start:start + len(vectors)], vectors)
            bar.advance(task, len(vectors))


def load_vectors(ctx: "Context", ids: Sequence[str], model: str | None = None, *,
                 texts: Sequence[str] | dict[str, str] | None = None, batch_size: int | None = None,
                 progress: bool = True, encoder: Encoder | None = None, device: str | None = None) -> np.ndarray:
    """The bulk loader: content ids → float32 matrix (rows in ``ids`` order, L2-normalised).

    The fast path for stages that hold prompt ids (``prompts.id`` is the content id of its
    text): no hashing, one map scan and one sequential pass over the matrix file. Ids without
    a vector are embedded first; their texts come from ``texts`` (a list parallel to ``ids`` or
    a dict) or, for prompts, from the ``prompts`` table.
    """
    key, _ = resolve_model(model)
    if ctx.store.sharing_active:  # one command's stages asking for the same matrix read it once
        def load() -> np.ndarray:
            x = _load_vectors(ctx, key, model, ids, texts, batch_size, progress, encoder, device)
            x.setflags(write=False)  # shared: a stage that wants to change it must copy
            return x
        return ctx.store.cached(("vectors", key, tuple(ids)), load, large=True)
    return _load_vectors(ctx, key, model, ids, texts, batch_size, progress, encoder, device)


def _load_vectors(ctx: "Context", key: str, model: str | None, ids: Sequence[str], texts, batch_size,
                  progress: bool, encoder: Encoder | None, device: str | None) -> np.ndarray:
    vs = vector_store(ctx)
    if not len(ids):
        info = vs.info(key)
        return np.zeros((0, info[0] if info else 0), dtype=np.float32)
    rows = vs.rows(key, ids)
    if (rows < 0).any():
        missing = list(dict.fromkeys(i for i, r in zip(ids, rows) if r < 0))
        pending = _texts_for(ctx, missing, ids, texts)
        _embed_missing(ctx, key, pending, model, batch_size or ctx.settings.get("embed", "batch_size"),
                       progress, encoder, device)
        rows = vs.rows(key, ids)
    try:
        return vs.read(key, rows)
    except MissingVectors:
        # the database was copied without its vectors/ folder: forget the map and embed again
        vs.forget(key)
        return load_vectors(ctx, ids, model, texts=_texts_for(ctx, list(dict.fromkeys(ids)), ids, texts),
                            batch_size=batch_size, progress=progress, encoder=encoder, device=device)


def _texts_for(ctx: "Context", wanted: list[str], ids: Sequence[str],
               texts: Sequence[str] | dict[str, str] | None) -> dict[str, str]:
    if isinstance(texts, dict):
        known = texts
    elif texts is not None:
        known = dict(zip(ids, texts))
    else:
        known = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            known.update(ctx.store.conn.execute(
                f"SELECT id, text FROM prompts WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    lacking = [i for i in wanted if i not in known]
    if lacking:
        raise CuratorError(f"{len(lacking)} ids have no vector and no text to embed (first: {lacking[0]}); "
                           f"pass texts= or run `curator embed`")
    return {i: known[i] for i in wanted}


def embed_texts(corpus: "Context", texts: Sequence[str], model: str | None = None, batch_size: int = 64,
                progress: bool = True, encoder: Encoder | None = None, device: str | None = None) -> np.ndarray:
    """Embeddings of ``texts`` (rows in the same order), computing only what the cache lacks.

    Returns float32, L2-normalised, shape (len(texts), dim). New vectors are stored block by
    block, so an interrupted run keeps what it finished.
    """
    if not len(texts):
        return np.zeros((0, 0), dtype=np.float32)
    ids = [content_id(t) for t in texts]
    return load_vectors(corpus, ids, model, texts=list(texts), batch_size=batch_size, progress=progress,
                        encoder=encoder, device=device)


def cached_vectors(corpus: "Context", key: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Vectors already stored for these content ids under model ``key`` (no model work)."""
    vs = vector_store(corpus)
    unique = list(dict.fromkeys(ids))
    rows = vs.rows(key, unique)
    have = [i for i, r in zip(unique, rows) if r >= 0]
    matrix = vs.read(key, rows[rows >= 0])
    return dict(zip(have, matrix))


def corpus_texts(corpus: "Context") -> list[str]:
    """Every prompt text in the store: prompts, sample prompts and predicted prompts."""
    rows = corpus.store.query(
        "SELECT text FROM prompts UNION SELECT predicted_prompt FROM predictions")
    return [r[0] for r in rows if r[0]]


def pending_texts(corpus: "Context", key: str) -> tuple[int, dict[str, str]]:
    """(distinct texts in the corpus, content id → text of those without a vector for ``key``).

    Prompts are matched by their stored id inside SQLite (no hashing, no vectors read), so a
    no-op re-embed of 250k prompts is two indexed queries.
    """
    conn = corpus.store.conn
    pending = dict(conn.execute(
        "SELECT p.id, p.text FROM prompts p WHERE p.text != '' AND NOT EXISTS "
        "(SELECT 1 FROM embedding_rows e WHERE e.model = ? AND e.text_id = p.id)", (key,)).fetchall())
    prompt_count = conn.execute("SELECT COUNT(*) FROM prompts WHERE text != ''").fetchone()[0]
    extra = {content_id(t): t for (t,) in conn.execute(
        "SELECT DISTINCT predicted_prompt FROM predictions WHERE predicted_prompt != ''")}
    if extra:
        known = set(r[0] for r in conn.execute(
            "SELECT id FROM prompts WHERE id IN (SELECT value FROM json_each(?))", (_json(list(extra)),)))
        extra = {i: t for i, t in extra.items() if i not in known}
        rows = VectorStore(corpus.store).rows(key, list(extra))
        pending.update({i: extra[i] for i, r in zip(extra, rows) if r < 0})
    return prompt_count + len(extra), pending


def _json(value: object) -> str:
    import json

    return json.dumps(value)


def embed_corpus(corpus: "Context", model: str | None = None, batch_size: int = 64,
                 encoder: Encoder | None = None, device: str | None = None) -> dict[str, int]:
    """Embed every prompt (and predicted prompt) not yet embedded for ``model``."""
    key, _ = resolve_model(model)
    vector_store(corpus)  # moves vectors of an old corpus.db out of BLOBs first
    total, pending = pending_texts(corpus, key)
    _embed_missing(corpus, key, pending, model, batch_size, True, encoder, device)
    summary = {"model": key, "texts": total, "cached": total - len(pending), "embedded": len(pending)}
    with corpus.store.transaction():
        corpus.store.log_event("embed", {"model": key, "batch_size": batch_size}, summary)
    return summary
