"""The Python API a notebook user calls, and the listing commands."""

import json

from curator import Corpus


def test_notebook_api(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps({"original_text": "Hi team, lunch at noon.", "rewrite_prompt": "Make it formal.",
                             "rewritten_text": "Dear colleagues, lunch is at noon.",
                             "predicted": "Rewrite formally."}) + "\n")
    Corpus.init(tmp_path / "c").close()
    corpus = Corpus.open(tmp_path / "c")
    [summary] = corpus.ingest(f, dataset="mine")
    assert summary.columns["prediction"] == "predicted"
    samples = corpus.samples()
    assert samples.loc[0, "rewrite_prompt"] == "Make it formal." and samples.loc[0, "dataset"] == "mine"
    assert corpus.prompts().text.tolist() == ["Make it formal."]
    assert corpus.predictions().predicted_prompt.tolist() == ["Rewrite formally."]
    stats = corpus.stats()
    assert stats["samples"]["by_dataset"] == {"mine": 1}
    assert stats["words"]["original_text"]["max"] == 5


def test_cli_listings_and_stats_json(cli, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("rewrite_prompt\nShorten this text.\nTranslate this into Spanish.\n")
    cli("ingest", f, "--dataset", "lists")
    out = json.loads(cli("prompts", "--json", "--contains", "spanish").stdout)
    assert [p["text"] for p in out] == ["Translate this into Spanish."]
    assert json.loads(cli("stats", "--json").stdout)["prompts"]["by_origin"] == {"public": 2}
    assert json.loads(cli("samples", "--json").stdout) == []
    human = cli("stats")
    assert human.exit_code == 0 and "prompts by origin" in human.stderr


def test_notebook_pipeline_on_the_embedded_templates(tmp_path):
    """The whole flow from Python only: expand → embed → dedup → cluster → coverage → score → promote."""
    from curator.templates import seed_dir

    repo = seed_dir()  # a new corpus reads the packaged seed templates; no copying
    corpus = Corpus.init(tmp_path / "c")
    added = corpus.expand(max_per_template=2, seed=0)
    assert added.new > 150
    corpus.ingest(repo / "examples" / "examples.jsonl", origin="seed", predictor="handmade")
    corpus.ingest(repo / "examples" / "target.csv", role="target", dataset="target")
    assert corpus.embed()["embedded"] > 0 and corpus.embed()["embedded"] == 0
    plan = corpus.dedup(dry_run=True)
    assert corpus.prompts(canonical=False).empty and plan.considered > 150
    res = corpus.cluster(k=12)
    assert res.k == 12 and sum(res.sizes.values()) == plan.considered
    cov = corpus.coverage(target="target")
    assert cov.clusters.target_prompts.sum() == 40 and set(cov.gaps) <= set(cov.clusters.cluster)
    report = corpus.score(metric_model="default")
    assert report.n == 32 and report.proxy
    assert corpus.promote(top=5, metric_model="default")["promoted"] == 5
    assert len(corpus.samples(status="train")) == 5
    corpus.close()
