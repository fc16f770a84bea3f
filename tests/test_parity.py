"""The notebook facade and the shell leave the same store.

Each command runs through the CLI on one corpus and through the same-named ``Corpus`` method on a
second corpus with the same curator.toml; after every step the two stores must hold the same
rows (timestamps and the corpus directory aside). A default resolved in the click layer, a
setting read by only one side, or a write only one side makes, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from curator.cli import main
from curator.workspace import Corpus

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "curator" / "seed"  # the packaged seed: every corpus reads its templates by default
VOLATILE = {"at", "created_at", "updated_at", "ingested_at", "started_at", "finished_at", "fetched_at",
            "undone_at", "decided_at", "scored_at", "embedded_at", "seconds", "elapsed"}


def _content(corpus: Corpus) -> dict[str, list]:
    """Every table's rows without volatile columns, paths made relative to the corpus root."""
    out = {}
    root = str(corpus.root)
    conn = corpus.store.conn
    for table in corpus.store.tables():
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c not in VOLATILE and not c.endswith("_at")]
        if table == "events":
            keep = ["command"]
        rows = conn.execute(f"SELECT {', '.join(keep)} FROM {table}").fetchall()
        norm = sorted(repr(tuple(str(v).replace(root, "<root>") if isinstance(v, str) else v for v in row))
                      for row in rows)
        out[table] = norm
    return out


@pytest.fixture
def pair(tmp_path):
    corpora = []
    for name in ("cli", "lib"):
        c = Corpus.init(tmp_path / name)
        toml = c.root / "curator.toml"
        # a non-default setting that both sides must honour
        toml.write_text(toml.read_text().replace("threshold = 0.85", "threshold = 0.86"))
        c.close()
        corpora.append(tmp_path / name)
    return corpora


def _cli(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--corpus", str(root), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


STEPS = [
    ("ingest", ["ingest", str(SEED / "examples" / "examples.jsonl"), "--origin", "seed", "--predictor", "handmade"],
     lambda c: c.ingest(SEED / "examples" / "examples.jsonl", origin="seed", predictor="handmade")),
    ("ingest target", ["ingest", str(SEED / "examples" / "target.csv"), "--as", "target", "--dataset", "target"],
     lambda c: c.ingest(SEED / "examples" / "target.csv", role="target", dataset="target")),
    ("expand", ["expand", "--max-per-template", "2", "--seed", "3"], lambda c: c.expand(max_per_template=2, seed=3)),
    ("combine", ["combine", "--k", "2", "--n", "25", "--seed", "1"], lambda c: c.combine(k=2, n=25, seed=1)),
    ("embed", ["embed"], lambda c: c.embed()),
    ("dedup", ["dedup"], lambda c: c.dedup()),
    ("cluster", ["cluster", "--k", "6", "--seed", "0"], lambda c: c.cluster(k=6, seed=0)),
    ("score", ["score", "--metric-model", "default"], lambda c: c.score(metric_model="default")),
    ("promote", ["promote", "--top", "6", "--metric-model", "default"],
     lambda c: c.promote(top=6, metric_model="default")),
    ("undo", ["undo", "--n", "2"], lambda c: c.undo(2)),
]


@pytest.mark.slow
def test_cli_and_corpus_leave_the_same_store(pair, tmp_path):
    cli_root, lib_root = pair
    for name, args, call in STEPS:
        _cli(cli_root, *args)
        with Corpus.open(lib_root) as lib:
            call(lib)
        with Corpus.open(cli_root) as a, Corpus.open(lib_root) as b:
            ca, cb = _content(a), _content(b)
            assert ca.keys() == cb.keys()
            for table in ca:
                assert ca[table] == cb[table], f"after {name}: table {table} differs between CLI and Corpus"
    # dedup used the file's threshold on both sides
    with Corpus.open(cli_root) as a:
        run = a.store.query("SELECT args FROM events WHERE command = 'dedup'")
        assert run and "0.86" in run[0]["args"]
    # exports are byte-identical
    _cli(cli_root, "export", "--out", str(tmp_path / "cli.csv"), "--status", "all")
    with Corpus.open(lib_root) as lib:
        lib.export(tmp_path / "lib.csv", status=None)
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "lib.csv").read_bytes()
    stats_cli = json.loads(_cli(cli_root, "stats", "--json"))
    with Corpus.open(lib_root) as lib:
        stats_lib = lib.stats()
    stats_cli.pop("corpus"), stats_lib.pop("corpus")
    assert stats_cli == json.loads(json.dumps(stats_lib, default=str))


def test_read_only_commands_return_what_the_cli_prints(tmp_path):
    """sources list, templates list/vocab, config: the Corpus method is the CLI's --json."""
    root = tmp_path / "c"
    Corpus.init(root).close()
    src = REPO / "sources"
    with Corpus.open(root) as c:
        assert json.loads(_cli(root, "sources", "list", "--sources", str(src), "--json")) == \
            json.loads(json.dumps(c.sources(src), default=str))
        assert json.loads(_cli(root, "templates", "list", "--json")) == json.loads(json.dumps(c.templates()))
        assert json.loads(_cli(root, "templates", "vocab", "--json")) == json.loads(json.dumps(c.vocab()))
        assert json.loads(_cli(root, "config", "--json")) == json.loads(json.dumps(c.config(), default=str))
        assert len(c.sources(src)) >= 8 and c.templates()["templates"]
