"""The one shape of an LLM task: what to ask for each item, how to read an answer, how to store it.

generate (both stages), brainstorm and predict are each a :class:`LLMTask`; one runner
(:func:`curator.llm.runner.run_task`) executes any of them. Because an answer journaled by an
earlier (killed) run goes through the *same* ``parse`` → ``store`` path as a fresh one, a
resumed run stores what the killed one had not, and an answer that was invalid is asked again
with the next attempt's seed instead of being forgotten.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import RemoteError

if TYPE_CHECKING:
    import sqlite3

    from .client import ChatRequest


class Invalid(Exception):
    """Raised by :meth:`LLMTask.parse`: the answer is unusable. The reason's first word
    (``malformed``, ``too_long``, ``refusal``…) is its class in summaries."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class LLMTask:
    """Subclass and fill in. ``items`` each need exactly one valid result; attempt ``n`` of an
    item is asked only when attempt ``n-1`` was answered but invalid (``retries`` such re-asks),
    and its request must differ (a new seed) so that it has its own journal entry."""

    purpose: str = "llm"
    retries: int = 0
    label: str | None = None
    keep_values: bool = False  # keep each item's parsed value in the summary (two-stage generation)
    threaded_store: bool = True  # ``store`` uses only ``conn`` (False: it needs the run's Context, e.g. to embed)

    def items(self) -> Sequence[Any]:
        raise NotImplementedError

    def key(self, item: Any) -> str:
        """A stable identity of an item (for failures and kept values)."""
        raise NotImplementedError

    def request(self, item: Any, index: int, attempt: int) -> "ChatRequest":
        """The request of attempt ``attempt`` (0-based) for the ``index``-th item; deterministic."""
        raise NotImplementedError

    def parse(self, item: Any, content: str) -> Any:
        """The usable value of an answer, or raise :class:`Invalid`. Model output is data:
        parsed with ``json``, never evaluated."""
        raise NotImplementedError

    def store(self, conn: "sqlite3.Connection", item: Any, value: Any, req: "ChatRequest", request_hash: str) -> int:
        """Write the rows of one valid answer (inside the runner's transaction, beside its journal
        row; must be idempotent: a replayed answer is stored again). Returns rows added."""
        return 0


@dataclass
class RunSummary:
    """What one task run did. ``unresolved`` maps items left without a valid result to why."""

    purpose: str = ""
    items: int = 0
    done: int = 0
    planned: int = 0
    cached: int = 0
    sent: int = 0
    ok: int = 0
    invalid: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    not_sent_cost_cap: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    retries: int = 0
    stored: int = 0
    unresolved: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("values", "unresolved")}
        d["invalid"] = dict(sorted(self.invalid.items()))
        d["failed"] = dict(self.failed)
        d["cost"] = round(self.cost, 6)
        d["unresolved"] = len(self.unresolved)
        d["unresolved_reasons"] = dict(Counter(r.split(":")[0] for r in self.unresolved.values()))
        return d

    def failure_line(self) -> str | None:
        """One line saying how many items failed for good and why, or None."""
        if not self.unresolved:
            return None
        reasons = Counter(r.split(":")[0] for r in self.unresolved.values())
        # most first, ties by name: answers arrive in any order under concurrency, the line must not
        why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"{self.purpose}: {len(self.unresolved)} of {self.items} got no valid answer ({why})"


def check(*summaries: RunSummary | None) -> None:
    """Raise :class:`RemoteError` (exit 1) when some remote work failed for good."""
    lines = [s.failure_line() for s in summaries if s is not None and s.failure_line()]
    if lines:
        raise RemoteError("; ".join(lines))


def parse_json_object(text: str) -> dict | None:
    """The JSON object in a model answer: the whole text, or the first {...} span (code fences and
    preambles are common). Parsed with ``json`` only — model output is never evaluated."""
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[text.find("\n") + 1:] if "\n" in text else text
    for candidate in (text, text[text.find("{"): text.rfind("}") + 1] if "{" in text else ""):
        if not candidate:
            continue
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None
