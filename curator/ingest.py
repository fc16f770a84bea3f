"""Tabular files → prompts and samples, with column mapping, validation and provenance.

Public competition data is messy: every author named the columns differently, some lists have no
header, some files repeat their header mid-file, encodings vary. This module reads one file into
a DataFrame of strings (:func:`read_table`), decides which column is which field
(:func:`resolve_columns`) and lands the rows in one transaction (:func:`ingest_file`). Every row
either lands or is reported with its number and reason; a file that cannot be read changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import CuratorError
from .items import PromptRecord, Provenance, SampleRecord, add_prediction, add_prompts, add_samples
from .store import dumps, utcnow

if TYPE_CHECKING:
    from .context import Context

FIELDS = ("original_text", "rewrite_prompt", "rewritten_text", "prediction")
ROLES = ("samples", "prompts", "target")

# Column aliases, compared after lower-casing and turning spaces/dashes into underscores.
# The prompt has tiers: a column that explicitly says "ground truth" outranks a plain
# rewrite_prompt, which outranks generic names. When a truth column exists, a plain
# rewrite_prompt next to it is the *prediction* (that is how gemma_mix_with_predictions.csv is laid out).
PROMPT_TIERS: tuple[tuple[str, ...], ...] = (
    ("gt_rewrite_prompt", "rewrite_prompt_og", "true_prompt", "gt_prompt", "target_prompt", "truth"),
    ("rewrite_prompt",),
    ("target", "prompt", "prompts", "instruction", "rewrite_prompts", "rewrite_instruction"),
)
ALIASES: dict[str, tuple[str, ...]] = {
    "original_text": ("original_text", "original", "input_text", "source_text", "original_essay", "text"),
    "rewritten_text": ("rewritten_text", "rewritten", "rewrite", "rewritten_essay", "output_text",
                       "generated_text"),
    "prediction": ("predicted", "prediction", "predicted_prompt", "pred", "pred_prompt", "predictions"),
}

MAX_FIELD_CHARS = 200_000


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


# -- reading ------------------------------------------------------------------------------------
def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Bytes → text, trying UTF-8 (with or without BOM), then cp1252, then Latin-1.

    cp1252 is what Excel on Windows writes; Latin-1 decodes anything, so it is last and only
    reached when cp1252 meets one of its five undefined bytes.
    """
    if b"\x00" in data[:8192]:
        raise CuratorError(f"{path}: looks like a binary file (NUL bytes), not CSV/TSV/JSON text; "
                           "pass a .parquet file or a text export")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        name = "utf-8-bom" if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else (
            "utf-8" if encoding == "utf-8-sig" else encoding)
        return text, name
    raise AssertionError("latin-1 decodes every byte string")


def _format_of(path: Path, data: bytes, text_head: str) -> str:
    suffix = path.suffix.lower()
    if data[:4] == b"PAR1" or suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix in (".csv", ".txt", ""):
        stripped = text_head.lstrip()
        if suffix == "" and stripped[:1] in ("[", "{"):
            return "json" if stripped[:1] == "[" else "jsonl"
        return "csv"
    raise CuratorError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .json, .jsonl or .parquet")


def read_table(path: Path, data: bytes | None = None) -> tuple[pd.DataFrame, str, bool]:
    """Read a file into a DataFrame of strings. Returns (frame, encoding, had_header).

    Single-column text files may come without a header row; the first line is taken as a
    header only when it looks like one (a short identifier such as ``prompts``/``rewrite_prompt``).
    """
    if data is None:
        data = path.read_bytes()
    if not data.strip():
        raise CuratorError(f"{path}: file is empty; nothing to ingest")
    if data[:4] == b"PAR1" or path.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise CuratorError(f"{path}: not a readable parquet file ({_first_line(exc)})") from exc
        return _as_strings(frame), "binary", True
    text, encoding = decode(data, path)
    fmt = _format_of(path, data, text[:100])
    if fmt == "json":
        return _read_json(path, text), encoding, True
    if fmt == "jsonl":
        return _read_jsonl(path, text), encoding, True
    return _read_delimited(path, text, "\t" if fmt == "tsv" else ","), encoding, True


def _read_json(path: Path, text: str) -> pd.DataFrame:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CuratorError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg}); "
                           "is the file truncated?") from exc
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            value = lists[0]
    if not isinstance(value, list):
        raise CuratorError(f"{path}: JSON must be a list of strings or of objects")
    return _rows_to_frame(path, value, lambda i: f"item {i + 1}")


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    items = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CuratorError(f"{path}: line {lineno} is not valid JSON ({exc.msg}); "
                               "fix or remove that line (is the file truncated?)") from exc
    return _rows_to_frame(path, items, lambda i: f"line {i + 1}")


def _rows_to_frame(path: Path, items: list, where) -> pd.DataFrame:
    if not items:
        raise CuratorError(f"{path}: no rows (empty list)")
    if all(isinstance(x, str) for x in items):
        return pd.DataFrame({"prompt": items})
    for i, x in enumerate(items):
        if not isinstance(x, dict):
            raise CuratorError(f"{path}: {where(i)} is a {type(x).__name__}, expected an object "
                               "(all items must be objects, or all strings)")
    return _as_strings(pd.DataFrame(items))


def _read_delimited(path: Path, text: str, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            header=None, engine="c", skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise CuratorError(f"{path}: malformed or truncated {'TSV' if sep == chr(9) else 'CSV'} "
                           f"({_first_line(exc)}); check quoting or re-export the file") from exc
    except pd.errors.EmptyDataError as exc:
        raise CuratorError(f"{path}: file is empty; nothing to ingest") from exc
    if _has_unterminated_quote(text, sep):
        raise CuratorError(f"{path}: truncated CSV (a quoted field is never closed); re-download the file")
    first = [str(v).strip() for v in frame.iloc[0].tolist()]
    if frame.shape[1] == 1 and not _looks_like_header(first[0]):
        frame.columns = ["prompt"]
        frame.attrs["headerless"] = True
        return frame
    header = _unique_names(first)
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = header
    if frame.empty:
        raise CuratorError(f"{path}: only a header row ({', '.join(header)}); no data to ingest")
    return frame


def _has_unterminated_quote(text: str, sep: str) -> bool:
    """pandas' C parser silently closes a quote left open at EOF; the csv module notices."""
    if '"' not in text[-20000:] and '"' not in text[:20000]:
        return False
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc) or "EOF" in str(exc)
    return False


_HEADERISH = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .\-]{0,39}$")


def _looks_like_header(cell: str) -> bool:
    """A header is a short identifier-like label; a prompt is a sentence."""
    key = _key(cell)
    if key in {a for tier in PROMPT_TIERS for a in tier}:
        return True
    return bool(_HEADERISH.match(cell)) and len(cell.split()) <= 3 and not cell.endswith((".", "!", "?"))


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    def conv(v: Any) -> str:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            return ""
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False)
        return str(v)

    frame = frame.copy()
    frame.columns = _unique_names([str(c) for c in frame.columns])
    for col in frame.columns:
        frame[col] = frame[col].map(conv).astype(object)
    return frame


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


# -- column mapping -----------------------------------------------------------------------------
def parse_mapping(items: list[str] | tuple[str, ...] | None) -> dict[str, str]:
    """``["prompt=instruction", ...]`` → ``{"rewrite_prompt": "instruction"}``."""
    mapping = {}
    short = {"prompt": "rewrite_prompt", "original": "original_text", "rewritten": "rewritten_text",
             "predicted": "prediction", "pred": "prediction"}
    for item in items or ():
        if "=" not in item:
            raise CuratorError(f"--map {item!r}: expected FIELD=COLUMN, e.g. --map prompt=instruction")
        fld, col = (s.strip() for s in item.split("=", 1))
        fld = short.get(fld, fld)
        if fld not in FIELDS:
            raise CuratorError(f"--map {item!r}: unknown field {fld!r}; fields are {', '.join(FIELDS)}")
        mapping[fld] = col
    return mapping


def resolve_columns(columns: list[str], mapping: dict[str, str], path: Path) -> dict[str, str]:
    """Decide which column holds each field. Explicit --map wins; ambiguity is an error."""
    by_key: dict[str, list[str]] = {}
    for col in columns:
        by_key.setdefault(_key(col), []).append(col)
    for fld, col in mapping.items():
        if col not in columns:
            raise CuratorError(f"{path}: --map {fld}={col}: no column {col!r}; columns are: "
                               + ", ".join(columns))
    found: dict[str, str] = dict(mapping)
    taken = set(mapping.values())

    def candidates(aliases: tuple[str, ...]) -> list[str]:
        return [c for a in aliases for c in by_key.get(a, []) if c not in taken]

    if "rewrite_prompt" not in found:
        for tier_no, tier in enumerate(PROMPT_TIERS):
            cands = candidates(tier)
            if len(cands) > 1:
                _ambiguous(path, columns, "rewrite_prompt", cands)
            if cands:
                found["rewrite_prompt"] = cands[0]
                if tier_no == 0 and "prediction" not in found:
                    plain = candidates(PROMPT_TIERS[1])
                    if plain:
                        found["prediction"] = plain[0]
                elif tier_no == 1:
                    generic = [c for c in candidates(PROMPT_TIERS[2]) if _key(c) != "target"]
                    if generic:
                        _ambiguous(path, columns, "rewrite_prompt", [cands[0], *generic])
                break
        taken.update(found.values())
    for fld in ("original_text", "rewritten_text", "prediction"):
        if fld in found:
            continue
        cands = candidates(ALIASES[fld])
        if len(cands) > 1:
            _ambiguous(path, columns, fld, cands)
        if cands:
            found[fld] = cands[0]
            taken.add(cands[0])
    return found


def _ambiguous(path: Path, columns: list[str], fld: str, cands: list[str]) -> None:
    raise CuratorError(
        f"{path}: cannot tell which column is {fld} (candidates: {', '.join(cands)}); columns are: "
        f"{', '.join(columns)}; say which with --map {fld}={cands[0]}"
    )


def _unknown_layout(path: Path, columns: list[str], need: str) -> CuratorError:
    return CuratorError(
        f"{path}: unknown layout, no {need} column among: {', '.join(columns)}; "
        f"map it with e.g. --map {need}={columns[0]}"
    )


# -- landing ------------------------------------------------------------------------------------
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
    if role is not None and role not in ROLES:
        raise CuratorError(f"--as {role}: must be one of {', '.join(ROLES)}")
    if isinstance(mapping, (list, tuple)):
        mapping = parse_mapping(mapping)
    data = path.read_bytes()
    frame, encoding, _ = read_table(path, data)
    columns = [str(c) for c in frame.columns]
    cols = resolve_columns(columns, mapping or {}, path)
    has_texts = "original_text" in cols and "rewritten_text" in cols
    unlabelled = "rewrite_prompt" not in cols
    if unlabelled and not (has_texts and role in (None, "target")):
        raise _unknown_layout(path, columns, "rewrite_prompt")
    if role is None:
        # texts without a prompt are a test set (Kaggle's test.csv): the prompt is to be recovered
        role = "target" if unlabelled else ("samples" if has_texts else "prompts")
    if role == "samples" and not has_texts:
        missing = "original_text" if "original_text" not in cols else "rewritten_text"
        raise _unknown_layout(path, columns, missing)
    as_samples = has_texts and role in ("samples", "target")
    status = status or ("target" if role == "target" else "candidate")
    dataset = dataset or path.stem
    digest = sha256_of(data)
    summary = IngestSummary(str(path), dataset, role, digest, encoding, cols)
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
        prov = Provenance(dataset=dataset, role=role, file=path.name, sha256=digest, row=i)
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

    with corpus.store.transaction() as conn:
        if as_samples:
            res = add_samples(conn, [r for r, _ in sample_records])
            for sid, (_, pred) in zip(res.ids, sample_records):
                if pred and predictor:
                    summary.predictions += add_prediction(conn, sid, predictor, pred, {"file": path.name})
        else:
            res = add_prompts(conn, prompt_records)
        summary.new, summary.existing, summary.landed = res.new, res.existing, len(res.ids)
        conn.execute(
            "INSERT OR IGNORE INTO files (sha256, dataset, role, path, rows, summary, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (digest, dataset, role, str(path), summary.rows, dumps(summary.as_dict()), utcnow()),
        )
        corpus.store.log_event("ingest", {"path": str(path), "dataset": dataset, "role": role},
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
