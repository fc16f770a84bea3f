"""Near-duplicate prompts: groups centred on a representative, slot-aware, reversible.

Exact duplicates never make two rows (ids are content ids of the normalised text), so this stage
finds *near* duplicates. It used to take connected components of the cosine ≥ 0.9 graph, which
chains: on 24.8k real prompt variants only 18.5 % of the pairs inside a group were paraphrases,
and a prompt was grouped under a representative it had cosine 0.28 with. Now:

1. **Pairs**: cosine ≥ threshold (``curator.dedup_index``: exact up to 20k, balanced blocking beyond).
2. **Slots**: a pair whose slot values differ (a number, language, author, persona, tone or other
   vocabulary word, see ``curator.slots``) is dropped, however high its cosine: "…150 words" and
   "…200 words" are different prompts. A rewording keeps every slot value and stays a pair.
3. **Leader grouping**: prompts are visited in representative order; an unassigned prompt with
   unassigned neighbours becomes a representative and takes those neighbours. So every member
   is within the threshold of *its representative* (its cosine is shown by ``dedup --show``),
   and nothing chains.

Representative rule: origin priority (public > seed > scraped > template > combined >
generated-prompt > generated > local), then the shorter text (competition prompts are short, and
a shorter paraphrase is the more general one), then the smaller id (deterministic).

Nothing is deleted: members get ``duplicate_of`` = the representative, and each run records the
changes it made so ``undo`` restores the previous state exactly. The default threshold and its
measured precision/recall on labelled real data are in docs/performance.md.
"""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .dedup_index import EXACT_LIMIT, Progress, one_thread, similar_pairs  # noqa: F401  (re-exported)
from .queries import canonical_prompts
from .slots import PARALLEL_FROM, Lexicon, SlotReader, load_lexicon, slot_difference, slot_signature, slot_signatures
from .store import dumps, utcnow

if TYPE_CHECKING:
    from .context import Context

ORIGIN_PRIORITY = ("public", "seed", "scraped", "template", "combined", "generated-prompt", "generated",
                   "local")


def slot_codes(texts: Sequence[str], lexicon: Lexicon, rows: np.ndarray | None = None,
               progress: Progress | None = None, reader: SlotReader | None = None) -> np.ndarray:
    """One integer per text (-1 for rows not asked for): equal codes = equal slot signatures.
    ``progress(done, total)`` as the reading goes (pure Python: about 5 s for 250k prompts on
    one core, so past 40k texts part goes to a helper process, see ``SlotReader``). ``reader``:
    one already started on all of ``texts`` (``rows`` is then ignored)."""
    todo = list(range(len(texts))) if rows is None or reader is not None else rows.tolist()
    sigs = reader.result(progress) if reader is not None else \
        slot_signatures([texts[i] for i in todo], lexicon, progress)
    sig_id: dict[tuple, int] = {}
    code = np.full(len(texts), -1, dtype=np.int64)
    for i, sig in zip(todo, sigs):
        code[i] = sig_id.setdefault(sig, len(sig_id))
    return code


def slot_compatible(texts: Sequence[str], pairs: np.ndarray, lexicon: Lexicon,
                    codes: np.ndarray | None = None, progress: Progress | None = None) -> np.ndarray:
    """Boolean mask of the pairs whose two prompts have the same slot signature."""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    if codes is None:
        involved = np.zeros(len(texts), dtype=bool)
        involved[pairs.ravel()] = True  # a mask, not np.unique: O(n) at millions of pairs
        codes = slot_codes(texts, lexicon, np.nonzero(involved)[0], progress)
    return codes[pairs[:, 0]] == codes[pairs[:, 1]]


def leader_groups(order: Sequence[int], n: int, pairs: np.ndarray) -> np.ndarray:
    """Representative index per item (-1 = alone): greedy leaders in ``order``, no chaining."""
    from scipy.sparse import coo_matrix

    rep = np.full(n, -1, dtype=np.int64)
    if not len(pairs):
        return rep
    # both directions as int32 row/col arrays scipy takes without copying: a (2m, 2) int64 array
    # first, converted by scipy, held 1.3 GB at the 21M pairs of 1M prompts; this holds 0.6 GB
    m = len(pairs)
    rows = np.empty(2 * m, dtype=np.int32 if n < 2**31 else np.int64)
    cols = np.empty_like(rows)
    rows[:m], rows[m:] = pairs[:, 0], pairs[:, 1]
    cols[:m], cols[m:] = pairs[:, 1], pairs[:, 0]
    adj = coo_matrix((np.ones(2 * m, dtype=np.int8), (rows, cols)), shape=(n, n)).tocsr()
    del rows, cols
    indptr, indices = adj.indptr, adj.indices
    has = np.diff(indptr) > 0
    for i in order:
        if rep[i] != -1 or not has[i]:
            continue
        nb = indices[indptr[i]:indptr[i + 1]]
        free = nb[rep[nb] == -1]
        if len(free):
            rep[i] = i
            rep[free] = i
    return rep


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of the similarity graph: the old, chaining grouping (kept for the
    evaluation that compares it with leader groups)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) \
        else coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def representative_key(origin: str, text: str, pid: str) -> tuple:
    rank = ORIGIN_PRIORITY.index(origin) if origin in ORIGIN_PRIORITY else len(ORIGIN_PRIORITY)
    return (rank, len(text), pid)


def representative_order(origins: Sequence[str], texts: Sequence[str], ids: Sequence[str]) -> np.ndarray:
    """Row indices sorted by ``representative_key``, with one numpy lexsort (a Python sort of
    250k key tuples took 0.9 s, this 0.2 s)."""
    ranks = {o: i for i, o in enumerate(ORIGIN_PRIORITY)}
    rank = np.fromiter((ranks.get(o, len(ORIGIN_PRIORITY)) for o in origins), dtype=np.int64, count=len(origins))
    length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    by_id = np.argsort(np.asarray(ids, dtype=str), kind="stable")  # code-point order, as Python compares
    id_rank = np.empty(len(ids), dtype=np.int64)
    id_rank[by_id] = np.arange(len(ids))
    return np.lexsort((id_rank, length, rank))


@dataclass
class DedupPlan:
    """What a dedup run would do. Held as arrays (a row per considered prompt) and turned into
    group dicts only when asked: building 64k dicts of texts and cosines took 2 s at 250k prompts,
    and marking needs none of them."""

    model: str
    threshold: float
    considered: int
    pairs: int = 0            # pairs at or above the threshold
    slot_blocked: int = 0     # of those, pairs kept apart because their slot values differ
    ids: list[str] = field(default_factory=list, repr=False)
    texts: list[str] = field(default_factory=list, repr=False)
    origins: list[str] = field(default_factory=list, repr=False)
    rep: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)  # -1 alone
    cosine: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # to the representative

    def _is_member(self) -> np.ndarray:
        """Rows marked duplicates: in a group, not its representative."""
        return (self.rep >= 0) & (self.rep != np.arange(len(self.rep)))

    @property
    def duplicates(self) -> int:
        return int(self._is_member().sum())

    @property
    def group_count(self) -> int:
        return int((self.rep == np.arange(len(self.rep))).sum())

    def changes(self) -> list[tuple[str, str]]:
        """(member id, representative id) of every prompt the plan marks."""
        idx = np.nonzero(self._is_member())[0]
        return [(self.ids[i], self.ids[r]) for i, r in zip(idx.tolist(), self.rep[idx].tolist())]

    def _order(self) -> list[int]:
        """Representatives, largest group first, then by id."""
        reps = np.nonzero(self.rep == np.arange(len(self.rep)))[0]
        sizes = np.bincount(self.rep[self.rep >= 0], minlength=len(self.rep))
        return sorted(reps.tolist(), key=lambda r: (-int(sizes[r]), self.ids[r]))

    def _group(self, r: int, members: np.ndarray) -> dict:
        """{"representative": id, "members": [ids], "texts": {id: text}, "origins": {...}, "cosine": {id: cos}}."""
        idx = sorted(members.tolist(), key=lambda i: (i != r, -self.cosine[i]))
        ids = [self.ids[i] for i in idx]
        return {"representative": self.ids[r], "members": ids,
                "texts": {p: self.texts[i] for p, i in zip(ids, idx)},
                "origins": {p: self.origins[i] for p, i in zip(ids, idx)},
                "cosine": {p: float(self.cosine[i]) for p, i in zip(ids, idx)}}

    def head(self, n: int) -> list[dict]:
        """The first ``n`` groups of :attr:`groups`, built alone (what ``dedup --show`` prints)."""
        return [self._group(r, np.nonzero(self.rep == r)[0]) for r in self._order()[:max(n, 0)]]

    @cached_property
    def groups(self) -> list[dict]:
        """Every group, largest first, its representative first and the others by falling cosine."""
        grouped = np.nonzero(self.rep >= 0)[0]
        by_rep = grouped[np.argsort(self.rep[grouped], kind="stable")]
        reps, first, size = np.unique(self.rep[by_rep], return_index=True, return_counts=True)
        span = {r: (f, f + n) for r, f, n in zip(reps.tolist(), first.tolist(), size.tolist())}
        return [self._group(r, by_rep[slice(*span[r])]) for r in self._order()]

    def as_dict(self) -> dict:
        return {"model": self.model, "threshold": self.threshold, "considered": self.considered,
                "groups": self.group_count, "duplicates": self.duplicates, "pairs": self.pairs,
                "slot_blocked": self.slot_blocked}


def group_vectors(vectors: np.ndarray, texts: Sequence[str], order: np.ndarray, threshold: float,
                  lexicon: Lexicon | None, exact: bool | None = None, pairs_progress: Progress | None = None,
                  slots_progress: Progress | None = None, reader: SlotReader | None = None
                  ) -> tuple[np.ndarray, int, int]:
    """Representative index per row (-1 = alone), pairs found, pairs blocked by slots.

    ``order``: row indices in representative order, best first (``representative_order``);
    ``lexicon=None`` turns the slot
    rule off (for the evaluation that measures what it buys). ``pairs_progress`` and
    ``slots_progress`` follow the two long steps. ``reader``: a ``SlotReader`` already started on
    ``texts`` (its helper process works during the caller's vector load and the pair search).
    Otherwise the slot values of the rows in some pair are read after the search; not beside it
    in a thread: on 2 cores a pure-Python thread and faiss's OpenMP threads slowed each other down
    until the overlap saved nothing (session 13: pair search 10.8 s with it, 5 s alone). While
    the helper runs the search uses one thread: three busy threads on two cores made it 9.6 s
    instead of 6.5 s at 250k prompts (session 14), and the helper has the other core.
    """
    with one_thread() if reader is not None and reader.running else nullcontext():
        pairs = similar_pairs(vectors, threshold, exact, pairs_progress)
    found = len(pairs)
    if lexicon is not None and len(pairs):
        codes = slot_codes(texts, lexicon, progress=slots_progress, reader=reader) if reader is not None else None
        pairs = pairs[slot_compatible(texts, pairs, lexicon, codes, slots_progress)]
    return leader_groups(order, len(texts), pairs), found, found - len(pairs)


def _group_with_progress(plan: DedupPlan, vectors: np.ndarray, texts: list[str], order: np.ndarray,
                         threshold: float, lexicon: Lexicon, exact: bool | None, progress: bool,
                         reader: SlotReader | None) -> np.ndarray:
    """``group_vectors`` behind two progress bars (pairs, slot values); fills the plan's counts."""
    from .console import progress as make_progress

    with make_progress(transient=True) as bar:
        tasks = {"pairs": bar.add_task(f"dedup: similar pairs among {len(texts):,} prompts", total=None,
                                       visible=progress),
                 "slots": bar.add_task("dedup: slot values", total=None, visible=progress)}
        reported: set[str] = set()

        def follow(step: str) -> Progress:
            def update(done: int, total: int) -> None:
                reported.add(step)
                bar.update(tasks[step], completed=done, total=total)
            return update

        rep, plan.pairs, plan.slot_blocked = group_vectors(vectors, texts, order, threshold, lexicon, exact,
                                                           follow("pairs"), follow("slots"), reader)
        for step in tasks.keys() - reported:  # a step with nothing to do (no pairs: no slots to read) is done
            bar.update(tasks[step], completed=1, total=1)
    return rep


def plan_dedup(corpus: "Context", threshold: float = 0.9, model: str | None = None,
               exact: bool | None = None, progress: bool = True) -> DedupPlan:
    """Which canonical prompts would be grouped, and which one of each group stays canonical.
    ``progress``: show the pair search and the slot reading (a 1M corpus takes minutes)."""
    from .embed import load_vectors, resolve_model

    key, _ = resolve_model(model)
    rows = canonical_prompts(corpus, "id, text, origin", plain=True)
    plan = DedupPlan(key, threshold, len(rows))
    if len(rows) < 2:
        return plan
    ids, texts, origins = (list(c) for c in zip(*rows))
    del rows  # 1M row tuples: their strings live on in the three lists
    lexicon = load_lexicon(corpus.root, seed=corpus.settings.get("templates", "seed"))
    # past 40k prompts a helper process reads part of the slot values while vectors load and
    # pairs are searched (single-threaded I/O, then BLAS): 2 s off a 250k dedup. Nearly every
    # prompt is in some pair at that size, so reading them all costs little extra
    reader = SlotReader(texts, lexicon) if len(texts) >= PARALLEL_FROM else None
    with reader or nullcontext():
        # prompt ids are content ids: no re-hashing
        vectors = load_vectors(corpus, ids, model, texts=texts, progress=progress)
        order = representative_order(origins, texts, ids)
        rep = _group_with_progress(plan, vectors, texts, order, threshold, lexicon, exact, progress, reader)
    grouped = np.nonzero(rep >= 0)[0]
    cosine = np.zeros(len(ids))
    # every member's cosine to its representative, 65,536 rows at a time: one dot product per
    # member was slow, and one pass copied two rows per member (2 × 1.4 GB at 1M prompts)
    for part in np.array_split(grouped, max(1, -(-len(grouped) // 65_536))):
        cosine[part] = np.einsum("ij,ij->i", vectors[part], vectors[rep[part]])
    plan.ids, plan.texts, plan.origins, plan.rep, plan.cosine = ids, texts, origins, rep, cosine.round(4)
    return plan


def explain_dedup(corpus: "Context", text: str, threshold: float = 0.9, model: str | None = None,
                  top: int = 5) -> dict:
    """Why ``text`` is or is not a near-duplicate: its nearest canonical prompts, each with the
    cosine, the slot values that differ, and the verdict the dedup rule gives."""
    from .embed import embed_texts
    from .text import content_id

    lexicon = load_lexicon(corpus.root, seed=corpus.settings.get("templates", "seed"))
    pid = content_id(text)
    stored = corpus.store.query("SELECT id, text, duplicate_of FROM prompts WHERE id = ?", (pid,))
    rows = [r for r in canonical_prompts(corpus, "id, text, origin") if r["id"] != pid]
    out: dict = {"text": text, "threshold": threshold, "slots": list(slot_signature(text, lexicon)),
                 "stored": bool(stored), "duplicate_of": stored[0]["duplicate_of"] if stored else None,
                 "neighbours": []}
    if out["duplicate_of"]:
        rep = corpus.store.query("SELECT text FROM prompts WHERE id = ?", (out["duplicate_of"],))
        out["representative"] = rep[0]["text"] if rep else None
    if not rows:
        out["verdict"] = "no other canonical prompt to compare with"
        return out
    vectors = embed_texts(corpus, [text] + [r["text"] for r in rows], model=model, progress=False)
    sims = vectors[1:] @ vectors[0]
    best = np.argsort(-sims)[:top]
    for i in best.tolist():
        only_a, only_b = slot_difference(text, rows[i]["text"], lexicon)
        cos = float(sims[i])
        if cos < threshold:
            why = f"cosine {cos:.3f} < threshold {threshold}"
        elif only_a or only_b:
            why = f"slot values differ ({', '.join(only_a) or '-'} vs {', '.join(only_b) or '-'})"
        else:
            why = f"duplicate: cosine {cos:.3f} ≥ {threshold} and the same slot values"
        out["neighbours"].append({"id": rows[i]["id"], "text": rows[i]["text"], "cosine": round(cos, 4),
                                  "only_here": only_a, "only_there": only_b, "why": why,
                                  "duplicate": why.startswith("duplicate")})
    dup = [n for n in out["neighbours"] if n["duplicate"]]
    out["verdict"] = (f"near-duplicate of {dup[0]['text']!r} (cosine {dup[0]['cosine']:.3f}, same slots)" if dup
                      else "not a near-duplicate of any canonical prompt: " + out["neighbours"][0]["why"])
    return out


def apply_dedup(corpus: "Context", plan: DedupPlan, progress: bool = True) -> int:
    """Mark the plan's duplicates; one transaction; returns the run id (for undo)."""
    from .console import progress as make_progress

    changes = plan.changes()
    # foreign keys are checked once for the whole set in set_duplicate_of instead of per row
    with make_progress(transient=True) as bar, corpus.store.transaction(foreign_keys=False) as conn:
        task = bar.add_task(f"dedup: marking {len(changes):,} duplicates", total=None, visible=progress)
        cur = conn.execute(
            "INSERT INTO dedup_runs (model, threshold, created_at, summary) VALUES (?, ?, ?, ?)",
            (plan.model, plan.threshold, utcnow(),
             dumps(plan.as_dict())))
        run_id = cur.lastrowid
        set_duplicate_of(conn, changes, run_id)
        corpus.store.log_event("dedup", {"threshold": plan.threshold, "model": plan.model},
                               {"run": run_id} | plan.as_dict())
        bar.update(task, completed=1, total=1)
    return run_id


#: from this many changes on, ``set_duplicate_of`` drops the duplicate_of index and builds it again after
#: the UPDATE, in the same transaction: one sort instead of scattered index writes (1.2 s → 0.8 s at 186k)
REBUILD_INDEX_FROM = 20_000


def set_duplicate_of(conn, changes: list[tuple[str, str | None]], run_id: int | None = None) -> None:
    """``prompts.duplicate_of`` for many (prompt id, value) at once, and with ``run_id`` a
    ``dedup_changes`` row per change (from a canonical state: the old value is NULL).

    One joined UPDATE from a temp table: 2.6× faster than an UPDATE per row at 186k rows. Every
    value must name a stored prompt: checked here in one query (raises ValueError, so the caller's
    transaction rolls back), which lets the caller turn SQLite's per-row foreign-key check off
    (1.5 s of the 2.3 s UPDATE at 186k rows)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS dedup_set (id TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")
    conn.execute("DELETE FROM dedup_set")
    conn.executemany("INSERT OR REPLACE INTO dedup_set (id, value) VALUES (?, ?)", changes)
    missing = conn.execute("SELECT value FROM (SELECT DISTINCT value FROM dedup_set WHERE value IS NOT NULL) s"
                           " WHERE NOT EXISTS (SELECT 1 FROM prompts p WHERE p.id = s.value) LIMIT 1").fetchone()
    if missing is not None:
        raise ValueError(f"dedup: representative {missing[0]} is not a stored prompt; nothing was changed")
    if run_id is not None:
        conn.execute("INSERT INTO dedup_changes (run_id, prompt_id, old_duplicate_of, new_duplicate_of)"
                     " SELECT ?, id, NULL, value FROM dedup_set", (run_id,))
    index = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'prompts_dup'").fetchone() \
        if len(changes) >= REBUILD_INDEX_FROM else None
    if index is not None:
        conn.execute("DROP INDEX prompts_dup")
    if sqlite3.sqlite_version_info < (3, 33):  # UPDATE … FROM came in 3.33
        conn.execute("UPDATE prompts SET duplicate_of = (SELECT value FROM dedup_set WHERE dedup_set.id = prompts.id)"
                     " WHERE id IN (SELECT id FROM dedup_set)")
    else:
        conn.execute("UPDATE prompts SET duplicate_of = dedup_set.value FROM dedup_set"
                     " WHERE prompts.id = dedup_set.id")
    if index is not None:
        conn.execute(index[0])
    conn.execute("DELETE FROM dedup_set")


def undo_dedup(corpus: "Context") -> dict | None:
    """Restore the state before the latest dedup run that is not undone yet (None if there is none)."""
    with corpus.store.transaction() as conn:
        row = conn.execute("SELECT id FROM dedup_runs WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        run_id = row[0]
        changes = conn.execute("SELECT prompt_id, old_duplicate_of FROM dedup_changes WHERE run_id = ?",
                               (run_id,)).fetchall()
        set_duplicate_of(conn, changes)
        conn.execute("UPDATE dedup_runs SET undone_at = ? WHERE id = ?", (utcnow(), run_id))
        corpus.store.log_event("dedup-undo", {"run": run_id}, {"restored": len(changes)})
    return {"run": run_id, "restored": len(changes)}
