"""Benchmark: template expansion and combination throughput.

Prints `name: value unit` lines. Baseline in the same run: materialising the cross product with
itertools.product and sampling from the list (what a naive expander does), against curator's
index sampling, on one template whose product has 24^3 = 13,824 combinations, and on the seed
corpus. Run: .venv/bin/python scripts/bench/templates.py
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

from curator import templates as tpl

REPO = Path(__file__).resolve().parents[2]


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    library = tpl.load_library(None)
    vocab = {n: tpl.Vocabulary(n, [f"{n} {i}" for i in range(24)]) for n in ("a", "b", "c")}
    text = "Rewrite this as {a} in {b} for {c}."
    t = tpl.Template("bench.t", "x", text, Path("x"), 1, tpl.parse(text))
    lib = tpl.Library(templates={t.id: t}, vocab=vocab)
    cap = 25

    def naive() -> list[str]:
        combos = list(itertools.product(*(vocab[n].values for n in ("a", "b", "c"))))
        rng = random.Random(0)
        return [text.format(a=a, b=b, c=c) for a, b, c in rng.sample(combos, cap)]

    base = timed(naive)
    ours = timed(lambda: tpl.expand_template(lib, t, cap, 0))
    print(f"naive_product_sample_13824: {base * 1e3:.2f} ms")
    print(f"curator_index_sample_13824: {ours * 1e3:.2f} ms")
    print(f"speedup_vs_naive: {base / ours:.1f} x")

    n_prompts = sum(tpl.expected_count(library, x, 25) for x in library.templates.values())
    seed_time = timed(lambda: list(tpl.expand(library, 25, 0)), repeat=3)
    print(f"seed_expand_prompts: {n_prompts} prompts")
    print(f"seed_expand_rate: {n_prompts / seed_time:,.0f} prompts/s")
    for k in (2, 3):
        draws = 10_000
        dt = timed(lambda: list(itertools.islice(tpl.draw_combinations(library, k, 0), draws)), repeat=2)
        print(f"combine_k{k}_rate: {draws / dt:,.0f} draws/s")
    load = timed(lambda: tpl.load_library(None), repeat=3)
    print(f"load_and_validate_seed: {load * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
