"""Dedup precision/recall on real, labelled prompts: what groups merge, against the truth.

Labelled pool (all real prompts of ../shared/data are in the pool as distractors; only pairs whose
two prompts are labelled count):
- the 9,205 procedural prompts, labelled by the set of procedural-part values each contains
  (prompts_parts/*.json): same values = the same instruction in other words (a true duplicate);
  different values = a slot variant (never a duplicate). Prompts containing no part value are
  unlabelled.
- tests/data/dedup_labelled_pairs.csv: real prompts with paraphrases we wrote (duplicate = 1) and
  slot variants (duplicate = 0: numbers, languages, authors, personas, tones, forms…).

Metrics per method: within-group pairs among labelled prompts, the true ones (precision), and how
many true duplicate pairs were found. Baseline: plain cosine ≥ t pairs (no grouping, no slots).
Prints ``name: value unit`` lines.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_prompts import SHARED, embed, real_prompts  # noqa: E402

PAIRS = Path(__file__).resolve().parents[2] / "tests" / "data" / "dedup_labelled_pairs.csv"


def procedural_labels(prompts: list[str], shared: Path = SHARED) -> dict[str, str]:
    """Procedural prompt → key of the part values it contains (longest values first, no overlaps)."""
    values = []
    for f in sorted((shared / "prompts/procedural_parts").glob("*.json")):
        values += [v for v in json.loads(f.read_text()) if isinstance(v, str) and len(v) > 2]
    values = sorted(set(values), key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(v) for v in values) + r")\b", re.IGNORECASE)
    out = {}
    for p in prompts:
        found = sorted({m.group(1).lower() for m in pattern.finditer(p)})
        if found:
            out[p] = "proc:" + "|".join(found)
    return out


def labelled_pool(shared: Path = SHARED) -> tuple[list[str], dict[str, str], list[str]]:
    """(texts, label per labelled text, procedural part values) for the evaluation."""
    texts = real_prompts(shared)
    proc = json.loads((shared / "prompts/procedural_prompts.json").read_text())
    labels = procedural_labels([" ".join(p.split()) for p in proc], shared)
    pairs = pd.read_csv(PAIRS, dtype=str)
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.get(a, a) != a:
            a = parent[a]
        return a

    for a, b, dup in zip(pairs.a, pairs.b, pairs.duplicate):
        for t in (a, b):
            parent.setdefault(t, t)
        if dup == "1":
            parent[find(a)] = find(b)
    for t in parent:
        labels[t] = "pair:" + find(t)
    extra = [t for t in parent if t not in set(texts)]
    return texts + extra, labels, extra


def pair_scores(pairs: np.ndarray, lab: np.ndarray) -> tuple[int, int]:
    """(labelled pairs, true pairs) among (i, j) pairs; ``lab`` = label code per item, -1 unlabelled."""
    if not len(pairs):
        return 0, 0
    a, b = lab[pairs[:, 0]], lab[pairs[:, 1]]
    known = (a >= 0) & (b >= 0)
    return int(known.sum()), int((known & (a == b)).sum())


def group_pairs(rep: np.ndarray) -> np.ndarray:
    """Every within-group pair of a representative assignment (-1 = alone)."""
    out = []
    order = np.argsort(rep, kind="stable")
    r = rep[order]
    bounds = np.flatnonzero(np.diff(r)) + 1
    for g in np.split(order, bounds):
        if len(g) < 2 or rep[g[0]] < 0:
            continue
        i, j = np.triu_indices(len(g), 1)
        out.append(np.stack([g[i], g[j]], 1))
    return np.concatenate(out) if out else np.zeros((0, 2), dtype=np.int64)


def evaluate(thresholds=(0.85, 0.88, 0.9, 0.92, 0.95), shared: Path = SHARED) -> list[dict]:
    from curator.dedup import components, group_vectors, representative_order
    from curator.dedup_index import similar_pairs
    from curator.slots import load_lexicon

    texts, labels, extra = labelled_pool(shared)
    x = np.concatenate([embed(texts[:len(texts) - len(extra)]), embed(extra)])
    codes: dict[str, int] = {}
    lab = np.array([codes.setdefault(labels[t], len(codes)) if t in labels else -1 for t in texts])
    lexicon = load_lexicon(Path(__file__).resolve().parents[2] / "corpus")
    order = representative_order(["public"] * len(texts), texts, [str(i) for i in range(len(texts))])
    pos = pd.read_csv(PAIRS, dtype=str)
    where = {t: i for i, t in enumerate(texts)}
    pa = np.array([where[a] for a in pos.a]), np.array([where[b] for b in pos.b])
    is_dup = (pos.duplicate == "1").to_numpy()

    def written(same: np.ndarray) -> dict:
        """Of the written pairs: paraphrases grouped together, slot variants grouped together."""
        return {"written_paraphrases_merged": round(float(same[is_dup].mean()), 4),
                "written_slot_variants_merged": round(float(same[~is_dup].mean()), 4)}

    rows = []
    for t in thresholds:
        base = similar_pairs(x, t, exact=True)
        n_known, n_true = pair_scores(base, lab)
        cos = np.einsum("ij,ij->i", x[pa[0]], x[pa[1]])
        rows.append({"method": "cosine_pairs", "threshold": t, "pairs": n_known, "true": n_true}
                    | written(cos >= t))
        comp = components(len(texts), base)
        n_known, n_true = pair_scores(group_pairs(np.where(np.bincount(comp)[comp] > 1, comp, -1)), lab)
        rows.append({"method": "components", "threshold": t, "pairs": n_known, "true": n_true})
        for name, lx in (("leader", None), ("leader_slots", lexicon)):
            start = time.perf_counter()
            rep, _, blocked = group_vectors(x, texts, order, t, lx, exact=True)
            n_known, n_true = pair_scores(group_pairs(rep), lab)
            rows.append({"method": name, "threshold": t, "pairs": n_known, "true": n_true,
                         "seconds": round(time.perf_counter() - start, 2), "slot_blocked": blocked}
                        | written((rep[pa[0]] >= 0) & (rep[pa[0]] == rep[pa[1]])))
    for r in rows:
        r["precision"] = round(r["true"] / r["pairs"], 4) if r["pairs"] else 1.0
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--thresholds", default="0.85,0.88,0.9,0.92,0.95")
    args = ap.parse_args()
    rows = evaluate(tuple(float(t) for t in args.thresholds.split(",")))
    for r in rows:
        tag = f"{r['method']}_{r['threshold']}"
        print(f"{tag}_precision: {r['precision']:.4f} ratio")
        print(f"{tag}_true_pairs: {r['true']} pairs")
        print(f"{tag}_labelled_pairs: {r['pairs']} pairs")
        for k in ("written_paraphrases_merged", "written_slot_variants_merged"):
            if k in r:
                print(f"{tag}_{k}: {r[k]:.4f} ratio")


if __name__ == "__main__":
    main()
