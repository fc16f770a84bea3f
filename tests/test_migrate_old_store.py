"""An existing curator.db keeps working: a store written by the first release (schema 1, made by
that release from the embedded corpus: 32 samples, 40 target prompts, embeddings, a dedup run,
a clustering, scores, 3 promoted samples) opens, migrates, and every row is still there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from curator.workspace import Corpus

FIXTURE = Path(__file__).parent / "fixtures" / "corpus_v1"


@pytest.fixture
def old(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "c")
    return tmp_path / "c"


def test_old_store_opens_migrates_and_keeps_every_row(old):
    import sqlite3

    before = sqlite3.connect(old / "curator.db")
    counts = {t: before.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("prompts", "samples", "provenance", "predictions", "scores", "events")}
    before.close()
    assert counts["samples"] == 32 and counts["prompts"] >= 70, counts
    with Corpus.open(old) as c:
        assert c.store.query("PRAGMA integrity_check")[0][0] == "ok"
        for table, n in counts.items():
            assert c.store.scalar(f"SELECT COUNT(*) FROM {table}") >= n, table
        assert len(c.samples(status="train")) == 3
        assert c.embed()["embedded"] == 0  # the old vectors are still the cache
        assert len(c.prompts(canonical=True)) > 0
    with Corpus.open(old) as c:  # a second open migrates nothing and changes nothing
        fp = c.store.fingerprint()
    with Corpus.open(old) as c:
        assert c.store.fingerprint() == fp
