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

if TYPE_CHECKING:
    from .workspace import Corpus

KAGGLE_COLUMNS = ["id", "original_text", "rewrite_prompt", "rewritten_text"]
PROVENANCE_COLUMNS = ["dataset", "origin", "status", "model", "prompt_id"]
FORMATS = ("csv", "parquet", "jsonl")


def export_frame(corpus: "Corpus", status: str | None = "train", dataset: str | None = None,
                 provenance: bool = False) -> pd.DataFrame:
    frame = corpus.samples(status=status, dataset=dataset)
    cols = KAGGLE_COLUMNS + (PROVENANCE_COLUMNS if provenance else [])
    return frame[cols].reset_index(drop=True)


def write_frame(frame: pd.DataFrame, out: Path, fmt: str | None = None) -> str:
    """Write atomically (temp file + rename): a crash never leaves half a training file."""
    fmt = fmt or {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}.get(out.suffix.lower(), "csv")
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


def export_samples(corpus: "Corpus", out: Path, status: str | None = "train", fmt: str | None = None,
                   dataset: str | None = None, provenance: bool = False) -> dict:
    """Export samples of one status (``None`` = all) to ``out``; returns what was written."""
    frame = export_frame(corpus, status, dataset, provenance)
    fmt = write_frame(frame, out, fmt)
    summary = {"out": str(out), "format": fmt, "rows": len(frame), "status": status}
    with corpus.store.transaction():
        corpus.store.log_event("export", {"out": str(out), "status": status, "format": fmt}, summary)
    return summary
