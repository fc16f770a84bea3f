"""Training-set export: CSV in Kaggle's columns, parquet or JSONL.

Kaggle's train.csv has ``id, original_text, rewrite_prompt, rewritten_text``; that is the CSV
layout, so an export drops straight into a notebook written for the competition. Provenance
columns (dataset, origin, status, model, prompt_id) are opt-in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .errors import CuratorError
from .queries import samples_frame

if TYPE_CHECKING:
    from .context import Context

KAGGLE_COLUMNS = ["id", "original_text", "rewrite_prompt", "rewritten_text"]
PROVENANCE_COLUMNS = ["dataset", "origin", "status", "model", "prompt_id"]
FORMATS = ("csv", "parquet", "jsonl")


def export_frame(corpus: "Context", status: str | None = "train", dataset: str | None = None,
                 provenance: bool = False) -> pd.DataFrame:
    frame = samples_frame(corpus, status=status, dataset=dataset)
    cols = KAGGLE_COLUMNS + (PROVENANCE_COLUMNS if provenance else [])
    return frame[cols].reset_index(drop=True)


EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_of(out: Path) -> str:
    """The format named by the file extension; an unknown one is refused rather than written as CSV."""
    fmt = EXTENSIONS.get(out.suffix.lower())
    if fmt is None:
        raise CuratorError(f"{out}: unknown extension {out.suffix or '(none)'!r}; use "
                           f"{', '.join(EXTENSIONS)} or give --format ({', '.join(FORMATS)})")
    return fmt


def check_export(out: Path, status: str | None, fmt: str | None, split: float | None) -> None:
    """Refuse a typo before anything is read or written (``--status trian`` used to export 0 rows)."""
    from .queries import STATUSES

    if status is not None and status not in STATUSES:
        raise CuratorError(f"--status {status}: must be one of {', '.join(STATUSES)} or all")
    if fmt is not None and fmt not in FORMATS:
        raise CuratorError(f"--format {fmt}: must be one of {', '.join(FORMATS)}")
    if fmt is None:
        format_of(out)
    if split is not None and not 0 < split < 1:
        raise CuratorError(f"--split {split}: must be a fraction between 0 and 1 (e.g. 0.1)")


def write_frame(frame: pd.DataFrame, out: Path, fmt: str | None = None) -> str:
    """Write atomically (temp file + rename): a crash never leaves half a training file."""
    fmt = fmt or format_of(out)
    if fmt not in FORMATS:
        raise CuratorError(f"--format {fmt}: must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if fmt == "csv":
            frame.to_csv(tmp, index=False, encoding="utf-8")
        elif fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in frame.to_dict(orient="records"):
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return fmt


def validation_path(out: Path) -> Path:
    """train.csv → train.val.csv"""
    return out.with_name(f"{out.stem}.val{out.suffix}")


def export_samples(corpus: "Context", out: Path, status: str | None = "train", fmt: str | None = None,
                   dataset: str | None = None, provenance: bool = False, split: float | None = None,
                   seed: int = 0) -> dict:
    """Export samples of one status (``None`` = all) to ``out``; returns what was written.

    ``split``: hold out that fraction as ``<out stem>.val<suffix>``, split by prompt (the root of
    each prompt's duplicate_of chain) so a prompt and its paraphrases sit on one side only.
    """
    check_export(out, status, fmt, split)
    frame = export_frame(corpus, status, dataset, provenance=True)
    summary = {"out": str(out), "status": status}
    if split:
        from .review import prompt_groups, split_by_prompt

        val_mask = split_by_prompt(prompt_groups(corpus, frame["prompt_id"].tolist(), frame["id"].tolist()),
                                   split, seed)
        val = frame[val_mask].reset_index(drop=True)
        frame = frame[~val_mask].reset_index(drop=True)
        cols = KAGGLE_COLUMNS + (PROVENANCE_COLUMNS if provenance else [])
        vpath = validation_path(out)
        write_frame(val[cols], vpath, fmt)
        summary |= {"validation": str(vpath), "validation_rows": len(val), "split": split, "seed": seed}
    frame = frame[KAGGLE_COLUMNS + (PROVENANCE_COLUMNS if provenance else [])]
    fmt = write_frame(frame, out, fmt)
    summary |= {"format": fmt, "rows": len(frame)}
    with corpus.store.transaction():
        corpus.store.log_event("export", {"out": str(out), "status": status, "format": fmt}, summary)
    return summary
