"""kill -9 in the middle of generate, brainstorm and predict, then the same command again: every
item ends with exactly one valid result, answers journaled before the kill are replayed (not
lost, not sent again), and answers journaled as invalid are asked again with a new seed.

The commands run as the installed ``curator`` console script (this tree first on PYTHONPATH)
against the local fake server on 127.0.0.1.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from curator import Corpus
from curator.text import content_id

sys.path.insert(0, str(Path(__file__).parent))
from fake_llm_server import STYLES, FakeLLM  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def curator_cmd(root: Path) -> list[str]:
    script = shutil.which("curator")
    return ([script] if script else [sys.executable, "-m", "curator.cli"]) + ["--corpus", str(root)]


def env() -> dict:
    return dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                OPENAI_API_KEY="test-key")


def ok_rows(root: Path, purpose: str) -> int:
    try:
        with sqlite3.connect(root / "curator.db", timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM llm_calls WHERE status = 'ok' AND purpose = ?",
                              (purpose,)).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_then_resume(root: Path, args: list[str], purpose: str, kill_after: int, total: int, fake: FakeLLM) -> int:
    """Start the command, SIGKILL it once ``kill_after`` answers are committed, run it again to the end."""
    cmd = curator_cmd(root) + args + ["--base-url", fake.url, "--model", "fake"]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while ok_rows(root, purpose) < kill_after and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    committed = ok_rows(root, purpose)
    assert kill_after <= committed < total, proc.stderr.read()
    sent_before = fake.requests
    done = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return fake.requests - sent_before


def test_generate_killed_and_resumed(tmp_path, shared_data):
    root = tmp_path / "corpus"
    Corpus.init(root).close()
    texts = json.loads((shared_data / "prompts" / "procedural_prompts.json").read_text())[100:124]
    texts = [t + (" ~~flaky~~" if i % 3 == 0 else "") for i, t in enumerate(texts)]  # 8 answer badly at first
    f = tmp_path / "p.csv"
    pd.DataFrame({"rewrite_prompt": texts}).to_csv(f, index=False)
    with FakeLLM(latency=0.15) as fake:
        resent = kill_then_resume(root, ["generate", "--prompts", str(f), "--concurrency", "2", "--min-words", "5"],
                                  "generate", 6, 24, fake)
        answered = fake.answered
    assert resent < 32  # what was committed before the kill was not asked again
    assert len(answered) == 24 + 8  # every prompt, and a new-seed retry of each flaky one
    with Corpus.open(root) as c:
        per_prompt = dict(c.store.query("SELECT json_extract(meta, '$.prompt_id'), COUNT(*) FROM samples GROUP BY 1"))
        assert per_prompt == {content_id(t): 1 for t in texts}
        journal = dict(c.store.query("SELECT status, COUNT(*) FROM llm_calls GROUP BY status"))
    assert journal == {"ok": 24, "invalid": 8}


def test_predict_killed_and_resumed(tmp_path, shared_data):
    root = tmp_path / "corpus"
    Corpus.init(root).close()
    rows = pd.read_csv(shared_data / "public" / "gemma_mix_with_predictions.csv").head(20)
    rows = rows[["original_text", "gt_rewrite_prompt", "rewritten_text"]].rename(
        columns={"gt_rewrite_prompt": "rewrite_prompt"})
    rows.loc[rows.index % 4 == 0, "original_text"] += " ~~flaky~~"  # 5 answer badly at first
    rows.to_csv(tmp_path / "s.csv", index=False)
    with Corpus.open(root) as c:
        c.ingest(tmp_path / "s.csv")
        n = c.store.scalar("SELECT COUNT(*) FROM samples")
    with FakeLLM(latency=0.15) as fake:
        kill_then_resume(root, ["predict", "--concurrency", "2"], "predict", 5, n, fake)
    with Corpus.open(root) as c:
        per_sample = dict(c.store.query("SELECT sample_id, COUNT(*) FROM predictions WHERE predictor = 'llm:fake' "
                                        "GROUP BY 1"))
        assert len(per_sample) == n == 20 and set(per_sample.values()) == {1}
        unjournaled = c.store.scalar(
            "SELECT COUNT(*) FROM predictions p LEFT JOIN llm_calls l ON l.request_hash = "
            "json_extract(p.meta, '$.request_hash') WHERE p.predictor = 'llm:fake' AND "
            "(l.status IS NULL OR l.status != 'ok')")
        assert unjournaled == 0  # each prediction came with its journaled answer
        assert c.store.scalar("SELECT COUNT(*) FROM llm_calls WHERE status = 'invalid'") == 5


@pytest.mark.slow
def test_brainstorm_killed_and_resumed(tmp_path, shared_data):
    root = tmp_path / "corpus"
    texts = json.loads((shared_data / "prompts" / "procedural_prompts.json").read_text())[:60]
    with Corpus.init(root) as c:
        from curator.cluster import cluster_prompts
        from curator.items import PromptRecord, Provenance, add_prompts

        with c.store.transaction() as conn:
            add_prompts(conn, [PromptRecord(t, "public", Provenance("procedural", "prompts")) for t in texts])
        clusters = sorted(cluster_prompts(c, k=6, seed=0).sizes)
        # the fake's possible proposals, embedded here once: the two command runs then find every
        # vector in the cache and need not load the encoder (20 s each on a busy 2-core machine)
        from curator.embed import embed_texts

        embed_texts(c, [f"Rewrite this {s}." for s in STYLES], progress=False)
    (root / "llm_templates").mkdir()
    packaged = (REPO / "curator" / "llm_templates" / "brainstorm.txt").read_text()
    (root / "llm_templates" / "brainstorm.txt").write_text(packaged + "\n~~vary~~\n")  # proposals differ per cluster
    args = ["brainstorm", "--clusters", ",".join(map(str, clusters)), "--concurrency", "1", "--threshold", "0.999"]
    with FakeLLM(latency=0.3) as fake:
        kill_then_resume(root, args, "brainstorm", 2, 6, fake)
    with Corpus.open(root) as c:
        answers = c.store.query("SELECT request_hash, response FROM llm_calls WHERE purpose = 'brainstorm'")
        assert len(answers) == 6 and c.store.scalar("SELECT COUNT(*) FROM llm_calls WHERE status != 'ok'") == 0
        stored = {r[0] for r in c.store.query("SELECT text FROM prompts")}
        for _, response in answers:  # every proposal of every answer was filtered and stored (none is a
            assert set(json.loads(response)["prompts"]) <= stored  # near-duplicate at threshold 0.999)
        events = [json.loads(r[0]) for r in c.store.query("SELECT summary FROM events WHERE command = 'brainstorm'")]
    assert len(events) == 1 and events[0]["llm"]["cached"] >= 2  # the resumed run replayed the journaled answers
