"""The generation stage against a local OpenAI-compatible server (127.0.0.1 only), through the library."""

import asyncio
import json
import time

import pytest

from curator import Corpus
from curator.brainstorm import brainstorm
from curator.errors import CuratorError, RemoteError
from curator.generate import GenerateOptions, PickedPrompt, generate, validate
from curator.items import PromptRecord, Provenance, add_prompts
from curator.llm import RateLimiter, parse_json_object, runner
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


def llm(fake, **kw):
    return {"base_url": fake.url, "model": "fake", "timeout": 5.0, "max_retries": 2, **kw}


def gen(corpus, fake, texts, **kw):
    kw = {"min_words": 5, **kw}
    return generate(corpus, picks=picks(texts), **llm(fake, **{k: v for k, v in kw.items() if k in LLM}),
                    **{k: v for k, v in kw.items() if k not in LLM})


LLM = {"concurrency", "timeout", "max_retries", "rpm", "tpm", "base_url", "model", "price_in", "price_out"}


def test_failures_are_classified_and_limits_hold(gcorpus):
    prompts = [f"Rewrite this as a limerick number {i}." for i in range(8)] + [
        "Make it formal ~~429~~.", "Make it funny ~~500~~.", "Shorten it ~~malformed~~.",
        "Make it a poem ~~refusal~~.", "Expand it ~~long~~.", "Make it rhyme ~~stall~~."]
    with FakeLLM(latency=0.05) as fake:
        res = gen(gcorpus, fake, prompts, concurrency=3, timeout=1.0, max_retries=1, retries=1)
        assert fake.max_in_flight <= 3
    s = res.stage1
    assert res.samples_added == 10  # 8 plain + the 429 and 500 ones after a retry
    assert s.retries >= 2 + 1  # 429 (honouring Retry-After: 1), 500, stall timeout
    assert s.invalid == {"malformed": 2, "refusal": 2, "too_long": 2}  # each asked twice (1 retry, new seed)
    assert s.failed == {"timeout": 1}
    assert len(s.unresolved) == 4 and s.done == 10
    with pytest.raises(RemoteError, match=r"generate: 4 of 14 got no valid answer \(.*malformed 1.*timeout 1"):
        res.check()
    samples = gcorpus.samples()
    assert len(samples) == 10 and set(samples.status) == {"candidate"} and set(samples.origin) == {"generated"}
    meta = json.loads(samples.meta.iloc[0])
    assert {"temperature", "seed", "prompt_id", "request_hash", "cluster"} <= set(meta)
    journal = dict(gcorpus.store.query("SELECT status, COUNT(*) FROM llm_calls GROUP BY status"))
    assert journal == {"ok": 10, "invalid": 6, "failed": 1}
    assert not gcorpus.store.scalar("SELECT COUNT(*) FROM llm_calls WHERE request LIKE '%api_key%'")
    assert gcorpus.store.scalar("SELECT COUNT(*) FROM events WHERE command = 'generate'") == 1


def test_retry_after_is_honoured(gcorpus):
    with FakeLLM() as fake:
        t = time.monotonic()
        gen(gcorpus, fake, ["Make it formal ~~429~~."])
        assert time.monotonic() - t >= 1.0
        assert len(fake.starts) == 2 and fake.starts[1] - fake.starts[0] >= 0.95


def test_rpm_limit_is_never_exceeded(gcorpus, monkeypatch):
    monkeypatch.setattr(runner, "RATE_WINDOW", 1.0)  # a 1 s window keeps the test short
    with FakeLLM() as fake:
        gen(gcorpus, fake, [f"Prompt {i}." for i in range(9)], concurrency=8, rpm=3)
        starts = sorted(fake.starts)
    assert len(starts) == 9
    for i, t in enumerate(starts):
        assert sum(1 for u in starts[i:] if u - t < 0.95) <= 3
    assert starts[-1] - starts[0] >= 1.9


def test_rerun_sends_nothing_answered_and_max_cost_and_dry_run(gcorpus):
    with FakeLLM() as fake:
        # each call's worst case is (≈165 in + 900 max out) tokens × $1000/M ≈ $1.07 and its real cost
        # ≈ $0.34: a $1.50 cap sends 2 (0 + 1.07, then 0.34 + 1.07) and stops before the third
        res = gen(gcorpus, fake, [f"Prompt {i}." for i in range(6)], concurrency=1, max_cost=1.5)
        assert res.stage1.sent == 2 and res.stage1.not_sent_cost_cap == 4
        assert res.stage1.cost <= 1.5
        res.check()  # a cap the user set is not a remote failure
        n = len(fake.starts)
        again = gen(gcorpus, fake, [f"Prompt {i}." for i in range(2)], concurrency=1)
        assert len(fake.starts) == n and again.stage1.cached == 2 and again.stage1.sent == 0  # never re-sent
        plan = gen(gcorpus, fake, ["A.", "B."], dry_run=True).plan
        assert plan["calls"] == 2 and plan["cost_estimate"] > 0 and len(fake.starts) == n
        # an unknown price with a cap refuses to start; a price given by the caller is used
        with pytest.raises(CuratorError, match="price of model 'nopriced' is unknown"):
            gen(gcorpus, fake, ["C."], model="nopriced", max_cost=1.0)
        assert len(fake.starts) == n
        priced = gen(gcorpus, fake, ["C."], model="nopriced", max_cost=1.0, price_in=1.0, price_out=2.0)
        assert priced.stage1.ok == 1 and 0 < priced.stage1.cost < 0.01


def test_invalid_answers_journaled_earlier_are_retried_on_rerun(gcorpus):
    """The bug of the first version: an answer journaled as invalid was never asked again, so a
    re-run could not give its prompt a sample. Now the re-run replays it and asks with a new seed."""
    texts = [f"Make it sound like a pirate number {i}." for i in range(4)] + [f"Shorten it {i} ~~flaky~~." for i in
                                                                               range(3)]
    with FakeLLM() as fake:
        first = gen(gcorpus, fake, texts, retries=0)
        assert first.stage1.invalid == {"malformed": 3} and len(first.stage1.unresolved) == 3
        with pytest.raises(RemoteError, match="3 of 7 got no valid answer"):
            first.check()
        sent_first = fake.requests
        second = gen(gcorpus, fake, texts, retries=1)
        assert fake.requests - sent_first == 3  # only the new-seed retries; journaled answers are replayed
        assert second.stage1.cached == 7 and second.stage1.done == 7 and not second.stage1.unresolved
        # the seed follows the prompt, not its place in the list: another order replays, sends nothing
        third = gen(gcorpus, fake, texts[::-1], retries=1)
        assert fake.requests - sent_first == 3 and third.stage1.cached == 10 and third.stage1.stored == 0
    per_prompt = dict(gcorpus.store.query("SELECT json_extract(meta, '$.prompt_id'), COUNT(*) FROM samples GROUP BY 1"))
    assert per_prompt == {content_id(t): 1 for t in texts}


def test_two_stage_json_mode_fallback_and_resume(gcorpus):
    with FakeLLM(json_mode=False) as fake:
        res = gen(gcorpus, fake, ["Turn this into a haiku.", "Make it formal."], rewrite_model="gemma-fake",
                  rewrite_base_url=fake.url)
        assert res.samples_added == 2 and res.stage2.ok == 2
        n = fake.requests
        again = gen(gcorpus, fake, ["Turn this into a haiku.", "Make it formal."], rewrite_model="gemma-fake",
                    rewrite_base_url=fake.url)
        # stage-1 originals come back from the journal and feed stage 2, which is journaled too
        assert fake.requests == n and again.stage1.cached == 2 and again.stage2.cached == 2
    s = gcorpus.samples()
    assert len(s) == 2 and set(s.model) == {"gemma-fake"} and all(t.startswith("REWRITTEN") for t in s.rewritten_text)
    assert all(o.startswith("Stage one original") for o in s.original_text)


def test_brainstorm_keeps_only_novel_prompts(gcorpus):
    from curator.cluster import cluster_prompts

    with gcorpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts")) for t in
                           ["Rewrite this as a sea shanty.", "Convert this into a pirate song.", "Make it formal.",
                            "Make this more polite."]])
    res = cluster_prompts(gcorpus, k=2, seed=0)
    with FakeLLM() as fake:
        out = brainstorm(gcorpus, clusters=[next(iter(res.sizes))], n=4, **llm(fake))
        again = brainstorm(gcorpus, clusters=[next(iter(res.sizes))], n=4, **llm(fake))
        assert fake.requests == 1  # the re-run replays the journaled answer
    assert out.proposed == 4 and out.kept == 2 and out.new == 2  # the existing shanty and the repeated lullaby drop
    assert again.kept == 2 and again.new == 0  # the same two, already stored: nothing twice
    kept = set(gcorpus.prompts(origin="generated-prompt").text)
    assert kept == {"Turn this into a lullaby for robots.", "Recast this as a medieval town crier's announcement."}


def test_predict_stores_predictions_and_works_inside_a_running_event_loop(gcorpus, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("original_text,rewrite_prompt,rewritten_text\nhey there,Make this more formal.,Good day.\n"
                 "see you,Make it polite.,Farewell.\n")
    gcorpus.ingest(f)

    async def notebook_cell():  # Jupyter runs cells inside an event loop: asyncio.run() would refuse
        asyncio.get_running_loop()
        return gcorpus.predict(**llm(fake))

    with FakeLLM() as fake:
        s = asyncio.run(notebook_cell())
        assert s.llm.ok == 2 and s.llm.stored == 2
        again = gcorpus.predict(**llm(fake))
        assert again.llm.items == 0 and fake.requests == 2  # already predicted
    assert gcorpus.predictions(s.predictor).predicted_prompt.tolist() == ["Make this more formal."] * 2


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


def test_interrupt_inside_a_running_event_loop_cancels_the_run_and_keeps_answers(gcorpus):
    """A notebook's interrupt lands in the caller's thread while the run works in its own: the run
    is cancelled (not left running behind the user's back) and what was answered is committed."""
    import signal
    import threading

    async def notebook_cell():
        return gcorpus.generate(picks=picks([f"Make it style {i}." for i in range(40)]), min_words=5,
                                **llm(fake, concurrency=2))

    with FakeLLM(latency=0.1) as fake:
        main = threading.main_thread().ident  # Ctrl-C: SIGINT to the main thread, blocked in the run's join
        threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT)).start()
        loop = asyncio.new_event_loop()  # like ipykernel's: no asyncio.run SIGINT handler, Ctrl-C raises
        try:
            with pytest.raises(KeyboardInterrupt):
                loop.run_until_complete(notebook_cell())
        finally:
            loop.close()
        sent = fake.requests
        time.sleep(0.5)
        assert fake.requests == sent  # nothing runs on after the interrupt
    assert not [t for t in threading.enumerate() if t.name == "curator-llm"]
    answered = gcorpus.store.scalar("SELECT COUNT(*) FROM llm_calls WHERE status = 'ok'")
    assert 0 < answered < 40 and gcorpus.store.scalar("SELECT COUNT(*) FROM samples") == answered
