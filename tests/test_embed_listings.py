"""Listings (issue 17.4, issue 12.5): prompts stream fast, and data is shown as data — rich markup
and terminal escapes held by a prompt print as visible text, piped or on a terminal."""

from __future__ import annotations

import io
import time

import pandas as pd

from curator.console import safe, visible
from curator.items import PromptRecord, Provenance, add_prompts

HOSTILE = [
    "[bold red]Rewrite this[/] as a poem.",
    "Click [link=file:///etc/passwd]here[/link] to summarise.",
    "Clear the screen \x1b[2J then rewrite.",
    "Set the title \x1b]0;pwned\x07 and translate.",
    "Hidden \u202e reversed text.",
]


def _add(corpus, texts):
    with corpus.store.transaction() as conn:
        add_prompts(conn, [PromptRecord(t, "public", Provenance("d", "prompts", row=i)) for i, t in enumerate(texts)])


def test_helpers_escape_markup_and_show_controls():
    assert visible("a\x1b[2Jb\x07c\u202ed") == "a\\x1b[2Jb\\x07c\\u202ed"
    assert safe("[bold red]x[/]") == "\\[bold red]x\\[/]"
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, force_terminal=True, color_system="truecolor", highlight=False).print(safe(HOSTILE[1] + HOSTILE[3]))
    shown = buf.getvalue()
    assert "[link=file:///etc/passwd]here[/link]" in shown and "\x1b]8;" not in shown and "\x1b]0;" not in shown


def test_piped_listing_shows_data_as_data(cli):
    root = cli.root
    from curator import Corpus

    with Corpus.open(root) as c:
        _add(c, HOSTILE)
    res = cli("prompts", "--limit", "0")
    assert res.exit_code == 0
    out = res.stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    for text in ("[bold red]Rewrite this[/] as a poem.", "[link=file:///etc/passwd]here[/link]",
                 "\\x1b[2J", "\\x1b]0;pwned\\x07", "\\u202e"):
        assert text in out
    header, *rows = out.splitlines()
    assert header.split("\t") == ["id", "origin", "category", "text", "duplicate_of"] and len(rows) == 5
    samples = cli("samples", "--limit", "0")
    assert samples.exit_code == 0 and samples.stdout.splitlines()[0].startswith("id\tstatus")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_listing_table_and_long_listing_escape(corpus, monkeypatch):
    import pandas as pd

    from curator import cli as cli_module

    frame = pd.DataFrame({"id": [f"id{i}" for i in range(len(HOSTILE))], "origin": "public", "category": None,
                          "text": HOSTILE, "duplicate_of": None})
    cols = ["id", "origin", "category", "text", "duplicate_of"]
    for rows in (frame, pd.concat([frame] * 60, ignore_index=True)):  # a rich table, then streamed lines
        tty = FakeTTY()
        monkeypatch.setattr("sys.stdout", tty)
        cli_module._listing(rows, cols, False, "prompts")
        shown = tty.getvalue()
        assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x1b]8;" not in shown
        assert "\u202e" not in shown and "\x07" not in shown
        assert "[bold red]Rewrite this[/]" in shown and "\\x1b[2J" in shown


def test_25k_prompts_list_in_under_3_seconds_first_rows_at_once(cli):
    from curator import Corpus

    with Corpus.open(cli.root) as c:
        _add(c, [f"Rewrite text number {i} in the style of author {i % 97}." for i in range(25_000)])
    t = time.perf_counter()
    res = cli("prompts", "--limit", "0")
    took = time.perf_counter() - t
    lines = res.stdout.splitlines()
    assert res.exit_code == 0 and len(lines) == 25_001
    assert took <= 3.0, f"25k rows took {took:.1f} s"
    with Corpus.open(cli.root) as c:  # the notebook form: the same rows, a chunk at a time
        chunks = list(c.iter_prompts(chunk=4000))
        whole = c.prompts()
    assert [len(f) for f in chunks] == [4000] * 6 + [1000]
    assert pd.concat(chunks, ignore_index=True)["id"].tolist() == whole["id"].tolist()
    assert lines[1].split("\t")[0] == whole["id"].iloc[0]
