"""Tables → a DataFrame of strings: files (CSV, TSV, JSON, JSONL, parquet) and in-memory tables.

Text is decoded as UTF-8 (BOM or not), then cp1252, then Latin-1; a single-column file's first
line is a header only if it looks like one; a truncated CSV is refused. In-memory tables (a
pandas DataFrame, a list of dicts or strings, a Hugging Face ``Dataset``) become the same frame
of strings, so everything after the read is one path.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CuratorError
from .columns import _looks_like_header

if TYPE_CHECKING:
    import pandas as pd


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
    import pandas as pd
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


def _rows_to_frame(path: Path | str, items: list, where) -> pd.DataFrame:
    import pandas as pd
    if not items:
        raise CuratorError(f"{path}: no rows (empty list)")
    if all(isinstance(x, str) for x in items):
        return pd.DataFrame({"prompt": items})
    for i, x in enumerate(items):
        if not isinstance(x, dict):
            raise CuratorError(f"{path}: {where(i)} is a {type(x).__name__}, expected an object "
                               "(all items must be objects, or all strings)")
    return _as_strings(pd.DataFrame(items, dtype=object))  # object: 3 stays "3", not "3.0"


def _read_delimited(path: Path, text: str, sep: str) -> pd.DataFrame:
    import pandas as pd
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
    import pandas as pd

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


def _to_frame(table: Any, name: str | None) -> tuple[str, pd.DataFrame]:
    """(kind, DataFrame of strings) for the in-memory tables ingest accepts."""
    import pandas as pd
    where = f"table {name!r}" if name else "table"
    if isinstance(table, pd.DataFrame):
        kind, frame = "dataframe", table
    elif isinstance(table, (list, tuple)):
        return "records", _rows_to_frame(f"records {name!r}" if name else "records", list(table),
                                         lambda i: f"item {i + 1}")
    elif hasattr(table, "to_pandas") and hasattr(table, "column_names"):  # datasets.Dataset, duck-typed
        if isinstance(table.column_names, dict):  # a DatasetDict: {split: [columns]}
            raise CuratorError(f"{where}: a DatasetDict holds several splits ({', '.join(table.column_names)}); "
                               "pass one, e.g. ds['train']")
        kind, frame = "dataset", table.to_pandas()
    else:
        raise CuratorError(f"{where}: cannot ingest a {type(table).__name__}; pass a path, a pandas DataFrame, "
                           "a list of dicts or a datasets.Dataset")
    if frame.shape[1] == 0 or frame.empty:
        raise CuratorError(f"{kind} {name!r}: no rows" if name else f"{kind}: no rows; nothing to ingest")
    return kind, _as_strings(frame.reset_index(drop=True))


def _frame_sha256(frame: pd.DataFrame) -> str:
    """Content hash of a table of strings: its column names and cells, row by row, as JSON lines."""
    h = hashlib.sha256(json.dumps([str(c) for c in frame.columns], ensure_ascii=False).encode())
    for row in frame.itertuples(index=False, name=None):
        h.update(b"\n" + json.dumps(row, ensure_ascii=False).encode())
    return h.hexdigest()


