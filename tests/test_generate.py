"""The generation stage against a local OpenAI-compatible server (127.0.0.1 only)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from curator import Corpus
from curator import llm as llm_module
from curator.brainstorm import brainstorm
from curator.generate import GenerateOptions, PickedPrompt, generate, validate
from curator.items import PromptRecord, Provenance, add_prompts
from curator.llm import LLMConfig, RateLimiter, parse_json_object, run_sync
from curator.predict import predict
from curator.text import content_id

from fake_llm_server import FakeLLM

PRICE_LINE = '"fake" = { input = 1000.0, output = 1000.0 }\n'


@pytest.fixture
def gcorpus(tmp_path):
    c = Corpus.init(tmp_path / "corpus")
    path = c.root / "curator.toml"
    path.write_text(path.read_text().replace("[llm.prices]\n", "[llm.prices]\n" + PRICE_LINE))
    c._settings = None
    yield c
    c.close()


def picks(texts):
    return [PickedPrompt(content_id(t), t, None) for t in texts]


def cfg_for(fake, **kw):
    return LLMConfig(base_url=fake.url, model="fake", **{"timeout": 5.0, "max_retries": 2, **kw})


def test_failures_are_classified_and_limits_hold(gcorpus):
    prompts = [f"Rewrite this as a limerick number {i}." for i in range(8)] + [
        "Make it formal [[429]].", "Make it funny [[500]].", "Shorten it [[malformed]].",
        "Make it a poem [[refusal]].", "Expand it [[long]].", "Make it rhyme [[stall]]."]
    with FakeLLM(latency=0.05) as fake:
        cfg = cfg_for(fake, concurrency=3, timeout=1.0, max_retries=1)
        res = run_sync(generate(gcorpus, picks(prompts), cfg, GenerateOptions(retries=1, min_words=5)))
        assert fake.max_in_flight <= 3
    s = res.stage1
    assert res.samples_added == 10  # 8 plain + the 429 and 500 ones after a retry
    assert s.retries >= 2 + 1  # 429 (honouring Retry-After: 1), 500, stall timeout
    assert s.invalid == {"malformed": 2, "refusal": 2, "too_long": 2}  # each asked twice (1 retry, new seed)
    assert s.failed == {"timeout": 1}
    samples = gcorpus.samples()
    assert len(samples) == 10 and set(samples.status) == {"candidate"} and set(samples.origin) == {"generated"}
    meta = json.loads(samples.meta.iloc[0])
    assert {"temperature", "seed", "prompt_id", "request_hash", "cluster"} <= set(meta)
    journal = dict(gcorpus.store.query("SELECT status, COUNT(*) FROM llm_calls GROUP BY status"))
    assert journal == {"ok": 10, "invalid": 6, "failed": 1}
    assert not gcorpus.store.scalar("SELECT COUNT(*) FROM llm_calls WHERE request LIKE '%api_key%'")


def test_retry_after_is_honoured(gcorpus):
    with FakeLLM() as fake:
        t = time.monotonic()
        run_sync(generate(gcorpus, picks(["Make it formal [[429]]."]), cfg_for(fake), GenerateOptions(min_words=5)))
        assert time.monotonic() - t >= 1.0
        assert len(fake.starts) == 2 and fake.starts[1] - fake.starts[0] >= 0.95


def test_rpm_limit_is_never_exceeded(gcorpus, monkeypatch):
    monkeypatch.setattr(llm_module, "RATE_WINDOW", 1.0)  # a 1 s window keeps the test short
    with FakeLLM() as fake:
        run_sync(generate(gcorpus, picks([f"Prompt {i}." for i in range(9)]), cfg_for(fake, concurrency=8, rpm=3),
                          GenerateOptions(min_words=5)))
        starts = sorted(fake.starts)
    assert len(starts) == 9
    for i, t in enumerate(starts):
        assert sum(1 for u in starts[i:] if u - t < 0.95) <= 3
    assert starts[-1] - starts[0] >= 1.9


def test_rerun_sends_nothing_answered_and_max_cost_and_dry_run(gcorpus, tmp_path):
    with FakeLLM() as fake:
        cfg = LLMConfig.from_corpus(gcorpus, base_url=fake.url, model="fake", concurrency=1, timeout=5.0)
        assert cfg.price() == (1000.0, 1000.0)
        # each call's worst case is (≈165 in + 900 max out) tokens × $1000/M ≈ $1.07 and its real cost
        # ≈ $0.34: a $1.50 cap sends 2 (0 + 1.07, then 0.34 + 1.07) and stops before the third
        res = run_sync(generate(gcorpus, picks([f"Prompt {i}." for i in range(6)]), cfg,
                                GenerateOptions(min_words=5), max_cost=1.5))
        assert res.stage1.sent == 2 and res.stage1.not_sent_cost_cap == 4
        assert res.stage1.cost <= 1.5
        n = len(fake.starts)
        again = run_sync(generate(gcorpus, picks([f"Prompt {i}." for i in range(2)]), cfg, GenerateOptions(min_words=5)))
        assert len(fake.starts) == n and again.stage1.cached == 2  # answered: never re-sent
        f = tmp_path / "p.csv"
        f.write_text("rewrite_prompt\nA.\nB.\n")
        from click.testing import CliRunner

        from curator.cli import main

        out = CliRunner().invoke(main, ["--corpus", str(gcorpus.root), "generate", "--prompts", str(f),
                                        "--base-url", fake.url, "--model", "fake", "--dry-run", "--json"])
        plan = json.loads(out.stdout)["plan"]
        assert plan["calls"] == 2 and plan["cost_estimate"] > 0 and len(fake.starts) == n


def test_sigkill_mid_run_then_resume(tmp_path):
    root = tmp_path / "corpus"
    Corpus.init(root).close()
    f = tmp_path / "p.csv"
    f.write_text("rewrite_prompt\n" + "\n".join(f"Rewrite this as style number {i}." for i in range(24)) + "\n")
    cmd = [sys.executable, "-m", "curator.cli", "--corpus", str(root), "generate", "--prompts", str(f),
           "--model", "fake", "--concurrency", "2", "--min-words", "5"]
    env = dict(os.environ, OPENAI_API_KEY="test-key")
    with FakeLLM(latency=0.15) as fake:
        proc = subprocess.Popen(cmd + ["--base-url", fake.url], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while sum(fake.answered.values()) < 6 and time.time() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = sum(fake.answered.values())
        assert 0 < first < 24
        done = subprocess.run(cmd + ["--base-url", fake.url], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        answered = fake.answered
    assert len(answered) == 24  # every planned request answered
    # only requests in flight at the kill (at most the concurrency) can have been answered twice
    assert sum(answered.values()) - 24 <= 2
    with Corpus.open(root) as c:
        assert c.store.scalar("SELECT COUNT(*) FROM samples") == 24
        assert c.store.scalar("SELECT COUNT(DISTINCT json_extract(meta, '$.prompt_id')) FROM samples") == 24


def test_two_stage_and_json_mode_fallback(gcorpus):
    with FakeLLM(json_mode=False) as fake:
        opts = GenerateOptions(min_words=5, rewrite_model="gemma-fake", rewrite_base_url=fake.url)
        res = run_sync(generate(gcorpus, picks(["Turn this into a haiku.", "Make it formal."]), cfg_for(fake), opts))
    assert res.samples_added == 2 and res.stage2.ok == 2
    s = gcorpus.samples()
    assert set(s.model) == {"gemma-fake"} and all(t.startswith("REWRITTEN") for t in s.rewritten_text)
    assert all(o.startswith("Stage one original") for o in s.original_text)


def test_brainstorm_keeps_only_novel_prompts(gcorpus):
    from curator.cluster import cluster_prompts

    with gcorpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts")) for t in
                           ["Rewrite this as a sea shanty.", "Convert this into a pirate song.", "Make it formal.",
                            "Make this more polite."]])
    res = cluster_prompts(gcorpus, k=2, seed=0)
    with FakeLLM() as fake:
        out = run_sync(brainstorm(gcorpus, [next(iter(res.sizes))], cfg_for(fake), n=4))
    assert out["proposed"] == 4 and out["kept"] == 2  # the existing shanty and the repeated lullaby drop
    kept = set(gcorpus.prompts(origin="generated-prompt").text)
    assert kept == {"Turn this into a lullaby for robots.", "Recast this as a medieval town crier's announcement."}


def test_predict_stores_predictions(gcorpus, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\nhey there,Make this more formal.,Good day.\n")
    gcorpus.ingest(f)
    with FakeLLM() as fake:
        name, s = run_sync(predict(gcorpus, cfg_for(fake)))
        assert s.ok == 1
        _, again = run_sync(predict(gcorpus, cfg_for(fake)))
        assert again.planned == 0  # already predicted
    assert gcorpus.predictions(name).predicted_prompt.tolist() == ["Make this more formal."]


def test_validation_and_json_parsing():
    o = GenerateOptions(min_words=3, max_words=10)
    assert validate("one two three four", "five six", o) is None
    assert validate("one two three four", "One two  three four", o).startswith("unchanged")
    assert validate("As an AI I cannot do that", "x y", o).startswith("refusal")
    assert validate(" ".join(["w"] * 11), "x", o).startswith("too_long")
    assert validate(None, "x", o).startswith("missing")
    assert parse_json_object('Sure! ```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_object("__import__('os')") is None


def test_rate_limiter_tokens_per_minute():
    import asyncio

    async def run():
        rl = RateLimiter(None, 100, window=0.5)
        t = time.monotonic()
        for _ in range(3):
            await rl.acquire(60)
        return time.monotonic() - t

    assert asyncio.run(run()) >= 0.9  # 60 + 60 > 100: each acquire waits out the window
