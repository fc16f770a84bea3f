"""Real prompts and their real MiniLM embeddings, for the dedup benchmark and evaluation.

Every distinct prompt of ../shared/data (procedural prompts, the public samples' true prompts, the
labelled prompts, the hand-made lists, the awesome-ChatGPT prompts), embedded once with the
packaged all-MiniLM-L6-v2 and cached as ``~/.cache/curator-bench/minilm-<hash>.npy`` so a second
run does no model work. ``jittered(n)`` tiles them to any size with Gaussian noise (σ 0.02 per
dimension, re-normalised), which keeps the real cluster structure (unbalanced, dense regions)
that random unit vectors lack.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(os.environ.get("CURATOR_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
CACHE = Path.home() / ".cache" / "curator-bench"


def real_prompts(shared: Path = SHARED) -> list[str]:
    if not shared.is_dir():
        raise SystemExit(f"real data not found at {shared} (set CURATOR_SHARED_DATA)")
    texts: list[str] = list(json.loads((shared / "prompts/procedural_prompts.json").read_text()))
    texts += pd.read_csv(shared / "public/gemma_mix_with_predictions.csv", dtype=str)["gt_rewrite_prompt"].tolist()
    texts += pd.read_csv(shared / "public/gpt35_triples.csv", dtype=str)["rewrite_prompt"].tolist()
    texts += pd.read_csv(shared / "labelled/rewrite_labels_16.csv", dtype=str)["target"].tolist()
    texts += pd.read_csv(shared / "prompts/awesome_chatgpt_prompts.csv", dtype=str)["prompt"].tolist()
    for f in sorted((shared / "prompts/handmade_lists").glob("*.csv")):
        texts += pd.read_csv(f, dtype=str, header=None).iloc[:, 0].tolist()
    out = [" ".join(str(t).split()) for t in texts if isinstance(t, str) and t.strip()]
    return [t for t in dict.fromkeys(out) if t.lower() not in ("target", "rewrite_prompt", "prompts", "prompt")]


def embed(texts: list[str]) -> np.ndarray:
    """Real MiniLM vectors (L2-normalised float32), cached by the hash of the texts."""
    digest = hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"minilm-{digest}.npy"
    if path.exists():
        return np.load(path)
    from curator.embed import load_model

    model = load_model(None)
    x = np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False), dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, x)
    return x


def jittered(base: np.ndarray, n: int, sigma: float = 0.02, seed: int = 0) -> np.ndarray:
    """``n`` vectors: the real ones first, then noisy copies of them (σ per dimension), normalised."""
    if n <= len(base):
        return np.ascontiguousarray(base[:n])
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    out[:len(base)] = base
    for start in range(len(base), n, 100_000):
        stop = min(n, start + 100_000)
        src = rng.integers(0, len(base), stop - start)
        block = base[src] + rng.normal(0, sigma, (stop - start, base.shape[1])).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


if __name__ == "__main__":
    t = real_prompts()
    print(f"prompts: {len(t)} texts")
    print(f"dim: {embed(t).shape[1]} dims")
