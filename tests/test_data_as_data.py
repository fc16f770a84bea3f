"""Prompts come from the web: in every listing a prompt holding rich markup is shown as the text it
is, and terminal escape sequences are shown, never passed raw to the terminal."""

from __future__ import annotations

import json

from click.testing import CliRunner

from curator.cli import main
from curator.console import data, esc
from curator.text import visible
from curator.workspace import Corpus

HOSTILE = [
    "Rewrite this [bold red]in capitals[/] please.",
    "Rewrite this as a [link=file:///etc/passwd]legal notice[/link].",
    "Rewrite this text\x1b[2J as a limerick.",
    "Make this formal\x1b]0;pwned\x07 and short.",
]


def test_visible_and_renderables():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb" and visible("x\x07") == "x\\x07"
    assert visible("line\nnext\tcol") == "line\nnext\tcol"
    assert visible("abc\u202edcba") == "abc\\u202edcba"
    assert data("[bold]x[/]").plain == "[bold]x[/]"
    assert "\\[bold]" in esc("[bold]x[/]")


def test_listings_show_markup_and_escapes_as_text(tmp_path):
    root = tmp_path / "c"
    Corpus.init(root).close()
    src = tmp_path / "hostile.jsonl"
    src.write_text("".join(json.dumps({"original_text": "A plain text about rivers.", "rewrite_prompt": p,
                                       "rewritten_text": f"River text, version {i}."}) + "\n"
                           for i, p in enumerate(HOSTILE)), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["--corpus", str(root), "ingest", str(src)]).exit_code == 0
    for command in (["prompts", "--limit", "0"], ["samples", "--limit", "0"]):
        out = runner.invoke(main, ["--corpus", str(root), *command], env={"COLUMNS": "400"})
        assert out.exit_code == 0, out.output
        shown = out.stdout + out.stderr
        assert "\x1b" not in shown and "\x07" not in shown, command
        assert "[bold red]in capitals[/]" in shown
        assert "[link=file:///etc/passwd]legal notice[/link]" in shown
        assert "\\x1b[2J" in shown and "\\x1b]0;pwned\\x07" in shown
