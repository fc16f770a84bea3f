"""The mean prompt beats the medoid on real labelled prompts; it is stored and re-used; hardness
and --prefer-hard follow from it.

Sizes are small on purpose (a subsample of the labelled prompts, a short vocabulary, few rounds):
the full-size figure (≥ 1.3× on 9,205 prompts) is scripts/bench/meanprompt.py's job.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from curator import meanprompt as mp

SUBSET = 150


@pytest.fixture
def small_search(monkeypatch):
    monkeypatch.setenv("CURATOR_MEANPROMPT_ROUNDS", "2")
    monkeypatch.setenv("CURATOR_MEANPROMPT_VOCABULARY", "30")
    monkeypatch.setenv("CURATOR_MEANPROMPT_WORDS", "3")


def _labelled(shared_data, n=SUBSET) -> list[str]:
    frame = pd.read_csv(shared_data / "labelled" / "rewrite_labels_16.csv", dtype=str, keep_default_na=False)
    prompts = sorted({t.strip() for t in frame["target"] if t.strip() and t.strip() != "target"})
    rng = np.random.default_rng(0)
    return [prompts[i] for i in sorted(rng.choice(len(prompts), n, replace=False))]


def test_pure_helpers():
    assert mp.words_of("Rewrite it, as a POEM!") == ["rewrite", "it", "as", "a", "poem"]
    assert mp.join_words(["make", "it", "short"]) == "Make it short."
    assert mp.vocabulary(["a b", "b c", "b"], 2) == ["b", "a"]
    x = np.eye(3, dtype=np.float32)
    x = np.vstack([x, x[:1]])  # the first direction twice: it is the medoid
    assert mp.medoid(x)[0] == 0
    assert mp.mean_scs(x[:1], x)[0] == pytest.approx(0.5)


def test_mean_prompt_beats_the_medoid_on_labelled_prompts(cli, shared_data, tmp_path, small_search):
    prompts = _labelled(shared_data)
    pd.DataFrame({"prompt": prompts}).to_csv(tmp_path / "labelled.csv", index=False)
    cli("ingest", tmp_path / "labelled.csv", "--as", "target", "--dataset", "labelled")
    res = cli("mean-prompt", "--target", "labelled", "--metric-model", "default", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["set_size"] == SUBSET and data["metric_model"] == "all-MiniLM-L6-v2"
    assert data["medoid"] in prompts
    assert data["score"] > data["medoid_score"] * 1.05, data  # measurably better than the best member
    assert data["ratio"] == pytest.approx(data["score"] / data["medoid_score"], rel=1e-3)
    assert [h["round"] for h in data["history"]] == list(range(data["rounds"] + 1))
    scores = [h["score"] for h in data["history"]]
    assert scores == sorted(scores) and 1 <= data["rounds"] <= 2

    # the score is what it says: the competition formula (score.scs) over the set
    from curator import Corpus, embed
    from curator.score import scs

    corpus = Corpus.open(cli.root)
    again = scs([data["prompt"]] * len(prompts), prompts, model="default", corpus=corpus).mean()
    assert again == pytest.approx(data["score"], abs=2e-3)

    # stored: a re-use finds it without encoding anything; hardness = 1 - SCS to it
    before = dict(embed.ENCODE_CALLS)
    found = corpus.mean_prompt(target="labelled", metric_model="default", reuse=True)
    assert found.reused and found.prompt == data["prompt"] and embed.ENCODE_CALLS == before
    h = mp.hardness(corpus, prompts, found.prompt, "default")
    assert 1 - h.mean() == pytest.approx(data["score"], abs=2e-3)
    assert h.min() >= 0 and h.max() <= 2

    # human readable output names prompt, scores and time
    res = cli("mean-prompt", "--target", "labelled", "--metric-model", "default", "--rounds", "0")
    assert res.exit_code == 0 and "mean SCS" in res.stderr and "medoid" in res.stderr and " s" in res.stderr


def test_mean_prompt_errors(cli):
    res = cli("mean-prompt", "--dataset", "a", "--target", "b")
    assert res.exit_code == 2 and "not both" in res.stderr
    res = cli("mean-prompt", "--target", "nope", "--metric-model", "default")
    assert res.exit_code == 2 and "no target dataset" in res.stderr
    res = cli("mean-prompt", "--metric-model", "default")
    assert res.exit_code == 2 and "no prompts" in res.stderr


def test_prefer_hard_promotes_the_hardest_good_samples(cli, tmp_path, small_search):
    """Examples scored with the proxy; --prefer-hard --top 5 takes the five samples whose prompts
    are furthest from the target set's mean prompt, not the five best-scoring ones."""
    from curator import Corpus
    from tests.conftest import REPO

    examples = REPO / "curator" / "seed" / "examples"
    cli("ingest", examples / "examples.jsonl", "--dataset", "examples", "--predictor", "handmade")
    cli("ingest", examples / "target.csv", "--as", "target", "--dataset", "target")
    cli("score", "--metric-model", "default")
    res = cli("promote", "--top", "5", "--prefer-hard", "--metric-model", "default", "--json")
    assert res.exit_code == 0, res.output
    assert _sp(json.loads(res.stdout)) == {"selected": 5, "promoted": 5}
    corpus = Corpus.open(cli.root)
    samples = corpus.samples()
    found = corpus.mean_prompt(metric_model="default", reuse=True)
    assert found.reused and found.set_name == "target:*"
    h = dict(zip(samples["id"], mp.hardness(corpus, samples["rewrite_prompt"].tolist(), found.prompt, "default")))
    promoted = set(samples.loc[samples["status"] == "train", "id"])
    hardest = set(sorted(h, key=lambda i: -h[i])[:5])
    assert promoted == hardest
    # idempotent like promote --top: the same five, nothing changes
    res = cli("promote", "--top", "5", "--prefer-hard", "--metric-model", "default", "--json")
    assert _sp(json.loads(res.stdout)) == {"selected": 5, "promoted": 0}
    reasons = [d["reason"] for d in __import__("curator.review", fromlist=["decisions"]).decisions(corpus)]
    assert all("hardest first" in r for r in reasons)


def _sp(result: dict) -> dict:
    """selected/promoted of a promote result (it also reports what it held back, tested in test_trust.py)."""
    assert result["held_back"] == 0
    return {k: result[k] for k in ("selected", "promoted")}
