"""Review from a notebook: the ranked candidates frame, promote(ids) / reject(ids), as the screen does."""

from __future__ import annotations

import pandas as pd
import pytest

from curator import CuratorError
from curator.review import decisions, log_skip, run_review
from curator.score import ranked_candidates
from curator.templates import seed_dir


@pytest.fixture
def scored(corpus):
    """The 32 handmade example samples (each with a predicted prompt), scored with the packaged MiniLM."""
    corpus.ingest(pd.read_json(seed_dir() / "examples" / "examples.jsonl", lines=True), name="examples",
                  predictor="handmade")
    corpus.score(metric_model="default")
    return corpus


def test_candidates_frame_is_the_review_queue(scored):
    cands = scored.candidates()
    ranked = ranked_candidates(scored)
    assert len(cands) == len(ranked) == 32
    assert cands.id.tolist() == [r["id"] for r in ranked]  # the screen's order: best first
    assert cands["rank"].tolist() == list(range(1, 33))
    assert cands.score.is_monotonic_decreasing and set(cands.metric_model) == {"all-MiniLM-L6-v2"}
    assert cands.proxy.all() and (cands.predictor == "handmade").all() and not cands.skipped.any()
    assert cands.predicted_prompt.str.len().gt(0).all() and cands.rewrite_prompt.str.len().gt(0).all()
    assert len(scored.candidates(limit=5)) == 5
    assert (scored.candidates(min_score=cands.score.iloc[9]).score >= cands.score.iloc[9]).all()
    # a sample skipped on the screen is out of the queue, as on the screen
    log_skip(scored, cands.id.iloc[0])
    assert scored.candidates().id.iloc[0] == cands.id.iloc[1]
    assert scored.candidates(include_skipped=True).skipped.sum() == 1


def test_promote_and_reject_ids_are_decisions_like_the_screens(scored):
    cands = scored.candidates()
    assert _sp(scored.promote(cands.head(3), reason="clean")) == {"selected": 3, "promoted": 3}
    assert _sp(scored.promote(cands.id.head(3))) == {"selected": 3, "promoted": 0}  # idempotent
    assert scored.reject([cands.id.iloc[-1]]) == {"selected": 1, "rejected": 1}
    # the review screen decides the next one; all are the same kind of event
    keys = iter("aq")
    run_review(scored, getkey=lambda: next(keys))
    log = decisions(scored)
    assert [(d["decision"], d["via"], d["sample_id"]) for d in log] == [
        ("accept", "promote", cands.id.iloc[0]), ("accept", "promote", cands.id.iloc[1]),
        ("accept", "promote", cands.id.iloc[2]), ("reject", "reject", cands.id.iloc[-1]),
        ("accept", "review", cands.id.iloc[3])]
    assert all(d["reason"] for d in log) and log[0]["reason"] == "clean"
    assert log[3]["reason"] == "notebook: rejected from candidates()" and log[3]["from"] == "candidate"
    assert set(scored.samples(status="train").id) == set(cands.id.iloc[:4])
    assert scored.candidates().id.tolist() == cands.id.iloc[4:-1].tolist()  # decided ones leave the queue
    assert scored.undo(2) == [cands.id.iloc[3], cands.id.iloc[-1]]
    assert len(scored.candidates()) == 29


def test_bad_ids_change_nothing(scored, corpus):
    cands = scored.candidates()
    with pytest.raises(CuratorError, match="nope: no such sample id"):
        scored.promote([cands.id.iloc[0], "nope"])
    with pytest.raises(CuratorError, match="needs an 'id' column"):
        scored.reject(pd.DataFrame({"sample": ["x"]}))
    assert scored.samples(status="train").empty and scored.samples(status="rejected").empty


def test_candidates_before_scoring_says_what_to_run(corpus):
    with pytest.raises(CuratorError, match="no scores yet; run score first"):
        corpus.candidates()


def _sp(result: dict) -> dict:
    """selected/promoted of a promote result (it also reports what it held back, tested in test_trust.py)."""
    assert result["held_back"] == 0
    return {k: result[k] for k in ("selected", "promoted")}
