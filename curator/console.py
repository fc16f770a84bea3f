"""Output for people: rich tables and progress bars, on stderr (stdout is kept for --json)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

# Piped or captured output gets 140 columns rather than rich's 80, so tables stay readable in logs.
console = Console(stderr=True, highlight=False, soft_wrap=True,
                  width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else 140)


def progress(transient: bool = False):
    """The progress display for every long step (embed, ingest, scrape, generate, score).

    A rich bar on a terminal; a live HTML bar in a Jupyter notebook; elsewhere (a pipe, a log
    file, CI) plain lines on stderr with count, total, rate and ETA every few seconds
    (:mod:`curator.progress`). All three take the same calls (``add_task``, ``advance``,
    ``update``). ``CURATOR_PROGRESS`` forces one: ``rich`` (or ``1``), ``plain``, ``notebook``,
    or ``0`` for none; ``CURATOR_PROGRESS_INTERVAL`` sets the seconds between plain lines.
    """
    from .progress import LineProgress, NotebookProgress, in_notebook

    mode = os.environ.get("CURATOR_PROGRESS", "").strip().lower()
    if mode in ("0", "off", "none", "false"):
        return _rich(transient, disable=True)
    if mode in ("1", "rich"):
        return _rich(transient)
    if mode == "plain":
        return LineProgress()
    if mode == "notebook" or (not mode and in_notebook()):
        return NotebookProgress()
    if console.is_terminal:
        return _rich(transient)
    return LineProgress()


def _rich(transient: bool, disable: bool = False) -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=transient, disable=disable,
    )


def print_json(value: Any) -> None:
    """Machine output: JSON on stdout, one document."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def data(value: object) -> Text:
    """Untrusted text (prompts, samples, page text, model output) as a renderable that is never
    read as rich markup and whose control characters are visible: use it for every table cell
    and line that shows data."""
    from .text import visible

    return Text(visible("" if value is None else str(value)))


def esc(value: object) -> str:
    """Untrusted text for interpolation inside a markup string: markup escaped, controls visible."""
    from .text import visible

    return escape(visible("" if value is None else str(value)))


def visible(text: object) -> str:
    """Text with every control character shown as an escape (``ESC[2J`` → ``\\x1b[2J``); see
    :func:`curator.text.visible`."""
    from .text import visible as _visible

    return _visible(text)


safe = esc  # markup escaped and controls visible, for interpolation into rich markup
