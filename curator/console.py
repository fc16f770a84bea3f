"""Output for people: rich tables and progress bars, on stderr (stdout is kept for --json)."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

# Piped or captured output gets 140 columns rather than rich's 80, so tables stay readable in logs.
console = Console(stderr=True, highlight=False, soft_wrap=True,
                  width=None if sys.stderr.isatty() or os.environ.get("COLUMNS") else 140)


def progress(transient: bool = False) -> Progress:
    """The one progress-bar style for every long step (embed, ingest, scrape, generate, score)."""
    return Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=transient,
        disable=not console.is_terminal and not _force_progress(),
    )


def _force_progress() -> bool:
    import os

    return os.environ.get("CURATOR_PROGRESS") == "1"


def print_json(value: Any) -> None:
    """Machine output: JSON on stdout, one document."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


# Control characters (C0 but tab/newline, DEL, C1) and bidi/format controls that can rewrite a
# terminal's screen or reorder what it shows: data from the web must never reach it raw.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: object) -> str:
    """Text with every control character shown as an escape (``ESC[2J`` → ``\\x1b[2J``)."""
    s = "" if text is None else str(text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", s)


def safe(text: object) -> str:
    """Data for a rich renderable: control characters visible and ``[markup]`` escaped, so a
    prompt holding ``[bold red]`` or ``[link=file:///etc/passwd]`` prints as those characters."""
    return escape(visible(text))
