"""Held-out-category experiment: do the gap list and the far list find what training lacks?

Usage: python scripts/coverage_eval.py [PATH_TO_rewrite_labels_16.csv] [--trials N] [--holdout 3]
Prints `name: value unit` lines (docs/coverage.md records a run).

Each trial (seeded): choose ``--holdout`` of the 16 human categories; every prompt of those goes
only into the target set (*held-out* prompts); of the other categories 80 % go into training and
20 % into the target set (*in-distribution* target prompts, absent from training). Cluster all
prompts with ``k=auto``, run coverage, and count a target prompt as *flagged* when its cluster is a
gap or it is on the far list. Recall = flagged held-out / held-out; false-gap rate = flagged
in-distribution / in-distribution. Target (issue 14): recall ≥ 0.8, false-gap rate ≤ 0.1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from curator import Corpus
from curator.cluster import cluster_prompts
from curator.coverage import compute_coverage
from curator.items import PromptRecord, Provenance, add_prompts
from curator.text import content_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster_quality import DEFAULT, labelled_prompts  # noqa: E402


def trial(frame, seed: int, holdout: int = 3, work: Path | None = None, k="auto", **cov) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    cats = sorted(frame["RewriteLabel"].unique())
    held = set(rng.choice(cats, size=holdout, replace=False))
    train, target_held, target_in = [], [], []
    for t, cat in zip(frame["target"], frame["RewriteLabel"]):
        if cat in held:
            target_held.append(t)
        elif rng.random() < 0.2:
            target_in.append(t)
        else:
            train.append(t)
    with tempfile.TemporaryDirectory(dir=work) as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        with corpus.store.transaction() as conn:
            add_prompts(conn, [PromptRecord(t, "public", Provenance("train", "prompts", row=i))
                               for i, t in enumerate(train)])
            add_prompts(conn, [PromptRecord(t, "public", Provenance("test", "target", row=i))
                               for i, t in enumerate(target_held + target_in)])
        res = cluster_prompts(corpus, k=k, seed=seed)
        c = compute_coverage(corpus, target="test", **cov)
        gap_set, far_set = set(c.gaps), {f["id"] for f in c.far}

        def flagged(texts):
            ids = [content_id(t) for t in texts]
            in_gap = [c.members.get(p) in gap_set for p in ids]
            in_far = [p in far_set for p in ids]
            return (np.mean([g or f for g, f in zip(in_gap, in_far)]), np.mean(in_gap), np.mean(in_far))

        rh, gh, fh = flagged(target_held)
        ri, gi, fi = flagged(target_in)
        return {"held": sorted(held), "k": res.k, "gaps": len(c.gaps), "far": len(c.far),
                "n_held": len(target_held), "n_in": len(target_in), "n_train": len(train),
                "recall": rh, "recall_gap": gh, "recall_far": fh, "false": ri, "false_gap": gi, "false_far": fi}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--holdout", type=int, default=3)
    ap.add_argument("--far-threshold", type=float)
    ap.add_argument("--min-target", type=int)
    ap.add_argument("--confidence", type=float)
    args = ap.parse_args(argv)
    frame = labelled_prompts(Path(args.path))
    cov = {"far_threshold": args.far_threshold, "min_target": args.min_target, "confidence": args.confidence}
    results = []
    for seed in range(args.trials):
        r = trial(frame, seed, args.holdout, **cov)
        results.append(r)
        print(f"trial_{seed}: held out {', '.join(r['held'])}; k={r['k']}, {r['gaps']} gaps, {r['far']} far; "
              f"recall {r['recall']:.2f} (gap {r['recall_gap']:.2f}, far {r['recall_far']:.2f}) of {r['n_held']}; "
              f"false {r['false']:.2f} (gap {r['false_gap']:.2f}, far {r['false_far']:.2f}) of {r['n_in']}")
    for key in ("recall", "recall_gap", "recall_far", "false", "false_gap", "false_far"):
        print(f"mean_{key}: {np.mean([r[key] for r in results]):.3f} fraction")
    return 0


if __name__ == "__main__":
    sys.exit(main())
