"""A second labelled prompt set for the held-out-category experiment, derived from real data.

``../shared/data/prompts/procedural_prompts.json`` holds 9,205 prompts an 11th-place solution
built from the vocabularies in ``procedural_parts/`` (authors, accents, tones, media, themes…).
Each prompt's kind of change is recoverable from the vocabulary it was built from: this script
labels every prompt whose words come from exactly one kind (an author's name → ``author``, an
accent → ``accent``, a medium → ``format``, "every noun … into …" → ``replace``, …) and drops the
rest, so the categories are clean and disjoint, unlike the 16 human labels of
``labelled/rewrite_labels_16.csv`` (docs/coverage.md: they overlap in meaning).

Writes a CSV with the columns ``scripts/coverage_eval.py`` reads (``target``, ``RewriteLabel``),
at most ``--per-category`` prompts per label (seeded sample), to PATH (never into the project):

    python scripts/procedural_labels.py /tmp/procedural_labels.csv --per-category 60
    python scripts/coverage_eval.py /tmp/procedural_labels.csv --trials 5
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import Counter
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "prompts"

# label → the vocabulary files whose values make a prompt of that kind
KINDS = {
    "author": ["authors"], "accent": ["accents"], "code": ["code"], "constrain": ["constrain_words"],
    "persona": ["personalities"], "quality": ["qualities"], "theme": ["themes"], "tone": ["tone"],
    "format": ["other_media", "mostly_fictional"], "inject": ["to_inject"],
}
# "Convert every noun in the text into a fruit", "Transform every name … into the word 'clock'"
REPLACE = re.compile(r"\bevery (?:word|noun|name|adjective)\b", re.I)
# "Instill the noun 'phone' into this passage": an injected noun
INJECT_NOUN = re.compile(r"\b(?:instill|inject|insert|incorporate|include|add|weave|sprinkle)\b.*\bthe (?:noun|word)\b",
                         re.I)


def _pattern(values: list[str]) -> re.Pattern:
    words = sorted({v.strip().lower() for v in values if v.strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.I)


def label(prompts: list[str], parts: Path) -> list[tuple[str, str]]:
    """(prompt, label) for every prompt of exactly one kind."""
    patterns = {kind: _pattern([v for f in files for v in json.loads((parts / f"{f}.json").read_text())])
                for kind, files in KINDS.items()}
    out = []
    for text in prompts:
        if REPLACE.search(text):
            kinds = {"replace"}
        elif INJECT_NOUN.search(text):
            kinds = {"inject"}
        else:
            kinds = {kind for kind, pat in patterns.items() if pat.search(text)}
        if len(kinds) == 1:
            out.append((text, kinds.pop()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="CSV to write (target, RewriteLabel)")
    ap.add_argument("--per-category", type=int, default=60, help="prompts per label at most (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(SHARED), help="the prompts/ folder of ../shared/data")
    args = ap.parse_args(argv)
    data = Path(args.data)
    prompts = list(dict.fromkeys(json.loads((data / "procedural_prompts.json").read_text(encoding="utf-8"))))
    labelled = label(prompts, data / "procedural_parts")
    by_kind: dict[str, list[str]] = {}
    for text, kind in labelled:
        by_kind.setdefault(kind, []).append(text)
    rng = random.Random(args.seed)
    rows = []
    for kind in sorted(by_kind):
        texts = by_kind[kind]
        rows += [(t, kind) for t in (rng.sample(texts, args.per_category) if len(texts) > args.per_category else texts)]
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["target", "RewriteLabel"])
        w.writerows(rows)
    counts = Counter(k for _, k in labelled)
    print(f"labelled: {len(labelled)} of {len(prompts)} prompts, {len(counts)} labels "
          f"({', '.join(f'{k} {n}' for k, n in counts.most_common())}); wrote {len(rows)} rows to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
