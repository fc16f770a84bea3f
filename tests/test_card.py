"""The dataset card: its figures make sense on real data, the JSON is stable, the HTML is escaped.

The real-data test builds two corpora against the same target (real competition prompts from
the public Gemma samples): one whose training prompts are drawn from the target's own
distribution (other prompts of the same file), one holding the awesome-ChatGPT role prompts.
The first must be measurably closer (Fréchet interval entirely below), with higher recall,
precision and coverage; the second's prompt lengths must differ (KS).
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from curator import cardmath as cm

N = 100  # prompts per side: enough for stable figures, ~300 encodings in all


# -- the pure figures ------------------------------------------------------------------------------
def _cloud(rng, n, shift=0.0, d=16):
    x = rng.normal(size=(n, d))
    x[:, 0] += shift
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_frechet_is_zero_for_one_cloud_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = _cloud(rng, 400), _cloud(rng, 400)
    assert cm.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    near, far = cm.frechet_distance(a, b), cm.frechet_distance(a, _cloud(rng, 400, shift=3))
    assert far > 5 * near
    value, lo, hi = cm.frechet_bootstrap(a, _cloud(rng, 400, shift=3), rounds=20)
    assert lo <= value <= hi and hi - lo < value


def _cap(rng, n, sign=1.0, d=4, spread=0.3):
    x = rng.normal(scale=spread, size=(n, d))
    x[:, 0] += sign
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_knn_precision_recall_tell_a_subset_from_a_stranger():
    rng = np.random.default_rng(1)
    target = _cap(rng, 300)
    part = target[target[:, 1] > 0.1]  # training covers a part of the target
    p, r = cm.knn_precision_recall(part, target, k=3)
    assert p == 1.0  # every training point is a target point
    assert len(part) / len(target) <= r < 0.75
    p2, r2 = cm.knn_precision_recall(_cap(rng, 300, sign=-1.0), target, k=3)  # the opposite cap
    assert p2 < 0.02 and r2 < 0.02
    p3, r3 = cm.knn_precision_recall(_cap(rng, 300), target, k=3)  # same distribution
    assert p3 > 0.6 and r3 > 0.6


def _reference_bootstrap(a, b, rounds, seed, level=0.95):
    """The bootstrap as first written: resampled rows copied, float64 covariances, Σ₁^½ Σ₂ Σ₁^½."""
    def stats(x):
        x = np.asarray(x, dtype=np.float64)
        return x.mean(0), np.cov(x, rowvar=False)

    def fd(x, y):
        (m1, s1), (m2, s2) = stats(x), stats(y)
        r = cm._sqrt_psd(s1)
        tr = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s2 @ r), 0, None)).sum()
        return max(float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr), 0.0)

    rng = np.random.default_rng(seed)
    value = fd(a, b)
    draws = [fd(a[rng.integers(0, len(a), len(a))], b[rng.integers(0, len(b), len(b))]) for _ in range(rounds)]
    lo, hi = np.percentile(draws, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    mid = float(np.median(draws))
    return value, max(value - (mid - float(lo)), 0.0), value + (float(hi) - mid)


@pytest.mark.parametrize("shift", [0.0, 0.3, 3.0])
def test_the_weighted_float32_bootstrap_equals_resampling_rows(shift):
    """Row counts + float32 moments + the Cholesky trace: the same interval as copying the
    resampled rows in float64 (same draws: the counts are the bincount of the same indices)."""
    rng = np.random.default_rng(7)
    a, b = _cloud(rng, 600, d=48), _cloud(rng, 500, shift=shift, d=48)
    got = cm.frechet_bootstrap(a, b, rounds=25, seed=3)
    want = _reference_bootstrap(a, b, rounds=25, seed=3)
    assert got == pytest.approx(want, rel=2e-5, abs=1e-7)


def test_the_trace_term_survives_a_singular_covariance():
    rng = np.random.default_rng(2)
    low_rank = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 8))  # covariance of rank 3 in 8-D
    s1, s2 = np.cov(low_rank, rowvar=False), np.cov(rng.normal(size=(200, 8)), rowvar=False)
    r = cm._sqrt_psd(s1)
    want = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s2 @ r), 0, None)).sum()
    assert cm._trace_sqrt_product(s1, s2) == pytest.approx(want, rel=1e-6)
    assert cm._trace_sqrt_product(s2, s2) == pytest.approx(np.trace(s2), rel=1e-9)


@pytest.mark.parametrize("n1, n2, shift", [(30, 40, 0), (30, 40, 3), (200, 150, 1), (5000, 3000, 0.3),
                                           (50000, 12500, 0.1)])
def test_ks_without_scipy_stats_agrees_with_ks_2samp(n1, n2, shift):
    """Word counts are integers with many ties: the statistic must be ks_2samp's exactly, the
    asymptotic p-value close to its (exact or asymptotic) one."""
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(n1 + n2)
    a, b = rng.poisson(12, n1), rng.poisson(12 + shift, n2)
    want, got = ks_2samp(a, b), cm.ks_distance(a.tolist(), b.tolist())
    assert got["statistic"] == round(float(want.statistic), 4)
    assert got["pvalue"] == pytest.approx(want.pvalue, rel=0.06, abs=0.015)


def test_one_pass_precision_recall_equals_two_manifold_tests():
    rng = np.random.default_rng(4)
    training, target = _cap(rng, 2500, d=6), _cap(rng, 2300, d=6, spread=0.5)
    want = (float(cm.inside_manifold(training, target, 3).mean()), float(cm.inside_manifold(target, training, 3).mean()))
    assert cm.knn_precision_recall(training, target, 3) == want
    assert 0.2 < want[0] < 1 and 0.2 < want[1] < 1


@pytest.mark.parametrize("text, n", [
    ("Rewrite this memo in a humorous tone and keep it under 50 words.", 2),
    ("Turn this into a letter to a friend and family.", 1),
    ("Please make it formal, then add a title, and translate it into French.", 3),
    ("Make the text into a home improvement expert's tips for a bathroom remodel", 1),
    ("I want you to act as a linux terminal.", 1),
    ("", 0),
])
def test_instruction_count(text, n):
    assert cm.instruction_count(text) == n


def test_length_profile_and_ks():
    prof = cm.length_profile([10, 20, 30, 250, 300], limit=200)
    assert prof["n"] == 5 and prof["p50"] == 30 and prof["max"] == 300 and prof["over_limit"] == 0.4
    assert cm.ks_distance([1, 2, 3] * 20, [1, 2, 3] * 20)["statistic"] == 0
    assert cm.ks_distance(list(range(10)) * 5, list(range(50, 60)) * 5)["statistic"] == 1
    assert cm.length_profile([])["mean"] is None and cm.ks_distance([], [1])["statistic"] is None


# -- real data ------------------------------------------------------------------------------------
def _write(path, prompts):
    pd.DataFrame({"prompt": prompts}).to_csv(path, index=False)
    return path


def _copy_embeddings(src, dst):
    """Share the target's embeddings between the two corpora (the test pays for them once)."""
    with sqlite3.connect(dst.root / "curator.db") as conn:
        conn.execute("ATTACH DATABASE ? AS other", (str(src.root / "curator.db"),))
        conn.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM other.embeddings")
        conn.commit()
        conn.execute("DETACH DATABASE other")


def test_card_in_distribution_set_is_closer_than_role_prompts(shared_data, tmp_path):
    from curator import Corpus

    gemma = pd.read_csv(shared_data / "public" / "gemma_mix_with_predictions.csv")
    prompts = sorted(set(gemma["gt_rewrite_prompt"].dropna().str.strip()))
    rng = np.random.default_rng(0)
    rng.shuffle(prompts)
    target, own = prompts[:N], prompts[N:2 * N]
    roles = pd.read_csv(shared_data / "prompts" / "awesome_chatgpt_prompts.csv")["prompt"].dropna().tolist()
    roles = [roles[i] for i in sorted(rng.choice(len(roles), N, replace=False))]
    target_file = _write(tmp_path / "target.csv", target)

    cards = {}
    first = None
    for name, training in (("own", own), ("roles", roles)):
        corpus = Corpus.init(tmp_path / name)
        corpus.ingest(target_file, role="target", dataset="test")
        corpus.ingest(_write(tmp_path / f"{name}.csv", training), dataset=name)
        if first is not None:
            _copy_embeddings(first, corpus)
        cards[name] = corpus.card(target="test", difficulty=False, bootstrap=20).as_dict()
        first = first or corpus
    own_c, roles_c = cards["own"], cards["roles"]
    assert own_c["counts"]["training"]["prompts"] == N and own_c["counts"]["target"]["prompts"] == N
    # measurably closer: the whole interval below the other's
    assert own_c["distance"]["ci95"][1] < roles_c["distance"]["ci95"][0], (own_c["distance"], roles_c["distance"])
    assert own_c["recall"]["value"] > roles_c["recall"]["value"] + 0.3
    assert own_c["precision"]["value"] > roles_c["precision"]["value"] + 0.3
    assert own_c["coverage"]["thresholds"]["0.7"] > roles_c["coverage"]["thresholds"]["0.7"]
    assert own_c["coverage"]["mean_best_cosine"] > roles_c["coverage"]["mean_best_cosine"] + 0.1
    # role prompts run to ~80 words, rewrite prompts to ~10
    assert roles_c["lengths"]["prompt"]["ks"]["statistic"] > 0.8 > own_c["lengths"]["prompt"]["ks"]["statistic"] + 0.5
    assert own_c["diversity"]["training"]["vendi"] > 1


# -- the CLI: JSON keys, HTML, difficulty -----------------------------------------------------------
JSON_KEYS = {"card_version", "target", "basis", "embed_model", "counts", "lengths", "distance", "precision",
             "recall", "coverage", "diversity", "difficulty"}


def test_card_cli_json_html_and_difficulty(cli, tmp_path, monkeypatch):
    from tests.conftest import REPO

    monkeypatch.setenv("CURATOR_MEANPROMPT_ROUNDS", "1")
    monkeypatch.setenv("CURATOR_MEANPROMPT_VOCABULARY", "30")
    monkeypatch.setenv("CURATOR_MEANPROMPT_WORDS", "2")
    examples = REPO / "curator" / "seed" / "examples"
    cli("ingest", examples / "examples.jsonl", "--dataset", "examples", "--predictor", "handmade")
    # a prompt with markup, to prove the HTML escapes it
    _write(tmp_path / "t.csv", ["Rewrite this as a <script>alert(1)</script> poem.",
                                *pd.read_csv(examples / "target.csv")["rewrite_prompt"].tolist()])
    cli("ingest", tmp_path / "t.csv", "--as", "target", "--dataset", "target")
    cli("score", "--metric-model", "default")
    cli("cluster", "--k", "4")
    out = tmp_path / "card.html"
    res = cli("card", "--target", "target", "--metric-model", "default", "--json", "--html", out)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == JSON_KEYS
    for key in ("distance", "precision", "recall"):
        assert isinstance(data[key]["value"], float) and data[key]["method"]
    d = data["difficulty"]
    assert d["metric_model"] == "all-MiniLM-L6-v2" and d["mean_prompt"]
    assert 0 < d["mean_prompt_score"]["target"] < 1
    assert set(d["predictors"]) == {"handmade"} and d["predictors"]["handmade"]["n"] == 32
    assert d["clusters"] and all(0 <= (r["hardness_target"] or 0) <= 2 for r in d["clusters"])
    assert sum(r["target_prompts"] for r in d["clusters"]) == data["counts"]["target"]["prompts"]
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page and "https://" not in page  # self-contained
    assert "Dataset card" in page and "Fréchet distance" in page and d["mean_prompt"].split()[0] in page
    from curator.cardhtml import render_card_section

    data["difficulty"]["clusters"][0]["label"] = "<script>alert(1)</script> & co"
    data["difficulty"]["mean_prompt"] = "Rewrite <b>this</b>."
    fragment = render_card_section(data)
    assert fragment.startswith("<section") and "<script" not in fragment and "<b>this" not in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in fragment and "&lt;b&gt;this" in fragment
    # the terminal card names each figure's method; the stored mean prompt is re-used
    res = cli("card", "--target", "target", "--metric-model", "default")
    assert res.exit_code == 0 and "how: Frechet distance" in res.stderr and "hardness per cluster" in res.stderr
    # the same per-cluster hardness for the coverage table, from the stored mean prompt
    from curator import Corpus, embed
    from curator.meanprompt import hardness_by_cluster

    before = dict(embed.ENCODE_CALLS)
    frame = hardness_by_cluster(Corpus.open(cli.root), target="target", metric_model="default")
    assert embed.ENCODE_CALLS == before  # everything cached, the mean prompt re-used
    assert list(frame.columns) == ["cluster", "label", "training_prompts", "target_prompts",
                                   "hardness_training", "hardness_target"]
    assert frame["target_prompts"].sum() == data["counts"]["target"]["prompts"]
    by_cluster = {r["cluster"]: r["hardness_target"] for r in d["clusters"] if r["hardness_target"] is not None}
    assert {int(c): h for c, h in zip(frame["cluster"], frame["hardness_target"]) if h == h} == by_cluster
    # the competition's metric model is not available here: the card says so and shows the rest
    res = cli("card", "--target", "target", "--json")
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and "sentence-t5-base" in data["difficulty"]["error"]
    assert "--metric-model" in data["difficulty"]["error"] and data["recall"]["value"] > 0


def test_card_says_what_is_missing(cli):
    res = cli("card")
    assert res.exit_code == 2 and "no target prompts" in res.stderr
    res = cli("card", "--target", "nope")
    assert res.exit_code == 2 and "no target dataset" in res.stderr


def test_coverage_report_carries_the_card_section(tmp_path):
    """`curator coverage --html` / Corpus.report: the explorer and, inserted after it, the card."""
    from curator.workspace import Corpus

    from pathlib import Path

    seed = Path(__file__).resolve().parents[1] / "curator" / "seed" / "examples"
    with Corpus.init(tmp_path / "c") as c:
        c.ingest(seed / "examples.jsonl", origin="seed")
        c.ingest(seed / "target.csv", role="target", dataset="target")
        c.embed()
        c.cluster(k=4)
        html = c.report(tmp_path / "r.html", target="target").read_text(encoding="utf-8")
    assert '<section class="card">' in html and "Dataset card" in html
    assert "recall" in html and "<script>alert" not in html



def test_training_side_of_prompts_is_every_canonical_non_target_prompt(tmp_path):
    """The card's training side (basis ``prompts``) is built from the provenance scan and texts
    coverage shares; it must be what the SQL definition says: canonical prompts seen with a
    non-target role, whatever else they were seen as, and no duplicate."""
    from curator.items import PromptRecord, Provenance, add_prompts
    from curator.queries import prompt_roles
    from curator.sides import training_prompts
    from curator.workspace import Corpus

    with Corpus.init(tmp_path / "c") as c:
        def add(texts, role, dataset):
            with c.store.transaction() as conn:
                add_prompts(conn, [PromptRecord(t, "public", Provenance(dataset, role, row=i))
                                   for i, t in enumerate(texts)])

        add(["Rewrite this as a sea shanty.", "Make it formal.", "Turn it into a haiku."], "prompts", "train")
        add(["Make it formal.", "Explain it to a child."], "target", "test")  # one both, one target only
        add(["Write it as a limerick."], "prompts", "lists")
        dup, rep = (c.store.scalar("SELECT id FROM prompts WHERE text = ?", (t,))
                    for t in ("Turn it into a haiku.", "Rewrite this as a sea shanty."))
        with c.store.transaction() as conn:
            conn.execute("UPDATE prompts SET duplicate_of = ? WHERE id = ?", (rep, dup))
        expected = dict(c.store.rows(
            "SELECT p.id, p.text FROM prompts p WHERE p.duplicate_of IS NULL AND EXISTS (SELECT 1 FROM provenance v "
            "WHERE v.item_id = p.id AND v.item_kind = 'prompt' AND v.role != 'target') ORDER BY p.id"))
        side = training_prompts(c, "prompts")
        assert side == expected and list(side) == sorted(side)
        assert set(side.values()) == {"Rewrite this as a sea shanty.", "Make it formal.", "Write it as a limerick."}
        training, targets = prompt_roles(c)
        assert set(targets) == {"test"} and len(targets["test"]) == 2 and dup in training
        add(["Say it in pirate speak."], "prompts", "later")  # a write: the shared reads are read again
        assert "Say it in pirate speak." in training_prompts(c, "prompts").values()
