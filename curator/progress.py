"""Progress where the user is: plain periodic lines when stderr is not a terminal, a live HTML bar
in Jupyter (Kaggle, Colab, JupyterLab, VS Code), rich bars on a terminal (see
:func:`curator.console.progress`, which picks one).

Why not rich everywhere: rich draws nothing when stderr is a pipe or a log file, and in a
notebook it needs ipywidgets. A 31.7k-prompt embed then ran 10½ minutes in silence. So:

* :class:`LineProgress` prints ``embed (default): 1,024/31,700 (3%) · 85.2/s · elapsed 0:12 ·
  ETA 6:00`` on stderr every ``interval`` seconds (5) while a task runs, from a ticker thread
  so a long batch still reports, and once when it ends; a step shorter than that stays quiet.
* :class:`NotebookProgress` keeps one HTML display per task (``<progress>`` + the same figures)
  and updates it in place through IPython's display ids: no ipywidgets needed.

Both take the calls the stages make on a rich ``Progress`` (``add_task``, ``advance``,
``update``, use as a context manager), so no call site knows which one it got.
"""

from __future__ import annotations

import html
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

DEFAULT_INTERVAL = 5.0  # seconds between plain lines; CURATOR_PROGRESS_INTERVAL overrides


@dataclass
class _Task:
    description: str
    total: float | None
    visible: bool = True
    completed: float = 0.0
    started: float = field(default_factory=time.monotonic)
    finished_at: float | None = None
    last_shown: float = 0.0

    @property
    def finished(self) -> bool:
        return self.total is not None and self.completed >= self.total

    def figures(self, now: float) -> dict[str, Any]:
        elapsed = max((self.finished_at or now) - self.started, 1e-9)
        rate = self.completed / elapsed
        eta = (self.total - self.completed) / rate if self.total is not None and rate > 0 else None
        return {"elapsed": elapsed, "rate": rate, "eta": eta}


def fmt_duration(seconds: float) -> str:
    """0:07, 4:21, 1:02:03."""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _count(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def describe(task: _Task, now: float | None = None) -> str:
    """One line: description, count/total (percent), rate, elapsed, ETA (or "done")."""
    now = time.monotonic() if now is None else now
    f = task.figures(now)
    count = _count(task.completed)
    if task.total is not None:
        pct = 100.0 * task.completed / task.total if task.total else 100.0
        count = f"{count}/{_count(task.total)} ({pct:.0f}%)"
    parts = [f"{task.description}: {count}", f"{f['rate']:,.1f}/s", f"elapsed {fmt_duration(f['elapsed'])}"]
    if task.finished:
        parts.append("done")
    elif f["eta"] is not None:
        parts.append(f"ETA {fmt_duration(f['eta'])}")
    return " · ".join(parts)


class _Tasks:
    """The rich ``Progress`` calls the stages use, over a table of tasks; subclasses show them."""

    def __init__(self) -> None:
        self.tasks: dict[int, _Task] = {}
        self._lock = threading.RLock()

    # -- the rich.progress.Progress surface --------------------------------------------------
    def add_task(self, description: str, start: bool = True, total: float | None = 100.0,
                 completed: float = 0, visible: bool = True, **_fields: Any) -> int:
        with self._lock:
            task_id = len(self.tasks)
            self.tasks[task_id] = _Task(description, total, visible, completed)
            self._changed(task_id, force=True)
            return task_id

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, visible: bool | None = None,
               refresh: bool = False, **_fields: Any) -> None:
        with self._lock:
            t = self.tasks[task_id]
            was_finished = t.finished
            if total is not None:
                t.total = total
            if completed is not None:
                t.completed = completed
            if advance is not None:
                t.completed += advance
            if description is not None:
                t.description = description
            if visible is not None:
                t.visible = visible
            if t.finished and not was_finished:
                t.finished_at = time.monotonic()
            self._changed(task_id, force=refresh or (t.finished and not was_finished))

    def start(self) -> None:
        pass

    def stop(self) -> None:
        with self._lock:
            for task_id, t in self.tasks.items():
                if t.finished_at is None:
                    t.finished_at = time.monotonic()
                    self._changed(task_id, force=True, final=True)

    def refresh(self) -> None:
        pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _changed(self, task_id: int, force: bool = False, final: bool = False) -> None:
        raise NotImplementedError


class LineProgress(_Tasks):
    """Plain lines on a stream (stderr) when nothing can draw a bar: logs, pipes, CI, nohup."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None) -> None:
        super().__init__()
        self.stream = stream
        env = os.environ.get("CURATOR_PROGRESS_INTERVAL")
        self.interval = interval if interval is not None else float(env) if env else DEFAULT_INTERVAL
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def start(self) -> None:
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="curator-progress", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
        super().stop()

    def _tick(self) -> None:
        """Every interval, a line for each running task that has not printed one for that long."""
        while not self._stop.wait(min(self.interval, 1.0)):
            with self._lock:
                for task_id in list(self.tasks):
                    self._changed(task_id)

    def _changed(self, task_id: int, force: bool = False, final: bool = False) -> None:
        """A line once a task has run ``interval`` seconds, then every ``interval``, and a last one
        when it ends; a step shorter than ``interval`` prints nothing (no noise in logs and tests)."""
        t = self.tasks[task_id]
        now = time.monotonic()
        if not t.visible:
            return
        if t.last_shown == 0.0:  # nothing printed yet: only a long-running task starts printing
            if t.finished or now - t.started < self.interval:
                return
        elif t.finished and t.finished_at is not None and t.last_shown >= t.finished_at:
            return  # its last line is out
        elif not (force or t.finished) and now - t.last_shown < self.interval:
            return
        t.last_shown = now
        stream = self.stream or sys.stderr
        stream.write(f"{describe(t, now)}\n")
        stream.flush()


class NotebookProgress(_Tasks):
    """One live HTML bar per task in a Jupyter notebook, updated in place (at most ~5 times a second)."""

    MIN_GAP = 0.2

    def __init__(self) -> None:
        super().__init__()
        self._handles: dict[int, Any] = {}

    def _changed(self, task_id: int, force: bool = False, final: bool = False) -> None:
        from IPython.display import HTML, display

        t = self.tasks[task_id]
        now = time.monotonic()
        if not t.visible or (not force and now - t.last_shown < self.MIN_GAP):
            return
        t.last_shown = now
        value = f' value="{t.completed}" max="{t.total}"' if t.total else ""
        body = HTML(f'<div class="curator-progress"><progress style="width:22em"{value}></progress> '
                    f"<code>{html.escape(describe(t, now))}</code></div>")
        handle = self._handles.get(task_id)
        if handle is None:
            self._handles[task_id] = display(body, display_id=True)
        else:
            handle.update(body)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, classic, VS Code, Kaggle, Colab), not in IPython's terminal."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - an odd IPython must not break progress
        return False
    if shell is None:
        return False
    name = type(shell).__name__
    return name == "ZMQInteractiveShell" or "google.colab" in str(type(shell))
