"""Shared fixtures: a fresh corpus per test, the real public data (skipped when absent), the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CURATOR_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip saying why (it is absent on a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data not found at {SHARED_DATA} (set CURATOR_SHARED_DATA); "
                    "these tests need the shared data set beside the repository")
    return SHARED_DATA


@pytest.fixture
def corpus(tmp_path):
    from curator import Corpus

    c = Corpus.init(tmp_path / "corpus")
    yield c
    c.close()


@pytest.fixture
def cli(tmp_path):
    """Run the CLI against a corpus in tmp_path: ``cli("ingest", path)`` → click Result."""
    from curator.cli import main

    root = tmp_path / "corpus"
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, ["--corpus", str(root), *map(str, args)], input=input,
                             catch_exceptions=False)

    run("init")
    run.root = root  # type: ignore[attr-defined]
    return run
