"""The mean prompt: one constant prompt that maximises mean SCS over a set of prompts.

In the competition a single constant prompt scored 0.63 on the public leaderboard, so it became
the yardstick every dataset and model was measured against: a set whose prompts are all close to
one constant guess is easy, and a model that does not beat the constant has learnt nothing.

Search (``search``): start from the set's *medoid* (the member with the highest mean SCS to the
set), then greedy rounds of word edits with words from the set's own vocabulary (the
``vocabulary`` most frequent by document frequency):

1. screen: append each vocabulary word to the current prompt (one batch of encodings) and keep
   the ``words`` best as this round's candidates;
2. edit: insert each kept word at every position, replace every word with the three best, delete
   each word, and append (or insert after the first word) the 2…``words`` best words at once, a
   bigger step (one batch); the best prompt of both batches is kept when it beats the current one.

When a round finds nothing better the screen is widened once (twice the words) before the search
stops, so the greedy gets one chance out of a local optimum. Every candidate is scored on the whole
set (a matrix product; the encodings are the cost). Candidates are not cached (they are throw-away
texts); the set's own embeddings are, like every other embedding (:func:`curator.embed.embed_texts`).

Per-prompt *hardness* = 1 − SCS(mean prompt, prompt): how much a prompt differs from the constant
guess. :func:`hardness_by_cluster` gives it per cluster for the card and the coverage table, and
``promote --prefer-hard`` orders candidates by it.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .errors import CuratorError

if TYPE_CHECKING:
    import pandas as pd

    from .context import Context

_WORD = re.compile(r"[\w'’-]+")
SEARCH_SAMPLE = 20_000  # candidates are scored against at most this many set members


@dataclass
class MeanPrompt:
    """What ``curator mean-prompt`` prints and stores (``as_dict`` is its ``--json``)."""

    prompt: str
    score: float
    medoid: str
    medoid_score: float
    ratio: float
    set_name: str
    set_size: int
    metric_model: str
    rounds: int
    encoded: int
    seconds: float
    fingerprint: str = ""
    history: list[dict] = field(default_factory=list)
    reused: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def join_words(words: Sequence[str]) -> str:
    """Words → a prompt: capitalised, ending with a full stop."""
    s = " ".join(words)
    return (s[:1].upper() + s[1:] + ".") if s else ""


def vocabulary(texts: Sequence[str], size: int) -> list[str]:
    """The ``size`` words found in the most texts (document frequency), ties by the word."""
    df: collections.Counter = collections.Counter()
    for t in texts:
        df.update(set(words_of(t)))
    return [w for w, _ in sorted(df.items(), key=lambda kv: (-kv[1], kv[0]))[:size]]


def mean_scs(vectors: np.ndarray, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Mean over the rows of ``x`` of cos³ with each row of ``vectors`` (both L2-normalised)."""
    out = np.empty(len(vectors), dtype=np.float64)
    for s in range(0, len(vectors), chunk):
        sims = vectors[s:s + chunk].astype(np.float32) @ x.T
        out[s:s + chunk] = (sims.astype(np.float64) ** 3).mean(axis=1)
    return out


def medoid(x: np.ndarray, candidates: int = 20_000, seed: int = 0) -> tuple[int, float]:
    """(row, mean SCS) of the member with the highest mean SCS to the set (exact up to
    ``candidates`` members, else among a random sample of that many)."""
    idx = np.arange(len(x))
    if len(x) > candidates:
        idx = np.sort(np.random.default_rng(seed).choice(len(x), candidates, replace=False))
    scores = mean_scs(x[idx], x, chunk=1024)
    best = int(scores.argmax())
    return int(idx[best]), float(scores[best])


def search(texts: Sequence[str], x: np.ndarray, encode: Callable[[list[str]], np.ndarray], rounds: int = 12,
           vocabulary_size: int = 150, words: int = 8, seed: int = 0,
           on_round: Callable[[int, str, float], None] | None = None) -> dict:
    """The greedy word search of the module docstring over ``texts`` (embedded as ``x``).

    Returns prompt, score, medoid, medoid_score, rounds, encoded and a per-round history."""
    from threadpoolctl import threadpool_limits

    # one BLAS thread: two spin against each other on a busy 2-core machine (see curator.card)
    with threadpool_limits(1, user_api="blas"), _one_torch_thread_when_busy():
        return _search(texts, x, encode, rounds, vocabulary_size, words, seed, on_round)


@contextlib.contextmanager
def _one_torch_thread_when_busy():
    """The search is thousands of small encoder batches. When the machine is already busy (load
    average ≥ cores), torch's worker threads wait on each other: measured here at load ~4 on 2
    cores, MiniLM encoded 128 short prompts/s with one thread and 59/s with two. On an idle
    machine torch keeps its threads."""
    try:
        import torch
    except ImportError:  # pragma: no cover - sentence-transformers brings torch
        yield
        return
    before = torch.get_num_threads()
    busy = hasattr(os, "getloadavg") and os.getloadavg()[0] >= (os.cpu_count() or 1)
    if busy and before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if busy and before > 1:
            torch.set_num_threads(before)


def _search(texts: Sequence[str], x: np.ndarray, encode: Callable[[list[str]], np.ndarray], rounds: int,
            vocabulary_size: int, words: int, seed: int,
            on_round: Callable[[int, str, float], None] | None) -> dict:
    if len(texts) == 0:
        raise CuratorError("mean-prompt: the set is empty")
    x = np.ascontiguousarray(x, dtype=np.float32)
    pool = x
    if len(x) > SEARCH_SAMPLE:
        pool = x[np.sort(np.random.default_rng(seed).choice(len(x), SEARCH_SAMPLE, replace=False))]
    m, m_score = medoid(x, seed=seed)
    units = [(w,) for w in vocabulary(texts, vocabulary_size)]
    current, best_text, best = words_of(texts[m]), texts[m], m_score
    start_score = float(mean_scs(encode([join_words(current)]), pool)[0])
    encoded = 1
    if start_score > best:
        best_text, best = join_words(current), start_score
    history = [{"round": 0, "prompt": best_text, "score": round(best, 6)}]
    width, done = words, 0
    while done < rounds and current:
        n = len(current)
        appended = [current + list(u) for u in units]
        sa = mean_scs(encode([join_words(c) for c in appended]), pool)
        keep = [units[i] for i in np.argsort(-sa)[:width]]
        edits: set[tuple[str, ...]] = set()
        for rank, u in enumerate(keep):
            for i in range(n + 1):
                edits.add(tuple(current[:i] + list(u) + current[i:]))
            if rank < 3:  # replacing is tried with the three best units only
                for i in range(n):
                    edits.add(tuple(current[:i] + list(u) + current[i + 1:]))
        for i in range(n):
            if n > 1:
                edits.add(tuple(current[:i] + current[i + 1:]))
        for j in range(2, len(keep) + 1):  # several of the best units at once: bigger steps
            many = [w for u in keep[:j] for w in u]
            edits.add(tuple(current + many))
            edits.add(tuple(current[:1] + many + current[1:]))
        edits.discard(tuple(current))
        edited = [list(e) for e in sorted(edits)]
        se = mean_scs(encode([join_words(c) for c in edited]), pool) if edited else np.zeros(0)
        encoded += len(appended) + len(edited)
        cands = appended + edited
        scores = np.concatenate([sa, se])
        j = int(scores.argmax())
        if scores[j] > best + 1e-9:
            current, best = cands[j], float(scores[j])
            best_text = join_words(current)
            done += 1
            width = words
            history.append({"round": done, "prompt": best_text, "score": round(best, 6)})
            if on_round:
                on_round(done, best_text, best)
        elif width == words:
            width = 2 * words  # one wider look before giving up
        else:
            break
    final = float(mean_scs(encode([best_text]), x)[0]) if best_text != texts[m] else m_score
    return {"prompt": best_text, "score": final, "medoid": texts[m], "medoid_score": m_score,
            "rounds": done, "encoded": encoded + 1, "history": history}


# -- the corpus side ------------------------------------------------------------------------------
def prompt_set(ctx: "Context", dataset: str | None = None, target: str | None = None) -> tuple[str, dict[str, str]]:
    """(name, id → text) of the set to search over: ``--dataset``, ``--target``, else every
    target prompt, else every canonical prompt."""
    from .queries import canonical_prompts
    from .sides import check_target, dataset_prompts, target_prompts

    if dataset and target:
        raise CuratorError("mean-prompt: give --dataset or --target, not both")
    if dataset:
        return f"dataset:{dataset}", dataset_prompts(ctx, dataset)
    check_target(ctx, target)
    found = target_prompts(ctx, target)
    if target or found:
        return f"target:{target or '*'}", found
    return "canonical", {r["id"]: r["text"] for r in canonical_prompts(ctx)}


def fingerprint(ids: Sequence[str], key: str) -> str:
    return hashlib.sha256((key + "\n" + "\n".join(sorted(ids))).encode()).hexdigest()[:16]


def stored(ctx: "Context", name: str, fp: str) -> MeanPrompt | None:
    """The latest stored mean prompt of this set (same members, same metric model), if any."""
    for (summary,) in ctx.store.query("SELECT summary FROM events WHERE command = 'mean-prompt' ORDER BY id DESC"):
        data = json.loads(summary)
        if data.get("fingerprint") == fp and data.get("set_name") == name:
            return MeanPrompt(**{**data, "reused": True})
    return None


def mean_prompt(ctx: "Context", *, dataset: str | None = None, target: str | None = None,
                metric_model: str | None = None, rounds: int | None = None, reuse: bool = False,
                progress: bool = True) -> MeanPrompt:
    """Find (or with ``reuse`` look up) the mean prompt of a set and store it as an event."""
    from .embed import embed_texts, model_encoder, resolve_model
    from .score import COMPETITION_MODEL, metric_encoder

    metric_model = metric_model or ctx.setting("score", "metric_model", COMPETITION_MODEL)
    key, _ = resolve_model(metric_model)
    rounds = rounds if rounds is not None else ctx.setting("meanprompt", "rounds", 8)
    name, members = prompt_set(ctx, dataset, target)
    if not members:
        raise CuratorError(f"mean-prompt: no prompts in {name}; ingest some first")
    fp = fingerprint(list(members), key)
    if reuse and (found := stored(ctx, name, fp)):
        return found
    texts = list(members.values())
    started = time.perf_counter()
    x = embed_texts(ctx, texts, model=metric_model, progress=progress, encoder=metric_encoder(metric_model))
    try:
        encode = model_encoder(metric_model, batch_size=128)
    except CuratorError as exc:
        from .score import metric_model_message

        raise CuratorError(metric_model_message(metric_model)) from exc
    from .console import progress as make_progress

    with make_progress(transient=True) as bar:
        task = bar.add_task(f"mean prompt ({key}, {len(texts)} prompts)", total=rounds, visible=progress)
        res = search(texts, x, encode, rounds=rounds,
                     vocabulary_size=ctx.setting("meanprompt", "vocabulary", 150),
                     words=ctx.setting("meanprompt", "words", 8),
                     on_round=lambda *_: bar.advance(task))
    result = MeanPrompt(res["prompt"], round(res["score"], 6), res["medoid"], round(res["medoid_score"], 6),
                        round(res["score"] / res["medoid_score"], 4) if res["medoid_score"] > 0 else 0.0,
                        name, len(texts), key, res["rounds"], res["encoded"],
                        round(time.perf_counter() - started, 2), fp, res["history"])
    with ctx.store.transaction():
        ctx.store.log_event("mean-prompt", {"set": name, "metric_model": key, "rounds": rounds},
                            result.as_dict())
    return result


def hardness(ctx: "Context", texts: Sequence[str], prompt: str, metric_model: str | None) -> np.ndarray:
    """1 − SCS(mean prompt, text) per text (embeddings cached under the metric model)."""
    from .embed import embed_texts
    from .score import metric_encoder

    if not texts:
        return np.zeros(0)
    x = embed_texts(ctx, [prompt, *texts], model=metric_model, progress=False, encoder=metric_encoder(metric_model))
    return 1.0 - (x[1:].astype(np.float64) @ x[0].astype(np.float64)) ** 3


def hardness_by_cluster(ctx: "Context", target: str | None = None, metric_model: str | None = None,
                        basis: str = "auto") -> "pd.DataFrame":
    """Per cluster: training and target prompts and their mean hardness against the target
    set's mean prompt (computed once and stored; re-used while the target set is unchanged).

    Columns: cluster, label, training_prompts, target_prompts, hardness_training,
    hardness_target (NaN where a side has no prompt in the cluster)."""
    import pandas as pd

    from .sides import clusters_of, target_prompts, training_prompts

    mp = mean_prompt(ctx, target=target, metric_model=metric_model, reuse=True, progress=False)
    sides = {"training": training_prompts(ctx, basis), "target": target_prompts(ctx, target)}
    everything = {**sides["training"], **sides["target"]}
    cluster_of, labels = clusters_of(ctx, everything)
    rows: dict[int, dict] = {c: {"cluster": c, "label": labels.get(c, "")} for c in sorted(labels)}
    for side, members in sides.items():
        ids = [p for p in members if p in cluster_of]
        h = hardness(ctx, [members[p] for p in ids], mp.prompt, metric_model or mp.metric_model)
        acc: dict[int, list[float]] = collections.defaultdict(list)
        for p, v in zip(ids, h):
            acc[cluster_of[p]].append(float(v))
        for c in rows:
            vals = acc.get(c, [])
            rows[c][f"{side}_prompts"] = len(vals)
            rows[c][f"hardness_{side}"] = round(float(np.mean(vals)), 4) if vals else float("nan")
    cols = ["cluster", "label", "training_prompts", "target_prompts", "hardness_training", "hardness_target"]
    return pd.DataFrame(list(rows.values()), columns=cols)
