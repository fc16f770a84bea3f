"""Tabular files → prompts and samples, with column mapping, validation and provenance.

Public competition data is messy: every author named the columns differently, some lists have no
header, some files repeat their header mid-file, encodings vary. This module reads one file into
a DataFrame of strings (:func:`read_table`), decides which column is which field
(:func:`resolve_columns`) and lands the rows in one transaction (:func:`ingest_file`). In-memory
tables (a DataFrame, a list of dicts, a Hugging Face ``Dataset``) take the same path after the
read (:func:`ingest_table`), so they are mapped and checked exactly like files. Every row
either lands or is reported with its number and reason; a file that cannot be read changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CuratorError
from ..console import progress
from ..items import (AddResult, PromptRecord, Provenance, SampleRecord, add_prediction, add_prompts,
                     add_samples)
from ..store import dumps, utcnow
from .columns import (ALIASES, FIELDS, PROMPT_TIERS, ROLES, _HEADERISH, _unknown_layout,  # noqa: F401
                      parse_mapping, resolve_columns)
from .read import _frame_sha256, _to_frame, decode, read_table, sha256_of  # noqa: F401

if TYPE_CHECKING:
    import pandas as pd
    from ..context import Context

__all__ = ["ingest_file", "ingest_table", "IngestSummary", "RowIssue", "read_table", "decode", "resolve_columns",
           "parse_mapping", "sha256_of", "FIELDS", "ROLES", "ALIASES", "PROMPT_TIERS", "MAX_FIELD_CHARS"]

MAX_FIELD_CHARS = 200_000
CHUNK_ROWS = 10_000  # rows per insert batch: the progress step of a large ingest


@dataclass
class RowIssue:
    row: int
    reason: str


@dataclass
class IngestSummary:
    """What one file did to the store. ``rows == landed + len(issues)`` always holds."""

    path: str
    dataset: str
    role: str
    sha256: str
    encoding: str
    columns: dict[str, str]
    rows: int = 0
    landed: int = 0
    new: int = 0
    existing: int = 0
    predictions: int = 0
    issues: list[RowIssue] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["issues"] = [{"row": i.row, "reason": i.reason} for i in self.issues]
        return d


# -- landing ------------------------------------------------------------------------------------
@dataclass
class _Source:
    """A table to land, wherever it came from: a file read from disk or an in-memory table."""

    label: str          # what errors and the summary name: the path, or "DataFrame 'name'"
    file: str           # provenance file name: the file's name, or the synthetic "<kind>:<name>"
    frame: pd.DataFrame  # every cell a string
    sha256: str         # of the file's bytes, or of the table's content (columns and cells)
    encoding: str
    stem: str           # the default dataset name


def ingest_file(corpus: "Context", path: Path, dataset: str | None = None, role: str | None = None,
                mapping: dict[str, str] | list[str] | None = None, origin: str = "public",
                status: str | None = None, predictor: str | None = None) -> IngestSummary:
    """Ingest one file in one transaction and return its summary.

    ``role``: ``samples`` (original/prompt/rewrite triples), ``prompts`` (prompt lists) or
    ``target`` (samples or prompts a model will be tested on: coverage compares against them);
    by default ``samples`` when the texts are present, else ``prompts``.
    ``status``: sample status, default ``candidate`` (``target`` for the target role).
    ``predictor``: name for a prediction column's predictor, default ``<dataset>:<column>``.
    """
    path = Path(path)
    if not path.exists():
        raise CuratorError(f"{path}: no such file")
    if path.is_dir():
        raise CuratorError(f"{path}: is a directory; pass the files in it")
    _check_role(role)
    data = path.read_bytes()
    frame, encoding, _ = read_table(path, data)
    source = _Source(str(path), path.name, frame, sha256_of(data), encoding, path.stem)
    return _land(corpus, source, dataset, role, mapping, origin, status, predictor)


def ingest_table(corpus: "Context", table: Any, name: str | None = None, dataset: str | None = None,
                 role: str | None = None, mapping: dict[str, str] | list[str] | None = None,
                 origin: str = "public", status: str | None = None,
                 predictor: str | None = None) -> IngestSummary:
    """Ingest an in-memory table exactly as a file with the same columns would be.

    ``table``: a pandas DataFrame, a list of dicts (or of strings: a prompt list), or a Hugging
    Face ``datasets.Dataset`` (anything with ``to_pandas()``; a ``DatasetDict`` must be given one
    split). The same column mapping, validation, roles and options as :func:`ingest_file`.
    Provenance records the synthetic file name ``<kind>:<name>`` (``name`` defaults to the first
    12 hex digits of the content's SHA-256) and that SHA-256, so the same table ingested twice
    adds nothing. ``dataset`` defaults to ``name``, else the kind (``dataframe``, ``records``,
    ``dataset``).
    """
    _check_role(role)
    kind, frame = _to_frame(table, name)
    digest = _frame_sha256(frame)
    label_name = name or digest[:12]
    label = f"{kind} {label_name!r}"
    source = _Source(label, f"<{kind}>:{label_name}", frame, digest, "memory", name or kind)
    return _land(corpus, source, dataset, role, mapping, origin, status, predictor)


def _check_role(role: str | None) -> None:
    if role is not None and role not in ROLES:
        raise CuratorError(f"--as {role}: must be one of {', '.join(ROLES)}")


def _land(corpus: "Context", source: _Source, dataset: str | None, role: str | None,
          mapping: dict[str, str] | list[str] | None, origin: str, status: str | None,
          predictor: str | None) -> IngestSummary:
    """The one path from a table of strings to the store: mapping, checks, one transaction."""
    if isinstance(mapping, (list, tuple)):
        mapping = parse_mapping(mapping)
    frame, label = source.frame, source.label
    columns = [str(c) for c in frame.columns]
    cols = resolve_columns(columns, mapping or {}, label)
    has_texts = "original_text" in cols and "rewritten_text" in cols
    unlabelled = "rewrite_prompt" not in cols
    if unlabelled and not (has_texts and role in (None, "target")):
        raise _unknown_layout(label, columns, "rewrite_prompt")
    if role is None:
        # texts without a prompt are a test set (Kaggle's test.csv): the prompt is to be recovered
        role = "target" if unlabelled else ("samples" if has_texts else "prompts")
    if role == "samples" and not has_texts:
        missing = "original_text" if "original_text" not in cols else "rewritten_text"
        raise _unknown_layout(label, columns, missing)
    as_samples = has_texts and role in ("samples", "target")
    status = status or ("target" if role == "target" else "candidate")
    dataset = dataset or source.stem
    digest = source.sha256
    summary = IngestSummary(label, dataset, role, digest, source.encoding, cols)
    predictor = predictor or (f"{dataset}:{cols['prediction']}" if "prediction" in cols else None)
    extra_cols = [c for c in columns if c not in cols.values()]

    prompt_records: list[PromptRecord] = []
    sample_records: list[tuple[SampleRecord, str | None]] = []
    header_cells = set(columns)
    for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        summary.rows += 1
        values = dict(zip(columns, row))
        reason = _row_problem(values, cols, as_samples, header_cells)
        if reason:
            summary.issues.append(RowIssue(i, reason))
            continue
        meta = {c: values[c] for c in extra_cols if values[c] != ""}
        prov = Provenance(dataset=dataset, role=role, file=source.file, sha256=digest, row=i)
        prompt = "" if unlabelled else values[cols["rewrite_prompt"]].strip()
        if as_samples:
            rec = SampleRecord(values[cols["original_text"]], prompt, values[cols["rewritten_text"]],
                               origin=origin, provenance=prov, status=status, meta=meta)
            pred = values.get(cols["prediction"], "").strip() if "prediction" in cols else None
            sample_records.append((rec, pred or None))
        else:
            if "prediction" in cols and values[cols["prediction"]].strip():
                meta["predicted"] = values[cols["prediction"]].strip()
            prompt_records.append(PromptRecord(prompt, origin, prov, meta=meta))

    total = len(sample_records) if as_samples else len(prompt_records)
    with progress(transient=True) as bar, corpus.store.transaction() as conn:
        # in chunks, so a 200k-row file shows progress; still one transaction: all or nothing
        task = bar.add_task(f"ingest {source.file}", total=total)
        res = AddResult()
        for start in range(0, total, CHUNK_ROWS):
            if as_samples:
                chunk = sample_records[start:start + CHUNK_ROWS]
                part = add_samples(conn, [r for r, _ in chunk])
                for sid, (_, pred) in zip(part.ids, chunk):
                    if pred and predictor:
                        summary.predictions += add_prediction(conn, sid, predictor, pred, {"file": source.file})
            else:
                chunk = prompt_records[start:start + CHUNK_ROWS]
                part = add_prompts(conn, chunk)
            res.new, res.existing, res.ids = res.new + part.new, res.existing + part.existing, res.ids + part.ids
            bar.advance(task, len(chunk))
        summary.new, summary.existing, summary.landed = res.new, res.existing, len(res.ids)
        conn.execute(
            "INSERT OR IGNORE INTO files (sha256, dataset, role, path, rows, summary, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (digest, dataset, role, label, summary.rows, dumps(summary.as_dict()), utcnow()),
        )
        corpus.store.log_event("ingest", {"path": label, "dataset": dataset, "role": role},
                               {k: v for k, v in summary.as_dict().items() if k != "issues"}
                               | {"issues": len(summary.issues)})
    assert summary.rows == summary.landed + len(summary.issues)
    return summary


def _row_problem(values: dict[str, str], cols: dict[str, str], as_samples: bool,
                 header_cells: set[str]) -> str | None:
    """Why a row cannot land, or None. Checked before anything is written."""
    nonempty = [v.strip() for v in values.values() if v.strip()]
    if nonempty and any(v in header_cells for v in nonempty) and all(
            _HEADERISH.match(v) and len(v.split()) <= 3 for v in nonempty):
        return "repeats the header line"
    needed = (["rewrite_prompt"] if "rewrite_prompt" in cols else []) + (
        ["original_text", "rewritten_text"] if as_samples else [])
    for fld in needed:
        value = values[cols[fld]]
        if not value.strip():
            return f"empty {fld} (column {cols[fld]!r})"
        if len(value) > MAX_FIELD_CHARS:
            return f"{fld} longer than {MAX_FIELD_CHARS:,} characters"
    return None
