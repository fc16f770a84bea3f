"""SIGKILL in the middle of a large ingest: the store opens, is intact, and holds all or none of the file."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROWS = 220_000


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_all_or_nothing(tmp_path):
    root = tmp_path / "corpus"
    curator = [sys.executable, "-m", "curator.cli", "--corpus", str(root)]
    subprocess.run([*curator, "init"], check=True, capture_output=True)
    small = tmp_path / "small.csv"
    small.write_text("rewrite_prompt\nShorten this.\nMake it rhyme.\n")
    subprocess.run([*curator, "ingest", str(small)], check=True, capture_output=True)

    big = tmp_path / "big.csv"
    pd.DataFrame({
        "original_text": [f"Original text number {i} about a topic." for i in range(ROWS)],
        "rewrite_prompt": [f"Rewrite prompt {i % 5000} in a style." for i in range(ROWS)],
        "rewritten_text": [f"Rewritten text {i}." for i in range(ROWS)],
    }).to_csv(big, index=False)

    proc = subprocess.Popen([*curator, "ingest", str(big)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wal = Path(str(root / "curator.db") + "-wal")
    deadline = time.time() + 120
    # the write transaction has begun once the WAL grows well past its empty size
    while time.time() < deadline and proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 2_000_000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed; raise ROWS"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(root / "curator.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    samples = conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    assert samples in (0, ROWS)
    assert samples == 0  # killed mid-transaction: none of it
    assert conn.execute("SELECT COUNT(*) FROM prompts").fetchone()[0] == 2  # earlier data intact
    conn.close()

    # and the same file ingests completely afterwards
    done = subprocess.run([*curator, "ingest", str(big)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(root / "curator.db")
    assert conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == ROWS
