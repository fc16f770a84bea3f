"""Mean-prompt benchmark: the search against the set's medoid, same run, real prompts.

Set: ../shared/data/prompts/procedural_prompts.json (9,205 real procedurally generated rewrite
prompts of an 11th-place solution); ``--sizes 2000,9205`` takes random subsets. Metric model:
the packaged MiniLM. The set is ingested as a target into a fresh corpus and embedded first (the
cache every later run re-uses; its time is printed apart). Prints, per size:

- ``medoid_score``: mean SCS of the set's best member (the starting point, the baseline)
- ``mean_prompt_score`` and ``ratio_vs_medoid`` (target ≥ 1.3 on the full set)
- ``search_s`` (target < 60 s on 2 cores), ``rounds``, ``encoded`` (candidates sent to the model;
  the cost that does not depend on the machine's load) and ``encode_per_s``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from curator import Corpus  # noqa: E402
from curator.embed import ENCODE_CALLS  # noqa: E402

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "prompts" / "procedural_prompts.json"


def run(prompts: list[str], rounds: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, Corpus.init(Path(tmp) / "c") as corpus:
        pd.DataFrame({"prompt": prompts}).to_csv(Path(tmp) / "set.csv", index=False)
        corpus.ingest(Path(tmp) / "set.csv", role="target", dataset="set")
        n = int(corpus.store.scalar("SELECT COUNT(*) FROM prompts"))
        t = time.perf_counter()
        from curator.embed import embed_texts
        from curator.sides import target_prompts

        embed_texts(corpus, list(target_prompts(corpus, "set").values()), model="default", progress=False)
        embed_s = time.perf_counter() - t
        texts0 = ENCODE_CALLS["texts"]
        t = time.perf_counter()
        res = corpus.mean_prompt(target="set", metric_model="default", rounds=rounds, progress=False)
        search_s = time.perf_counter() - t
        encoded = ENCODE_CALLS["texts"] - texts0
        print(f"set_prompts@{n}: {n} prompts")
        print(f"embed_set_s@{n}: {embed_s:.1f} s")
        print(f"medoid_score@{n}: {res.medoid_score:.4f} SCS")
        print(f"mean_prompt_score@{n}: {res.score:.4f} SCS")
        print(f"ratio_vs_medoid@{n}: {res.ratio:.3f} x")
        print(f"search_s@{n}: {search_s:.1f} s")
        print(f"rounds@{n}: {res.rounds} rounds")
        print(f"encoded@{n}: {encoded} texts")
        print(f"encode_per_s@{n}: {encoded / max(search_s, 1e-9):.0f} texts/s")
        print(f"# medoid: {res.medoid}")
        print(f"# mean prompt: {res.prompt}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--sizes", default="", help="Comma-separated subset sizes (default: the whole set).")
    ap.add_argument("--quick", action="store_true", help="One subset of 1,000 prompts, 3 rounds.")
    ap.add_argument("--rounds", type=int, help="Rounds at most (default: [meanprompt].rounds).")
    args = ap.parse_args()
    prompts = sorted(set(json.loads(args.data.read_text(encoding="utf-8"))))
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s] or [len(prompts)]
    rounds = 3 if args.quick and args.rounds is None else args.rounds
    rng = np.random.default_rng(0)
    for size in sizes:
        pick = prompts if size >= len(prompts) else [prompts[i] for i in sorted(rng.choice(len(prompts), size, replace=False))]
        run(pick, rounds)


if __name__ == "__main__":
    main()
