"""Strict settings (defaults < curator.toml < environment < flags) and typos refused in one line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from curator.cli import main
from curator.errors import CuratorError
from curator.settings import Settings
from curator.workspace import Corpus


@pytest.fixture
def root(tmp_path):
    Corpus.init(tmp_path / "c").close()
    return tmp_path / "c"


def run(root, *args, env=None):
    return CliRunner().invoke(main, ["--corpus", str(root), *args], env=env)


def _set(root, old, new):
    p = root / "curator.toml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))


def test_precedence_and_origins(root, monkeypatch):
    _set(root, "threshold = 0.85", "threshold = 0.8")
    monkeypatch.setenv("CURATOR_LLM_CONCURRENCY", "3")
    monkeypatch.setenv("CURATOR_BASE_URL", "http://127.0.0.1:9/v1")
    s = Settings.load(root / "curator.toml")
    assert s.dedup.threshold == 0.8 and s.origin("dedup", "threshold") == "curator.toml"
    assert s.get("llm", "concurrency") == 3 and s.origin("llm", "concurrency") == "env CURATOR_LLM_CONCURRENCY"
    assert s.llm.base_url == "http://127.0.0.1:9/v1"
    assert s.origin("embed", "device") == "default"
    flagged = s.override("dedup", threshold=0.95)
    assert flagged.dedup.threshold == 0.95 and flagged.origin("dedup", "threshold") == "flag"
    assert s.dedup.threshold == 0.8  # override returns a copy
    with pytest.raises(CuratorError, match="must be <= 1.0"):
        s.override("dedup", threshold=1.5)


def test_config_command_shows_values_and_where_they_came_from(root):
    _set(root, "batch_size = 64", "batch_size = 32")
    out = run(root, "config", "--json", env={"CURATOR_EMBED_MODEL": "my/model"})
    assert out.exit_code == 0, out.output
    rows = {r["key"]: r for r in json.loads(out.stdout)}
    assert rows["embed.batch_size"]["value"] == 32 and rows["embed.batch_size"]["origin"] == "curator.toml"
    assert rows["embed.model"]["value"] == "my/model" and rows["embed.model"]["origin"] == "env CURATOR_EMBED_MODEL"
    assert rows["cluster.k"]["origin"] == "default"
    assert "OPENAI_API_KEY" not in json.dumps([r for k, r in rows.items() if k != "llm.api_key_env"])


@pytest.mark.parametrize("old,new,message", [
    ("threshold = 0.85", "treshold = 0.8", "[dedup] unknown key 'treshold'; did you mean 'threshold'?"),
    ("threshold = 0.85", 'threshold = "high"', "[dedup] threshold: expected number, got str 'high'"),
    ("threshold = 0.85", "threshold = 1.5", "[dedup] threshold: 1.5 must be <= 1.0"),
    ("[dedup]", "[dedupe]", "unknown table [dedupe]; did you mean 'dedup'?"),
    ("concurrency = 8", "concurrency = true", "[llm] concurrency: expected integer, got bool True"),
    ('"gpt-4o" = { input = 2.50, output = 10.00 }', '"gpt-4o" = { input = 2.50 }', "entry 'gpt-4o' must be"),
])
def test_bad_config_is_one_line_naming_file_table_and_key(root, old, new, message):
    _set(root, old, new)
    out = run(root, "stats")
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "curator.toml" in lines[0] and message in lines[0], lines


def test_bad_environment_value_names_the_variable(root):
    out = run(root, "stats", env={"CURATOR_DEDUP_THRESHOLD": "lots"})
    assert out.exit_code == 2 and "CURATOR_DEDUP_THRESHOLD" in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args,needle", [
    (["export", "--out", "x.csv", "--status", "trian"], "'trian' is not one of"),
    (["export", "--out", "x.xlsx"], "unknown extension '.xlsx'"),
    (["export", "--out", "x.csv", "--split", "1.5"], "--split"),
    (["dedup", "--threshold", "1.5"], "1.5 is not in the range"),
    (["prompts", "--limit", "-1"], "-1 is not in the range"),
    (["samples", "--status", "trained"], "'trained' is not one of"),
    (["combine", "--k", "5"], "'5' is not one of"),
    (["nosuchcommand"], "No such command"),
])
def test_typos_are_refused_with_exit_2_and_one_line(root, tmp_path, args, needle):
    out = run(root, *[a.replace("x.", str(tmp_path / "x.")) if a.startswith("x.") else a for a in args])
    assert out.exit_code == 2, out.output
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines
    assert not list(tmp_path.glob("x.*"))


def test_library_refuses_the_same_typos(root, tmp_path):
    with Corpus.open(root) as c:
        with pytest.raises(CuratorError, match="--status trian"):
            c.export(tmp_path / "x.csv", status="trian")
        with pytest.raises(CuratorError, match="unknown extension"):
            c.export(tmp_path / "x.xlsx")
        with pytest.raises(CuratorError, match="threshold"):
            c.dedup(threshold=1.5)
    assert not list(tmp_path.glob("x.*"))
