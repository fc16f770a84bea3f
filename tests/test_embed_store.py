"""The vector store (matrix file per model + row map in SQLite) and the embedding pipeline:
round trips, crash safety under SIGKILL, migration of old per-row BLOBs, a database copied without
its vectors, one global length sort, and agreement with a raw encode on real prompts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from curator.embed import ENCODE_CALLS, embed_corpus, embed_texts, load_model, load_vectors, vector_store
from curator.items import PromptRecord, Provenance, add_prompts
from curator.text import content_id

REPO = Path(__file__).resolve().parents[1]


def fake_encoder(calls: list[list[str]] | None = None, dim: int = 8):
    """Deterministic unit vectors from the text's hash; records each call's texts."""

    def encode(texts: list[str]) -> np.ndarray:
        if calls is not None:
            calls.append(list(texts))
        out = np.stack([np.random.default_rng(int(content_id(t), 16) % 2**32).standard_normal(dim)
                        for t in texts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    return encode


def _add(corpus, texts):
    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts", row=i)) for i, t in enumerate(texts)])


def test_round_trip_order_duplicates_and_one_global_length_sort(corpus):
    texts = [f"{'word ' * (i % 37)}prompt number {i}" for i in range(1300)]
    calls: list[list[str]] = []
    enc = fake_encoder(calls)
    asked = texts[::-1] + texts[:5]  # reversed order, with repeats
    x = embed_texts(corpus, asked, encoder=enc, batch_size=16, progress=False)
    assert x.shape == (len(asked), 8)
    assert np.allclose(x, enc(asked))  # rows in the caller's order, repeats included
    sent = [t for call in calls[:-1] for t in call]
    assert sorted(sent) == sorted(texts)  # each distinct text encoded once
    lengths = [len(t) for t in sent]
    assert lengths == sorted(lengths, reverse=True)  # sorted once over all texts, not per chunk
    assert len(calls) - 1 > 3  # several chunks, so the sort really spans chunks
    calls.clear()
    y = embed_texts(corpus, texts[:100], encoder=enc, progress=False)
    assert calls == [] and np.allclose(y, enc(texts[:100]))
    ids = [content_id(t) for t in texts]
    assert np.allclose(load_vectors(corpus, ids, encoder=enc), enc(texts))  # the bulk loader, by ids
    vs = vector_store(corpus)
    assert vs.count("all-MiniLM-L6-v2") == len(texts)
    assert vs.path("all-MiniLM-L6-v2").stat().st_size == len(texts) * 8 * 4  # float32, no padding


def test_failed_write_leaves_no_row_pointing_at_garbage(corpus, monkeypatch):
    enc = fake_encoder()
    embed_texts(corpus, ["first text", "second text"], encoder=enc, progress=False)
    vs = vector_store(corpus)
    conn = corpus.store.conn

    class Boom(Exception):
        pass

    real = vs.store.transaction

    def failing_transaction():  # the file write succeeds, the SQLite commit does not
        cm = real()

        class Wrapper:
            def __enter__(self):
                self.conn = cm.__enter__()
                return self.conn

            def __exit__(self, *exc):
                if exc[0] is None:  # rolled back as any failing write is
                    err = Boom()
                    cm.__exit__(Boom, err, None)
                    raise err
                return cm.__exit__(*exc)

        return Wrapper()

    monkeypatch.setattr(vs.store, "transaction", failing_transaction)
    with pytest.raises(Boom):
        vs.append("all-MiniLM-L6-v2", ["x1", "x2", "x3"], np.full((3, 8), 7.0, dtype=np.float32))
    monkeypatch.undo()
    path = vs.path("all-MiniLM-L6-v2")
    assert path.stat().st_size == 5 * 8 * 4  # garbage rows past the committed count...
    assert vs.count("all-MiniLM-L6-v2") == 2 and conn.execute(
        "SELECT COUNT(*) FROM embedding_rows").fetchone()[0] == 2  # ...that nothing points at
    y = embed_texts(corpus, ["third text", "first text"], encoder=enc, progress=False)
    assert np.allclose(y, enc(["third text", "first text"]))
    assert path.stat().st_size == 3 * 8 * 4  # the next append overwrote them


KILL_CHILD = """
import os, sys, time, numpy as np
from curator import Corpus
from curator.embed import vector_store
c = Corpus.open(sys.argv[1])
vs = vector_store(c)
real_fsync = os.fsync
def fsync_then_hang(fd):
    real_fsync(fd)
    open(sys.argv[2], "w").write("written")
    time.sleep(60)
os.fsync = fsync_then_hang
vs.append("m", [f"k{i}" for i in range(100)], np.full((100, 4), 9.0, dtype=np.float32))
"""


def test_sigkill_between_file_write_and_commit(corpus, tmp_path):
    vs = vector_store(corpus)
    good = np.eye(4, dtype=np.float32)[[0, 1, 2]]
    vs.append("m", ["a", "b", "c"], good)
    marker = tmp_path / "marker"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(corpus.root), str(marker)], env=env)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and child.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the child never reached the point between write and commit"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert vs.path("m").stat().st_size == 103 * 4 * 4  # the killed writer's rows are in the file
    assert vs.count("m") == 3  # but not committed
    assert np.array_equal(vs.read("m", vs.rows("m", ["a", "b", "c"])), good)
    assert (vs.rows("m", ["k0", "k99"]) == -1).all()
    vs.append("m", ["d"], np.eye(4, dtype=np.float32)[[3]])
    assert np.array_equal(vs.read("m", vs.rows("m", ["d", "a"])), np.eye(4, dtype=np.float32)[[3, 0]])
    assert corpus.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_old_per_row_blobs_are_migrated(tmp_path):
    from curator import Corpus

    c = Corpus.init(tmp_path / "old")
    assert 70 in {r[0] for r in c.store.query("SELECT number FROM schema_migrations")}
    enc = fake_encoder()
    texts = ["Make it formal.", "Turn it into a poem.", "Shorten this."]
    with c.store.transaction() as conn:  # the layout an earlier curator wrote
        conn.executemany("INSERT INTO embeddings (model, text_id, dim, vector) VALUES (?, ?, ?, ?)",
                         [("all-MiniLM-L6-v2", content_id(t), 8, v.tobytes()) for t, v in zip(texts, enc(texts))])
    c.close()
    c = Corpus.open(tmp_path / "old")

    def no_model(texts):
        raise AssertionError("migrated vectors must not be recomputed")

    x = embed_texts(c, texts[::-1], encoder=no_model, progress=False)
    assert np.allclose(x, enc(texts[::-1]))
    assert c.store.scalar("SELECT COUNT(*) FROM embeddings") == 0
    assert vector_store(c).count("all-MiniLM-L6-v2") == 3
    c.close()


def test_database_copied_without_vectors_is_embedded_again(corpus):
    import shutil

    calls: list[list[str]] = []
    enc = fake_encoder(calls)
    _add(corpus, ["Translate to French.", "Make it rhyme."])
    embed_corpus(corpus, encoder=enc)
    shutil.rmtree(corpus.root / "vectors")
    ids = [r[0] for r in corpus.store.query("SELECT id FROM prompts ORDER BY id")]
    calls.clear()
    x = load_vectors(corpus, ids, encoder=enc, progress=False)
    assert x.shape == (2, 8) and sum(map(len, calls)) == 2


def test_embed_matches_raw_encode_on_real_prompts(corpus, shared_data):
    prompts = json.loads((shared_data / "prompts/procedural_prompts.json").read_text())[:300]
    prompts += list(dict.fromkeys(open(shared_data / "prompts/handmade_lists/essay-prompts.csv").read().splitlines()))[:50]
    _add(corpus, prompts)
    first = embed_corpus(corpus, device="cpu")
    assert first["embedded"] == first["texts"] > 300
    calls = dict(ENCODE_CALLS)
    assert embed_corpus(corpus, device="auto")["embedded"] == 0  # the device is not part of the cache key
    assert ENCODE_CALLS == calls
    rows = corpus.store.query("SELECT id, text FROM prompts")
    ours = load_vectors(corpus, [r[0] for r in rows])
    raw = load_model("default", "cpu").encode([r[1] for r in rows], normalize_embeddings=True)
    assert np.allclose(ours, raw, atol=1e-5)
