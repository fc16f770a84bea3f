"""Coverage you can trust (issue 14): supported gaps with intervals, the far list, the basis named,
named clusterings, the cluster/similarity listings, and the held-out-category measurement."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from curator.cluster import assignments, cluster_prompts
from curator.coverage import compute_coverage, share_interval
from curator.items import PromptRecord, Provenance, add_prompts
from curator.text import content_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

TRAIN = [f"Translate this {t} into {lang}." for t in ("email", "memo", "poem", "story", "letter")
         for lang in ("French", "German", "Spanish", "Italian")] + \
        [f"Make this {t} more {q}." for t in ("email", "memo", "poem", "story", "letter")
         for q in ("formal", "polite", "concise", "friendly")]
SHANTY = ["Convert this into a sea shanty.", "Rewrite this as a sea shanty sung by sailors.",
          "Turn this into a pirate sea shanty.", "Make this a sea shanty about whales."]


def _add(corpus, texts, role="prompts", dataset="d"):
    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance(dataset, role, row=i)) for i, t in enumerate(texts)])


def test_share_interval_is_a_jeffreys_interval():
    lo, hi = share_interval(np.array([0, 1, 10]), 40, 0.9)
    assert lo[0] == 0 and 0 < hi[0] < 0.07          # 0 of 40: could still be a few percent
    assert lo[1] < 0.025 < hi[1] and hi[1] < 0.13     # 1 of 40 = 2.5 %, but wide
    assert lo[2] < 0.25 < hi[2] and hi[2] - lo[2] < 0.25


def test_one_target_prompt_is_not_a_gap_and_counts_sit_beside_shares(corpus):
    _add(corpus, TRAIN, dataset="train")
    _add(corpus, SHANTY + ["Translate this email into French, please."], role="target", dataset="test")
    _add(corpus, ["Write this as a recipe for bread."], role="target", dataset="single")
    cluster_prompts(corpus, k=3, seed=0)
    cov = compute_coverage(corpus, target="test")
    shanty = assignments(corpus)[content_id(SHANTY[0])]
    assert cov.gaps == [shanty]
    row = cov.clusters.set_index("cluster").loc[shanty]
    assert row.target_prompts == 4 and row.train == 0 and row.gap_low > 0
    assert cov.basis == "prompts" and (cov.clusters["basis"] == "prompts").all()
    assert (cov.clusters["train"] == cov.clusters["prompts"]).all()
    assert cov.clusters["train"].sum() == len(TRAIN)
    # a single target prompt, alone in its kind, does not make a gap (min_target 3) …
    single = compute_coverage(corpus, target="single")
    assert single.gaps == []
    # … though it is reported as far from every training prompt
    assert [f["text"] for f in single.far] == ["Write this as a recipe for bread."]
    assert single.far[0]["nearest_cosine"] < 0.45 and single.far[0]["nearest_training"] in TRAIN
    loose = compute_coverage(corpus, target="single", min_target=1)
    assert len(loose.gaps) <= 1  # with support 1 it may pass; the interval still has to clear training


def test_far_target_in_a_covered_cluster_is_listed(corpus):
    _add(corpus, TRAIN, dataset="train")
    far_one = "Encode this message with a Caesar cipher."
    _add(corpus, ["Translate this memo into German.", far_one], role="target", dataset="test")
    cluster_prompts(corpus, k=2, seed=0)
    cov = compute_coverage(corpus, target="test")
    assert cov.gaps == []  # two target prompts: no cluster has support
    far = {f["text"]: f for f in cov.far}
    assert far_one in far and "Translate this memo into German." not in far
    c = far[far_one]["cluster"]
    assert cov.clusters.set_index("cluster").loc[c, "train"] > 0  # it sits in a covered cluster
    assert cov.clusters.set_index("cluster").loc[c, "far_targets"] == 1


def test_cli_views_named_clustering_and_refused_k(cli, tmp_path):
    (tmp_path / "p.csv").write_text("rewrite_prompt\n" + "\n".join(TRAIN) + "\n")
    (tmp_path / "t.csv").write_text("rewrite_prompt\n" + "\n".join(SHANTY) + "\n")
    (tmp_path / "s.csv").write_text("original_text,rewrite_prompt,rewritten_text\n"
                                    "The meeting is on Friday.,Translate this memo into French.,La réunion est vendredi.\n")
    assert cli("ingest", tmp_path / "p.csv").exit_code == 0
    assert cli("ingest", tmp_path / "t.csv", "--as", "target", "--dataset", "test").exit_code == 0
    # --k 0 refused: one line, exit 2, nothing stored
    bad = cli("cluster", "--k", "0")
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--k 0" in bad.stderr
    named = json.loads(cli("cluster", "--k", "3", "--name", "baseline", "--json").stdout)
    assert named["name"] == "baseline" and named["k"] == 3
    assert cli("cluster", "--k", "0").exit_code == 2
    again = cli("cluster", "--k", "3", "--name", "baseline")
    assert again.exit_code == 2 and "already has that name" in again.stderr
    by_gap = json.loads(cli("coverage", "--json").stdout)  # basis prompts: 40 training prompts
    assert by_gap["basis"] == "prompts" and by_gap["gaps"]
    assert by_gap["clusters"][0]["cluster"] == by_gap["gaps"][0]
    assert cli("ingest", tmp_path / "s.csv", "--status", "train").exit_code == 0
    before = json.loads(cli("coverage", "--clustering", "baseline", "--sort", "id", "--json").stdout)
    assert before["clustering_name"] == "baseline" and before["basis"] == "samples"
    assert [c["cluster"] for c in before["clusters"]] == sorted(c["cluster"] for c in before["clusters"])
    # a later clustering with another k, and new prompts, leave the named one as it was
    (tmp_path / "more.csv").write_text("rewrite_prompt\nTranslate this note into Dutch.\n")
    cli("ingest", tmp_path / "more.csv")
    later = json.loads(cli("cluster", "--k", "5", "--json").stdout)
    base_ids = {int(c) for c in named["sizes"]}
    assert later["clustering"] != named["clustering"]
    assert all(int(c) in base_ids or int(c) > max(base_ids) for c in later["sizes"])  # matched or fresh, never re-based
    after = json.loads(cli("coverage", "--clustering", "baseline", "--sort", "id", "--json").stdout)
    assert [c["cluster"] for c in after["clusters"]] == [c["cluster"] for c in before["clusters"]]
    assert after["figures"]["assigned_late"] == 1  # the new prompt placed at the nearest centroid
    assert cli("coverage", "--clustering", "nope").exit_code == 2
    # coverage --sort size / gap
    by_size = json.loads(cli("coverage", "--sort", "size", "--json").stdout)["clusters"]
    assert [c["prompts"] for c in by_size] == sorted((c["prompts"] for c in by_size), reverse=True)
    out = cli("coverage")
    table = out.stderr + out.stdout
    assert "training counted in samples" in table and "train samples" in table
    # prompts --cluster N: every member, with its role; samples --cluster N
    gap = assignments_of(cli, SHANTY[0])
    members = json.loads(cli("prompts", "--cluster", gap, "--limit", "0", "--json").stdout)
    assert {m["text"] for m in members if m["role"] == "target"} == set(SHANTY)
    assert all(m["cluster"] == gap for m in members)
    assert cli("prompts", "--cluster", "999").exit_code == 2
    french = json.loads(cli("prompts", "--similar", "Translate this memo into French.", "--json").stdout)[0]
    fc = [c for c in json.loads(cli("coverage", "--json").stdout)["clusters"] if c["train_samples"]][0]["cluster"]
    sam = json.loads(cli("samples", "--cluster", fc, "--json").stdout)
    assert [s["rewrite_prompt"] for s in sam] == ["Translate this memo into French."] and french["cosine"] == 1.0
    # prompts --similar: the text itself first, cosines descending, --limit honoured
    sim = json.loads(cli("prompts", "--similar", "Turn this into a pirate sea shanty.", "--limit", "4",
                         "--json").stdout)
    assert len(sim) == 4 and sim[0]["text"] == "Turn this into a pirate sea shanty." and sim[0]["cosine"] == 1.0
    assert [s["cosine"] for s in sim] == sorted((s["cosine"] for s in sim), reverse=True)
    assert {s["text"] for s in sim[1:]} <= set(SHANTY)


def assignments_of(cli, text):
    from curator import Corpus

    with Corpus.open(cli.root) as c:
        return assignments(c)[content_id(text)]


def test_corpus_methods_alike(corpus):
    _add(corpus, TRAIN, dataset="train")
    _add(corpus, SHANTY, role="target", dataset="test")
    res = corpus.cluster(k=3, name="v1")
    c = assignments(corpus)[content_id(SHANTY[0])]
    frame = corpus.prompts(cluster=c, limit=0)
    assert set(SHANTY) <= set(frame["text"]) and set(frame["role"]) <= {"target", "training"}
    sim = corpus.similar("Convert this into a sea shanty.", limit=3)
    assert sim.iloc[0]["text"] == "Convert this into a sea shanty." and list(sim.columns)[0] == "cosine"
    cov = corpus.coverage(target="test", clustering="v1")
    assert cov.clustering_id == res.clustering_id and cov.table("size")["prompts"].is_monotonic_decreasing


@pytest.mark.slow
def test_held_out_categories_are_found(shared_data):
    """One held-out-category trial on the real labelled prompts (docs/coverage.md has 5 trials).
    Measured at seed 4 with the defaults: see the floor below; issue 14's target is 0.8 / 0.1."""
    from coverage_eval import labelled_prompts, trial

    frame = labelled_prompts(shared_data / "labelled/rewrite_labels_16.csv")
    r = trial(frame, seed=4, holdout=3)
    print(r)
    assert r["n_held"] > 50 and r["n_in"] > 50
    assert r["recall"] >= 0.5 and r["false"] <= 0.12, r


@pytest.mark.slow
def test_procedural_labels_are_clean_and_their_held_out_kinds_are_found(shared_data, tmp_path):
    """On the real procedural prompts, labelled by the vocabulary they were built from (clean,
    disjoint kinds), held-out kinds are found at issue 14's target: ≥ 0.8 flagged, ≤ 0.1 false
    (docs/coverage.md: 0.84 and 0.02 over these 5 seeded trials; single trials range 0.69-0.93)."""
    import pandas as pd

    from coverage_eval import labelled_prompts, trial
    from procedural_labels import main as write_labels

    out = tmp_path / "labels.csv"
    assert write_labels([str(out), "--per-category", "60", "--data", str(shared_data / "prompts")]) == 0
    frame = pd.read_csv(out)
    assert frame["RewriteLabel"].value_counts().min() >= 60 and frame["RewriteLabel"].nunique() >= 8
    authors = [a.lower() for a in __import__("json").loads((shared_data / "prompts/procedural_parts/authors.json").read_text())]
    assert all(any(a in t.lower() for a in authors) for t in frame.loc[frame["RewriteLabel"] == "author", "target"])
    assert frame.loc[frame["RewriteLabel"] == "replace", "target"].str.contains("every", case=False).all()
    frame = labelled_prompts(out)
    results = [trial(frame, seed=s, holdout=3) for s in range(5)]  # the 5 trials of docs/coverage.md
    recall, false = (float(np.mean([r[k] for r in results])) for k in ("recall", "false"))
    print(f"recall {recall:.3f}, false {false:.3f}", [round(r["recall"], 2) for r in results])
    assert recall >= 0.8 and false <= 0.1, results


def test_far_list_is_exact_on_real_prompts_when_the_search_probes(shared_data, monkeypatch):
    """Probing the nearest clusters misses the true nearest training prompt for some real target
    prompts (the low-cosine ones the far list is about); far_targets searches those again
    exhaustively, so the list equals the exhaustive one."""
    import pandas as pd

    import curator.coverage as cv
    from curator.cluster import kmeans
    from curator.embed import model_encoder

    prompts = pd.concat([pd.read_csv(shared_data / "public" / "gpt35_triples.csv")["rewrite_prompt"],
                         pd.read_csv(shared_data / "public" / "gemma_mix_with_predictions.csv")["gt_rewrite_prompt"]])
    texts = list(dict.fromkeys(t for t in prompts.dropna().astype(str) if t.strip()))[:1600]
    texts = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))]
    x = model_encoder()(texts)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    train, target = x[:1300], x[1300:]
    cent, assign = kmeans(train, 25, seed=0)
    cent = cent / np.linalg.norm(cent, axis=1, keepdims=True)
    tcl = (target @ cent.T).argmax(axis=1)
    exact = cv.far_targets(train, target, assign, tcl, cent, 0.5, 20, 0.05)
    monkeypatch.setattr(cv, "EXACT_BUDGET", 0)
    probed_s, probed_i = cv.knn(train, target, 1, assign, cent)
    exact_s, exact_i = cv.knn(train, target, 1)
    assert (probed_i[:, 0] != exact_i[:, 0]).sum() >= 3  # the probe alone does miss on real prompts
    probed = cv.far_targets(train, target, assign, tcl, cent, 0.5, 20, 0.05)
    assert [r["row"] for r in probed["rows"]] == [r["row"] for r in exact["rows"]]
    assert len(exact["rows"]) >= 5


def test_generate_for_gaps_says_when_there_are_none_or_they_lack_training_prompts(cli, tmp_path):
    """No gaps is an answer (exit 0, nothing planned), so a re-run after the gaps filled is a
    no-op; a gap without training prompts is named, with what to do."""
    from curator import Corpus

    with Corpus.init(tmp_path / "corpus") as corpus:
        _add(corpus, TRAIN, dataset="train")
        _add(corpus, SHANTY + ["Translate this email into French, please."], role="target", dataset="test")
        _add(corpus, ["Make this memo more formal, please."], role="target", dataset="near")
        cluster_prompts(corpus, k=3, seed=0)
        shanty = assignments(corpus)[content_id(SHANTY[0])]
    none = cli("generate", "--gaps", "--target", "near", "--dry-run")
    assert none.exit_code == 0, none.output
    assert "no under-covered clusters" in none.output
    plan = json.loads(cli("generate", "--gaps", "--target", "near", "--dry-run", "--json").stdout)["plan"]
    assert plan["calls"] == 0 and plan["gaps"] == []
    empty = cli("generate", "--gaps", "--target", "test", "--dry-run")  # the shanty gap has no training prompt
    assert empty.exit_code == 0 and f"gaps {shanty} have no training prompt" in empty.output
