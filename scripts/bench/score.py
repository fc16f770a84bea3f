"""Scoring benchmark: `curator score` vs a raw encode + numpy cos³ of the same pairs, same run.

Real pairs: ../shared/data/public/gemma_mix_with_predictions.csv (948 samples, truth and a
fine-tuned model's prediction), metric model = the packaged MiniLM. Prints:

- raw_pairs_per_s: SentenceTransformer.encode of predictions + truths, then cos³ (the floor)
- curator_first_pairs_per_s and curator_vs_raw (target ≥ 0.8: cache writes, baseline, report)
- rerun_vs_first (target ≤ 0.05: every pair already stored, nothing is embedded)
- new_predictor_vs_first: a second predictor on the same samples re-uses the cached truths, so
  its time follows the share of texts it embeds (new_predictor_texts_vs_first; target: within
  0.1 of that share)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from curator import Corpus  # noqa: E402
from curator.embed import ENCODE_CALLS, load_model  # noqa: E402
from curator.ingest import ingest_file  # noqa: E402
from curator.predictions import add_predictions_file  # noqa: E402
from curator.score import score_predictions  # noqa: E402

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "public" / "gemma_mix_with_predictions.csv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    frame = pd.read_csv(args.data).drop_duplicates(["original_text", "rewritten_text"])
    preds, truths = frame.rewrite_prompt.astype(str).tolist(), frame.gt_rewrite_prompt.astype(str).tolist()
    model = load_model("default")
    model.encode(preds[:64])  # warm-up for both
    t = time.perf_counter()
    e = model.encode(preds + truths, normalize_embeddings=True, show_progress_bar=False)
    raw_scores = np.sum(e[:len(preds)] * e[len(preds):], axis=1) ** 3
    raw = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        ingest_file(corpus, args.data)
        texts0 = ENCODE_CALLS["texts"]
        t = time.perf_counter()
        first_rep = score_predictions(corpus, metric_model="default")
        first = time.perf_counter() - t
        first_texts = ENCODE_CALLS["texts"] - texts0
        t = time.perf_counter()
        again = score_predictions(corpus, metric_model="default")
        rerun = time.perf_counter() - t
        assert again.scored_now == 0
        # a second predictor: the same predictions reworded (new texts), same truths (cached)
        second = Path(tmp) / "second.csv"
        samples = corpus.samples()
        stored = corpus.predictions().set_index("sample_id").predicted_prompt
        pd.DataFrame({"id": samples.id, "prediction": [f"Please: {stored[s]}" for s in samples.id]}).to_csv(
            second, index=False)
        add_predictions_file(corpus, second, "second")
        texts0 = ENCODE_CALLS["texts"]
        t = time.perf_counter()
        rep2 = score_predictions(corpus, metric_model="default", predictor="second")
        new_predictor = time.perf_counter() - t
        second_texts = ENCODE_CALLS["texts"] - texts0
        assert rep2.scored_now == len(samples)
    n = len(preds)
    print(f"pairs: {n} pairs")
    print(f"raw_pairs_per_s: {n / raw:.0f} pairs/s")
    print(f"curator_first_pairs_per_s: {first_rep.scored_now / first:.0f} pairs/s")
    print(f"curator_vs_raw: {raw / first:.3f} ratio")
    print(f"rerun_vs_first: {rerun / first:.4f} ratio")
    print(f"new_predictor_vs_first: {new_predictor / first:.3f} ratio")
    print(f"new_predictor_texts_vs_first: {second_texts / first_texts:.3f} ratio ({second_texts} vs {first_texts} texts)")
    print(f"mean_scs_raw: {raw_scores.mean():.4f} score")
    print(f"mean_scs_curator: {first_rep.mean:.4f} score")


if __name__ == "__main__":
    main()
