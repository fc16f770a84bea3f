"""Review, promote, reject, undo: idempotent, logged in events, and the screen in a real terminal."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curator import Corpus, CuratorError
from curator.ingest import ingest_file
from curator.review import decide, decisions, promote, undo
from curator.score import ranked_candidates, score_predictions

KINDS = [("a sea shanty", "Rewrite this as a sea shanty."), ("a haiku", "Turn this into a haiku."),
         ("a legal contract", "Make it formal."), ("a pirate speech", "Rewrite like a pirate."),
         ("a limerick", "Summarize this."), ("a tweet", "Translate into German.")]


def scored_corpus(corpus: Corpus, n: int = 6) -> list[dict]:
    """n candidates with one prediction each, scored with the packaged MiniLM; best first."""
    rows = [{"original_text": f"Original {i} about the weather.", "rewrite_prompt": f"Rewrite this as {kind}.",
             "rewritten_text": f"Rewritten {i}.", "predicted": pred}
            for i, (kind, pred) in enumerate(KINDS[:n])]
    path = Path(corpus.root) / "s.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    ingest_file(corpus, path)
    score_predictions(corpus, metric_model="default")
    return ranked_candidates(corpus)


def test_promote_reject_undo_are_idempotent_and_logged(corpus):
    ranked = scored_corpus(corpus)
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert _sp(promote(corpus, top=2)) == {"selected": 2, "promoted": 2}
    assert _sp(promote(corpus, top=2)) == {"selected": 2, "promoted": 0}  # the same two: nothing to do
    assert _sp(promote(corpus, top=4)) == {"selected": 4, "promoted": 2}
    assert _sp(promote(corpus, ids=[r["id"] for r in ranked[:4]])) == {"selected": 4, "promoted": 0}
    assert set(corpus.samples(status="train").id) == {r["id"] for r in ranked[:4]}
    assert decide(corpus, [ranked[-1]["id"]], "reject") == 1
    assert decide(corpus, [ranked[-1]["id"]], "reject") == 0
    log = decisions(corpus)
    assert len(log) == 5 and all(d["at"] and d["reason"] for d in log)
    assert _sp(promote(corpus, top=6)) == {"selected": 5, "promoted": 1}  # the rejected one stays out
    assert log[0]["reason"] == "top 2 (all-MiniLM-L6-v2)" and log[0]["via"] == "promote"
    assert undo(corpus, 1) == [ranked[4]["id"]]  # the last promotion
    assert undo(corpus, 1) == [ranked[-1]["id"]]  # the reject
    assert corpus.samples(status="rejected").empty
    assert len(undo(corpus, 10)) == 4 and corpus.samples(status="train").empty
    assert undo(corpus, 5) == []  # nothing left to undo: undo is idempotent too
    assert set(corpus.samples().status) == {"candidate"}
    assert len(decisions(corpus)) == 6  # nothing is erased: the undos are events of their own
    with pytest.raises(CuratorError, match="no such sample"):
        decide(corpus, ["nope", ranked[0]["id"]], "accept")
    assert corpus.samples(status="train").empty  # all or nothing


def test_target_samples_never_become_training_data(corpus, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\na,Shorten this.,b\n")
    ingest_file(corpus, f, role="target")
    sid = corpus.samples().id[0]
    with pytest.raises(CuratorError, match="target"):
        decide(corpus, [sid], "accept")


def test_promote_min_score_and_ids_files(cli, tmp_path):
    with Corpus.open(cli.root) as c:
        ranked = scored_corpus(c)
    ids = tmp_path / "ids.txt"
    ids.write_text(ranked[-1]["id"] + "\n")
    out = cli("reject", "--ids", ids, "--reason", "off-topic", "--json")
    assert json.loads(out.stdout) == {"selected": 1, "rejected": 1}
    assert json.loads(cli("reject", "--ids", ids, "--json").stdout)["rejected"] == 0
    cut = ranked[1]["score"]
    assert _sp(json.loads(cli("promote", "--min-score", cut, "--json").stdout)) == {"selected": 2, "promoted": 2}
    csv_ids = tmp_path / "ids.csv"
    csv_ids.write_text(f"sample_id,note\n{ranked[2]['id']},fine\n")
    assert cli("promote", "--ids", csv_ids).exit_code == 0
    assert cli("promote").exit_code == 2  # neither --min-score, --top nor --ids
    with Corpus.open(cli.root) as c:
        assert set(c.samples(status="train").id) == {r["id"] for r in ranked[:3]}
        assert c.samples(status="rejected").id.tolist() == [ranked[-1]["id"]]
        assert decisions(c)[0]["reason"] == "off-topic"
    assert json.loads(cli("undo", "--n", "2", "--json").stdout)["undone"] == [ranked[2]["id"], ranked[1]["id"]]


def test_review_without_a_terminal_is_one_line(tmp_path):
    """No stdin terminal and no controlling terminal (a new session, as under cron or CI)."""
    root = tmp_path / "corpus"
    with Corpus.init(root) as c:
        scored_corpus(c, 2)
    result = subprocess.run(_curator_command() + ["--corpus", str(root), "review"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=120, start_new_session=True,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "terminal" in result.stderr and "curator promote" in result.stderr


def _curator_command() -> list[str]:
    """The installed console script when there is one (what a user runs), else python -m."""
    script = Path(sys.executable).parent / "curator"
    return [str(script)] if script.exists() else [sys.executable, "-m", "curator.cli"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_review_screen_in_a_real_terminal(tmp_path):
    """accept 2, reject 1, quit; restart and continue (skip, accept, undo, accept, quit)."""
    pexpect = pytest.importorskip("pexpect")
    root = tmp_path / "corpus"
    with Corpus.init(root) as c:
        ranked = scored_corpus(c)
    env = dict(os.environ, HF_HUB_OFFLINE="1", COLUMNS="120", LINES="50", TERM="xterm")
    cmd = _curator_command() + ["--corpus", str(root), "review"]

    def session(keys: str) -> str:
        child = pexpect.spawn(cmd[0], cmd[1:], env=env, encoding="utf-8", timeout=60)
        screens = []
        for key in keys:
            child.expect(r"\[q\]uit \?")
            screens.append(child.before)
            child.send(key)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        return screens

    screens = session("aarq")
    first = screens[0]
    for shown in (ranked[0]["id"], ranked[0]["rewrite_prompt"], ranked[0]["predicted_prompt"],
                  ranked[0]["original_text"], "all-MiniLM-L6-v2, a proxy", f"{ranked[0]['score']:.3f}"):
        assert shown in first
    assert "6 left" in first and "3 left" in screens[3]
    with Corpus.open(root) as c:
        assert set(c.samples(status="train").id) == {ranked[0]["id"], ranked[1]["id"]}
        assert c.samples(status="rejected").id.tolist() == [ranked[2]["id"]]
        log = decisions(c)
        assert [(d["sample_id"], d["to"], d["via"]) for d in log] == [
            (ranked[0]["id"], "train", "review"), (ranked[1]["id"], "train", "review"),
            (ranked[2]["id"], "rejected", "review")]
        assert all(d["at"] and d["reason"].startswith("review: score ") for d in log)

    # restart: resumes at the 4th best; skip it, accept the 5th, undo that, accept it again
    screens = session("saua" + "q")
    assert ranked[3]["id"] in screens[0]
    assert ranked[4]["id"] in screens[1] and ranked[4]["id"] in screens[3]
    with Corpus.open(root) as c:
        assert set(c.samples(status="train").id) == {r["id"] for r in (ranked[0], ranked[1], ranked[4])}
        assert len(decisions(c)) == 5  # 3 + accept + accept again (the undo is its own event)
        assert c.store.scalar("SELECT COUNT(*) FROM events WHERE command = 'undo'") == 1

    # a third session: the skipped 4th stays skipped; only the 6th is left
    screens = session("q")
    assert ranked[5]["id"] in screens[0] and "1 left" in screens[0]


def test_review_queue_respects_min_score_and_dataset(corpus):
    from curator.review import run_review

    with pytest.raises(CuratorError, match="curator score"):
        run_review(corpus, getkey=lambda: "q")  # nothing scored yet

    ranked = scored_corpus(corpus)
    keys = iter("aaaaaaaa")
    counts = run_review(corpus, min_score=ranked[2]["score"], getkey=lambda: next(keys))
    assert counts["accepted"] == 3
    assert set(corpus.samples(status="train").id) == {r["id"] for r in ranked[:3]}
    assert run_review(corpus, dataset="no-such-dataset", getkey=lambda: "a")["accepted"] == 0


def test_review_cli_help_lists_the_keys(cli):
    out = cli("review", "--help")
    assert "[a]ccept" in out.output and "--min-score" in out.output


def test_long_texts_are_clipped_on_screen_and_say_how_much(corpus):
    from curator.review import clip

    assert clip("short") == "short"
    long = "word " * 1000
    assert clip(long).endswith("… [3500 more characters]") and clip(long).startswith(long[:1500])


def _sp(result: dict) -> dict:
    """selected/promoted of a promote result (it also reports what it held back, tested in test_trust.py)."""
    assert result["held_back"] == 0
    return {k: result[k] for k in ("selected", "promoted")}
