"""Precision and recall of prompt extraction on the local test web, per page, per chrome, per layout.

    python tests/sites/web/measure.py            # development pages
    python tests/sites/web/measure.py --heldout  # the sealed pages (final figures only)

A found prompt counts when its text equals a true prompt of that page after lower-casing and
dropping punctuation (so a leftover label, a boilerplate word or a cut sentence is a miss *and*
a false prompt: exact text matters, it becomes training data).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9{}]+", " ", text.lower()).strip()


def truth() -> dict:
    return json.loads((HERE / "truth.json").read_text(encoding="utf-8"))


def measure(heldout: bool | None = False, extract=None) -> dict:
    """{"pages": {name: {...}}, "chromes": {...}, "kinds": {...}, "overall": {...}}."""
    if extract is None:
        from curator.scrape.extract import extract_prompts

        def extract(html: str) -> list[str]:
            # the ground truth is written in the slot form ({name}); the stored text keeps the page's spelling
            return [p.normalised for p in extract_prompts(html).prompts]

    pages, chromes, kinds = {}, defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0])
    total = [0, 0, 0]  # true positives, found, expected
    for name, t in truth().items():
        if heldout is not None and t["heldout"] != heldout:
            continue
        html = (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")
        found = extract(html)
        expected = [norm(p) for p in t["prompts"]]
        got = [norm(p) for p in found]
        tp = len(set(got) & set(expected))
        missed = [p for p, n in zip(t["prompts"], expected) if n not in got]
        extra = [p for p, n in zip(found, got) if n not in expected]
        for p, k in zip(expected, t["kinds"]):
            kinds[k][1] += 1
            kinds[k][0] += p in got
        pages[name] = {"chrome": t["chrome"], "precision": tp / len(got) if got else 1.0,
                       "recall": tp / len(expected) if expected else 1.0, "found": len(got),
                       "expected": len(expected), "missed": missed, "extra": extra}
        for acc in (chromes[t["chrome"]], total):
            acc[0] += tp
            acc[1] += len(got)
            acc[2] += len(expected)

    def pr(acc):
        return {"precision": acc[0] / acc[1] if acc[1] else 1.0, "recall": acc[0] / acc[2] if acc[2] else 1.0,
                "prompts": acc[2]}

    return {"pages": pages, "chromes": {c: pr(a) for c, a in sorted(chromes.items())},
            "kinds": {k: {"recall": a[0] / a[1], "prompts": a[1]} for k, a in sorted(kinds.items())},
            "overall": pr(total)}


def report(result: dict, verbose: bool = True) -> str:
    lines = []
    o = result["overall"]
    lines.append(f"overall: precision {o['precision']:.3f}, recall {o['recall']:.3f} ({o['prompts']} prompts)")
    for c, v in result["chromes"].items():
        lines.append(f"  chrome {c:10s} P {v['precision']:.3f}  R {v['recall']:.3f}  ({v['prompts']})")
    for k, v in result["kinds"].items():
        lines.append(f"  layout {k:10s} R {v['recall']:.3f}  ({v['prompts']})")
    for name, p in result["pages"].items():
        lines.append(f"  page {name:28s} P {p['precision']:.2f}  R {p['recall']:.2f}  ({p['found']}/{p['expected']})")
        if verbose:
            lines += [f"      MISSED {m}" for m in p["missed"]] + [f"      EXTRA  {x}" for x in p["extra"]]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(measure(heldout="--heldout" in sys.argv), verbose="-q" not in sys.argv))
