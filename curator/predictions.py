"""Import predicted prompts from a file, keyed by sample id or by the exact texts.

A competitor's predictions usually come back as a CSV of ``id, rewrite_prompt`` (Kaggle's
submission format) or as the original rows with an added prediction column; both work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CuratorError
from .ingest import read_table
from .items import add_prediction
from .text import content_id

if TYPE_CHECKING:
    from .context import Context

PRED_COLUMNS = ("predicted_prompt", "prediction", "predicted", "pred", "rewrite_prompt")


def add_predictions_file(corpus: "Context", path: Path, model_name: str, column: str | None = None) -> dict:
    """Store the file's predictions under predictor ``model_name``; one transaction."""
    frame, _, _ = read_table(Path(path))
    cols = {c.lower(): c for c in frame.columns}
    pred_col = column or next((cols[c] for c in PRED_COLUMNS if c in cols), None)
    if pred_col is None or pred_col not in frame.columns:
        raise CuratorError(f"{path}: no prediction column among {', '.join(frame.columns)}; "
                           f"name it with --column")
    id_col = cols.get("sample_id") or cols.get("id")
    if id_col is None and not ("original_text" in cols and "rewritten_text" in cols):
        raise CuratorError(f"{path}: no key to match samples; give an id/sample_id column (the sample ids "
                           f"of `curator samples`) or the exact original_text and rewritten_text columns")
    by_texts = {}
    if "original_text" in cols and "rewritten_text" in cols:
        for sid, o, r in corpus.store.query("SELECT id, original_text, rewritten_text FROM samples"):
            by_texts[content_id(o, r)] = sid
    known = {r[0] for r in corpus.store.query("SELECT id FROM samples")}
    added, unmatched, existing = 0, [], 0
    with corpus.store.transaction() as conn:
        for i, row in enumerate(frame.to_dict(orient="records"), start=1):
            sid = row.get(id_col) if id_col else None
            if sid not in known and by_texts:
                sid = by_texts.get(content_id(row[cols["original_text"]], row[cols["rewritten_text"]]))
            if sid not in known or not str(row[pred_col]).strip():
                unmatched.append(i)
                continue
            if add_prediction(conn, sid, model_name, str(row[pred_col]), {"file": Path(path).name, "row": i}):
                added += 1
            else:
                existing += 1
        corpus.store.log_event("predictions-add", {"path": str(path), "predictor": model_name},
                               {"added": added, "existing": existing, "unmatched": len(unmatched)})
    return {"rows": len(frame), "added": added, "existing": existing, "unmatched_rows": unmatched}
