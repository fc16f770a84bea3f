"""The store: migrations, schema version, WAL, content ids, transactions."""

import sqlite3

import pytest

from curator import Corpus, CuratorError
from curator.store import Store, migrations
from curator.text import content_id, normalise, word_count


def test_migrations_applied_once_and_versioned(tmp_path):
    store = Store(tmp_path / "curator.db")
    numbers = [n for n, _, _ in migrations()]
    assert store.schema_version == max(numbers)
    assert [r[0] for r in store.query("SELECT number FROM schema_migrations ORDER BY 1")] == numbers
    assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert Store(tmp_path / "curator.db").migrate() == []  # reopening applies nothing


def test_design_tables_exist(corpus):
    tables = set(corpus.store.tables())
    for t in ("prompts", "samples", "provenance", "embeddings", "clusterings", "cluster_members",
              "cluster_labels", "llm_calls", "events", "predictions", "scores"):
        assert t in tables


def test_content_id_collapses_case_and_whitespace_not_punctuation():
    assert content_id("Rewrite  this\ttext.") == content_id(" rewrite this text. ")
    assert content_id("Rewrite this text.") != content_id("Rewrite this text!")
    assert content_id("ab", "c") != content_id("a", "bc")
    assert normalise("Ｒｅｗｒｉｔｅ") == "rewrite"  # full-width folds (NFKC)


def test_word_count_counts_contractions_once():
    assert word_count("Don't shorten it, isn't it?") == 5
    assert word_count("") == 0


def test_transaction_rolls_back_on_error(corpus):
    before = corpus.store.fingerprint()
    with pytest.raises(RuntimeError):
        with corpus.store.transaction() as conn:
            conn.execute("INSERT INTO events (at, command) VALUES ('x', 'y')")
            raise RuntimeError("boom")
    assert corpus.store.fingerprint() == before


def test_open_non_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CuratorError, match="curator init"):
        Corpus.open(tmp_path / "nothing")


def test_init_is_idempotent_and_keeps_config(tmp_path):
    c = Corpus.init(tmp_path / "c")
    (tmp_path / "c" / "curator.toml").write_text('[embed]\nmodel = "x"\n')
    c.close()
    c = Corpus.init(tmp_path / "c")
    assert c.setting("embed", "model") == "x"
    c.close()


def test_store_file_opens_with_plain_sqlite(corpus):
    conn = sqlite3.connect(corpus.root / "curator.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
