"""Review, promote, reject, undo: how samples become training data.

Every decision changes ``samples.status`` and writes one ``events`` row (command ``decision``)
with the sample, the status before and after, the reason and the time, in one transaction.
Undo replays those rows backwards. Decisions are idempotent: promoting a sample that is already
``train`` changes nothing and logs nothing.

The interactive screen shows candidates best score first; skips are logged too, so quitting and
coming back resumes exactly where the reviewer stopped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from .errors import CuratorError
from .queries import duplicate_roots

if TYPE_CHECKING:
    from .context import Context

DECISIONS = {"accept": "train", "reject": "rejected"}


def decide(corpus: "Context", sample_ids: Iterable[str], decision: str, reason: str = "",
           command: str = "promote") -> int:
    """Set status train (accept) or rejected (reject); returns how many samples changed."""
    if decision not in DECISIONS:
        raise CuratorError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    new = DECISIONS[decision]
    reason = reason.strip() or "no reason given"  # every decision row carries a reason
    changed = 0
    with corpus.store.transaction() as conn:
        for sid in sample_ids:
            row = conn.execute("SELECT status FROM samples WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise CuratorError(f"sample {sid}: no such sample id")
            if row[0] == new:
                continue
            if row[0] == "target":
                raise CuratorError(f"sample {sid}: is a target sample; it cannot become training data")
            conn.execute("UPDATE samples SET status = ? WHERE id = ?", (new, sid))
            corpus.store.log_event("decision", {"via": command, "decision": decision, "reason": reason},
                                   {"sample_id": sid, "from": row[0], "to": new})
            changed += 1
    return changed


def log_skip(corpus: "Context", sample_id: str) -> None:
    with corpus.store.transaction():
        corpus.store.log_event("review-skip", {}, {"sample_id": sample_id})


def undo(corpus: "Context", n: int = 1) -> list[str]:
    """Revert the last ``n`` decisions (and skips) not yet undone; returns the sample ids restored."""
    restored = []
    with corpus.store.transaction() as conn:
        rows = conn.execute(
            "SELECT id, command, summary FROM events WHERE command IN ('decision', 'review-skip') "
            "AND id NOT IN (SELECT CAST(json_extract(args, '$.event') AS INTEGER) FROM events "
            "WHERE command = 'undo') ORDER BY id DESC LIMIT ?", (n,)).fetchall()
        for event_id, command, summary in rows:
            s = json.loads(summary)
            if command == "decision":
                conn.execute("UPDATE samples SET status = ? WHERE id = ? AND status = ?",
                             (s["from"], s["sample_id"], s["to"]))
            corpus.store.log_event("undo", {"event": event_id}, {"sample_id": s["sample_id"]})
            restored.append(s["sample_id"])
    return restored


def skipped(corpus: "Context") -> set[str]:
    return {json.loads(s)["sample_id"] for (eid, s) in corpus.store.query(
        "SELECT id, summary FROM events WHERE command = 'review-skip' AND id NOT IN "
        "(SELECT CAST(json_extract(args, '$.event') AS INTEGER) FROM events WHERE command = 'undo')")}


def read_ids(path: Path) -> list[str]:
    """Sample ids from a file: one per line, or a CSV/JSONL with an ``id``/``sample_id`` column."""
    if not path.exists():
        raise CuratorError(f"{path}: no such file")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    if not lines:
        raise CuratorError(f"{path}: no ids in the file")
    if lines[0].startswith("{"):
        try:
            return [str(json.loads(ln).get("id") or json.loads(ln)["sample_id"]) for ln in lines]
        except (json.JSONDecodeError, KeyError) as exc:
            raise CuratorError(f"{path}: JSONL lines need an id or sample_id field") from exc
    header = [h.strip().lower() for h in lines[0].split(",")]
    if "id" in header or "sample_id" in header:
        import pandas as pd

        col = "id" if "id" in header else "sample_id"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.columns = [c.strip().lower() for c in frame.columns]
        return [x for x in frame[col].tolist() if x]
    return lines


def promote(corpus: "Context", min_score: float | None = None, top: int | None = None,
            dataset: str | None = None, ids: Sequence[str] | None = None, predictor: str | None = None,
            metric_model: str | None = None, reason: str = "", prefer_hard: bool = False,
            allow_target_overlap: bool = False) -> dict:
    """Promote the best-scoring samples (or the given ids) to status train.

    Samples whose prompt is (a near-duplicate of) a target prompt, or a template with an unfilled
    slot, are held back and counted by reason (``curator.leakage``); ``allow_target_overlap``
    lets target-overlapping ones through (logged with each decision's reason).

    ``top``/``min_score`` select from the ranking of candidate *and* train samples (rejected ones
    stay out), and only the candidates among them change: "the N best are training data". So a
    second run selects the same samples and changes nothing, instead of promoting the next N.
    """
    from .score import ranked_candidates, ranking_metric

    if ids is None:
        if min_score is None and top is None:
            raise CuratorError("promote: give --min-score, --top or --ids")
        ranked = ranked_candidates(corpus, min_score, dataset, predictor, metric_model,
                                   statuses=("candidate", "train"))
        model = ranking_metric(corpus, metric_model)
        if prefer_hard:
            ranked = _hardest_first(corpus, ranked, metric_model or model)
        if top:
            ranked = ranked[:top]
        ids = [r["id"] for r in ranked]
        rule = " and ".join(([f"score >= {min_score}"] if min_score is not None else [])
                            + ([f"top {top}"] if top else []) + (["hardest first"] if prefer_hard else []))
        reason = f"{reason}: {rule} ({model})" if reason else f"{rule} ({model})"
    from collections import Counter

    from .leakage import sample_problems

    ids = list(ids)
    rows = [dict(r) for r in corpus.store.query(
        "SELECT id, prompt_id, rewrite_prompt, status FROM samples") if r["id"] in set(ids)]
    problems = sample_problems(corpus, rows, allow_target_overlap)
    keep = [i for i in ids if i not in problems]
    if allow_target_overlap:
        reason = f"{reason} (target overlap allowed)" if reason else "target overlap allowed"
    changed = decide(corpus, keep, "accept", reason, command="promote")
    held = Counter(problems.values())
    with corpus.store.transaction():
        corpus.store.log_event("promote", {"allow_target_overlap": allow_target_overlap, "selected": len(ids)},
                               {"promoted": changed, "held_back": dict(held)})
    return {"selected": len(ids), "promoted": changed, "held_back": sum(held.values()),
            "held_back_reasons": dict(held), "allow_target_overlap": allow_target_overlap}


def candidates(corpus: "Context", min_score: float | None = None, dataset: str | None = None,
               predictor: str | None = None, metric_model: str | None = None, limit: int | None = None,
               include_skipped: bool = False):
    """The review screen's queue as a DataFrame, best first: what a notebook reviews.

    Same ranking as ``curator review`` (:func:`curator.score.ranked_candidates`: candidates with
    their best score under one metric model) and, like the screen, without the samples skipped
    in an earlier review session unless ``include_skipped``. Columns: rank, id, score,
    metric_model, proxy, predictor, rewrite_prompt, predicted_prompt, original_text,
    rewritten_text, dataset, status, skipped. Decide with ``Corpus.promote(ids)`` /
    ``Corpus.reject(ids)`` (a list of ids, a Series, or rows of this frame).
    """
    import pandas as pd

    from .score import ranked_candidates, ranking_metric

    if ranking_metric(corpus, metric_model) is None:
        raise CuratorError("candidates: no scores yet; run score first (e.g. corpus.score(metric_model='default'))")
    done = skipped(corpus)
    rows = [dict(r, skipped=r["id"] in done) for r in ranked_candidates(corpus, min_score, dataset, predictor,
                                                                        metric_model)]
    if not include_skipped:
        rows = [r for r in rows if not r["skipped"]]
    columns = ["id", "score", "metric_model", "proxy", "predictor", "rewrite_prompt", "predicted_prompt",
               "original_text", "rewritten_text", "dataset", "status", "skipped"]
    frame = pd.DataFrame(rows[:limit] if limit else rows, columns=columns)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame


def _hardest_first(corpus: "Context", ranked: list[dict], metric_model: str | None) -> list[dict]:
    """``--prefer-hard``: order by hardness (1 − SCS to the target set's mean prompt, see
    curator.meanprompt), then by score, so a --top takes the hard prompts among the good samples."""
    from .meanprompt import hardness, mean_prompt

    if not ranked:
        return ranked
    mp = mean_prompt(corpus, metric_model=metric_model, reuse=True)
    h = hardness(corpus, [r["rewrite_prompt"] for r in ranked], mp.prompt, metric_model or mp.metric_model)
    for r, v in zip(ranked, h):
        r["hardness"] = round(float(v), 6)
    return sorted(ranked, key=lambda r: (-r["hardness"], -r["score"], r["id"]))


# -- split --------------------------------------------------------------------------------------
def prompt_groups(corpus: "Context", prompt_ids: Sequence[str | None],
                  sample_ids: Sequence[str] | None = None) -> list[str]:
    """Group key per sample prompt: the root of its duplicate_of chain, so paraphrases marked by
    dedup share a key and never straddle train and validation. A sample without a prompt is a
    group of its own (its sample id), never lumped with the other prompt-less samples."""
    roots = duplicate_roots(corpus)

    fallback = list(sample_ids) if sample_ids is not None else [""] * len(prompt_ids)
    return [roots.get(p, p) if isinstance(p, str) and p else f"sample:{s}" for p, s in zip(prompt_ids, fallback)]


def split_by_prompt(groups: Sequence[str], fraction: float, seed: int = 0) -> np.ndarray:
    """Boolean mask of validation rows: whole groups, shuffled with ``seed``, until ≥ fraction."""
    if not 0 < fraction < 1:
        raise CuratorError(f"--split {fraction}: must be between 0 and 1")
    keys = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(keys)
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    target = fraction * len(groups)
    chosen, total = set(), 0
    for k in keys:
        if total >= target:
            break
        if total + sizes[k] >= len(groups):  # never hold out everything: train keeps a group
            continue
        chosen.add(k)
        total += sizes[k]
    return np.array([g in chosen for g in groups], dtype=bool)


# -- interactive screen -------------------------------------------------------------------------
def clip(text: str, limit: int = 1500) -> str:
    """Long originals (some exceed 1,000 words) are cut for the screen, saying how much is hidden."""
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more characters]"


def has_terminal() -> bool:
    """click.getchar reads stdin when it is a terminal, else /dev/tty; without either, no review."""
    if sys.stdin.isatty():
        return True
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


def run_review(corpus: "Context", min_score: float | None = None, dataset: str | None = None,
               getkey: Callable[[], str] | None = None, metric_model: str | None = None) -> dict:
    """The terminal review loop: a/r/s/u/q. Returns counts of what was decided this session.

    The queue is recomputed after every key from the store (status + skip events), so what is
    on screen is always what a restart would show.
    """
    import click
    from rich.panel import Panel

    from .console import console, data, esc
    from .score import ranked_candidates, ranking_metric

    if getkey is None:
        if not has_terminal():
            raise CuratorError("review is interactive and needs a terminal; without one use "
                               "`curator promote --min-score X [--top N]`, `curator promote --ids FILE` "
                               "or `curator reject --ids FILE`")
        getkey = click.getchar
    if ranking_metric(corpus, metric_model) is None:
        raise CuratorError("review: no scores yet; run `curator score` (e.g. --metric-model default) first")
    counts = {"accepted": 0, "rejected": 0, "skipped": 0, "undone": 0}
    while True:
        done = skipped(corpus)
        queue = [r for r in ranked_candidates(corpus, min_score, dataset, metric_model=metric_model)
                 if r["id"] not in done]
        if not queue:
            console.print("review: nothing left to review")
            break
        r = queue[0]
        model = r["metric_model"] + (", a proxy" if r["proxy"] else "")
        console.rule(f"sample {r['id']} · score {r['score']:.3f} ({model}) · {len(queue)} left", style="bold")
        # soft_wrap off: the shared console soft-wraps (long log lines), which would crop a panel
        for title, text in (("original", r["original_text"]), ("rewritten", r["rewritten_text"])):
            console.print(Panel(data(clip(text)), title=title, title_align="left"), soft_wrap=False)
        console.print(f"[bold]true prompt:[/] {esc(r['rewrite_prompt'])}")
        console.print(f"[bold]prediction ({esc(r['predictor'])}):[/] {esc(r['predicted_prompt'] or '')}")
        console.print(f"[bold]score:[/] {r['score']:.3f} ({esc(model)})")
        console.print("[a]ccept  [r]eject  [s]kip  [u]ndo  [q]uit ?", markup=False)
        key = getkey().lower()
        reason = f"review: score {r['score']:.3f} ({r['metric_model']})"
        if key == "a":
            counts["accepted"] += decide(corpus, [r["id"]], "accept", reason, command="review")
        elif key == "r":
            counts["rejected"] += decide(corpus, [r["id"]], "reject", reason, command="review")
        elif key == "s":
            log_skip(corpus, r["id"])
            counts["skipped"] += 1
        elif key == "u":
            counts["undone"] += len(undo(corpus, 1))
        elif key in ("q", "\x03", "\x04", "\x1b"):
            break
    console.print("review: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts


def decisions(corpus: "Context") -> list[dict]:
    return [dict(at=r["at"], **json.loads(r["summary"]), **json.loads(r["args"])) for r in corpus.store.query(
        "SELECT at, args, summary FROM events WHERE command = 'decision' ORDER BY id")]

