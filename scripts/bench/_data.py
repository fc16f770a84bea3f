"""Shared data for the benchmarks: real prompts from ../shared/data, jittered to any size.

Every benchmark runs on real data (the prompts published for the Kaggle competition), not on
synthetic vectors, so what it measures is what a user gets. Sizes beyond the ~13k real prompts
are reached by jitter:

- :func:`jittered_texts`: small word-level edits of real prompts (drop, repeat or swap a word,
  add a short tail), all distinct after normalisation, deterministic for a seed;
- :func:`jittered_vectors`: the packaged MiniLM's vectors of the real prompts plus Gaussian noise
  (σ 0.02 per dimension, then renormalised), as in issue 17's measurements;
- :func:`bench_corpus`: a corpus directory with ``n`` prompts (5% of them a target set) whose
  vectors are written straight into the vector store, so stage benchmarks at 1M prompts do not
  need hours of model time.

The real vectors are computed once and kept in ``$CURATOR_BENCH_CACHE`` (default
``~/.cache/curator-bench``). Usage from a bench script: ``sys.path.insert(0, str(Path(__file__).parent))``
then ``from _data import real_prompts, jittered_texts``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CURATOR_SHARED_DATA", REPO.parent / "shared" / "data"))
CACHE = Path(os.environ.get("CURATOR_BENCH_CACHE", Path.home() / ".cache" / "curator-bench"))
TAILS = ["Keep it short.", "Please.", "Be concise.", "Thanks.", "Make it clear.", "Keep the meaning.",
         "Use plain words.", "Stay faithful to the original.", "Do it well.", "Now."]


def _need_shared() -> None:
    if not SHARED.is_dir():
        sys.exit(f"benchmarks need the real public data at {SHARED} (set CURATOR_SHARED_DATA)")


def real_prompts() -> list[str]:
    """Every distinct prompt text in ../shared/data (≈13.4k), in a stable order."""
    import pandas as pd

    _need_shared()
    found: dict[str, None] = {}

    def add(values) -> None:
        for v in values:
            if isinstance(v, str) and v.strip():
                found.setdefault(" ".join(v.split()), None)

    add(json.loads((SHARED / "prompts/procedural_prompts.json").read_text(encoding="utf-8")))
    gemma = pd.read_csv(SHARED / "public/gemma_mix_with_predictions.csv")
    add(gemma["gt_rewrite_prompt"])
    add(gemma["rewrite_prompt"])
    add(pd.read_csv(SHARED / "public/gpt35_triples.csv")["rewrite_prompt"])
    add(pd.read_csv(SHARED / "prompts/awesome_chatgpt_prompts.csv")["prompt"])
    for f in sorted((SHARED / "prompts/handmade_lists").glob("*.csv")):
        add(pd.read_csv(f, header=None, dtype=str).iloc[:, 0])
    labelled = pd.read_csv(SHARED / "labelled/rewrite_labels_16.csv", dtype=str)
    add(labelled["target"])
    add(labelled["predicted"])
    from curator.text import content_id

    seen, out = set(), []
    for text in found:
        cid = content_id(text)
        if cid not in seen:
            seen.add(cid)
            out.append(text)
    return out


def _jitter(text: str, rng: random.Random) -> str:
    words = text.split()
    op = rng.randrange(4)
    if op == 0 and len(words) > 3:
        del words[rng.randrange(len(words))]
    elif op == 1 and words:
        i = rng.randrange(len(words))
        words.insert(i, words[i])
    elif op == 2 and len(words) > 2:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    else:
        words.append(rng.choice(TAILS))
    return " ".join(words)


def jittered(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n`` distinct texts (the real prompts first, then jittered copies) and, for each, the
    index of the real prompt it comes from."""
    from curator.text import content_id

    base = real_prompts()
    texts = base[:n]
    source = list(range(len(texts)))
    seen = {content_id(t) for t in texts}
    rng = random.Random(seed)
    while len(texts) < n:
        i = rng.randrange(len(base))
        text = base[i]
        for _ in range(rng.randrange(1, 4)):
            text = _jitter(text, rng)
        cid = content_id(text)
        if cid not in seen:
            seen.add(cid)
            texts.append(text)
            source.append(i)
    return texts, np.asarray(source, dtype=np.int64)


def jittered_texts(n: int, seed: int = 0) -> list[str]:
    return jittered(n, seed)[0]


def real_vectors(model: str | None = None) -> np.ndarray:
    """MiniLM (or ``model``) vectors of :func:`real_prompts`, computed once and cached on disk."""
    texts = real_prompts()
    digest = hashlib.sha256(("\n".join(texts) + f"|{model}").encode("utf-8")).hexdigest()[:12]
    path = CACHE / f"real-{digest}.npy"
    if path.exists():
        return np.load(path)
    from curator.embed import model_encoder

    print(f"# embedding {len(texts)} real prompts once (cached in {path})", file=sys.stderr)
    vectors = model_encoder(model, 64, "auto")(sorted(texts, key=len, reverse=True))
    order = {t: i for i, t in enumerate(sorted(texts, key=len, reverse=True))}
    vectors = vectors[[order[t] for t in texts]]
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def jittered_vectors(n: int, seed: int = 0, sigma: float = 0.02, source: np.ndarray | None = None) -> np.ndarray:
    """``n`` unit vectors: real prompt vectors (by ``source`` index, else cycled) plus noise."""
    base = real_vectors()
    if source is None:
        source = np.arange(n) % len(base)
    rng = np.random.default_rng(seed)
    out = base[source].astype(np.float32)
    jitter = np.arange(len(out)) >= len(base)  # the real prompts themselves keep their real vectors
    out[jitter] += sigma * rng.standard_normal((int(jitter.sum()), out.shape[1]), dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def bench_corpus(root: Path, n: int, seed: int = 0, target_fraction: float = 0.05):
    """A corpus at ``root`` with ``n`` prompts (origin public; every 20th also a target prompt) and
    their vectors for the default model already stored. Returns the opened :class:`curator.Corpus`."""
    from curator import Corpus
    from curator.embed import vector_store
    from curator.items import PromptRecord, Provenance, add_prompts
    from curator.models import DEFAULT_MODEL_KEY
    from curator.text import content_id

    texts, source = jittered(n, seed)
    corpus = Corpus.init(root)
    step = max(1, int(round(1 / target_fraction))) if target_fraction else 0
    block = 50_000
    for start in range(0, n, block):
        with corpus.store.transaction() as conn:
            records = [PromptRecord(t, "public", Provenance("bench", "prompts", row=start + i))
                       for i, t in enumerate(texts[start:start + block])]
            add_prompts(conn, records)
            if step:
                add_prompts(conn, [PromptRecord(t, "public", Provenance("bench-target", "target", row=start + i))
                                   for i, t in enumerate(texts[start:start + block]) if (start + i) % step == 0])
    vectors = jittered_vectors(n, seed, source=source)
    vector_store(corpus).append(DEFAULT_MODEL_KEY, [content_id(t) for t in texts], vectors)
    return corpus
