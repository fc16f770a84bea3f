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


def _count_prompts(store, calls):
    calls.append(1)
    return store.scalar("SELECT COUNT(*) FROM prompts")


def test_cached_reads_are_reused_until_the_database_changes(tmp_path):
    """Store.cached: reused while nothing changed; a write here or a commit from another
    connection makes the next call read again; nothing is cached inside a transaction."""
    from curator.items import PromptRecord, Provenance, add_prompts

    store = Store(tmp_path / "curator.db")
    calls: list[int] = []
    read = lambda: store.cached("n", lambda: _count_prompts(store, calls))  # noqa: E731
    assert read() == 0 and read() == 0 and len(calls) == 1
    with store.transaction() as conn:  # this connection writes
        add_prompts(conn, [PromptRecord("Rewrite this as a haiku.", "seed", Provenance("t", "prompts"))])
        assert read() == 1 and read() == 1 and len(calls) == 3  # inside a transaction: never cached
    assert read() == 1 and read() == 1 and len(calls) == 4
    other = Store(tmp_path / "curator.db")  # another connection (another process, a notebook) commits
    with other.transaction() as conn:
        add_prompts(conn, [PromptRecord("Rewrite this as a limerick.", "seed", Provenance("t", "prompts"))])
    assert read() == 2 and len(calls) == 5
    with pytest.raises(RuntimeError):  # a rolled-back write: what it read inside is not kept
        with store.transaction() as conn:
            conn.execute("DELETE FROM prompts")
            assert read() == 0
            raise RuntimeError("roll back")
    assert read() == 2


def test_large_cached_values_live_only_inside_sharing(tmp_path):
    store = Store(tmp_path / "curator.db")
    calls: list[int] = []
    read = lambda: store.cached("big", lambda: _count_prompts(store, calls), large=True)  # noqa: E731
    read(), read()
    assert len(calls) == 2 and not store.sharing_active  # outside sharing(): never kept
    with store.sharing():
        with store.sharing():  # nested scopes share
            read()
        read()
        assert len(calls) == 3 and store.sharing_active
    read()
    assert len(calls) == 4  # dropped when the outer scope ended


def test_release_large_drops_large_values_and_keeps_the_rest(tmp_path):
    """The report calls it after its card: the full matrices go, small shared reads stay."""
    store = Store(tmp_path / "curator.db")
    calls: list[int] = []
    big = lambda: store.cached("big", lambda: _count_prompts(store, calls), large=True)  # noqa: E731
    small = lambda: store.cached("small", lambda: _count_prompts(store, calls))  # noqa: E731
    with store.sharing():
        big(), small(), big(), small()
        assert len(calls) == 2
        store.release_large()
        assert store.sharing_active  # sharing goes on
        small()
        assert len(calls) == 2  # the small value is still shared
        big(), big()
        assert len(calls) == 3  # read again once, then shared again until the scope ends


def test_cached_keeps_only_the_most_recent_values(tmp_path):
    from curator.store import CACHE_ENTRIES

    store = Store(tmp_path / "curator.db")
    calls: list[int] = []
    for key in range(CACHE_ENTRIES + 1):
        store.cached(key, lambda: _count_prompts(store, calls))
    store.cached(CACHE_ENTRIES, lambda: _count_prompts(store, calls))  # the newest: kept
    assert len(calls) == CACHE_ENTRIES + 1
    store.cached(0, lambda: _count_prompts(store, calls))  # the oldest: gone
    assert len(calls) == CACHE_ENTRIES + 2


def test_coverage_in_a_notebook_sees_prompts_added_after_it(corpus):
    """A long-lived Corpus: coverage, then new prompts, then coverage again counts them (the
    shared reads behind coverage are never stale)."""
    import pandas as pd

    corpus.ingest(pd.DataFrame({"rewrite_prompt": [f"Rewrite this in the style of a {w} poem." for w in
                                                   ("sad", "happy", "long", "short", "funny", "dark")]}))
    corpus.ingest(pd.DataFrame({"rewrite_prompt": ["Rewrite this as a sea shanty.", "Rewrite this as a rap."]}),
                  role="target", dataset="t")
    corpus.embed()
    corpus.cluster(k=2)
    first = corpus.coverage("t")
    corpus.ingest(pd.DataFrame({"rewrite_prompt": ["Rewrite this as a sea shanty for sailors.",
                                                   "Turn this into a rap battle verse."]}))
    corpus.embed()
    again = corpus.coverage("t")
    assert int(first.clusters["prompts"].sum()) + 2 == int(again.clusters["prompts"].sum())
    assert len(again.training_ids) == len(first.training_ids) + 2
