"""Progress without a terminal: plain periodic lines on stderr (count, total, rate, ETA)."""

from __future__ import annotations

import io
import json
import re
import time

from curator.console import progress
from curator.progress import LineProgress, NotebookProgress, describe, in_notebook

LINE = re.compile(r"^work: (\d+)/50 \((\d+)%\) · ([\d.,]+)/s · elapsed \d+:\d\d · (ETA \d+:\d\d|done)$")


def test_plain_lines_report_count_total_rate_and_eta_periodically():
    out = io.StringIO()
    with LineProgress(out, interval=0.25) as bar:
        task = bar.add_task("work", total=50)
        quick = bar.add_task("quick", total=3)
        bar.advance(quick, 3)  # a step shorter than the interval prints nothing
        for _ in range(10):
            time.sleep(0.1)
            bar.advance(task, 5)
    lines = out.getvalue().splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    counts = [int(LINE.match(line).group(1)) for line in lines]
    assert counts == sorted(counts) and counts[-1] == 50 and lines[-1].endswith("done")
    assert 2 <= len(lines) <= 6  # about one line per 0.25 s over ~1 s, plus the last one
    assert "ETA" in lines[0] and float(LINE.match(lines[0]).group(3).replace(",", "")) > 10
    assert not any(line.startswith("quick") for line in lines)


def test_a_stalled_step_still_reports_from_the_ticker():
    """One long batch with no advance: lines keep coming, so a log shows the run is alive."""
    out = io.StringIO()
    with LineProgress(out, interval=0.2) as bar:
        bar.add_task("work", total=50)
        time.sleep(1.3)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("work: 0/50 (0%) · 0.0/s") for line in lines), lines


def test_describe_without_a_total_and_hidden_tasks():
    out = io.StringIO()
    with LineProgress(out, interval=0.0) as bar:
        t = bar.add_task("scrape", total=None)
        bar.update(t, advance=3, description="scrape blog")
        bar.add_task("hidden", total=5, visible=False)
        bar.advance(1, 5)
    text = out.getvalue()
    assert "scrape blog: 3 · " in text and "ETA" not in text and "hidden" not in text
    assert describe(bar.tasks[0]).startswith("scrape blog: 3 · ")


def test_progress_picks_plain_lines_off_a_terminal_and_honours_the_override(monkeypatch):
    monkeypatch.delenv("CURATOR_PROGRESS", raising=False)
    assert not in_notebook()
    assert isinstance(progress(), LineProgress)  # pytest's stderr is not a terminal
    monkeypatch.setenv("CURATOR_PROGRESS", "notebook")
    assert isinstance(progress(), NotebookProgress)
    monkeypatch.setenv("CURATOR_PROGRESS", "rich")
    assert type(progress()).__name__ == "Progress"
    monkeypatch.setenv("CURATOR_PROGRESS", "0")
    assert progress().disable


def test_a_cli_step_prints_its_lines_on_stderr_not_stdout(cli, monkeypatch):
    """A real call site (combine) through the CLI with stderr captured (not a terminal)."""
    monkeypatch.delenv("CURATOR_PROGRESS", raising=False)
    monkeypatch.setenv("CURATOR_PROGRESS_INTERVAL", "0")
    r = cli("combine", "--k", "2", "--n", "40", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["new"] == 40  # stdout stays machine-readable
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("combine k=2: ")]
    assert lines and lines[-1].startswith("combine k=2: 40/40 (100%)") and lines[-1].endswith("done")


def test_a_large_ingest_reports_its_rows(cli, shared_data, monkeypatch):
    """The 9,205 procedural prompts land in chunks inside one transaction, each chunk a progress step."""
    import curator.ingest as ingest

    monkeypatch.delenv("CURATOR_PROGRESS", raising=False)
    monkeypatch.setenv("CURATOR_PROGRESS_INTERVAL", "0")
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2000)
    r = cli("ingest", shared_data / "prompts" / "procedural_prompts.json", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert (out[0] if isinstance(out, list) else out)["landed"] == 9205
    counts = [ln.split(": ", 1)[1].split("/")[0] for ln in r.stderr.splitlines()
              if ln.startswith("ingest procedural_prompts.json: ")]
    assert counts[-1] == "9,205" and {"2,000", "4,000"} <= set(counts), r.stderr


def test_dedup_shows_its_steps(cli, tmp_path, monkeypatch):
    """dedup's pair search, slot reading and marking each report (a 1M corpus takes minutes)."""
    monkeypatch.delenv("CURATOR_PROGRESS", raising=False)
    monkeypatch.setenv("CURATOR_PROGRESS_INTERVAL", "0")
    f = tmp_path / "p.json"
    f.write_text(json.dumps(["Rewrite this in a formal tone.", "Rewrite this in a formal tone, please.",
                             "Rewrite this as a pirate.", "Translate this into French.", "Translate this into Spanish."]))
    cli("ingest", f)
    r = cli("dedup", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["duplicates"] == 1  # stdout stays machine-readable
    last = {}
    for ln in r.stderr.splitlines():
        if ln.startswith("dedup: "):
            last[ln.split(":")[1].strip()] = ln
    assert set(last) == {"similar pairs among 5 prompts", "slot values", "marking 1 duplicates"}, r.stderr
    assert all(ln.endswith("done") for ln in last.values()), r.stderr
    assert last["similar pairs among 5 prompts"].split(": ")[2].startswith("5/5"), r.stderr
