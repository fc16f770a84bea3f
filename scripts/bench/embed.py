"""Embedding benchmark: curator's cached embed vs raw SentenceTransformer.encode, same texts, same run.

Prints: raw prompts/s, curator first-run prompts/s, their ratio (target ≥ 0.9), and the re-run
time as a fraction of the first run (target ≤ 5%).
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from curator import Corpus
from curator.embed import embed_corpus, load_model
from curator.items import PromptRecord, Provenance, add_prompts

VERBS = ["Rewrite", "Turn", "Convert", "Make", "Transform", "Recast"]
THINGS = ["this email", "this memo", "this story", "this text", "this poem", "this essay", "this review",
          "this speech", "this recipe", "this letter"]
HOWS = ["as a sea shanty", "in a formal tone", "for a five-year-old", "as a haiku", "in French",
        "as a news headline", "like a pirate", "in under 50 words", "as a legal contract",
        "with more humour", "from the dog's point of view", "as a rap verse", "in the passive voice",
        "without any adjectives", "as a tweet"]


def texts(n: int) -> list[str]:
    combos = (f"{v} {t} {h}." for v, t, h in itertools.product(VERBS, THINGS, HOWS))
    out = list(itertools.islice(combos, n))
    i = 0
    while len(out) < n:  # pad with numbered variants
        out.append(f"{out[i % 900]} Variant {i}.")
        i += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    data = texts(args.n)
    model = load_model(None)
    model.encode(data[:64], batch_size=args.batch_size)  # warm-up for both
    t = time.perf_counter()
    model.encode(data, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False)
    raw = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        with corpus.store.transaction() as conn:
            add_prompts(conn, [PromptRecord(x, "public", Provenance("bench", "prompts", row=i))
                               for i, x in enumerate(data)])
        t = time.perf_counter()
        embed_corpus(corpus, batch_size=args.batch_size)
        first = time.perf_counter() - t
        t = time.perf_counter()
        summary = embed_corpus(corpus, batch_size=args.batch_size)
        rerun = time.perf_counter() - t
        assert summary["embedded"] == 0
    print(f"texts: {args.n} prompts")
    print(f"raw_encode: {args.n / raw:.0f} prompts/s")
    print(f"curator_embed: {args.n / first:.0f} prompts/s")
    print(f"curator_vs_raw: {raw / first:.3f} ratio")
    print(f"rerun_vs_first: {rerun / first:.4f} ratio")


if __name__ == "__main__":
    main()
