"""Context figures for `curator stats`: counts by origin, dataset and status, length distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .text import word_count

if TYPE_CHECKING:
    from .context import Context


def _target_overlap(corpus: "Context") -> dict[str, int]:
    from .leakage import target_overlap

    return target_overlap(corpus)


def length_summary(lengths: list[int]) -> dict[str, float]:
    """min / median / p90 / max / mean of word counts (zeros when empty)."""
    if not lengths:
        return {"n": 0, "min": 0, "median": 0, "p90": 0, "max": 0, "mean": 0.0}
    a = np.asarray(lengths)
    return {"n": int(a.size), "min": int(a.min()), "median": float(np.median(a)),
            "p90": round(float(np.percentile(a, 90)), 1), "max": int(a.max()), "mean": round(float(a.mean()), 1)}


def token_summary(prompt_texts: list[str], sample_rows) -> dict[str, Any]:
    """Token totals for planning LLM work (cl100k_base when available offline, else 4 chars/token)."""
    from .tokens import count_tokens, tokenizer_name

    return {"tokenizer": tokenizer_name(),
            "prompts": sum(count_tokens(t) for t in prompt_texts),
            "sample_texts": sum(count_tokens(r[0]) + count_tokens(r[1]) for r in sample_rows)}


def template_stats(corpus: "Context", prompt_texts: list[str]) -> dict[str, Any]:
    """Prompts that are templates (an unfilled slot): how many, and which slots no vocabulary fills
    (``curator expand --scraped`` fills the rest; generate/combine/promote/export never use them)."""
    from collections import Counter

    from .placeholders import find_placeholders

    slots = [find_placeholders(t) for t in prompt_texts if "{" in t or "[" in t or "<" in t or "(" in t]
    slots = [s for s in slots if s]
    try:
        from .templates import load_library

        library = load_library(corpus.root, validate_all=False, seed=corpus.settings.get("templates", "seed"))
        known = lambda n: library.vocabulary(n) is not None and bool(library.vocabulary(n).values)  # noqa: E731
    except Exception:  # a broken vocab file is `curator expand`'s error to report
        known = lambda n: False  # noqa: E731
    missing = Counter(n for s in slots for n in s if not known(n))
    unfillable = sum(1 for s in slots if any(not known(n) for n in s))
    return {"prompts": len(slots), "fillable": len(slots) - unfillable, "unfillable": unfillable,
            "unfillable_slots": dict(missing.most_common(20))}


def corpus_stats(corpus: "Context") -> dict[str, Any]:
    db = corpus.store

    def grouped(sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in db.query(sql)}

    prompt_texts = [r[0] for r in db.query("SELECT text FROM prompts")]
    sample_rows = db.query("SELECT original_text, rewritten_text FROM samples WHERE status != 'target'")
    return {
        "corpus": str(corpus.root),
        "schema_version": db.schema_version,
        "prompts": {
            "total": len(prompt_texts),
            "canonical": db.scalar("SELECT COUNT(*) FROM prompts WHERE duplicate_of IS NULL"),
            "duplicates": db.scalar("SELECT COUNT(*) FROM prompts WHERE duplicate_of IS NOT NULL"),
            "by_origin": grouped("SELECT origin, COUNT(*) FROM prompts GROUP BY origin ORDER BY 2 DESC"),
            "by_category": grouped("SELECT COALESCE(category, '-'), COUNT(*) FROM prompts "
                                   "GROUP BY 1 ORDER BY 2 DESC"),
        },
        "samples": {
            "total": db.scalar("SELECT COUNT(*) FROM samples"),
            "by_status": grouped("SELECT status, COUNT(*) FROM samples GROUP BY status ORDER BY 2 DESC"),
            "by_dataset": grouped("SELECT dataset, COUNT(*) FROM samples GROUP BY dataset ORDER BY 2 DESC"),
            "by_origin": grouped("SELECT origin, COUNT(*) FROM samples GROUP BY origin ORDER BY 2 DESC"),
        },
        "provenance_by_dataset": grouped(
            "SELECT dataset || ' (' || role || ')', COUNT(DISTINCT item_id) FROM provenance "
            "GROUP BY dataset, role ORDER BY 2 DESC"),
        "predictions": grouped("SELECT predictor, COUNT(*) FROM predictions GROUP BY predictor"),
        "tokens": token_summary(prompt_texts, sample_rows),
        "templates": template_stats(corpus, prompt_texts),
        "target_overlap": _target_overlap(corpus),
        "words": {
            "prompt": length_summary([word_count(t) for t in prompt_texts]),
            "original_text": length_summary([word_count(r[0]) for r in sample_rows]),
            "rewritten_text": length_summary([word_count(r[1]) for r in sample_rows]),
        },
    }
