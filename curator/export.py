"""Training-set export: CSV in Kaggle's columns, parquet or JSONL.

Kaggle's train.csv has ``id, original_text, rewrite_prompt, rewritten_text``; that is the CSV
layout, so an export drops straight into a notebook written for the competition. Provenance
columns (dataset, origin, status, model, prompt_id) are opt-in.

Every exported row is valid, or it is refused *with its reason*, never silently dropped: the
summary counts refusals by reason and ``<out stem>.refused.csv`` lists each refused id and why.
A row is refused when an original, rewritten text or prompt is empty, the rewrite equals the
original, the original exceeds ``[limits].max_original_words``, the prompt has an unfilled slot,
the (original, prompt) pair was already exported, or — unless ``allow_target_overlap`` — its
prompt is (a near-duplicate of) a target prompt (``curator.leakage``). Refusals happen before the
split, so ``--split`` never puts a refused row in either part.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CuratorError
from .queries import samples_frame
from .text import normalise, word_count

if TYPE_CHECKING:
    import pandas as pd
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


def refusals(corpus: "Context", frame: pd.DataFrame, allow_target_overlap: bool = False,
             max_original_words: int | None = None) -> pd.Series:
    """Why each row may not be a training row ('' = valid), in the frame's order."""
    import pandas as pd
    from .leakage import sample_problems

    limit = max_original_words or corpus.settings.get("limits", "max_original_words")
    problems = sample_problems(corpus, frame[["id", "prompt_id", "rewrite_prompt", "status"]].to_dict("records"),
                               allow_target_overlap)
    seen: set[tuple[str, str]] = set()
    reasons = []
    for r in frame.itertuples():
        orig, rew, prompt = (str(v or "") for v in (r.original_text, r.rewritten_text, r.rewrite_prompt))
        why = ""
        if not orig.strip():
            why = "empty original_text"
        elif not rew.strip():
            why = "empty rewritten_text"
        elif not prompt.strip():
            why = "empty rewrite_prompt (an unlabelled sample)"
        elif normalise(orig) == normalise(rew):
            why = "rewritten_text equals original_text"
        elif word_count(orig) > limit:
            why = f"original_text over {limit} words ([limits] max_original_words)"
        elif r.id in problems:
            why = problems[r.id]
        else:
            key = (normalise(orig), normalise(prompt))
            if key in seen:
                why = "duplicate (original_text, rewrite_prompt) pair"
            seen.add(key)
        reasons.append(why)
    return pd.Series(reasons, index=frame.index, dtype=object)


def refused_path(out: Path) -> Path:
    """train.csv → train.refused.csv"""
    return out.with_name(f"{out.stem}.refused.csv")


def export_samples(corpus: "Context", out: Path, status: str | None = "train", fmt: str | None = None,
                   dataset: str | None = None, provenance: bool = False, split: float | None = None,
                   seed: int = 0, allow_target_overlap: bool = False) -> dict:
    """Export samples of one status (``None`` = all) to ``out``; returns what was written.

    Invalid and target-overlapping rows are refused and counted by reason (see the module
    docstring). ``split``: hold out that fraction as ``<out stem>.val<suffix>``, split by prompt
    (the root of each prompt's duplicate_of chain) so a prompt and its paraphrases sit on one side.
    """
    check_export(out, status, fmt, split)
    frame = export_frame(corpus, status, dataset, provenance=True)
    summary: dict = {"out": str(out), "status": status, "allow_target_overlap": allow_target_overlap}
    reasons = refusals(corpus, frame, allow_target_overlap)
    bad = reasons != ""
    refused = frame.loc[bad, ["id", "prompt_id", "rewrite_prompt"]].assign(reason=reasons[bad])
    frame = frame[~bad].reset_index(drop=True)
    summary["refused"] = {str(k): int(v) for k, v in refused["reason"].value_counts().items()}
    summary["refused_rows"] = int(bad.sum())
    summary["target_overlap_refused"] = int(refused["reason"].str.contains("target prompt").sum())
    rpath = refused_path(out)
    if len(refused):
        write_frame(refused.reset_index(drop=True), rpath, "csv")
        summary["refused_file"] = str(rpath)
    elif rpath.exists():
        rpath.unlink()  # a stale list from an earlier export would mislead
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
        corpus.store.log_event("export", {"out": str(out), "status": status, "format": fmt,
                                          "allow_target_overlap": allow_target_overlap}, summary)
    return summary
