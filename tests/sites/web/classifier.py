"""The learned alternative to the rules, measured the same way: a logistic regression over block
features, trained on the development pages' candidate blocks, scored on the held-out pages.

    python tests/sites/web/classifier.py     # prints rules vs classifier on dev and held-out pages

Features (per candidate block, after cleaning): the block kind (list item, cell, quote, code,
label, paragraph, …), verb lead (listed verb, or unknown word used as one), request form,
second person, placeholder, reference to a text, talk about the tool, reader verb, statement
lead, quotes, length, heading context (any heading, a how-to/FAQ/benefits heading) and position
in its list. The rules (judge.py) use the same signals with fixed logic.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
sys.path.insert(0, str(HERE))

from measure import measure, norm, report, truth  # noqa: E402

from curator.scrape import extract as X  # noqa: E402
from curator.scrape import judge as J  # noqa: E402

KINDS = ["li", "dd", "td", "quote", "code", "label", "quoted", "emoji", "br", "para", "meta"]


def blocks(html: str):
    """(clean text, features, element kind) of every candidate block of a page."""
    root, _ = X._content_root(html, None)
    if root is None:
        return
    for raw, heading, kind, el, plain in X._candidates(root):
        text = X.clean_prompt(raw, el if kind in ("li", "dd", "td", "label") else None)
        if not text.strip():
            continue
        words = text.split()
        siblings = el.find_previous_siblings(el.name) if kind in ("li", "dd", "td") else []
        f = [1.0 if kind == k else 0.0 for k in KINDS] + [
            float(J.first_word(text) in J.VERBS), float(J.imperative_lead(text)),
            float(bool(J.REQUEST_STARTS.match(text))), float(bool(re.search(r"\byou(?:r)?\b", text, re.I))),
            float(bool(J._PLACEHOLDER.search(text))), float(bool(J.TEXT_REFERENCE.search(text))),
            float(bool(J.TOOL_TALK.search(text))), float(J.first_word(text) in J.READER_VERBS),
            float(J.first_word(text) in J.STATEMENT_STARTS), float(bool(re.search(r"[\"“”]", raw))),
            math.log1p(len(words)), float(len(words) < 4), float(len(words) > 60),
            float(heading is not None), float(kind == "meta"), float(len(siblings) == 0), float(text.endswith("?")),
            float(bool(J.BOILERPLATE.search(text))),
        ]
        yield text, f, kind


def dataset(heldout: bool):
    xs, ys = [], []
    for name, t in truth().items():
        if t["heldout"] != heldout:
            continue
        expected = {norm(p) for p in t["prompts"]}
        html = (HERE / "pages" / f"{name}.html").read_text(encoding="utf-8")
        for text, f, _ in blocks(html):
            xs.append(f)
            ys.append(int(norm(text) in expected))
    return xs, ys


def train():
    from sklearn.linear_model import LogisticRegression

    xs, ys = dataset(heldout=False)
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    model.fit(xs, ys)
    return model, len(xs), sum(ys)


def classifier_extract(model):
    def extract(html: str) -> list[str]:
        out, seen = [], set()
        for text, f, _ in blocks(html):
            if model.predict_proba([f])[0][1] >= 0.5 and norm(text) not in seen:
                seen.add(norm(text))
                out.append(text)
        return out

    return extract


if __name__ == "__main__":
    model, n, pos = train()
    print(f"classifier trained on {n} dev blocks ({pos} prompts)")
    for label, held in (("dev", False), ("held-out", True)):
        for who, fn in (("rules", None), ("classifier", classifier_extract(model))):
            r = measure(heldout=held, extract=fn)
            o = r["overall"]
            worst = min(p["recall"] for p in r["pages"].values())
            worst_p = min(p["precision"] for p in r["pages"].values())
            print(f"{label:9s} {who:10s} precision {o['precision']:.3f} recall {o['recall']:.3f} "
                  f"(lowest page: P {worst_p:.2f} R {worst:.2f})")
            if "-v" in sys.argv:
                print(report(r))
