"""Writing prompts, samples and their provenance: the one place rows enter the store.

Every stage (ingest, scrape, expand, combine, generate) produces :class:`PromptRecord` or
:class:`SampleRecord` values and hands them to :func:`add_prompts` / :func:`add_samples` inside
its transaction. Rows are keyed by content id, so an exact duplicate never makes a second row:
it only adds a provenance line (and not even that when the same file row is seen again).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable

from .store import dumps, utcnow
from .text import clean, content_id

PROMPT_ORIGINS = (
    "seed", "public", "scraped", "template", "combined", "generated", "generated-prompt", "local",
)
SAMPLE_STATUSES = ("candidate", "train", "rejected", "target")


@dataclass
class Provenance:
    """Where one row came from: dataset, role, file name (or URL), file sha256, row/position."""

    dataset: str
    role: str
    file: str | None = None
    sha256: str | None = None
    row: int | None = None
    context: str | None = None


@dataclass
class PromptRecord:
    text: str
    origin: str
    provenance: Provenance
    source: str | None = None
    url: str | None = None
    category: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SampleRecord:
    original_text: str
    rewrite_prompt: str
    rewritten_text: str
    origin: str
    provenance: Provenance
    status: str = "candidate"
    model: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    prompt_category: str | None = None

    @property
    def id(self) -> str:
        return sample_id(self.original_text, self.rewrite_prompt, self.rewritten_text)


def sample_id(original_text: str, rewrite_prompt: str, rewritten_text: str) -> str:
    return content_id(original_text, rewrite_prompt, rewritten_text)


@dataclass
class AddResult:
    """What happened to each record: new row, or an existing one (exact duplicate) re-seen."""

    new: int = 0
    existing: int = 0
    ids: list[str] = field(default_factory=list)


def add_prompts(conn: sqlite3.Connection, records: Iterable[PromptRecord]) -> AddResult:
    """Insert prompts (first spelling wins) and their provenance. Call inside a transaction.

    Batched with ``executemany``: ``rowcount`` of an ``INSERT OR IGNORE`` batch is the number of
    rows actually inserted, which is all the new/existing split needs.
    """
    now = utcnow()
    rows, provs, categories, ids = [], [], [], []
    for rec in records:
        text = clean(rec.text)
        pid = content_id(text)
        ids.append(pid)
        rows.append((pid, text, rec.origin, rec.source or rec.provenance.dataset, rec.url, rec.category,
                     now, dumps(rec.meta)))
        provs.append(_provenance_row("prompt", pid, rec.provenance, now))
        if rec.category:
            categories.append((rec.category, pid))
    cur = conn.executemany(
        "INSERT OR IGNORE INTO prompts (id, text, origin, source, url, category, created_at, meta)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    new = max(cur.rowcount, 0)
    # a category learnt later (e.g. a template re-discovering a public prompt) fills a blank one
    conn.executemany("UPDATE prompts SET category = ? WHERE id = ? AND category IS NULL", categories)
    conn.executemany(_PROVENANCE_SQL, provs)
    return AddResult(new=new, existing=len(ids) - new, ids=ids)


def add_samples(conn: sqlite3.Connection, records: Iterable[SampleRecord]) -> AddResult:
    """Insert samples, their prompts (origin of the sample) and provenance. Inside a transaction.

    A sample without a prompt (a test set whose prompt is to be recovered) has prompt_id NULL.
    """
    now = utcnow()
    records = list(records)
    labelled = [r for r in records if clean(r.rewrite_prompt)]
    add_prompts(conn, [PromptRecord(r.rewrite_prompt, r.origin, r.provenance, category=r.prompt_category)
                       for r in labelled])
    rows, provs, ids = [], [], []
    for rec in records:
        if rec.status not in SAMPLE_STATUSES:
            raise ValueError(f"unknown sample status {rec.status!r}; one of {SAMPLE_STATUSES}")
        original, prompt, rewritten = clean(rec.original_text), clean(rec.rewrite_prompt), clean(rec.rewritten_text)
        pid = content_id(prompt) if prompt else None
        sid = sample_id(original, prompt, rewritten)
        ids.append(sid)
        rows.append((sid, pid, prompt, original, rewritten, rec.origin, rec.provenance.dataset, rec.model,
                     rec.status, now, dumps(rec.meta)))
        provs.append(_provenance_row("sample", sid, rec.provenance, now))
    cur = conn.executemany(
        "INSERT OR IGNORE INTO samples (id, prompt_id, rewrite_prompt, original_text, rewritten_text,"
        " origin, dataset, model, status, created_at, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany(_PROVENANCE_SQL, provs)
    new = max(cur.rowcount, 0)
    return AddResult(new=new, existing=len(ids) - new, ids=ids)


def add_prediction(conn: sqlite3.Connection, sample_id_: str, predictor: str, text: str,
                   meta: dict | None = None) -> bool:
    """Store one predicted prompt; an existing (sample, predictor) pair is kept. True if new."""
    cur = conn.execute(
        "INSERT OR IGNORE INTO predictions (sample_id, predictor, predicted_prompt, created_at, meta)"
        " VALUES (?, ?, ?, ?, ?)",
        (sample_id_, predictor, clean(text), utcnow(), dumps(meta or {})),
    )
    return bool(cur.rowcount)


_PROVENANCE_SQL = (
    "INSERT OR IGNORE INTO provenance (item_kind, item_id, dataset, role, file, sha256, row, context,"
    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _provenance_row(kind: str, item_id: str, p: Provenance, now: str) -> tuple:
    # NULLs are distinct in a SQLite primary key, so '' / -1 stand for "unknown" to keep it unique
    return (kind, item_id, p.dataset, p.role, p.file, p.sha256 or "", p.row if p.row is not None else -1,
            p.context, now)
