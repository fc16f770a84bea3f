"""The embedded default corpus (corpus/ + the packaged seed in curator/seed/) is well formed and ingests cleanly."""

import json
from collections import Counter

from curator.ingest import ingest_file
from curator.templates import seed_dir
from curator.text import word_count

EXAMPLES = seed_dir() / "examples"  # shipped in the package, so a pip-installed curator has them
CATEGORIES = {"length", "tone", "style", "removal", "additions", "transformation", "perspective",
              "audience", "grammar", "clarity", "compliance", "emphasis"}


def test_examples_cover_every_category_with_a_prediction_each(corpus):
    rows = [json.loads(line) for line in (EXAMPLES / "examples.jsonl").read_text().splitlines()]
    assert len(rows) >= 30
    counts = Counter(r["category"] for r in rows)
    assert set(counts) == CATEGORIES and min(counts.values()) >= 2
    for r in rows:
        assert r["rewritten_text"] != r["original_text"]
        assert word_count(r["original_text"]) < 200 and r["predicted"] != ""
    s = ingest_file(corpus, EXAMPLES / "examples.jsonl", origin="seed", predictor="handmade")
    assert s.landed == len(rows) and s.predictions == len(rows) and not s.issues


def test_target_set_ingests_as_target(corpus):
    s = ingest_file(corpus, EXAMPLES / "target.csv", role="target", dataset="target")
    assert s.role == "target" and s.new == s.rows >= 40
    assert corpus.store.scalar("SELECT COUNT(DISTINCT role) FROM provenance") == 1
