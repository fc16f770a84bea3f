"""predict → score → promote through the CLI, against a local OpenAI-compatible server (127.0.0.1)."""

import json
import sys
from pathlib import Path

import pandas as pd

from curator import Corpus

sys.path.insert(0, str(Path(__file__).parent))
from fake_llm_server import FakeLLM  # noqa: E402


def test_llm_predictions_are_scored_and_promoted(cli, tmp_path):
    """The fake model answers 'Make this more formal.' to every recovery request, so the sample
    whose true prompt is exactly that must score 1.0 and be the one promoted; a malformed answer
    stores nothing; the user's edited template is the one sent; a re-run sends nothing."""
    f = tmp_path / "s.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\n"
                 "hey there,Make this more formal.,Good day to you.\n"
                 "the cat sat,Rewrite this as a haiku.,cat sits / on the mat\n"
                 "~~malformed~~ note,Shorten this.,note\n")
    assert cli("ingest", f).exit_code == 0
    templates = cli.root / "llm_templates"
    templates.mkdir()
    (templates / "predict.txt").write_text(
        "MY EDITED TEMPLATE. Compare the texts, then reply with JSON {\"prompt\": \"...\"}.\n"
        "Original: $original_text\nRewritten: $rewritten_text\n")
    with FakeLLM() as fake:
        args = ["predict", "--base-url", fake.url, "--model", "fake", "--max-retries", "0", "--retries", "1", "--json"]
        run1, run2 = cli(*args), cli(*args)
        first, again = json.loads(run1.stdout), json.loads(run2.stdout)
    # the malformed answer is asked once more with a new seed, then counted as failed for good: exit 1
    assert first["predictor"] == "llm:fake" and first["predictions_added"] == 2
    assert first["ok"] == 4 and first["invalid"] == {"malformed": 2} and first["unresolved"] == 1
    assert run1.exit_code == 1 and "predict: 1 of 3 got no valid answer (malformed 1)" in run1.stderr
    # the re-run plans only the sample still without a prediction, and finds both answers in the journal
    assert again["items"] == 1 and again["cached"] == 2 and again["sent"] == 0 and run2.exit_code == 1
    with Corpus.open(cli.root) as c:
        assert c.predictions("llm:fake").predicted_prompt.tolist() == ["Make this more formal."] * 2
        sent = [json.loads(r[0]) for r in c.store.query("SELECT request FROM llm_calls WHERE purpose = 'predict'")]
        assert sent and all("MY EDITED TEMPLATE" in m["content"] for r in sent for m in r["messages"])

    out = json.loads(cli("score", "--predictor", "llm:fake", "--metric-model", "default", "--json").stdout)
    assert out["n"] == 2 and out["scored_now"] == 2 and out["metric_model"] == "all-MiniLM-L6-v2"
    assert out["best"][0]["truth"] == "Make this more formal." and abs(out["best"][0]["score"] - 1.0) < 1e-5
    assert out["worst"][0]["truth"] == "Rewrite this as a haiku." and out["worst"][0]["score"] < 0.3
    assert _sp(json.loads(cli("promote", "--top", "1", "--json").stdout)) == {"selected": 1, "promoted": 1}
    cli("export", "--out", tmp_path / "train.csv")
    train = pd.read_csv(tmp_path / "train.csv")
    assert train.rewrite_prompt.tolist() == ["Make this more formal."]


def _sp(result: dict) -> dict:
    """selected/promoted of a promote result (it also reports what it held back, tested in test_trust.py)."""
    assert result["held_back"] == 0
    return {k: result[k] for k in ("selected", "promoted")}
